"""Diagnostics of the latent dynamics: which level's prior fails, and how.

Bits per pixel mixes the flow's quality with the prior's; these look at the
prior alone, level by level, on real futures:

* `prior_calibration`: for the real future's latents z under the prior of
  each level, the mean of ((z - mean) / scale)^2 (1.0 when the prior's
  scale matches its errors; far above 1 when it is overconfident, below
  when it is too wide), and the spread (standard deviation) of the encoded
  latents next to that of sampled ones: sampled latents with half the
  spread of real ones decode to faint, averaged frames.
* `level_swap`: futures whose top level is the real one and whose finer
  levels are sampled given it, and the reverse (sampled top level, real
  finer levels). If the first look right and the second do not, the top
  level (where the motion is decided) is what fails.
* `component_shares`: how the top level's mixture shares the real first
  futures among its components (posterior responsibilities): a component
  with a share near zero is dead, and one that holds the futures of
  several directions samples between them.
* `context_gain`: how many bits per video the past saves: the code length
  of the true future after another video's context minus after its own.
  A prior that ignores the past gains nothing beyond what the flow shares.
"""

import math

import numpy as np
import tensorflow as tf

from tfp_videoflow import dequantization, latent_dynamics
from tfp_videoflow import videos as videos_lib


def dequantized(model, videos, seed):
    """The first K + T frames of `videos`, dequantized with a seeded draw."""
    length = model.num_context_frames + model.num_target_frames
    videos = videos_lib.check_videos(videos, model.frame_shape, length,
                                     "diagnostics")
    window = videos[:, :length]
    noise = tf.random.stateless_uniform(tf.shape(window), seed)
    return dequantization.dequantize(window, model.num_bits, noise)


def standardized_square(dist, z):
    """Mean over elements of ((z - mean) / scale)^2 per example, `[N]`.

    For a mixture, under the component most responsible for z.
    """
    if hasattr(dist, "mixture_distribution"):
        normal = dist.components_distribution.distribution
        per_component = dist.components_distribution.log_prob(
            z[:, tf.newaxis])  # [N, M]
        best = tf.argmax(per_component + tf.nn.log_softmax(
            dist.mixture_distribution.logits), axis=-1)
        mean = tf.gather(normal.loc, best, batch_dims=1)
        scale = tf.gather(normal.scale, best, batch_dims=1)
    else:
        mean, scale = dist.distribution.loc, dist.distribution.scale
    return tf.reduce_mean(tf.square((z - mean) / scale), axis=[1, 2, 3])


def prior_calibration(model, videos, temperature=1.0, seed=(0, 0)):
    """Per level: calibration of the prior and spread of real vs sampled z.

    Args:
      model: a `VideoFlowModel`.
      videos: uint8 `[B, >= K + T, H, W, C]`.
      temperature: of the sampled latents.
      seed: stateless seed of the dequantization noise and the samples.

    Returns:
      A list over levels (finest first) of dicts: "calibration" (mean of
      ((z - mean) / scale)^2 over the real future's latents, 1.0 when
      calibrated), "encoded_spread" and "sampled_spread" (standard
      deviations of the real and of sampled latents around their means
      over the videos).
    """
    k = model.num_context_frames
    values = dequantized(model, videos, seed)
    window = latent_dynamics.encode_window(
        model.flow, values[:, :k], values[:, k:],
        discrete_history=model.discrete_history, num_bits=model.num_bits)
    latents = window.target
    level_dists = model.dynamics.level_distributions(
        window.past, window.target, window.conditions)
    sampled = model(values[:, :k], temperature=temperature).distribution
    sampled_latents, _ = sampled.sample_latents_and_frames(
        1, seed=tf.random.experimental.stateless_fold_in(seed, 1))
    results = []
    for level, level_dist in enumerate(level_dists):
        z = latent_dynamics.fold_time(latents[level])
        results.append({
            "calibration": float(tf.reduce_mean(
                standardized_square(level_dist, z))),
            "encoded_spread": _spread(latents[level]),
            "sampled_spread": _spread(sampled_latents[level]),
        })
    return results


