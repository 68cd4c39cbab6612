"""Per-level conditional priors: the networks of the latent dynamics.

For one level l of one frame t, a prior maps what came before to the mean and
log-scale of a diagonal Gaussian over that level's latent z_t^l:

    (mean, log_scale) = prior(history, missing, coarser)

    history  [N, k, h, w, c]   z_{t-k} .. z_{t-1} of this level (zeros where
                               the frame does not exist)
    missing  [N, k]            1.0 where a history frame is padding, else 0.0
    coarser  [N, h, w, c']     the next coarser level of the *same* frame,
                               z_t^{l+1}, moved to this level's resolution by
                               depth-to-space (None on the coarsest level)

Three kinds, chosen by name through `PRIORS`:

* `Conv3DPrior` ("conv3d", the paper's): a residual network of causal 3-D
  convolutions over the history (kernel 2 x 3 x 3, per-block layer
  normalisation, spatially dilated branches, gated activations), the coarser
  level tiled over time as extra channels, the last time step read out by a
  zero-initialised 3x3 convolution, and the "latent skip" mean += z_{t-1}.
* `PointwisePrior` ("pointwise"): mean = (1 + a) * z_{t-1} + b, elementwise.
* `IndependentPrior` ("none"): a learned Gaussian per element that ignores
  time, i.e. the per-frame Glow baseline.

The last two condition on the coarser level through a zero-initialised 3x3
convolution (Glow's split prior). All output layers start at zero, so training
starts from N(z_{t-1}, 1) (with latent skip) or N(0, 1). Log-scales pass
through `bound * tanh(raw / bound)`: identical near zero, never beyond
+-`LOG_SCALE_BOUND`, so a prior can not collapse to a spike or blow up.
"""

import keras
import tensorflow as tf

LOG_SCALE_BOUND = 7.0


def bounded_log_scale(raw):
    """Soft-clips log-scales to (-LOG_SCALE_BOUND, LOG_SCALE_BOUND)."""
    return LOG_SCALE_BOUND * tf.tanh(raw / LOG_SCALE_BOUND)


