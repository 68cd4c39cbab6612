"""Additive coupling (NICE; VideoFlow's sampling and Stochastic Movement runs).

With `shift = NN(x1)` (see `coupling.py`), frame -> latent (TFP's inverse) is

    z2 = x2 + shift,      log|det dz/dx| = 0

and latent -> frame (forward) is `x2 = z2 - shift`: volume preserving, so
all change of volume comes from ActNorm and the 1x1 convolutions.
"""

import tensorflow as tf

from bijectors import coupling


class AdditiveCouplingLayer(coupling.CouplingLayer):
    """Additive coupling flow step; frames `[N, H, W, C]`, C >= 2."""

    PARAMS_PER_CHANNEL = 1

    def transform(self, x2, h):
        return x2 + h, tf.zeros(tf.shape(x2)[:1], x2.dtype)

    def untransform(self, z2, h):
        return z2 - h, tf.zeros(tf.shape(z2)[:1], z2.dtype)


class AdditiveCoupling(coupling.CouplingBijector):
    """Additive coupling bijector; events are `[..., H, W, C]`, C >= 2.

    Arguments as for `coupling.CouplingBijector`.
    """

    LAYER_CLASS = AdditiveCouplingLayer
    DEFAULT_NAME = "additive_coupling"