def _spread(latents):
    """Standard deviation over the videos, averaged over positions: `[B, ...]`."""
    return float(tf.reduce_mean(tf.math.reduce_std(latents, axis=0)))


def level_swap(model, videos, num_samples=8, temperature=1.0, seed=(0, 0)):
    """Futures with real and sampled levels mixed, to find the failing level.

    Args:
      model: a `VideoFlowModel`.
      videos: uint8 `[B, >= K + T, H, W, C]`.
      num_samples: futures per video and kind.
      temperature: sampling temperature of the sampled levels.
      seed: stateless seed.

    Returns:
      A dict of uint8 futures `[num_samples, B, T, H, W, C]`:
      "real_top" (the real future's top-level latents, finer levels sampled
      given them) and "sampled_top" (top level sampled, finer levels those
      of the real future).
    """
    k, t = model.num_context_frames, model.num_target_frames
    values = dequantized(model, videos, seed)
    latents, _, _ = latent_dynamics.encode_frames(model.flow, values[:, k:])
    repeated = tuple(tf.tile(z, [num_samples] + [1] * (z.shape.rank - 1))
                     for z in latents)
    top = len(latents) - 1
    base = model(values[:, :k], temperature=temperature).distribution
    results = {}
    for kind, given in (
            ("real_top", tuple(z if level == top else None
                               for level, z in enumerate(repeated))),
            ("sampled_top", tuple(None if level == top else z
                                  for level, z in enumerate(repeated)))):
        _, frames = base.sample_latents_and_frames(
            num_samples, seed=tf.random.experimental.stateless_fold_in(
                seed, 2), given=given)
        frames = tf.reshape(frames, tf.concat(
            [[num_samples, -1, t], tf.shape(frames)[2:]], 0))
        results[kind] = dequantization.quantize(frames, model.num_bits)
    return results


def component_shares(model, videos, seed=(0, 0)):
    """The top-level mixture's posterior responsibilities, per video.

    For the first target frame after each video's context: p(m | z, past)
    for the top-level latent z of the real frame, under the mixture
    sum_m w_m(past) N(z; mean_m(past), scale_m(past)).

    Args:
      model: a `VideoFlowModel` whose top level is a mixture.
      videos: uint8 `[B, >= K + T, H, W, C]`.
      seed: stateless seed of the dequantization noise.

    Returns:
      float `[B, M]`; each row sums to 1.
    """
    k = model.num_context_frames
    values = dequantized(model, videos, seed)
    window = latent_dynamics.encode_window(
        model.flow, values[:, :k], values[:, k:k + 1],
        discrete_history=model.discrete_history, num_bits=model.num_bits)
    top = model.dynamics.level_distributions(
        window.past, window.target, window.conditions)[-1]
    if not hasattr(top, "components_distribution"):
        raise ValueError("component_shares: the top level's prior of this "
                         "model is not a mixture (top_components=1).")
    z = latent_dynamics.fold_time(window.target[-1])
    log_joint = (top.components_distribution.log_prob(z[:, tf.newaxis])
                 + tf.nn.log_softmax(top.mixture_distribution.logits))
    return tf.nn.softmax(log_joint, axis=-1)


def context_gain(model, videos, seed=(0, 0)):
    """Bits per video that the own past saves over another video's past.

    For each video, the code length of its true future after the context of
    the next video in the batch (a cyclic shift) minus that after its own
    context, with the same dequantization noise.

    Args:
      model: a `VideoFlowModel`.
      videos: uint8 `[B, >= K + T, H, W, C]`, B >= 2 different videos.
      seed: stateless seed of the dequantization noise.

    Returns:
      float64 `[B]`: bits per video (positive when the own past helps).
    """
    k = model.num_context_frames
    values = dequantized(model, videos, seed)
    if values.shape[0] is not None and values.shape[0] < 2:
        raise ValueError("context_gain needs at least 2 videos to shuffle "
                         "their contexts.")
    target = values[:, k:]
    own = model(values[:, :k], temperature=1.0).log_prob(target)
    other = model(tf.roll(values[:, :k], 1, axis=0),
                  temperature=1.0).log_prob(target)
    return np.asarray(own - other, np.float64) / math.log(2.0)
