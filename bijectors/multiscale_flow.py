"""The multi-scale Glow flow that maps one frame to its per-level latents.

Frame -> latents (TFP's inverse), for L levels of K steps each:

    h = x
    for level l = 1 .. L:
        h = squeeze(h)                              # [H', W', C'] -> [H'/2, W'/2, 4C']
        repeat K times:
            h = coupling(conv1x1(actnorm(h)))
        if l < L:
            h, z_l = split(h)                       # half the channels leave
    z_L = h

so `inverse(frame)` is the tuple `(z_1, ..., z_L)`, finest first; for a
64x64x3 frame and L = 3 the shapes are (32, 32, 6), (16, 16, 12), (8, 8, 48).
`forward(latents)` runs the same steps backwards, and

    log|det d(z_1..z_L)/dx| = sum over steps of each step's log|det|

(squeeze and split only move values). Every step is one of this package's
bijectors, so the flow is exactly invertible and its log-determinant exact.
"""

import keras
import numpy as np
import tensorflow as tf

from bijectors import actnorm
from bijectors import additive_coupling
from bijectors import affine_coupling
from bijectors import flow_bijector
from bijectors import invertible_conv1x1
from bijectors import squeeze

COUPLINGS = {
    "affine": affine_coupling.AffineCoupling,
    "additive": additive_coupling.AdditiveCoupling,
}


