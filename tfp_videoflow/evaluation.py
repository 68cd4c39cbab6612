"""Evaluation: bits per pixel with its standard error, best-of-N PSNR / SSIM.

Bits per pixel is the model's own likelihood measure (see
`dequantization.py`). For sample quality the paper's protocol is used: draw N
futures per context and keep, per video, the one closest to the real future
("best of N"), so a model that covers the real outcome among its modes scores
well even if its other samples go elsewhere. The copy-last-frame baseline
repeats the last context frame; a model that beats it has learnt motion.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class MeanAndError:
    """A mean over videos and its standard error."""
    mean: float
    standard_error: float
    count: int

    @classmethod
    def of(cls, values):
        values = np.asarray(values, np.float64).ravel()
        if values.size == 0:
            raise ValueError("no values to average.")
        error = (values.std(ddof=1) / math.sqrt(values.size)
                 if values.size > 1 else float("nan"))
        return cls(float(values.mean()), float(error), int(values.size))

    def __str__(self):
        return f"{self.mean:.4f} ± {self.standard_error:.4f} (n={self.count})"


def frame_psnr(predicted, real):
    """PSNR in dB of uint8 frames `[..., T, H, W, C]`, averaged over T."""
    return tf.reduce_mean(tf.image.psnr(predicted, real, max_val=255), axis=-1)


def frame_ssim(predicted, real):
    """SSIM of uint8 frames, averaged over the frames.

    The usual 11x11 window, shrunk to the frame for frames smaller than that.
    """
    size = min(11, *predicted.shape[-3:-1])
    return tf.reduce_mean(tf.image.ssim(predicted, real, max_val=255,
                                        filter_size=size), axis=-1)


def best_of_n(samples, real):
    """Best-of-N PSNR and SSIM per video.

    Args:
      samples: uint8 `[N, B, T, H, W, C]` sampled futures.
      real: uint8 `[B, T, H, W, C]` real futures.

    Returns:
      `(psnr, ssim)`, each `[B]`: the best over the N samples (each metric
      picks its own best sample).
    """
    real = tf.broadcast_to(real[tf.newaxis], tf.shape(samples))
    return (tf.reduce_max(frame_psnr(samples, real), axis=0),
            tf.reduce_max(frame_ssim(samples, real), axis=0))


def copy_last_frame(context, num_frames):
    """The baseline future: the last context frame repeated `num_frames` times."""
    return tf.repeat(context[:, -1:], num_frames, axis=1)


def evaluate_model(model, videos_dataset, num_samples=8, temperature=None,
                   seed=0, max_batches=None):
    """Test bits per pixel and best-of-N PSNR / SSIM against copy-last-frame.

    Args:
      model: a `VideoFlowModel`.
      videos_dataset: a `tf.data.Dataset` of uint8 `[B, frames, H, W, C]`
        batches with at least K + T frames each.
      num_samples: N for best-of-N (0 skips the sampling metrics).
      temperature: sampling temperature (default: the model's
        `sampling_temperature`).
      seed: integer seed of dequantization noise and samples.
      max_batches: stop after this many batches (None: all).

    Returns:
      A dict of `MeanAndError`: "bits_per_pixel", and with num_samples > 0
      "psnr", "ssim", "copy_last_psnr", "copy_last_ssim" and
      "psnr_over_copy_last" (per video best-of-N PSNR minus copy-last PSNR:
      the lead with the standard error of a paired comparison, which the
      two means' errors, dominated by how the videos differ, overstate).
    """
    k, t = model.num_context_frames, model.num_target_frames
    results = {"bits_per_pixel": []}
    if num_samples:
        for key in ("psnr", "ssim", "copy_last_psnr", "copy_last_ssim"):
            results[key] = []
    for index, videos in enumerate(videos_dataset):
        if max_batches is not None and index >= max_batches:
            break
        batch_seed = tf.constant([seed, index], tf.int32)
        results["bits_per_pixel"].append(
            model.bits_per_pixel(videos, seed=batch_seed).numpy())
        if not num_samples:
            continue
        context, real = videos[:, :k], videos[:, k:k + t]
        samples = model.sample_future(
            context, num_samples=num_samples, temperature=temperature,
            seed=tf.random.experimental.stateless_fold_in(batch_seed, 1))
        psnr, ssim = best_of_n(samples, real)
        baseline = copy_last_frame(context, t)
        results["psnr"].append(psnr.numpy())
        results["ssim"].append(ssim.numpy())
        results["copy_last_psnr"].append(frame_psnr(baseline, real).numpy())
        results["copy_last_ssim"].append(frame_ssim(baseline, real).numpy())
    if not results["bits_per_pixel"]:
        raise ValueError("the evaluation data set is empty.")
    values = {key: np.concatenate(v) for key, v in results.items()}
    if num_samples:
        values["psnr_over_copy_last"] = (values["psnr"]
                                         - values["copy_last_psnr"])
    return {key: MeanAndError.of(v) for key, v in values.items()}
