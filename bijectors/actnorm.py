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

from bijectors import flow_bijector

_EPSILON = 1e-6


class ActNormLayer(keras.layers.Layer):
    """Per-channel affine normalisation with data-dependent initialisation.

    `call(x)` returns `(x + bias) * exp(log_scale)`; on the first call (while
    `initialized` is false and `data_init` is on) the statistics of `x` set the
    weights first. Used on its own inside coupling networks, and as the
    weights of the `ActNorm` bijector.
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

    def maybe_initialize(self, x):
        """Runs `initialize(x)` if this layer has not been initialised yet."""
        if tf.executing_eagerly():
            if not bool(self.initialized.numpy()):
                self.initialize(x)
            return
        with tf.init_scope():  # the flag's value now, while tracing
            if bool(self.initialized.numpy()):
                # A graph traced after the initialisation leaves the
                # condition out (one op fewer per call, no control edge).
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

    def get_config(self):
        return {**super().get_config(), "num_channels": self.num_channels,
                "data_init": self.data_init}


class ActNorm(flow_bijector.FlowBijector):
    """Per-channel scale and shift with data-dependent initialisation.

    See the module docstring for the equations. Events are `[..., H, W, C]`.
    """

    def __init__(self, num_channels, data_init=True, dtype=tf.float32,
                 validate_args=False, name="act_norm"):
        """Creates the bijector.

        Args:
          num_channels: C, the size of the last axis.
          data_init: initialise from the first batch seen frame -> latent.
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer).
        """
        parameters = dict(locals())
        layer = ActNormLayer(num_channels, data_init=data_init, name=name,
                             dtype=tf.as_dtype(dtype).name)
        super().__init__(layer=layer, event_shape=(None, None, num_channels),
                         dtype=dtype, validate_args=validate_args,
                         parameters=parameters, name=name)

    def initialize(self, x):
        """Sets the weights from the statistics of frames `x` [..., H, W, C]."""
        x = self._check_frames(x, "initialize")
        self.layer.initialize(x)

    def _log_det(self, x):
        height, width = tf.shape(x)[1], tf.shape(x)[2]
        per_example = (tf.cast(height * width, x.dtype)
                       * tf.reduce_sum(self.layer.log_scale))
        return tf.fill(tf.shape(x)[:1], per_example)

    def _encode(self, x):
        z = self.layer(x)
        return z, self._log_det(x)

    def _decode(self, z):
        x = z * tf.exp(-self.layer.log_scale) - self.layer.bias
        return x, -self._log_det(z)
