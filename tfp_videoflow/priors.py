"""Per-level conditional priors: the networks of the latent dynamics.

For one level l of one frame t, a prior maps what came before, and what the
coarser levels of the same frame already fixed, to a distribution over that
level's latent z_t^l:

    prior(history, missing, condition, temperature) -> p(z_t^l | ...)

    history    [N, k, h, w, c]  z_{t-k}^l .. z_{t-1}^l (zeros where the frame
                                does not exist)
    missing    [N, k]           1.0 where a history frame is padding, else 0.0
    condition  [N, h, w, c]     Glow's x1 of this level's split: what stays at
                                level l when z_t^l splits off, a function of
                                z_t^{>l} only, spatially aligned with z_t^l
                                (`MultiScaleFlow.encode_with_conditions`);
                                None on the top level

The result is a TFP distribution with batch `[N]` and event `[h, w, c]`:
a diagonal Gaussian N(mean, temperature * scale), or, on a level built with
`num_components = M > 1`, a mixture

    p(z) = sum_m pi_m N(z; mean_m, temperature * scale_m)

with one categorical choice for the whole latent (all positions and
channels): M distinct futures, e.g. directions of motion, instead of one
mode in between them. Its log-density is exact (a logsumexp over the
components).

Three kinds, chosen by name through `PRIORS`:

* `Conv3DPrior` ("conv3d", the paper's): a residual network of causal 3-D
  convolutions over the history (time kernel 2, or 1 with a single past
  frame; 3x3 in space; per-block layer normalisation; spatially dilated
  branches, only dilations smaller than the grid; gated activations), the
  condition tiled over time as extra channels, the last time step read out
  by a zero-initialised 3x3 convolution, and the optional "latent skip"
  mean += z_{t-1}. Every residual block ends in a zero-initialised gate, so
  at initialisation each block is the identity.
* `PointwisePrior` ("pointwise"): mean = (1 + a) * z_{t-1} + b, elementwise.
* `IndependentPrior` ("none"): a learned Gaussian per element that ignores
  time: the per-frame Glow baseline.

The last two condition on x1 through a zero-initialised 3x3 convolution
(Glow's split prior). All output layers start at zero, so training starts
from N(z_{t-1}, 1) (with latent skip) or N(0, 1). Log-scales pass through
`bound * tanh(raw / bound)`: identical near zero, never beyond
+-`LOG_SCALE_BOUND`, so a prior can neither collapse to a spike nor blow up.
"""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

LOG_SCALE_BOUND = 7.0


def bounded_log_scale(raw):
    """Soft-clips log-scales to (-LOG_SCALE_BOUND, LOG_SCALE_BOUND)."""
    return LOG_SCALE_BOUND * tf.tanh(raw / LOG_SCALE_BOUND)


def gaussian(mean, log_scale, temperature):
    """N(mean, temperature * exp(log_scale)) with event `[h, w, c]`."""
    log_scale = tf.cast(log_scale, mean.dtype)
    scale = tf.exp(log_scale) * tf.cast(temperature, mean.dtype)
    return tfd.Independent(tfd.Normal(mean, scale),
                           reinterpreted_batch_ndims=3)


def mixture(logits, means, log_scales, temperature):
    """sum_m softmax(logits)_m N(means_m, temperature * exp(log_scales_m)).

    Args:
      logits: `[N, M]`.
      means, log_scales: `[N, M, h, w, c]`.
      temperature: multiplies every scale; the weights are unchanged.
    """
    return tfd.MixtureSameFamily(
        tfd.Categorical(logits=tf.cast(logits, means.dtype)),
        gaussian(means, log_scales, temperature))


