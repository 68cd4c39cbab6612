"""Affine coupling, with VideoFlow's sigmoid-bounded scale.

With `h = NN(x1)` split into interleaved halves (see `coupling.py`):

    shift = h[..., 0::2],   scale = sigmoid(h[..., 1::2] + 2)

frame -> latent (TFP's inverse) and its log-determinant are

    z2 = (x2 + shift) * scale,      log|det dz/dx| = sum log(scale)

and latent -> frame (forward) is `x2 = z2 / scale - shift`. The scale lies in
(0, 1), so the frame -> latent map can only contract, which keeps training
stable; the `+ 2` makes it start near sigmoid(2) = 0.88 while the network's
zero-initialised output layer gives h = 0.
"""

import tensorflow as tf

from bijectors import coupling


class AffineCouplingLayer(coupling.CouplingLayer):
    """Affine coupling flow step; frames `[N, H, W, C]`, C >= 2."""

    PARAMS_PER_CHANNEL = 2

    @staticmethod
    def _shift_and_log_scale(h):
        return h[..., 0::2], tf.math.log_sigmoid(h[..., 1::2] + 2.0)

    def transform(self, x2, h):
        shift, log_scale = self._shift_and_log_scale(h)
        z2 = (x2 + shift) * tf.exp(log_scale)
        return z2, tf.reduce_sum(log_scale, axis=[1, 2, 3])

    def untransform(self, z2, h):
        shift, log_scale = self._shift_and_log_scale(h)
        x2 = z2 * tf.exp(-log_scale) - shift
        return x2, -tf.reduce_sum(log_scale, axis=[1, 2, 3])


class AffineCoupling(coupling.CouplingBijector):
    """Affine coupling bijector; events are `[..., H, W, C]`, C >= 2.

    Arguments as for `coupling.CouplingBijector`.
    """

    LAYER_CLASS = AffineCouplingLayer
    DEFAULT_NAME = "affine_coupling"
