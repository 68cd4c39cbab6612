"""Evaluation metrics: best-of-N, copy-last-frame and motion modes."""

import numpy as np
import pytest

from tfp_videoflow import evaluation
from tfp_videoflow.data import moving_shapes as sm


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


class _Oracle:
    """Stands in for a model: futures that move in every direction."""
    num_context_frames = 1

    def sample_future(self, context, num_samples, num_frames, temperature,
                      seed):
        del context, temperature, seed
        futures = []
        for s in range(num_samples):
            direction = s % len(sm.DIRECTIONS) if s < 16 else 0
            params = sm.VideoParams(0, 0, direction, 1.0)
            video = sm.render_video(params, 32, num_frames + 1)[1:]
            if s == num_samples - 1:
                video = np.zeros_like(video)  # an invalid sample: no shape
            futures.append([video])
        return _Array(np.array(futures, np.uint8))


class _Array:
    def __init__(self, value):
        self.value = value

    def numpy(self):
        return self.value


def test_motion_modes_counts_directions_and_valid_samples():
    video = sm.render_video(sm.VideoParams(0, 0, 3, 1.0), 32, 3)[np.newaxis]
    result = evaluation.motion_modes(_Oracle(), video, num_samples=20,
                                     num_frames=2)
    assert result["directions_per_video"] == 8
    assert result["directions_total"] == 8
    assert result["valid_share"] == pytest.approx(19 / 20)
    assert sum(result["direction_counts"]) == 19
    # 19 futures keep the context's shape (its mass within the few per cent
    # that anti-aliasing at another position changes), one is black.
    assert result["shape_mass_ratio"] == pytest.approx(19 / 20, abs=0.04)
