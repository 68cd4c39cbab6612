"""Atomic files and the warm-up schedule of `tfp_videoflow.training`."""

import os
import stat

import numpy as np
import pytest

from tfp_videoflow import training


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_text_replaces_the_file_with_usual_permissions(tmp_path):
    path = tmp_path / "run.json"
    training.atomic_write_text(path, "old")
    training.atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert _mode(path) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    training.atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        training.atomic_write_text(path, b"bytes are not text")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_linear_warm_up_rises_to_its_peak_and_stays():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10)
    # Step n is the (n+1)-th update: the first one already moves the weights,
    # the 10th reaches the peak.
    rates = [float(schedule(step)) for step in (0, 4, 9, 100)]
    np.testing.assert_allclose(rates, [1e-4, 5e-4, 1e-3, 1e-3], rtol=1e-6)
