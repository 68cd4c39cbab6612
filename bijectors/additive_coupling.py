"""Additive coupling (NICE; VideoFlow's sampling and Stochastic Movement runs).

With `shift = NN(x1)` (see `coupling.py`), frame -> latent (TFP's inverse) is

    z2 = x2 + shift,      log|det dz/dx| = 0

and latent -> frame (forward) is `x2 = z2 - shift`: volume preserving, so
all change of volume comes from ActNorm and the 1x1 convolutions.
"""

import tensorflow as tf

from bijectors import coupling


class AdditiveCoupling(coupling.Coupling):
    """Additive coupling layer; events are `[..., H, W, C]`, C >= 2."""

    _PARAMS_PER_CHANNEL = 1

    def __init__(self, num_channels, hidden_width=512, gated=False, seed=0,
                 dtype=tf.float32, validate_args=False,
                 name="additive_coupling", layer=None):
        """Creates the bijector; arguments as for `AffineCoupling`."""
        parameters = dict(locals())
        super().__init__(num_channels, hidden_width, gated, seed, dtype,
                         validate_args, parameters, name, layer)

    def _transform(self, x2, h):
        return x2 + h, tf.zeros(tf.shape(x2)[:1], x2.dtype)

    def _untransform(self, z2, h):
        return z2 - h, tf.zeros(tf.shape(z2)[:1], z2.dtype)
