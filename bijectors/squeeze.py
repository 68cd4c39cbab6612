"""Squeeze: 2x2 space-to-depth, the reshaping step between flow levels.

Frame -> latent (TFP's inverse) moves every 2x2 block of pixels into the
channels, `[..., H, W, C] -> [..., H/2, W/2, 4C]`; latent -> frame (forward)
moves them back. It only permutes values, so log|det| = 0 both ways.
"""

import tensorflow as tf

from bijectors import flow_bijector, flow_layer

FACTOR = 2  # Each squeeze halves H and W and multiplies C by FACTOR**2.


class SqueezeLayer(flow_layer.FlowLayer):
    """2x2 space-to-depth as a flow layer (no weights)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # Nothing to build (Keras checks the flag).

    def encode(self, x):
        return (tf.nn.space_to_depth(x, FACTOR),
                tf.zeros(tf.shape(x)[:1], x.dtype))

    def decode(self, z):
        return (tf.nn.depth_to_space(z, FACTOR),
                tf.zeros(tf.shape(z)[:1], z.dtype))


class Squeeze(flow_bijector.FlowBijector):
    """2x2 space-to-depth; frame events `[..., H, W, C]` with H and W even."""

    def __init__(self, validate_args=False, dtype=tf.float32, name="squeeze",
                 layer=None):
        parameters = flow_bijector.arguments_with_layer(
            Squeeze, SqueezeLayer, dict(locals()))
        layer = layer or SqueezeLayer(name=name, dtype=tf.as_dtype(dtype).name)
        parameters["layer"] = layer
        super().__init__(layer, validate_args=validate_args,
                         parameters=parameters, name=name)

    def _check_frames(self, y, direction):
        y = super()._check_frames(y, direction)
        for axis, size in zip("HW", y.shape[-3:-1]):
            if size is not None and size % FACTOR:
                raise ValueError(
                    f"{self.name}.{direction}: {axis} = {size} is not "
                    f"divisible by {FACTOR}; got frames shaped {y.shape}.")
        return y

    def _check_latents(self, x, direction):
        x = super()._check_latents(x, direction)
        channels = x.shape[-1]
        if channels is not None and channels % FACTOR**2:
            raise ValueError(
                f"{self.name}.{direction}: C = {channels} is not divisible by "
                f"{FACTOR**2}; got latents shaped {x.shape}.")
        return x

    # Event shapes: [..., H, W, C] (frame side) <-> [..., H/2, W/2, 4C].
    def _inverse_event_shape(self, shape):
        return _rescale(tf.TensorShape(shape), 1 / FACTOR, FACTOR**2)

    def _forward_event_shape(self, shape):
        return _rescale(tf.TensorShape(shape), FACTOR, 1 / FACTOR**2)

    def _inverse_event_shape_tensor(self, shape):
        return tf.concat([shape[:-3], shape[-3:-1] // FACTOR,
                          shape[-1:] * FACTOR**2], 0)

    def _forward_event_shape_tensor(self, shape):
        return tf.concat([shape[:-3], shape[-3:-1] * FACTOR,
                          shape[-1:] // FACTOR**2], 0)


def _rescale(shape, spatial, channels):
    if shape.rank is None:
        return shape
    dims = shape.as_list()

    def scale(d, f):
        return None if d is None else int(d * f)

    return tf.TensorShape(dims[:-3] + [scale(dims[-3], spatial),
                                       scale(dims[-2], spatial),
                                       scale(dims[-1], channels)])