class _LayerGroup(keras.layers.Layer):
    """A Keras layer that only owns other layers, so Keras tracks them."""

    def __init__(self, members, **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        self.built = True


class MultiScaleFlow(flow_bijector.FlowBijector):
    """Multi-scale Glow: one frame <-> a tuple of per-level latents."""

    def __init__(self, frame_shape, num_levels=3, steps_per_level=8,
                 coupling="affine", coupling_width=512, gated=False, seed=0,
                 dtype=tf.float32, validate_args=False,
                 name="multi_scale_flow", layer=None):
        """Creates the flow.

        Args:
          frame_shape: `(H, W, C)` of one frame; H and W divisible by
            2**num_levels.
          num_levels: L, the number of scales (>= 1).
          steps_per_level: K, flow steps per level (>= 1).
          coupling: "affine" or "additive".
          coupling_width: hidden channels of each coupling network.
          gated: gated (tanh * sigmoid) activations in the coupling networks.
          seed: integer seed for every initial weight of the flow.
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer).
          layer: the Keras layer of an existing flow with the same
            arguments, whose weights this one then uses (and shares); what
            `copy` passes.
        """
        parameters = dict(locals())
        frame_shape = tuple(int(d) for d in frame_shape)
        if len(frame_shape) != 3 or min(frame_shape) < 1:
            raise ValueError(f"{name}: frame_shape must be (H, W, C) with "
                             f"positive sizes, got {frame_shape}.")
        if num_levels < 1 or steps_per_level < 1:
            raise ValueError(f"{name}: num_levels and steps_per_level must be "
                             f">= 1, got {num_levels} and {steps_per_level}.")
        height, width, _ = frame_shape
        if height % 2**num_levels or width % 2**num_levels:
            raise ValueError(
                f"{name}: frame H and W must be divisible by 2**num_levels = "
                f"{2**num_levels}, got frame_shape {frame_shape}.")
        if coupling not in COUPLINGS:
            raise ValueError(f"{name}: coupling must be one of "
                             f"{sorted(COUPLINGS)}, got {coupling!r}.")
        self._latent_shapes = _latent_shapes(frame_shape, num_levels)
        self._squeeze = squeeze.Squeeze(dtype=dtype)
        seeds = iter(np.random.SeedSequence(seed).generate_state(
            2 * num_levels * steps_per_level) % 2**31)
        self._levels = []
        members = None
        if layer is not None:
            members = list(getattr(layer, "members", ()))
            if not isinstance(layer, _LayerGroup) or len(members) != (
                    3 * num_levels * steps_per_level):
                raise ValueError(
                    f"{name}: layer must be the layer of a MultiScaleFlow "
                    f"with {num_levels} levels of {steps_per_level} steps, "
                    f"got {layer!r}.")
            members = iter(members)
        channels = frame_shape[-1]
        for level in range(num_levels):
            channels *= 4  # squeeze
            steps = []
            for step in range(steps_per_level):
                prefix = f"{name}_l{level}_s{step}"
                shared = ((None,) * 3 if members is None
                          else (next(members), next(members), next(members)))
                steps += [
                    actnorm.ActNorm(channels, dtype=dtype,
                                    name=f"{prefix}_actnorm", layer=shared[0]),
                    invertible_conv1x1.InvertibleConv1x1(
                        channels, seed=int(next(seeds)), dtype=dtype,
                        name=f"{prefix}_conv1x1", layer=shared[1]),
                    COUPLINGS[coupling](
                        channels, hidden_width=coupling_width, gated=gated,
                        seed=int(next(seeds)), dtype=dtype,
                        name=f"{prefix}_coupling", layer=shared[2]),
                ]
            self._levels.append(steps)
            channels //= 2  # split
        if layer is None:
            layer = _LayerGroup(
                [b.layer for steps in self._levels for b in steps],
                name=name, dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(
            layer=layer, event_shape=frame_shape, dtype=dtype,
            forward_min_event_ndims=(flow_bijector.EVENT_NDIMS,) * num_levels,
            inverse_min_event_ndims=flow_bijector.EVENT_NDIMS,
            validate_args=validate_args, parameters=parameters, name=name)

    @property
    def frame_shape(self):
        """`(H, W, C)` of one frame."""
        return self._frame_shape

    @property
    def latent_shapes(self):
        """The `(h, w, c)` of each level's latent, finest first."""
        return self._latent_shapes

    @property
    def num_levels(self):
        return len(self._latent_shapes)

    def initialize(self, frames):
        """Data-dependent initialisation of every ActNorm from `frames`.

        Runs one frame -> latent pass with all ActNorm layers (those of the
        flow steps and those inside the coupling networks) reset, so each is
        set from the statistics of its own input. Call it eagerly.
        """
        frames = self._check_frames(frames, "initialize")
        if frames.shape.rank is not None and 0 in frames.shape[:-3]:
            # Statistics of no frames are NaN: check before any weight moves.
            raise ValueError(f"{self.name}.initialize: needs at least one "
                             f"frame, got frames shaped {frames.shape}.")
        for layer in self.layer._flatten_layers():  # pylint: disable=protected-access
            if isinstance(layer, actnorm.ActNormLayer) and layer.data_init:
                layer.initialized.assign(False)
        self.inverse_and_log_det(frames)

    # ----------------------------------------- split conditions (for priors)
    def encode_with_conditions(self, frames):
        """Frames `[N, H, W, C]` -> `(latents, conditions, log_det)`.

        `conditions[l]` is what stays at level l when z_l splits off (Glow's
        x1, shaped like z_l): a function of the coarser latents z_{>l} of the
        same frame only, so a prior of z_l may condition on it. The top level
        has none (`conditions[-1]` is None). `log_det` is log|det dz/dx|,
        `[N]`.
        """
        frames = self._check_frames(frames, "encode_with_conditions")
        if frames.shape.rank != 1 + flow_bijector.EVENT_NDIMS:
            raise ValueError(f"{self.name}.encode_with_conditions: expected "
                             f"frames [N, H, W, C], got shape {frames.shape}.")
        return self._encode_levels(frames)

    def decode_level(self, level, latent, condition=None):
        """One level of the latent -> frame pass, for top-down sampling.

        Args:
          level: 0 (finest) .. num_levels - 1.
          latent: z_level, `[N, h, w, c]`.
          condition: x1 of this level (None on the top level), from
            `decode_level(level + 1, ...)`.

        Returns:
          x1 of level `level - 1`, or the frame `[N, H, W, C]` for level 0.
        """
        top = level == self.num_levels - 1
        if top != (condition is None):
            raise ValueError(f"{self.name}.decode_level: level {level} needs "
                             f"{'no' if top else 'a'} condition.")
        h = latent if top else tf.concat([condition, latent], axis=-1)
        for step in reversed(self._levels[level]):
            h, _ = step._decode(h)
        return self._squeeze._decode(h)[0]

    # ------------------------------------------------------------------ flow
    def _encode_levels(self, x):
        latents, conditions = [], []
        log_det = tf.zeros(tf.shape(x)[:1], x.dtype)
        h = x
        for level, steps in enumerate(self._levels):
            h, _ = self._squeeze._encode(h)
            for step in steps:
                h, step_log_det = step._encode(h)
                log_det += step_log_det
            if level < len(self._levels) - 1:
                h, z = tf.split(h, 2, axis=-1)
                latents.append(z)
                conditions.append(h)
        latents.append(h)
        conditions.append(None)
        return tuple(latents), tuple(conditions), log_det

    def _encode(self, x):
        latents, _, log_det = self._encode_levels(x)
        return latents, log_det

    def _decode(self, latents):
        h = latents[-1]
        log_det = tf.zeros(tf.shape(h)[:1], h.dtype)
        for level in reversed(range(len(self._levels))):
            if level < len(self._levels) - 1:
                h = tf.concat([h, latents[level]], axis=-1)
            for step in reversed(self._levels[level]):
                h, step_log_det = step._decode(h)
                log_det += step_log_det
            h, _ = self._squeeze._decode(h)
        return h, log_det

    # ------------------------------------------------- structured latent side
    def _check_structure(self, latents, where):
        if not isinstance(latents, (tuple, list)) or \
                len(latents) != self.num_levels:
            raise ValueError(
                f"{where}: expected a tuple of {self.num_levels} latents "
                f"shaped {self._latent_shapes}, got {_describe(latents)}.")

    # TFP matches the structure before our checks run: check it first, so a
    # wrong structure gets a clear message rather than a nest TypeError.
    def forward(self, x, name="forward", **kwargs):
        self._check_structure(x, f"{self.name}.forward")
        return super().forward(x, name=name, **kwargs)

    def forward_log_det_jacobian(self, x, event_ndims=None,
                                 name="forward_log_det_jacobian", **kwargs):
        self._check_structure(x, f"{self.name}.forward_log_det_jacobian")
        return super().forward_log_det_jacobian(x, event_ndims, name=name,
                                                **kwargs)

    def _check_latents(self, latents, direction):
        where = f"{self.name}.{direction}"
        self._check_structure(latents, where)
        latents = tuple(
            flow_bijector.check_image(z, shape, self.flow_dtype,
                                      f"{where} (level {level})")
            for level, (z, shape) in enumerate(zip(latents,
                                                   self._latent_shapes)))
        batch_shapes = {z.shape[:-3] for z in latents
                        if z.shape.rank is not None
                        and z.shape[:-3].is_fully_defined()}
        if len(batch_shapes) > 1:
            raise ValueError(f"{where}: the latents' batch shapes differ: "
                             f"{[z.shape for z in latents]}.")
        return latents

    def _latent_batch_shape(self, latents):
        return tf.shape(latents[0])[:-flow_bijector.EVENT_NDIMS]

    def _forward_dtype(self, dtype, **kwargs):
        del kwargs
        return tf.nest.flatten(dtype)[0] if dtype is not None else None

    def _inverse_dtype(self, dtype, **kwargs):
        del kwargs
        return (dtype,) * self.num_levels

    def _inverse_event_shape(self, shape):
        prefix = tf.TensorShape(shape)[:-3]
        return tuple(prefix.concatenate(s) for s in self._latent_shapes)

    def _forward_event_shape(self, shapes):
        prefix = tf.TensorShape(shapes[0])[:-3]
        return prefix.concatenate(self._frame_shape)

    def _inverse_event_shape_tensor(self, shape):
        return tuple(tf.concat([shape[:-3], s], 0) for s in self._latent_shapes)

    def _forward_event_shape_tensor(self, shapes):
        return tf.concat([shapes[0][:-3], self._frame_shape], 0)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _latent_shapes(frame_shape, num_levels):
    """Per-level latent shapes, finest first, of a frame of `frame_shape`."""
    height, width, channels = frame_shape
    shapes = []
    for level in range(num_levels):
        height, width, channels = height // 2, width // 2, channels * 4
        if level < num_levels - 1:
            channels //= 2
        shapes.append((height, width, channels))
    return tuple(shapes)
