"""FlowLayer: a Keras layer that is one exact, invertible step of a flow.

The step protocol of this package. A flow layer owns its weights (Keras
tracks, trains and saves them) and offers two public methods on rank-4
tensors `[N, H, W, C]`:

    encode(x) -> (z, log_det)   # frame -> latent, log|det dz/dx|, shape [N]
    decode(z) -> (x, log_det)   # latent -> frame, log|det dx/dz|, shape [N]

Composite flows (`MultiScaleFlowLayer`) are built from other flow layers
through these two methods only. `FlowBijector` is the TFP face of any flow
layer: it adds input checks, any number of batch dimensions and TFP's
method names, and computes nothing of its own.
"""

import keras
import tensorflow as tf

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)


class FlowLayer(keras.layers.Layer):
    """Base of the flow layers; subclasses implement `encode` and `decode`."""

    @property
    def frame_event_shape(self):
        """`(H, W, C)` of the frame side; entries may be None (any size)."""
        return (None, None, None)

    def encode(self, x):
        """Frame -> latent: `(z, log|det dz/dx|)`, the log-det shaped [N]."""
        raise NotImplementedError

    def decode(self, z):
        """Latent -> frame: `(x, log|det dx/dz|)`, the log-det shaped [N]."""
        raise NotImplementedError

    def actnorm_layers(self):
        """The data-initialised ActNorm layers inside this flow layer."""
        return ()


def per_pixel_log_det(x, log_scales):
    """log|det| of a map applied alike at every pixel of `x` [N, H, W, C].

    A map that scales (ActNorm) or mixes (1x1 convolution) the C channels
    of each pixel with a Jacobian of log|det| `sum(log_scales)` has, over
    the H x W pixels, log|det| = H * W * sum(log_scales); returned per
    example, `[N]`.
    """
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    per_example = (tf.cast(height * width, x.dtype)
                   * tf.cast(tf.reduce_sum(log_scales), x.dtype))
    return tf.fill(tf.shape(x)[:1], per_example)