class LevelPrior(keras.layers.Layer):
    """Base class: `call(history, missing, condition, temperature) -> dist`."""

    def __init__(self, latent_shape, conditioned=False, **kwargs):
        # No autocast: under a mixed policy the inputs (the history, whose
        # last frame the latent skip adds to the mean) and the density stay
        # in the latents' dtype; the convolutions inside cast for themselves.
        super().__init__(**{"autocast": False, **kwargs})
        self.latent_shape = tuple(int(d) for d in latent_shape)
        self.conditioned = bool(conditioned)

    # Whether `num_components` > 1 (a mixture at the top level) is built.
    mixes = False

    @classmethod
    def for_level(cls, latent_shape, top, settings, **kwargs):
        """The prior of one level from the latent dynamics' `settings`.

        Args:
          latent_shape: `(h, w, c)` of the level.
          top: whether it is the coarsest level (no x1 to condition on; the
            level that may be a mixture).
          settings: dict of `num_cond_frames`, `width`, `depth`,
            `dilations`, `latent_skip`, `top_components`, `seed`,
            `memory_saving`; each kind of prior takes what it uses.
          **kwargs: for `keras.layers.Layer` (`dtype`, `name`).
        """
        del settings  # This kind uses none of them.
        return cls(latent_shape, conditioned=not top, **kwargs)

    def _check_condition(self, condition):
        if self.conditioned != (condition is not None):
            raise ValueError(
                f"{self.name}: this level's prior is "
                f"{'' if self.conditioned else 'not '}conditioned on x1, "
                f"got condition={'None' if condition is None else 'a tensor'}.")

    def get_config(self):
        return {**super().get_config(), "latent_shape": self.latent_shape,
                "conditioned": self.conditioned}


class _ConditionHead(keras.layers.Layer):
    """Zero-initialised 3x3 conv: x1 -> (d_mean, d_log_scale)."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        with keras.name_scope(self.name, caller=self):
            self.conv = keras.layers.Conv2D(
                2 * channels, 3, padding="same", kernel_initializer="zeros",
                dtype=self.dtype_policy, name="conv")
            self.conv.build((None, None, None, channels))
        self.built = True

    def call(self, condition):
        return tf.split(self.conv(condition), 2, axis=-1)


class IndependentPrior(LevelPrior):
    """A learned Gaussian per latent element; ignores the past ("none")."""

    def __init__(self, latent_shape, conditioned=False, **kwargs):
        super().__init__(latent_shape, conditioned, **kwargs)
        self.mean = self.add_weight(name="mean", shape=self.latent_shape,
                                    initializer="zeros")
        self.raw_log_scale = self.add_weight(
            name="raw_log_scale", shape=self.latent_shape, initializer="zeros")
        with keras.name_scope(self.name, caller=self):
            self.condition_head = (
                _ConditionHead(self.latent_shape[-1], dtype=self.dtype_policy,
                               name="condition_head")
                if conditioned else None)
        self.built = True

    def _base(self, history):
        batch = tf.shape(history)[:1]
        mean = tf.broadcast_to(tf.cast(self.mean, history.dtype), tf.concat(
            [batch, self.latent_shape], 0))
        return mean, tf.broadcast_to(
            tf.cast(self.raw_log_scale, history.dtype), tf.shape(mean))

    def call(self, history, missing, condition=None, temperature=1.0):
        del missing  # The past is ignored.
        self._check_condition(condition)
        mean, raw_log_scale = self._base(history)
        if self.condition_head is not None:
            # Under a mixed policy the head computes in 16 bits; the density
            # stays in the latents' dtype.
            d_mean, d_log_scale = (tf.cast(d, history.dtype) for d in
                                   self.condition_head(condition))
            mean, raw_log_scale = mean + d_mean, raw_log_scale + d_log_scale
        return gaussian(mean, bounded_log_scale(raw_log_scale), temperature)


class PointwisePrior(IndependentPrior):
    """mean = (1 + a) * z_{t-1} + b per element, learned scale ("pointwise")."""

    def __init__(self, latent_shape, conditioned=False, **kwargs):
        super().__init__(latent_shape, conditioned, **kwargs)
        self.slope = self.add_weight(name="slope", shape=self.latent_shape,
                                     initializer="zeros")

    def _base(self, history):
        previous = last_frame(history)
        mean = ((1.0 + tf.cast(self.slope, history.dtype)) * previous
                + tf.cast(self.mean, history.dtype))
        return mean, tf.broadcast_to(
            tf.cast(self.raw_log_scale, history.dtype), tf.shape(mean))


class CausalConv3D(keras.layers.Layer):
    """3-D conv, causal in time (sees frames <= t), 'same' size in space."""

    def __init__(self, filters, in_channels, kernel_size=(2, 3, 3),
                 spatial_dilation=1, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        kt, kh, kw = kernel_size
        pad_h, pad_w = (kh - 1) * spatial_dilation, (kw - 1) * spatial_dilation
        self.paddings = [[0, 0], [kt - 1, 0], [pad_h // 2, pad_h - pad_h // 2],
                         [pad_w // 2, pad_w - pad_w // 2], [0, 0]]
        with keras.name_scope(self.name, caller=self):
            self.conv = keras.layers.Conv3D(
                filters, kernel_size, padding="valid",
                dilation_rate=(1, spatial_dilation, spatial_dilation),
                kernel_initializer=kernel_initializer, dtype=self.dtype_policy,
                name="conv")
            self.conv.build((None, None, None, None, in_channels))
        self.built = True

    def call(self, x):
        # The same convolution as `self.conv(tf.pad(x, self.paddings))`.
        return causal_conv3d(self.conv, x)


def last_frame(x):
    """`x[:, -1]` of `[N, k, ...]`, by tf.split: on CPU a slice's gradient
    (StridedSliceGrad) is several times slower than split's (a concat)."""
    k = tf.shape(x)[1]
    return tf.squeeze(tf.split(x, tf.stack([k - 1, 1]), axis=1, num=2)[1],
                      axis=1)


