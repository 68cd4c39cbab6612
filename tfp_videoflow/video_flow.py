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
in any TFP distribution; so do batch slicing (`dist[1:3]` slices the
context), `copy()` (both keep the same flow and prior, i.e. the same
weights) and `experimental_default_event_space_bijector()` (the identity:
frames are unconstrained reals).

As in TFP, `log_prob` scores any finite value by default: the flow's density
is defined on all of R^D, so `dist.log_prob(dist.sample(seed=...))` works
(the flow's samples may leave the bins, rarely once trained). With
`validate_args=True` (also `dist.copy(validate_args=True)`) it refuses
frames outside the bins, [0, 2**num_bits], the mistake of giving 0..255
values to a 5-bit model. The context is checked against the bins always
(it comes from the user, never from a sample), unless `check_range=False`.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from bijectors import flow_bijector
from tfp_videoflow import dequantization, latent_dynamics

tfb = tfp.bijectors
tfd = tfp.distributions


class VideoFlow(tfd.TransformedDistribution):
    """p(target frames | context frames), see the module docstring."""

    def __init__(self, flow, dynamics_network, context, num_target_frames,
                 temperature=1.0, discrete_history=True, num_bits=8,
                 check_range=True, validate_args=False, name="VideoFlow"):
        """Creates the distribution.

        Args:
          flow: the per-frame `bijectors.MultiScaleFlow`.
          dynamics_network: a `latent_dynamics.LatentDynamicsNetwork` built
            for `flow.latent_shapes`.
          context: float frames `[*batch, K, H, W, C]` in bin units, K >= 1.
          num_target_frames: T, the number of future frames modelled.
          temperature: multiplies every prior scale (log_prob and sample).
          discrete_history: condition on the discrete past: the context
            and every earlier target (or sampled) frame are placed at the
            centres of their bins before they are encoded as history.
          num_bits: bit depth of the bins.
          check_range: raise if the context lies outside the bins,
            [0, 2**num_bits] (pixel values 0..255 given to a 5-bit model,
            say); False skips the check (values known to be in range).
          validate_args: as in TFP; True also refuses frames given to
            `log_prob` outside the bins (their support check).
          name: distribution name.
        """
        parameters = dict(locals())
        self._num_bits = dequantization.check_bits(num_bits)
        context = check_context(context, flow.frame_shape, flow.flow_dtype,
                                self._num_bits, check_range, name)
        if tuple(dynamics_network.latent_shapes) != tuple(flow.latent_shapes):
            raise ValueError(
                f"{name}: the dynamics network models latents "
                f"{dynamics_network.latent_shapes} but the flow produces "
                f"{flow.latent_shapes}.")
        self._context = context
        self._discrete_history = bool(discrete_history)
        if discrete_history:
            context = dequantization.centre_values(context, num_bits)
        if _is_empty(context):
            # An empty batch of contexts: nothing to encode (and convolutions
            # reject empty batches).
            context_latents = tuple(
                tf.zeros(tf.concat([tf.shape(context)[:-3], shape], 0),
                         context.dtype) for shape in flow.latent_shapes)
        else:
            context_latents, _ = flow.inverse_and_log_det(context)
        base = latent_dynamics.LatentDynamics(
            dynamics_network, flow, context_latents, num_target_frames,
            temperature=temperature, discrete_history=discrete_history,
            num_bits=num_bits, validate_args=validate_args)
        super().__init__(distribution=base, bijector=flow,
                         validate_args=validate_args, parameters=parameters,
                         name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        # The batch is that of the context frames [*batch, K, H, W, C]: TFP's
        # slicing (`dist[1:3]`) and `copy` slice it and rebuild the
        # distribution around the same flow and prior network (the same
        # weights). The other arguments are settings, not batched tensors.
        del dtype, num_classes
        return dict(context=tfp.util.ParameterProperties(
            event_ndims=4))

    def _default_event_space_bijector(self):
        # Frames in bin units are unconstrained reals (the flow's support).
        return tfb.Identity(validate_args=self.validate_args)

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
        if self.validate_args:
            # TFP's convention: support checks only under validate_args.
            frames = check_bin_range(frames, self._num_bits,
                                     f"{self.name}.log_prob")
        num_frames = (frames.shape[-4] if frames.shape.rank
                      and frames.shape.rank >= 4 else None)
        if num_frames != self.num_target_frames:
            raise ValueError(
                f"{self.name}.log_prob: expected {self.num_target_frames} "
                f"target frames [..., T={self.num_target_frames}, H, W, C], "
                f"got shape {frames.shape}.")
        return frames

    def _folded_log_prob(self, frames):
        """Frames `[*sample, *batch, T, H, W, C]` -> `[N, T]` log densities."""
        frames = self._check_target(frames)
        # The context repeats over the sample dimensions; context and
        # target frames then go through the flow together.
        sample_shape = tf.shape(frames)[:tf.rank(frames) - tf.rank(
            self._context)]
        context = tf.broadcast_to(self._context, tf.concat(
            [sample_shape, tf.shape(self._context)], 0))
        window = latent_dynamics.encode_window(
            self.bijector, _fold(context), _fold(frames),
            discrete_history=self._discrete_history, num_bits=self._num_bits)
        return latent_dynamics.window_log_prob(
            self.distribution.network, window, self.distribution.temperature)

    def _log_prob(self, y, **kwargs):
        del kwargs
        if _is_empty(y) or _is_empty(self.distribution.context_latents[0]):
            # No frames (or no contexts) to score: an empty result.
            y = self._check_target(y)
            return tf.zeros(tf.broadcast_dynamic_shape(
                tf.shape(y)[:-4], self.batch_shape_tensor()), y.dtype)
        # One flow pass gives the latents, their x1 and the log-determinant.
        per_frame = self._folded_log_prob(y)
        return tf.reshape(tf.reduce_sum(per_frame, axis=-1),
                          tf.shape(y)[:-4])

    def log_prob_per_frame(self, frames):
        """log p of each target frame given the frames before it, `[*batch, T]`.

        `frames` must have exactly the batch shape of the distribution (no
        sample dimensions). Summed over T this equals `log_prob(frames)`.
        """
        return tf.reshape(self._folded_log_prob(frames), tf.concat(
            [self.batch_shape_tensor(), [self.num_target_frames]], 0))

    def _call_sample_n(self, sample_shape, seed, **kwargs):
        # The hook TFP's TransformedDistribution itself overrides to sample:
        # here top-down sampling decodes every frame on the way (each
        # level's x1 needs it), so the frames come from the sampler, not
        # from a second pass through the flow.
        del kwargs
        sample_shape = tf.reshape(tf.cast(sample_shape, tf.int32), [-1])
        n = tf.reduce_prod(sample_shape)
        static = tf.get_static_value(sample_shape)
        if static is not None and (static < 0).any():
            raise ValueError(f"{self.name}.sample: sample shape must not be "
                             f"negative, got {static.tolist()}.")
        if (static is not None and not static.all()) or _is_empty(
                self.distribution.context_latents[0]):
            # Zero samples (or an empty batch): an empty result.
            return tf.zeros(tf.concat(
                [sample_shape, self.batch_shape_tensor(),
                 self.event_shape_tensor()], 0), self.dtype)
        _, frames = self.distribution.sample_latents_and_frames(
            n, seed=seed() if callable(seed) else seed)
        frames = tf.reshape(frames, tf.concat(
            [sample_shape, self.batch_shape_tensor(), tf.shape(frames)[1:]],
            0))
        # Known sizes of the sample shape survive the reshape.
        frames.set_shape(tf.TensorShape(
            [None] * sample_shape.shape[0] if static is None
            else static.tolist()).concatenate(self.batch_shape)
            .concatenate(self.event_shape))
        return frames

    def bits_per_pixel(self, frames):
        """-log2 p(frames) per pixel value (sub-pixel), `[*sample, *batch]`."""
        num_values = self.num_target_frames * math.prod(
            self.bijector.frame_shape)
        return dequantization.bits_per_pixel(self.log_prob(frames), num_values)


def check_context(context, frame_shape, dtype, num_bits, check_range, name):
    """The context as a tensor, if it is finite frames `[*batch, K, H, W, C]`.

    K >= 1, and with `check_range` the values lie in the bins (see
    `check_bin_range`). Raises `ValueError` (`InvalidArgumentError` for
    values inside a graph).
    """
    context = flow_bijector.check_image(context, frame_shape, dtype,
                                        f"{name} context")
    if context.shape.rank is not None and context.shape.rank < 4:
        raise ValueError(
            f"{name}: context must be frames [*batch, K, H, W, C], got "
            f"shape {context.shape}.")
    if context.shape[-4] == 0:
        raise ValueError(f"{name}: at least one context frame is needed.")
    if check_range:
        context = check_bin_range(context, num_bits, f"{name} context")
    return context


def check_bin_range(values, num_bits, where):
    """Raises unless every value lies in [0, 2**num_bits] (bin units).

    Raises `ValueError` eagerly, `InvalidArgumentError` in a graph.
    """
    top = 2.0 ** num_bits
    hint = (f"expected values in bin units, in [0, {top:g}] for a "
            f"{num_bits}-bit model (uint8 pixels can be given as uint8)")
    if tf.executing_eagerly():
        if tf.size(values) == 0:
            return values
        low, high = float(tf.reduce_min(values)), float(tf.reduce_max(values))
        if low < 0.0 or high > top:
            raise ValueError(f"{where}: {hint}; got values in "
                             f"[{low:g}, {high:g}].")
        return values
    checks = [tf.debugging.assert_greater_equal(
                  values, tf.zeros([], values.dtype),
                  message=f"{where}: {hint}; got values below 0"),
              tf.debugging.assert_less_equal(
                  values, tf.constant(top, values.dtype),
                  message=f"{where}: {hint}; got values above {top:g}")]
    with tf.control_dependencies(checks):
        return tf.identity(values)


def _fold(frames):
    """`[*dims, T, H, W, C]` -> `[N, T, H, W, C]` (T, H, W, C kept static)."""
    folded = tf.reshape(frames, tf.concat([[-1], tf.shape(frames)[-4:]], 0))
    if frames.shape.rank is not None:
        folded.set_shape([None, *frames.shape[-4:]])
    return folded


def _is_empty(x):
    """Whether `x` statically has no elements (a dimension of size 0)."""
    return x.shape.rank is not None and 0 in x.shape.as_list()


def _unique(variables):
    seen, result = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    return tuple(result)
