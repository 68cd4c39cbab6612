"""Evaluation metrics: best-of-N and copy-last-frame."""

import numpy as np
import pytest

from tfp_videoflow import evaluation


def test_best_of_n_picks_the_closest_sample():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (2, 3, 8, 8, 3), dtype=np.uint8)
    noise = rng.integers(0, 256, (4, 2, 3, 8, 8, 3), dtype=np.uint8)
    samples = noise.copy()
    samples[2, 1] = real[1]  # one perfect sample for video 1
    psnr, ssim = evaluation.best_of_n(samples, real)
    assert np.isinf(psnr[1]) or float(psnr[1]) > 90
    assert float(ssim[1]) == pytest.approx(1.0)
    assert psnr[0] < 20


def test_copy_last_frame_repeats_it():
    context = np.arange(2 * 2 * 4 * 4 * 3, dtype=np.uint8).reshape(
        2, 2, 4, 4, 3)
    copied = evaluation.copy_last_frame(context, 3).numpy()
    assert copied.shape == (2, 3, 4, 4, 3)
    np.testing.assert_array_equal(copied[:, 2], context[:, 1])
