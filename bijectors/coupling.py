"""Coupling layers: the shared split/merge logic and the conditioning network.

A coupling layer splits the channels of its input into `x1` (the first
`C // 2`) and `x2` (the rest), leaves `x1` as it is, and transforms `x2`
elementwise with parameters computed from `x1` by a neural network:

    z1 = x1,    z2 = g(x2; NN(x1))

Because `x1` passes unchanged, the transform is inverted exactly by recomputing
`NN(z1)`, and the Jacobian is block-triangular, so its log-determinant is that
of `g` alone. `CouplingLayer` is this flow step; its subclasses
(`AffineCouplingLayer`, `AdditiveCouplingLayer`) define `g`.

The network is the one of Glow / VideoFlow:

    3x3 conv -> ActNorm -> ReLU -> 1x1 conv -> ActNorm -> ReLU (or gated
    tanh(a) * sigmoid(b)) -> 3x3 conv initialised to zero

so every coupling layer starts close to the identity. Its 3x3 convolutions
see an extra input channel that is 1 in the zero padding and 0 inside the
image, so the network can tell the image edge from a dark pixel.
"""

import keras
import tensorflow as tf

from bijectors import actnorm, flow_bijector, flow_layer


class EdgeAwareConv2D(keras.layers.Layer):
    """A 'same'-size convolution that is told where the zero padding is.

    It computes conv(concat(pad(x), m)) for the mask m that is 1 in the
    padding and 0 inside, with the kernel K = [K_x, K_m] stored as one
    convolution. Since m is the same for every example, the sum is split:

        conv_same(x, K_x) + conv_valid(m, K_m)

    and the second term is one [H, W, filters] map, T @ K_m, for the
    [H * W, k * k] table T of which kernel taps of each pixel fall into the
    padding (a constant once H and W are known) and K_m as a
    [k * k, filters] matrix. No padded copy of x is made. The map is added
    in one of two equal ways, whichever passes over fewer values:

    - into a wide output (more filters than the input's channels plus
      one), through a constant channel of ones on the input: zero padding
      lets its kernel see exactly the taps inside the image, so

          conv_same(1, -K_m) = T @ K_m - sum(K_m),

      and the whole map becomes conv_same([x, 1], [K_x, -K_m]) plus the
      bias sum(K_m): a convolution with a plain bias, which TensorFlow
      fuses with the bias and a following ReLU;
    - into a narrow output, as the map itself, added after the convolution
      (a channel of ones would cost more than the addition).
    """

    def __init__(self, filters, kernel_size, kernel_initializer, use_bias=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.pad = kernel_size // 2
        self.conv = keras.layers.Conv2D(
            filters, kernel_size, padding="valid", use_bias=use_bias,
            kernel_initializer=kernel_initializer, dtype=self.dtype_policy,
            name="conv")

    def build(self, input_shape):
        self.conv.build(tuple(input_shape[:-1]) + (input_shape[-1] + 1,))
        self.built = True

    def call(self, x):
        return self.call_scaled(x)

    def call_scaled(self, x, scale=None, shift=None):
        """`(call(x) + shift) * scale` (per output channel), folded.

        The scale goes into the kernel and everything that does not depend
        on `x` (mask term, bias, shift) into one bias or map: one
        convolution and at most one addition over the batch. `None` is no
        scale or no shift.
        """
        kernel = tf.cast(self.conv.kernel, x.dtype)
        bias = tf.cast(self.conv.bias, x.dtype) if self.conv.use_bias else 0.0
        if shift is not None:
            bias += shift
        if scale is not None:
            kernel, bias = kernel * scale, bias * scale
        # (tf.split, not slicing: a slice's gradient is a slow scatter on CPU.)
        kernel_x, kernel_mask = tf.split(kernel, [-1, 1], axis=2)
        if kernel.shape[2] < self.conv.filters:  # wide output: ones channel
            ones = tf.ones(tf.concat([tf.shape(x)[:-1], [1]], 0), x.dtype)
            y = tf.nn.conv2d(tf.concat([x, ones], axis=-1),
                             tf.concat([kernel_x, -kernel_mask], axis=2),
                             strides=1, padding="SAME")
            bias += tf.reduce_sum(kernel_mask, axis=[0, 1, 2])
            return tf.nn.bias_add(y, bias)
        y = tf.nn.conv2d(x, kernel_x, strides=1, padding="SAME")
        shape = tf.shape(x)
        taps = self.padding_taps(shape[1], shape[2], x.dtype)
        size = 2 * self.pad + 1
        offset = tf.reshape(
            tf.matmul(taps, tf.reshape(kernel_mask, [size * size, -1])),
            tf.stack([1, shape[1], shape[2], -1]))
        return y + (offset + bias)

    def padding_taps(self, height, width, dtype):
        """T, `[height * width, k * k]`: 1 where a kernel tap of a pixel
        falls into the padding (taps in the kernel's row-major order)."""
        steps = tf.range(-self.pad, self.pad + 1)

        def outside(size):  # [size, k]: position + step off the image
            position = tf.range(size)[:, None] + steps[None, :]
            return (position < 0) | (position >= size)

        rows, cols = outside(height), outside(width)
        taps = rows[:, None, :, None] | cols[None, :, None, :]
        return tf.reshape(tf.cast(taps, dtype), [height * width, -1])


def network_policy(dtype):
    """The dtype policy of a coupling network in a flow of float `dtype`.

    Keras' default policy if it is a mixed one whose weights are `dtype`
    (so `keras.config.set_dtype_policy("mixed_bfloat16")`, or a scope of
    it, makes the networks compute in bfloat16); otherwise plain `dtype`.
    The bijectors' own arithmetic stays in `dtype` either way.
    """
    dtype = tf.as_dtype(dtype).name
    default = keras.config.dtype_policy()
    if default.variable_dtype == dtype and default.compute_dtype != dtype:
        return default
    return dtype


class CouplingNetwork(keras.layers.Layer):
    """The conditioning network NN(x1) of a coupling layer (see module doc)."""

    def __init__(self, in_channels, out_channels, width=512, gated=False,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.width = int(width)
        self.gated = bool(gated)
        self.seed = int(seed)
        # Created in this layer's name scope so that weight paths are
        # unique ("<coupling>/conv_in/kernel"), as checkpoints expect.
        with keras.name_scope(self.name, caller=self):
            dtype = self.dtype_policy
            normal = keras.initializers.RandomNormal
            self.conv_in = EdgeAwareConv2D(
                self.width, 3, normal(stddev=0.05, seed=self.seed),
                use_bias=False, dtype=dtype, name="conv_in")
            self.norm_in = actnorm.ActNormLayer(self.width, dtype=dtype,
                                                name="norm_in")
            hidden_filters = 2 * self.width if self.gated else self.width
            self.conv_hidden = keras.layers.Conv2D(
                hidden_filters, 1, use_bias=False,
                kernel_initializer=normal(stddev=0.05, seed=self.seed + 1),
                dtype=dtype, name="conv_hidden")
            self.norm_hidden = actnorm.ActNormLayer(
                hidden_filters, dtype=dtype, name="norm_hidden")
            self.conv_out = EdgeAwareConv2D(
                self.out_channels, 3, "zeros", dtype=dtype, name="conv_out")
            # Every shape is known here, so build now: the weights then exist
            # before the first call, as TFP and checkpoint loading expect.
            self.conv_in.build((None, None, None, self.in_channels))
            self.conv_hidden.build((None, None, None, self.width))
            self.conv_out.build((None, None, None, self.width))
        self.built = True

    def call(self, x):
        if self.norm_in.is_initialized() and self.norm_hidden.is_initialized():
            # The same function, with each ActNorm folded into the
            # convolution before it: (conv(h, K) + b) * s =
            # conv(h, K * s) + b * s, so no pass over the activations
            # applies it (nor its gradient).
            dtype = x.dtype
            scale_in = tf.exp(tf.cast(self.norm_in.log_scale, dtype))
            h = tf.nn.relu(self.conv_in.call_scaled(
                x, scale_in, tf.cast(self.norm_in.bias, dtype)))
            scale_hidden = tf.exp(tf.cast(self.norm_hidden.log_scale, dtype))
            kernel = tf.cast(self.conv_hidden.kernel, dtype) * scale_hidden
            # The 1x1 convolution as a product over all pixels: on CPU
            # it and its two gradients run faster that way, and the product
            # still fuses with the bias and the ReLU.
            h = tf.nn.bias_add(
                tf.matmul(tf.reshape(h, [-1, self.width]),
                          tf.reshape(kernel, kernel.shape[2:])),
                tf.cast(self.norm_hidden.bias, dtype) * scale_hidden)
        else:  # (the ActNorms initialise themselves on this call)
            h = tf.nn.relu(self.norm_in(self.conv_in(x)))
            h = self.norm_hidden(self.conv_hidden(h))
        if self.gated:
            a, b = tf.split(h, 2, axis=-1)
            h = tf.tanh(a) * tf.sigmoid(b)
        else:
            h = tf.nn.relu(h)
        return self.conv_out(
            tf.reshape(h, tf.concat([tf.shape(x)[:-1], [-1]], 0)))

    def actnorm_layers(self):
        """The network's ActNorm layers (initialised from data)."""
        return tuple(layer for layer in (self.norm_in, self.norm_hidden)
                     if layer.data_init)

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels,
                "out_channels": self.out_channels, "width": self.width,
                "gated": self.gated, "seed": self.seed}


class CouplingLayer(flow_layer.FlowLayer):
    """Flow step: split, condition, transform, merge (see module docstring).

    Subclasses set `PARAMS_PER_CHANNEL` (network outputs per transformed
    channel) and implement `transform(x2, h) -> (z2, log_det)` and
    `untransform(z2, h) -> (x2, log_det)` for `h = NN(x1)`, log-dets per
    example of the frame -> latent and latent -> frame directions.
    """

    PARAMS_PER_CHANNEL = None

    def __init__(self, num_channels, hidden_width=512, gated=False, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if num_channels < 2:
            raise ValueError(f"{self.name}: a coupling layer needs at least 2 "
                             f"channels, got {num_channels}.")
        self.num_channels = int(num_channels)
        self.hidden_width = int(hidden_width)
        self.gated = bool(gated)
        self.seed = int(seed)
        self.num_kept = self.num_channels // 2
        with keras.name_scope(self.name, caller=self):
            self.network = CouplingNetwork(
                in_channels=self.num_kept,
                out_channels=self.PARAMS_PER_CHANNEL
                * (self.num_channels - self.num_kept),
                width=self.hidden_width, gated=self.gated, seed=self.seed,
                name="network", dtype=network_policy(self.variable_dtype))
        self.built = True

    @property
    def frame_event_shape(self):
        return (None, None, self.num_channels)

    def transform(self, x2, h):
        raise NotImplementedError

    def untransform(self, z2, h):
        raise NotImplementedError

    def _conditioning(self, x1):
        # The transform and its log-determinant are computed in the flow's
        # dtype even when the network computes in 16 bits.
        return tf.cast(self.network(x1), x1.dtype)

    def _split(self, x):
        # tf.split, not two slices: on CPU a slice's gradient is a slow
        # scatter, the gradient of a split is one concatenation.
        return tf.split(x, [self.num_kept, -1], axis=-1)

    def encode(self, x):
        x1, x2 = self._split(x)
        z2, log_det = self.transform(x2, self._conditioning(x1))
        return tf.concat([x1, z2], axis=-1), log_det

    def decode(self, z):
        z1, z2 = self._split(z)
        x2, log_det = self.untransform(z2, self._conditioning(z1))
        return tf.concat([z1, x2], axis=-1), log_det

    def actnorm_layers(self):
        return self.network.actnorm_layers()

    def get_config(self):
        return {**super().get_config(), "num_channels": self.num_channels,
                "hidden_width": self.hidden_width, "gated": self.gated,
                "seed": self.seed}


class CouplingBijector(flow_bijector.FlowBijector):
    """The TFP face of a coupling layer.

    Subclasses set `LAYER_CLASS` (the coupling layer to build) and
    `DEFAULT_NAME`.
    """

    LAYER_CLASS = None
    DEFAULT_NAME = None

    def __init__(self, num_channels=None, hidden_width=512, gated=False,
                 seed=0, dtype=tf.float32, validate_args=False, name=None,
                 layer=None):
        """Creates the bijector.

        Args:
          num_channels: C, the size of the last axis.
          hidden_width: channels of the network's hidden layers.
          gated: use a tanh * sigmoid gate instead of the second ReLU.
          seed: integer seed of the network's initial weights.
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer); default
            `DEFAULT_NAME`.
          layer: a coupling layer to use (and share) instead of a new one.
        """
        name = name or self.DEFAULT_NAME
        # The parameters include the layer, so copies share it.
        parameters = flow_bijector.arguments_with_layer(
            type(self), self.LAYER_CLASS, dict(locals()))
        layer = layer or self.LAYER_CLASS(
            num_channels, hidden_width=hidden_width, gated=gated, seed=seed,
            name=name, dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(layer, validate_args=validate_args,
                         parameters=parameters, name=name)
