"""Invertible 1x1 convolution with an LU-parametrised weight (Glow).

Frame -> latent (TFP's inverse) mixes the channels of every pixel with one
C x C matrix:

    z[n, h, w, :] = W x[n, h, w, :],    W = P L (U + diag(sign * exp(s)))

with P a fixed permutation, L unit lower triangular, U strictly upper
triangular, `sign` a fixed vector of +-1 and `s` a learned log-diagonal. W is
invertible for any value of the weights, and

    log|det dz/dx| = H * W * sum_c s[c].

Latent -> frame (forward) applies W^-1, obtained from the same LU factors by
two triangular solves; for the C <= a few hundred of a flow that costs far
less than the convolution itself, so it is not cached between calls.

The initial W is a random rotation drawn from `seed`, so two flows built with
the same seed are identical.
"""

import keras
import numpy as np
import tensorflow as tf

from bijectors import flow_bijector, flow_layer


class InvertibleConv1x1Layer(flow_layer.FlowLayer):
    """Holds the LU factors of the 1x1 convolution weight W."""

    def __init__(self, num_channels, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.num_channels = int(num_channels)
        self.seed = int(seed)
        packed, permutation = _random_rotation_lu(self.num_channels, self.seed)
        diagonal = np.diag(packed)
        self.lower_upper = self.add_weight(
            name="lower_upper", shape=packed.shape,
            initializer=keras.initializers.Constant(
                packed - np.diag(diagonal)))
        self.log_diagonal = self.add_weight(
            name="log_diagonal", shape=diagonal.shape,
            initializer=keras.initializers.Constant(np.log(np.abs(diagonal))))
        # Fixed parts: stored as weights so that a saved model restores them.
        self.sign = self.add_weight(
            name="sign", shape=diagonal.shape, trainable=False,
            initializer=keras.initializers.Constant(np.sign(diagonal)))
        self.permutation = self.add_weight(
            name="permutation", shape=permutation.shape, dtype="int32",
            trainable=False,
            initializer=keras.initializers.Constant(permutation))
        self.built = True

    def packed_lu(self):
        """The LU factors of W in LAPACK's packed form (for tf.linalg.lu_*)."""
        # set_diag replaces (and blocks gradients to) the stored diagonal.
        return tf.linalg.set_diag(
            self.lower_upper, self.sign * tf.exp(self.log_diagonal))

    def weight(self):
        """W, the frame -> latent channel-mixing matrix."""
        return tf.linalg.lu_reconstruct(self.packed_lu(), self.permutation)

    def inverse_weight(self):
        """W^-1, the latent -> frame channel-mixing matrix."""
        return tf.linalg.lu_matrix_inverse(self.packed_lu(), self.permutation)

    @property
    def frame_event_shape(self):
        return (None, None, self.num_channels)

    def encode(self, x):
        return (_mix_channels(x, self.weight()),
                flow_layer.per_pixel_log_det(x, self.log_diagonal))

    def decode(self, z):
        return (_mix_channels(z, self.inverse_weight()),
                -flow_layer.per_pixel_log_det(z, self.log_diagonal))

    def get_config(self):
        return {**super().get_config(), "num_channels": self.num_channels,
                "seed": self.seed}


class InvertibleConv1x1(flow_bijector.FlowBijector):
    """Channel mixing by an always-invertible matrix (see module docstring)."""

    def __init__(self, num_channels=None, seed=0, dtype=tf.float32,
                 validate_args=False, name="invertible_conv1x1", layer=None):
        """Creates the bijector.

        Args:
          num_channels: C, the size of the last axis.
          seed: integer seed of the initial random rotation.
          dtype: float32 or float64.
          validate_args: as in TFP.
          name: name of the bijector (and of its Keras layer).
          layer: an `InvertibleConv1x1Layer` to use (and share) instead of a
            new one.
        """
        # The parameters include the layer, so copies share it.
        parameters = flow_bijector.arguments_with_layer(
            InvertibleConv1x1, InvertibleConv1x1Layer, dict(locals()))
        layer = layer or InvertibleConv1x1Layer(
            num_channels, seed=seed, name=name, dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(layer, validate_args=validate_args,
                         parameters=parameters, name=name)


def _mix_channels(x, matrix):
    """y[..., i] = sum_j matrix[i, j] x[..., j]: a 1x1 convolution, run as
    one matrix product over all pixels (faster on CPU for C this small)."""
    pixels = tf.reshape(x, [-1, tf.shape(x)[-1]])
    return tf.reshape(tf.matmul(pixels, matrix, transpose_b=True),
                      tf.shape(x))


def _random_rotation_lu(num_channels, seed):
    """LU factors (packed, permutation) of a seeded random rotation matrix."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((num_channels, num_channels)))
    packed, permutation = tf.linalg.lu(tf.constant(rotation, tf.float64))
    return packed.numpy(), permutation.numpy().astype(np.int32)
