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
flow layers, composed through its public `encode` / `decode`, so the flow is
exactly invertible and its log-determinant exact. `MultiScaleFlowLayer` is
the flow (a Keras layer that owns every weight); `MultiScaleFlow` is its
TFP bijector.
"""

import numpy as np
import tensorflow as tf

from bijectors import (
    actnorm,
    additive_coupling,
    affine_coupling,
    flow_bijector,
    flow_layer,
    invertible_conv1x1,
    memory_saving,
    squeeze,
)

COUPLINGS = {
    "affine": affine_coupling.AffineCouplingLayer,
    "additive": additive_coupling.AdditiveCouplingLayer,
}

_LAYERS_PER_STEP = 3  # actnorm, 1x1 convolution, coupling


class MultiScaleFlowLayer(flow_layer.FlowLayer):
    """Multi-scale Glow as a flow layer: one frame <-> per-level latents.

    `encode(frames)` returns the tuple of latents, finest first, and
    `decode` takes one. Every step is a flow layer, composed through its
    `encode` / `decode`.
    """

    def __init__(self, frame_shape, num_levels=3, steps_per_level=8,
                 coupling="affine", coupling_width=512, gated=False, seed=0,
                 memory_saving=False, **kwargs):
        """Creates the flow; arguments as for `MultiScaleFlow`."""
        super().__init__(**kwargs)
        frame_shape = tuple(int(d) for d in frame_shape)
        if len(frame_shape) != 3 or min(frame_shape) < 1:
            raise ValueError(f"{self.name}: frame_shape must be (H, W, C) "
                             f"with positive sizes, got {frame_shape}.")
        if num_levels < 1 or steps_per_level < 1:
            raise ValueError(
                f"{self.name}: num_levels and steps_per_level must be >= 1, "
                f"got {num_levels} and {steps_per_level}.")
        height, width, _ = frame_shape
        scale = squeeze.FACTOR**num_levels
        if height % scale or width % scale:
            raise ValueError(
                f"{self.name}: frame H and W must be divisible by "
                f"{squeeze.FACTOR}**num_levels = {scale}, got frame_shape "
                f"{frame_shape}.")
        if coupling not in COUPLINGS:
            raise ValueError(f"{self.name}: coupling must be one of "
                             f"{sorted(COUPLINGS)}, got {coupling!r}.")
        self.frame_shape = frame_shape
        self.num_levels = int(num_levels)
        self.steps_per_level = int(steps_per_level)
        self.coupling = coupling
        self.coupling_width = int(coupling_width)
        self.gated = bool(gated)
        self.seed = int(seed)
        self.memory_saving = bool(memory_saving)
        self.latent_shapes = latent_shapes(frame_shape, num_levels)
        dtype = self.variable_dtype
        self.squeeze = squeeze.SqueezeLayer(dtype=dtype, name="squeeze")
        seeds = iter(np.random.SeedSequence(seed).generate_state(
            2 * num_levels * steps_per_level) % 2**31)
        # One flat list (Keras tracks it); level l holds the steps
        # [l * K * 3, (l + 1) * K * 3) for K steps per level.
        steps = []
        channels = frame_shape[-1]
        for level in range(num_levels):
            channels *= squeeze.FACTOR**2
            for step in range(steps_per_level):
                prefix = f"{self.name}_l{level}_s{step}"
                steps += [
                    actnorm.ActNormLayer(channels, dtype=dtype,
                                         name=f"{prefix}_actnorm"),
                    invertible_conv1x1.InvertibleConv1x1Layer(
                        channels, seed=int(next(seeds)), dtype=dtype,
                        name=f"{prefix}_conv1x1"),
                    COUPLINGS[coupling](
                        channels, hidden_width=coupling_width, gated=gated,
                        seed=int(next(seeds)), dtype=dtype,
                        name=f"{prefix}_coupling"),
                ]
            channels //= 2  # split
        self.steps = steps
        self.built = True

    @property
    def frame_event_shape(self):
        return self.frame_shape

    def level_steps(self, level):
        """The flow layers of level `level` (0: finest), frame side first."""
        size = _LAYERS_PER_STEP * self.steps_per_level
        return self.steps[level * size:(level + 1) * size]

    def flow_steps(self, level):
        """Level `level`'s flow steps, each `(actnorm, conv1x1, coupling)`."""
        layers = self.level_steps(level)
        return [tuple(layers[i:i + _LAYERS_PER_STEP])
                for i in range(0, len(layers), _LAYERS_PER_STEP)]

    def actnorm_layers(self):
        return tuple(layer for step in self.steps
                     for layer in step.actnorm_layers())

    def is_initialized(self):
        """Whether every ActNorm holds its data-dependent initialisation,
        read now (outside any graph being traced)."""
        return all(layer.is_initialized() for layer in self.actnorm_layers())

    def initialize(self, frames):
        """Data-dependent initialisation of every ActNorm from `frames`.

        `frames` is `[N, H, W, C]`. Runs one frame -> latent pass with all
        ActNorm layers (those of the flow steps and those inside the coupling
        networks) reset, so each is set from the statistics of its own
        input. Call it eagerly.
        """
        if frames.shape[0] == 0:
            # Statistics of no frames are NaN: check before any weight moves.
            raise ValueError(f"{self.name}.initialize: needs at least one "
                             f"frame, got frames shaped {frames.shape}.")
        for layer in self.actnorm_layers():
            layer.initialized.assign(False)
        self.encode(frames)

    def get_config(self):
        return {**super().get_config(), "frame_shape": self.frame_shape,
                "num_levels": self.num_levels,
                "steps_per_level": self.steps_per_level,
                "coupling": self.coupling,
                "coupling_width": self.coupling_width, "gated": self.gated,
                "seed": self.seed, "memory_saving": self.memory_saving}

    # ----------------------------------------- split conditions (for priors)
    def encode_with_conditions(self, frames):
        """Frames `[N, H, W, C]` -> `(latents, conditions, log_det)`.

        `conditions[l]` is what stays at level l when z_l splits off (Glow's
        x1, shaped like z_l): a function of the coarser latents z_{>l} of the
        same frame only, so a prior of z_l may condition on it. The top level
        has none (`conditions[-1]` is None). `log_det` is log|det dz/dx|,
        `[N]`.

        With `memory_saving` (and every ActNorm initialised, read when this
        is traced), the backward pass recomputes each flow step from its
        input instead of keeping its activations (`memory_saving.py`).
        """
        latents, conditions = [], []
        log_det = tf.zeros(tf.shape(frames)[:1], frames.dtype)
        h = frames
        encode_step = memory_saving.encode_layers
        if self.memory_saving and self.is_initialized():
            encode_step = memory_saving.encode_recomputed
        for level in range(self.num_levels):
            h, _ = self.squeeze.encode(h)
            for step in self.flow_steps(level):
                h, step_log_det = encode_step(step, h)
                log_det += step_log_det
            if level < self.num_levels - 1:
                h, z = tf.split(h, 2, axis=-1)
                latents.append(z)
                conditions.append(h)
        latents.append(h)
        conditions.append(None)
        return tuple(latents), tuple(conditions), log_det

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
        return self._decode_level(level, latent, condition)[0]

    def _decode_level(self, level, latent, condition):
        top = level == self.num_levels - 1
        if top != (condition is None):
            raise ValueError(f"{self.name}.decode_level: level {level} needs "
                             f"{'no' if top else 'a'} condition.")
        h = latent if top else tf.concat([condition, latent], axis=-1)
        log_det = tf.zeros(tf.shape(h)[:1], h.dtype)
        for step in reversed(self.level_steps(level)):
            h, step_log_det = step.decode(h)
            log_det += step_log_det
        return self.squeeze.decode(h)[0], log_det

    def encode(self, x):
        latents, _, log_det = self.encode_with_conditions(x)
        return latents, log_det

    def decode(self, latents):
        h, log_det = None, 0.0
        for level in reversed(range(self.num_levels)):
            h, level_log_det = self._decode_level(level, latents[level], h)
            log_det += level_log_det
        return h, log_det


