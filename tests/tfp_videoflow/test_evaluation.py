"""Evaluation metrics: best-of-N and copy-last-frame."""

import numpy as np
import pytest
import tensorflow as tf

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


class _ShiftingModel:
    """Bits 0; every future is the last context frame plus `shift` levels."""
    num_context_frames, num_target_frames = 1, 1

    def __init__(self, shift):
        self.shift = shift

    def bits_per_pixel(self, videos, seed):
        del seed
        return tf.zeros([len(videos)])

    def sample_future(self, context, num_samples, temperature, seed):
        del temperature, seed
        future = np.clip(context[:, -1:].astype(int) + self.shift, 0, 255)
        return tf.constant(np.broadcast_to(future.astype(np.uint8),
                                           (num_samples,) + future.shape))


def test_the_lead_over_copying_is_paired_per_video():
    rng = np.random.default_rng(1)
    videos = rng.integers(0, 200, (6, 2, 8, 8, 3), dtype=np.uint8)
    results = evaluation.evaluate_model(_ShiftingModel(3), [videos[:4],
                                                            videos[4:]],
                                        num_samples=2)
    shifted = np.clip(videos[:, :1].astype(int) + 3, 0, 255).astype(np.uint8)
    lead = (evaluation.frame_psnr(shifted, videos[:, 1:]).numpy()
            - evaluation.frame_psnr(videos[:, :1], videos[:, 1:]).numpy())
    paired = results["psnr_over_copy_last"]
    assert paired.count == 6
    np.testing.assert_allclose(paired.mean, lead.mean(), rtol=1e-6)
    np.testing.assert_allclose(paired.standard_error,
                               lead.std(ddof=1) / np.sqrt(6), rtol=1e-6)
    # Not the difference of the two means' errors: those are per metric.
    assert paired.standard_error != pytest.approx(
        results["psnr"].standard_error)