def causal_conv3d(conv, x):
    """A Conv3D layer `conv` applied causally in time, 'same' in space.

    Frame t of the output sees input frames t - k_t + 1 .. t (zeros before
    the first), as `conv(tf.pad(x, causal paddings))` would give, computed
    as one 2-D convolution per time tap over the frames folded into the
    batch: on CPU TensorFlow's 3-D convolution (and above all its dilated
    form) is several times slower. With a 1x1x1 kernel it is `conv(x)`.
    """
    dtype = conv.compute_dtype
    kernel = tf.cast(conv.kernel, dtype)
    x = tf.cast(x, dtype)
    taps = kernel.shape[0]
    shape = tf.shape(x)
    num_frames = shape[1]
    if taps > 1:
        x = tf.pad(x, [[0, 0], [taps - 1, 0], [0, 0], [0, 0], [0, 0]])
    y = None
    for tap in range(taps):
        # The frames tap `tap` sees, by tf.split rather than a slice (as in
        # `last_frame`): the slices' gradients took a third of the `real`
        # preset's training step.
        frames = x if taps == 1 else tf.split(
            x, tf.stack([tap, num_frames, taps - 1 - tap]), axis=1, num=3)[1]
        frames = tf.reshape(frames, tf.concat([[-1], shape[2:]], 0))
        # "SAME" pads (k - 1) * dilation in all, half before (rounded
        # down): the causal layer's spatial paddings. (tf.nn.convolution:
        # a dilated one runs as space-to-batch, whose gradient every
        # device has.)
        term = tf.nn.convolution(frames, kernel[tap], padding="SAME",
                                 dilations=conv.dilation_rate[1:])
        y = term if y is None else y + term
    if conv.use_bias:
        y = tf.nn.bias_add(y, tf.cast(conv.bias, dtype))
    return tf.reshape(y, tf.concat([shape[:2], tf.shape(y)[1:]], 0))


