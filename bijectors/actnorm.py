"""Activation normalisation (Kingma & Dhariwal, 2018), as a bijector.

Frame -> latent (TFP's inverse), per channel c:

    z[..., c] = (x[..., c] + b[c]) * exp(s[c])
    log|det dz/dx| = H * W * sum_c s[c]

and latent -> frame (forward) is `x = z * exp(-s) - b`.

Data-dependent initialisation: the first batch that passes through in the
frame -> latent direction sets `b = -mean(x)` and `s = -log(std(x) + eps)` per
channel, so that the output starts with zero mean and unit variance; call
`initialize(x)` to do it explicitly on a batch of your choice. The
`initialized` flag is a (non-trainable) weight, so a saved model does not
re-initialise when it is loaded.
"""

import keras
import tensorflow as tf

from bijectors import flow_bijector, flow_layer

_EPSILON = 1e-6


class ActNormLayer(flow_layer.FlowLayer):
    """Per-channel affine normalisation with data-dependent initialisation.

    `call(x)` returns `(x + bias) * exp(log_scale)`; on the first call (while
    `initialized` is false and `data_init` is on) the statistics of `x` set the
    weights first. Used on its own inside coupling networks, and as a flow
    step (`encode` / `decode`, the `ActNorm` bijector).
    """

    def __init__(self, num_channels, data_init=True, **kwargs):
        super().__init__(**kwargs)
        self.num_channels = int(num_channels)
        self.data_init = bool(data_init)
        self.bias = self.add_weight(
            name="bias", shape=(self.num_channels,), initializer="zeros")
        self.log_scale = self.add_weight(
            name="log_scale", shape=(self.num_channels,), initializer="zeros")
        self.initialized = self.add_weight(
            name="initialized", shape=(), dtype="bool", trainable=False,
            initializer=keras.initializers.Constant(not self.data_init))
        self.built = True

    def initialize(self, x):
        """Sets the weights so that `call(x)` has zero mean, unit variance."""
        # (A cast: under mixed precision x is in the 16-bit compute dtype.)
        x = tf.cast(x, self.variable_dtype)
        mean, variance = tf.nn.moments(x, axes=list(range(x.shape.rank - 1)))
        self.bias.assign(-mean)
        self.log_scale.assign(-tf.math.log(tf.sqrt(variance) + _EPSILON))
        self.initialized.assign(True)

    def is_initialized(self):
        """Whether the weights hold their initialisation, read now.

        Read outside any graph being traced (`tf.init_scope`): code traced
        after the initialisation can leave out its condition.
        """
        with tf.init_scope():
            return bool(self.initialized.numpy())

    def maybe_initialize(self, x):
        """Runs `initialize(x)` if this layer has not been initialised yet."""
        if self.is_initialized():
            # (A graph traced now leaves the condition out: one op fewer per
            # call, no control edge.)
            return
        if tf.executing_eagerly():
            self.initialize(x)
            return

        def init():
            self.initialize(x)
            return tf.constant(True)

        # Inside a graph the check happens at run time; TF's automatic control
        # dependencies order the assignments before the reads that follow.
        tf.cond(self.initialized, lambda: tf.constant(False), init)

    def call(self, x):
        self.maybe_initialize(x)
        return (x + self.bias) * tf.exp(self.log_scale)

    @property
    def frame_event_shape(self):
        return (None, None, self.num_channels)

    def encode(self, x):
        z = self.call(x)
        return z, flow_layer.per_pixel_log_det(x, self.log_scale)

    def decode(self, z):
        x = z * tf.exp(-self.log_scale) - self.bias
        return x, -flow_layer.per_pixel_log_det(z, self.log_scale)

    def actnorm_layers(self):
        return (self,) if self.data_init else ()

    def get_config(self):
        return {**super().get_config(), "num_channels": self.num_channels,
                "data_init": self.data_init}


class ActNorm(flow_bijector.FlowBijector):
    """Per-channel scale and shift with data-dependent initialisation.

    See the module docstring for the equations. Events are `[..., H, W, C]`.
    """

    def __init__(self, num_channels=None, data_init=True, dtype=tf.float32,
                 validate_args=False, name="act_norm", layer=None):
        """Creates the bijector.

        Args:
          num_channels: C, the size of the last axis.
          data_init: initialise from the first batch seen frame -> latent.
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer).
          layer: an `ActNormLayer` to use (and share) instead of a new one.
        """
        # The parameters include the layer, so copies share it.
        parameters = flow_bijector.arguments_with_layer(
            ActNorm, ActNormLayer, dict(locals()))
        layer = layer or ActNormLayer(num_channels, data_init=data_init,
                                      name=name, dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(layer, validate_args=validate_args,
                         parameters=parameters, name=name)

    def initialize(self, x):
        """Sets the weights from the statistics of frames `x` [..., H, W, C]."""
        x = self._check_frames(x, "initialize")
        self.layer.initialize(x)