class LevelPrior(keras.layers.Layer):
    """Base class: `call(history, missing, coarser) -> (mean, log_scale)`."""

    def __init__(self, latent_shape, coarser_channels=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_shape = tuple(int(d) for d in latent_shape)
        self.coarser_channels = (None if coarser_channels is None
                                 else int(coarser_channels))

    def get_config(self):
        return {**super().get_config(), "latent_shape": self.latent_shape,
                "coarser_channels": self.coarser_channels}


class _CoarserHead(keras.layers.Layer):
    """Zero-initialised 3x3 conv: coarser latent -> (d_mean, d_log_scale)."""

    def __init__(self, coarser_channels, channels, **kwargs):
        super().__init__(**kwargs)
        with keras.name_scope(self.name, caller=self):
            self.conv = keras.layers.Conv2D(
                2 * channels, 3, padding="same", kernel_initializer="zeros",
                dtype=self.dtype_policy, name="conv")
            self.conv.build((None, None, None, coarser_channels))
        self.built = True

    def call(self, coarser):
        return tf.split(self.conv(coarser), 2, axis=-1)


class IndependentPrior(LevelPrior):
    """A learned Gaussian per latent element; ignores the past ("none")."""

    def __init__(self, latent_shape, coarser_channels=None, **kwargs):
        super().__init__(latent_shape, coarser_channels, **kwargs)
        self.mean = self.add_weight(name="mean", shape=self.latent_shape,
                                    initializer="zeros")
        self.raw_log_scale = self.add_weight(
            name="raw_log_scale", shape=self.latent_shape, initializer="zeros")
        with keras.name_scope(self.name, caller=self):
            self.coarser_head = (None if coarser_channels is None else
                                 _CoarserHead(coarser_channels,
                                              self.latent_shape[-1],
                                              dtype=self.dtype_policy,
                                              name="coarser_head"))
        self.built = True

    def _base(self, history):
        batch = tf.shape(history)[:1]
        mean = tf.broadcast_to(self.mean, tf.concat(
            [batch, self.latent_shape], 0))
        return mean, tf.broadcast_to(self.raw_log_scale, tf.shape(mean))

    def call(self, history, missing, coarser=None):
        del missing  # The past is ignored.
        mean, raw_log_scale = self._base(history)
        if self.coarser_head is not None:
            d_mean, d_log_scale = self.coarser_head(coarser)
            mean, raw_log_scale = mean + d_mean, raw_log_scale + d_log_scale
        return mean, bounded_log_scale(raw_log_scale)


class PointwisePrior(IndependentPrior):
    """mean = (1 + a) * z_{t-1} + b per element, learned scale ("pointwise")."""

    def __init__(self, latent_shape, coarser_channels=None, **kwargs):
        super().__init__(latent_shape, coarser_channels, **kwargs)
        self.slope = self.add_weight(name="slope", shape=self.latent_shape,
                                     initializer="zeros")

    def _base(self, history):
        previous = history[:, -1]
        mean = (1.0 + self.slope) * previous + self.mean
        return mean, tf.broadcast_to(self.raw_log_scale, tf.shape(mean))


class _CausalConv3D(keras.layers.Layer):
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
        return self.conv(tf.pad(x, self.paddings))


class _ResidualBlock(keras.layers.Layer):
    """LayerNorm -> dilated causal 3-D conv branches -> gated 1x1x1 -> +x."""

    def __init__(self, width, dilations, seed, **kwargs):
        super().__init__(**kwargs)
        dtype = self.dtype_policy
        with keras.name_scope(self.name, caller=self):
            self.norm = keras.layers.LayerNormalization(dtype=dtype,
                                                        name="norm")
            self.norm.build((None, None, None, None, width))
            branch_width = -(-width // len(dilations))  # ceil
            glorot = keras.initializers.GlorotUniform
            self.branches = [
                _CausalConv3D(branch_width, width, spatial_dilation=d,
                              kernel_initializer=glorot(seed=seed + i),
                              dtype=dtype, name=f"branch_d{d}")
                for i, d in enumerate(dilations)]
            self.gate = keras.layers.Conv3D(
                2 * width, 1, dtype=dtype, name="gate",
                kernel_initializer=keras.initializers.GlorotUniform(
                    seed=seed + len(dilations)))
            self.gate.build((None, None, None, None,
                             branch_width * len(dilations)))
        self.built = True

    def call(self, x):
        y = tf.nn.relu(self.norm(x))
        y = tf.concat([branch(y) for branch in self.branches], axis=-1)
        a, b = tf.split(self.gate(y), 2, axis=-1)
        return x + tf.tanh(a) * tf.sigmoid(b)


class Conv3DPrior(LevelPrior):
    """The paper's residual causal 3-D conv prior ("conv3d")."""

    def __init__(self, latent_shape, coarser_channels=None, width=256, depth=5,
                 dilations=(1, 2, 4), latent_skip=True, seed=0, **kwargs):
        super().__init__(latent_shape, coarser_channels, **kwargs)
        self.width = int(width)
        self.depth = int(depth)
        self.dilations = tuple(int(d) for d in dilations)
        self.latent_skip = bool(latent_skip)
        self.seed = int(seed)
        dtype = self.dtype_policy
        channels = self.latent_shape[-1]
        # Inputs: history, "missing" indicator, coarser level tiled over time.
        in_channels = channels + 1 + (self.coarser_channels or 0)
        with keras.name_scope(self.name, caller=self):
            self.conv_in = _CausalConv3D(
                self.width, in_channels,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                dtype=dtype, name="conv_in")
            self.blocks = [
                _ResidualBlock(self.width, self.dilations,
                               seed=seed + 10 * (i + 1), dtype=dtype,
                               name=f"block{i}")
                for i in range(self.depth)]
            self.conv_out = keras.layers.Conv2D(
                2 * channels, 3, padding="same", kernel_initializer="zeros",
                dtype=dtype, name="conv_out")
            self.conv_out.build((None, None, None, self.width))
        self.built = True

    def call(self, history, missing, coarser=None):
        num_frames = tf.shape(history)[1]
        indicator = tf.ones_like(history[..., :1]) * tf.cast(
            missing, history.dtype)[:, :, tf.newaxis, tf.newaxis, tf.newaxis]
        inputs = [history, indicator]
        if coarser is not None:
            inputs.append(tf.repeat(coarser[:, tf.newaxis], num_frames, axis=1))
        h = self.conv_in(tf.concat(inputs, axis=-1))
        for block in self.blocks:
            h = block(h)
        mean, raw_log_scale = tf.split(self.conv_out(h[:, -1]), 2, axis=-1)
        if self.latent_skip:
            mean += history[:, -1]
        return mean, bounded_log_scale(raw_log_scale)

    def get_config(self):
        return {**super().get_config(), "width": self.width,
                "depth": self.depth, "dilations": self.dilations,
                "latent_skip": self.latent_skip, "seed": self.seed}


PRIORS = {
    "conv3d": Conv3DPrior,
    "pointwise": PointwisePrior,
    "none": IndependentPrior,
}