class _ResidualBlock(keras.layers.Layer):
    """LayerNorm -> dilated causal 3-D conv branches -> gated 1x1x1 -> +x.

    The gate's pre-activation starts at zero (tanh(0) = 0), so the block
    starts as the identity and the network as its input convolution.
    """

    def __init__(self, width, dilations, time_kernel, seed, **kwargs):
        super().__init__(**kwargs)
        dtype = self.dtype_policy
        with keras.name_scope(self.name, caller=self):
            self.norm = keras.layers.LayerNormalization(dtype=dtype,
                                                        name="norm")
            self.norm.build((None, None, None, None, width))
            branch_width = -(-width // len(dilations))  # ceil
            glorot = keras.initializers.GlorotUniform
            self.branches = [
                CausalConv3D(branch_width, width, (time_kernel, 3, 3),
                              spatial_dilation=d,
                              kernel_initializer=glorot(seed=seed + i),
                              dtype=dtype, name=f"branch_d{d}")
                for i, d in enumerate(dilations)]
            self.gate = keras.layers.Conv3D(
                2 * width, 1, dtype=dtype, name="gate",
                kernel_initializer="zeros")
            self.gate.build((None, None, None, None,
                             branch_width * len(dilations)))
        self.built = True

    def call(self, x):
        y = tf.nn.relu(self.norm(x))
        y = tf.concat([branch(y) for branch in self.branches], axis=-1)
        a, b = tf.split(causal_conv3d(self.gate, y), 2, axis=-1)
        return x + tf.tanh(a) * tf.sigmoid(b)


class Conv3DPrior(LevelPrior):
    """The paper's residual causal 3-D conv prior ("conv3d").

    With `num_components` M > 1 its output is a mixture of M Gaussians with
    one categorical choice per frame (see the module docstring): the weights
    come from the spatial mean of the last features; every component's mean
    and scale come from one shared head (a 3x3 convolution and ReLU, then
    the zero-initialised output convolution) fed the last features plus the
    component's learned code (a vector of the prior's width, N(0, 1) at the
    start). What the components share, the look of the past, is learned
    once from every example, and they differ only where the futures do
    (measured against a head and a mean offset per component: 31 % valid
    futures after 5 CPU minutes against 3 %; BENCHMARKS.md section 9).
    """

    mixes = True

    def __init__(self, latent_shape, conditioned=False, num_cond_frames=1,
                 width=256, depth=5, dilations=(1, 2, 4), latent_skip=True,
                 num_components=1, seed=0, memory_saving=False, **kwargs):
        super().__init__(latent_shape, conditioned, **kwargs)
        # Training's backward pass recomputes each residual block from its
        # input instead of keeping its activations (as the flow does).
        self.memory_saving = bool(memory_saving)
        self.num_cond_frames = int(num_cond_frames)
        self.width = int(width)
        self.depth = int(depth)
        self.dilations = tuple(int(d) for d in dilations)
        self.latent_skip = bool(latent_skip)
        self.num_components = int(num_components)
        self.seed = int(seed)
        if self.num_components < 1:
            raise ValueError(f"{self.name}: num_components must be >= 1, got "
                             f"{num_components}.")
        with keras.name_scope(self.name, caller=self):
            self._make_network()
            if self.num_components > 1:
                self._make_components()
        self.built = True

    def _make_network(self):
        """The input convolution, the residual blocks, the output layer."""
        dtype, seed = self.dtype_policy, self.seed
        height, width, channels = self.latent_shape
        # With one past frame a 2-frame kernel would only multiply padding.
        time_kernel = min(2, self.num_cond_frames)
        # A dilation as large as the grid reads nothing but padding.
        used = tuple(d for d in self.dilations if d < max(height, width))
        # Inputs: history, "missing" indicator, x1 tiled over time.
        in_channels = channels + 1 + (channels if self.conditioned else 0)
        self.conv_in = CausalConv3D(
            self.width, in_channels, (time_kernel, 3, 3),
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            dtype=dtype, name="conv_in")
        self.blocks = [
            _ResidualBlock(self.width, used or (1,), time_kernel,
                           seed=seed + 10 * (i + 1), dtype=dtype,
                           name=f"block{i}")
            for i in range(self.depth)]
        self.conv_out = keras.layers.Conv2D(
            2 * channels, 3, padding="same", kernel_initializer="zeros",
            dtype=dtype, name="conv_out")
        self.conv_out.build((None, None, None, self.width))

    def _make_components(self):
        """The mixture's codes, their shared head and the weights' layer."""
        dtype, seed, m = self.dtype_policy, self.seed, self.num_components
        self.codes = self.add_weight(
            name="codes", shape=(m, self.width),
            initializer=keras.initializers.RandomNormal(stddev=1.0,
                                                        seed=seed + 8))
        self.code_head = keras.layers.Conv2D(
            self.width, 3, padding="same",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 9),
            dtype=dtype, name="code_head")
        self.code_head.build((None, None, None, self.width))
        self.logits_out = keras.layers.Dense(
            m, kernel_initializer="zeros", dtype=dtype, name="logits_out")
        self.logits_out.build((None, self.width))

    def call(self, history, missing, condition=None, temperature=1.0):
        self._check_condition(condition)
        num_frames = tf.shape(history)[1]
        indicator = tf.ones_like(history[..., :1]) * tf.cast(
            missing, history.dtype)[:, :, tf.newaxis, tf.newaxis, tf.newaxis]
        inputs = [history, indicator]
        if condition is not None:
            inputs.append(tf.repeat(condition[:, tf.newaxis], num_frames,
                                    axis=1))
        h = self.conv_in(tf.concat(inputs, axis=-1))
        for block in self.blocks:
            h = tf.recompute_grad(block)(h) if self.memory_saving else block(h)
        last = last_frame(h)
        skip = last_frame(history) if self.latent_skip else 0.0
        if self.num_components == 1:
            # Under a mixed policy the network computes in 16 bits; the
            # density stays in the latents' dtype.
            out = tf.cast(self.conv_out(last), history.dtype)
            mean, raw_log_scale = tf.split(out, 2, axis=-1)
            return gaussian(mean + skip, bounded_log_scale(raw_log_scale),
                            temperature)
        # [N, h, w, W] + [M, W] -> [N M, h, w, W] -> one head -> [N, M, h, w,
        # 2c] means and log-scales.
        height, width, channels = self.latent_shape
        coded = last[:, tf.newaxis] + tf.cast(
            self.codes, last.dtype)[:, tf.newaxis, tf.newaxis]
        coded = tf.reshape(coded, [-1, height, width, self.width])
        out = self.conv_out(tf.nn.relu(self.code_head(tf.nn.relu(coded))))
        out = tf.reshape(tf.cast(out, history.dtype),
                         [-1, self.num_components, height, width,
                          2 * channels])
        mean, raw_log_scale = tf.split(out, 2, axis=-1)
        if self.latent_skip:
            skip = skip[:, tf.newaxis]
        logits = self.logits_out(tf.reduce_mean(last, axis=[1, 2]))
        return mixture(logits, mean + skip, bounded_log_scale(raw_log_scale),
                       temperature)

    def split_component(self, source, target, noise):
        """Makes component `target` a copy of `source` that shares its weight.

        Both get half of `source`'s mixture weight (the same logit weights,
        each bias lowered by log 2) and `target`'s code becomes `source`'s
        plus `noise`. With zero noise the mixture's density is unchanged:
        w N(m, s) = w/2 N(m, s) + w/2 N(m, s). The noise breaks the tie, so
        that training can pull the two apart when `source` covers several
        kinds of future (a component that won them early keeps them: the
        others' weights fall to zero and they never get them back).

        Args:
          source, target: component indices (Python ints), different.
          noise: `[width]` added to the copy's code.
        """
        if source == target or not 0 <= min(source, target) <= max(
                source, target) < self.num_components:
            raise ValueError(f"{self.name}: split_component needs two "
                             f"different components of {self.num_components},"
                             f" got {source} and {target}.")
        half = math.log(2.0)
        kernel, bias = self.logits_out.kernel, self.logits_out.bias
        kernel.assign(tf.tensor_scatter_nd_update(
            kernel, [[i, target] for i in range(kernel.shape[0])],
            kernel[:, source]))
        bias.assign(tf.tensor_scatter_nd_update(
            bias, [[source], [target]], tf.fill([2], bias[source] - half)))
        self.codes.assign(tf.tensor_scatter_nd_update(
            self.codes, [[target]],
            (self.codes[source] + tf.cast(noise, self.codes.dtype))[None]))

    @classmethod
    def for_level(cls, latent_shape, top, settings, **kwargs):
        return cls(latent_shape, conditioned=not top,
                   num_cond_frames=settings["num_cond_frames"],
                   width=settings["width"], depth=settings["depth"],
                   dilations=settings["dilations"],
                   latent_skip=settings["latent_skip"],
                   num_components=settings["top_components"] if top else 1,
                   seed=settings["seed"],
                   memory_saving=settings["memory_saving"], **kwargs)

    def get_config(self):
        return {**super().get_config(), "width": self.width,
                "num_cond_frames": self.num_cond_frames,
                "depth": self.depth, "dilations": self.dilations,
                "latent_skip": self.latent_skip,
                "num_components": self.num_components, "seed": self.seed,
                "memory_saving": self.memory_saving}


PRIORS = {
    "conv3d": Conv3DPrior,
    "pointwise": PointwisePrior,
    "none": IndependentPrior,
}
