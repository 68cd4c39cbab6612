"""VideoFlow: a TransformedDistribution over future frames given past frames.

    y_t = f(z_t)   for every target frame t,     z ~ LatentDynamics(context)

with f the per-frame `bijectors.MultiScaleFlow` (latents -> frame) shared over
time, and the context frames encoded once by f^-1. The density of the target
frames y (dequantized, in bin units) is

    log p(y | context) = log p_dyn(f^-1(y) | f^-1(context))
                         + sum_t log|det d f^-1(y_t) / d y_t|

This is a `tfp.distributions.TransformedDistribution`: `log_prob`,
`sample(n, seed=...)`, `event_shape` (`[T, H, W, C]`), `batch_shape` (that of
the context) and `trainable_variables` (flow and prior, complete) behave as
in any TFP distribution.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from bijectors import flow_bijector
from tfp_videoflow import dequantization, latent_dynamics

tfd = tfp.distributions


class VideoFlow(tfd.TransformedDistribution):
    """p(target frames | context frames), see the module docstring."""

    def __init__(self, flow, dynamics_network, context, num_target_frames,
                 temperature=1.0, validate_args=False, name="VideoFlow"):
        """Creates the distribution.

        Args:
          flow: the per-frame `bijectors.MultiScaleFlow`.
          dynamics_network: a `latent_dynamics.LatentDynamicsNetwork` built
            for `flow.latent_shapes`.
          context: float frames `[*batch, K, H, W, C]` in bin units, K >= 1.
          num_target_frames: T, the number of future frames modelled.
          temperature: multiplies every prior scale (log_prob and sample).
          validate_args: as in TFP.
          name: distribution name.
        """
        parameters = dict(locals())
        context = flow_bijector.check_image(
            context, flow.frame_shape, flow.flow_dtype, f"{name} context")
        if context.shape.rank is not None and context.shape.rank < 4:
            raise ValueError(
                f"{name}: context must be frames [*batch, K, H, W, C], got "
                f"shape {context.shape}.")
        if context.shape[-4] == 0:
            raise ValueError(f"{name}: at least one context frame is needed.")
        if tuple(dynamics_network.latent_shapes) != tuple(flow.latent_shapes):
            raise ValueError(
                f"{name}: the dynamics network models latents "
                f"{dynamics_network.latent_shapes} but the flow produces "
                f"{flow.latent_shapes}.")
        context_latents, _ = flow.inverse_and_log_det(context)
        base = latent_dynamics.LatentDynamics(
            dynamics_network, context_latents, num_target_frames,
            temperature=temperature, validate_args=validate_args)
        super().__init__(distribution=base, bijector=flow,
                         validate_args=validate_args, parameters=parameters,
                         name=name)

    @property
    def flow(self):
        return self.bijector

    @property
    def num_target_frames(self):
        return self.distribution.num_target_frames

    @property
    def trainable_variables(self):
        return _unique(self.bijector.trainable_variables
                       + self.distribution.trainable_variables)

    @property
    def variables(self):
        return _unique(self.bijector.variables + self.distribution.variables)

    def _batch_shape(self):
        return self.distribution.batch_shape

    def _batch_shape_tensor(self, **kwargs):
        del kwargs
        return self.distribution.batch_shape_tensor()

    # ------------------------------------------------------------- density
    def _check_target(self, frames):
        frames = flow_bijector.check_image(
            frames, self.bijector.frame_shape, self.bijector.flow_dtype,
            f"{self.name}.log_prob")
        num_frames = (frames.shape[-4] if frames.shape.rank
                      and frames.shape.rank >= 4 else None)
        if num_frames != self.num_target_frames:
            raise ValueError(
                f"{self.name}.log_prob: expected {self.num_target_frames} "
                f"target frames [..., T={self.num_target_frames}, H, W, C], "
                f"got shape {frames.shape}.")
        return frames

    def _log_prob(self, y, **kwargs):
        del kwargs
        # One flow pass gives both the latents and the log-determinant.
        latents, inverse_log_det = self.bijector.inverse_and_log_det(
            self._check_target(y))
        return (self.distribution.log_prob(latents)
                + tf.reduce_sum(inverse_log_det, axis=-1))

    def log_prob_per_frame(self, frames):
        """log p of each target frame given the frames before it, `[*batch, T]`.

        `frames` must have exactly the batch shape of the distribution (no
        sample dimensions). Summed over T this equals `log_prob(frames)`.
        """
        latents, inverse_log_det = self.bijector.inverse_and_log_det(
            self._check_target(frames))
        return (self.distribution.log_prob_per_frame(latents)
                + inverse_log_det)

    def bits_per_pixel(self, frames):
        """-log2 p(frames) per pixel value (sub-pixel), `[*sample, *batch]`."""
        num_values = self.num_target_frames * math.prod(
            self.bijector.frame_shape)
        return dequantization.bits_per_pixel(self.log_prob(frames), num_values)


def _unique(variables):
    seen, result = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    return tuple(result)
