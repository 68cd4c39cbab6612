"""The warm-up schedule and run helpers of `tfp_videoflow.training`."""

import numpy as np
import pytest

from tfp_videoflow import training


def test_linear_warm_up_rises_to_its_peak_and_stays():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10)
    # Step n is the (n+1)-th update: the first one already moves the weights,
    # the 10th reaches the peak.
    rates = [float(schedule(step)) for step in (0, 4, 9, 100)]
    np.testing.assert_allclose(rates, [1e-4, 5e-4, 1e-3, 1e-3], rtol=1e-6)


def test_cosine_decay_falls_from_the_peak_to_zero_at_decay_steps():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10,
                                     decay_steps=110)
    rates = [float(schedule(step)) for step in (0, 9, 10, 60, 110, 500)]
    # Rising as before, then half of the peak half-way, 0 at the end.
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-3, 5e-4, 0.0, 0.0],
                               rtol=1e-6, atol=1e-12)
    assert training.LinearWarmUp.from_config(
        schedule.get_config()).decay_steps == 110


def test_cosine_decay_must_end_after_the_warm_up():
    with pytest.raises(ValueError, match="decay_steps"):
        training.LinearWarmUp(peak=1e-3, warmup_steps=10, decay_steps=10)
