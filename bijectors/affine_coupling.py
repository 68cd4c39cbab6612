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
    def shift_and_scale_logit(h):
        """`(shift, logit)` with scale = sigmoid(logit), from `h`."""
        # h[..., 0::2] and h[..., 1::2], as a reshape and an unstack: on CPU
        # the gradient of a strided slice is a slow scatter.
        pairs = tf.reshape(h, tf.concat([tf.shape(h)[:-1], [-1, 2]], 0))
        shift, scale_logit = tf.unstack(pairs, num=2, axis=-1)
        return shift, scale_logit + 2.0

    # The scale itself comes from `sigmoid` (and the latent -> frame map
    # divides by it) rather than from exp(log_sigmoid): the same numbers,
    # in fewer ops; sampling, which needs no log-det, runs no logarithm.
    def transform(self, x2, h):
        shift, logit = self.shift_and_scale_logit(h)
        z2 = (x2 + shift) * tf.sigmoid(logit)
        return z2, tf.reduce_sum(tf.math.log_sigmoid(logit), axis=[1, 2, 3])

    def untransform(self, z2, h):
        shift, logit = self.shift_and_scale_logit(h)
        x2 = z2 / tf.sigmoid(logit) - shift
        return x2, -tf.reduce_sum(tf.math.log_sigmoid(logit), axis=[1, 2, 3])


class AffineCoupling(coupling.CouplingBijector):
    """Affine coupling bijector; events are `[..., H, W, C]`, C >= 2.

    Arguments as for `coupling.CouplingBijector`.
    """

    LAYER_CLASS = AffineCouplingLayer
    DEFAULT_NAME = "affine_coupling"