class MultiScaleFlow(flow_bijector.FlowBijector):
    """Multi-scale Glow: one frame <-> a tuple of per-level latents."""

    def __init__(self, frame_shape=None, num_levels=3, steps_per_level=8,
                 coupling="affine", coupling_width=512, gated=False, seed=0,
                 memory_saving=False, dtype=tf.float32, validate_args=False,
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
          memory_saving: the backward pass recomputes each flow step from
            its input instead of keeping its activations (the same values
            and gradients; memory that hardly grows with depth, for about
            one more forward pass; see memory_saving.py).
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer).
          layer: a `MultiScaleFlowLayer` to use (and share) instead of
            building one from the other arguments.
        """
        # The parameters include the layer, so copies share it.
        parameters = flow_bijector.arguments_with_layer(
            MultiScaleFlow, MultiScaleFlowLayer, dict(locals()))
        if layer is None:
            if frame_shape is None:
                raise ValueError(f"{name}: give frame_shape or layer.")
            layer = MultiScaleFlowLayer(
                frame_shape, num_levels=num_levels,
                steps_per_level=steps_per_level, coupling=coupling,
                coupling_width=coupling_width, gated=gated, seed=seed,
                memory_saving=memory_saving, name=name,
                dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(
            layer,
            forward_min_event_ndims=(flow_bijector.EVENT_NDIMS,)
            * layer.num_levels,
            inverse_min_event_ndims=flow_bijector.EVENT_NDIMS,
            validate_args=validate_args, parameters=parameters, name=name)

    @property
    def frame_shape(self):
        """`(H, W, C)` of one frame."""
        return self._frame_shape

    @property
    def latent_shapes(self):
        """The `(h, w, c)` of each level's latent, finest first."""
        return self.layer.latent_shapes

    @property
    def num_levels(self):
        return self.layer.num_levels

    def initialize(self, frames):
        """Data-dependent initialisation of every ActNorm from `frames`.

        See `MultiScaleFlowLayer.initialize`; call it eagerly. `frames`
        may have any number of batch dimensions.
        """
        frames = self._check_frames(frames, "initialize")
        self.layer.initialize(tf.reshape(frames, [-1, *self.frame_shape]))

    def encode_with_conditions(self, frames):
        """See `MultiScaleFlowLayer.encode_with_conditions`."""
        frames = self._check_frames(frames, "encode_with_conditions")
        if frames.shape.rank != 1 + flow_bijector.EVENT_NDIMS:
            raise ValueError(f"{self.name}.encode_with_conditions: expected "
                             f"frames [N, H, W, C], got shape {frames.shape}.")
        return self.layer.encode_with_conditions(frames)

    def decode_level(self, level, latent, condition=None):
        """See `MultiScaleFlowLayer.decode_level`."""
        return self.layer.decode_level(level, latent, condition)

    # ------------------------------------------------- structured latent side
    def _check_structure(self, latents, where):
        if not isinstance(latents, (tuple, list)) or \
                len(latents) != self.num_levels:
            raise ValueError(
                f"{where}: expected a tuple of {self.num_levels} latents "
                f"shaped {self.latent_shapes}, got {_describe(latents)}.")

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
                                                   self.latent_shapes)))
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
        return tuple(prefix.concatenate(s) for s in self.latent_shapes)

    def _forward_event_shape(self, shapes):
        prefix = tf.TensorShape(shapes[0])[:-3]
        return prefix.concatenate(self._frame_shape)

    def _inverse_event_shape_tensor(self, shape):
        return tuple(tf.concat([shape[:-3], s], 0) for s in self.latent_shapes)

    def _forward_event_shape_tensor(self, shapes):
        return tf.concat([shapes[0][:-3], self._frame_shape], 0)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def latent_shapes(frame_shape, num_levels):
    """Per-level latent shapes, finest first, of a frame of `frame_shape`."""
    height, width, channels = frame_shape
    shapes = []
    for level in range(num_levels):
        height, width = height // squeeze.FACTOR, width // squeeze.FACTOR
        channels *= squeeze.FACTOR**2
        if level < num_levels - 1:
            channels //= 2
        shapes.append((height, width, channels))
    return tuple(shapes)
