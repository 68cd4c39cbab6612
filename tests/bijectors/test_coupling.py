"""The coupling network's edge-aware convolution."""

import numpy as np
import tensorflow as tf

from bijectors.coupling import EdgeAwareConv2D


def test_equals_a_convolution_over_the_padded_input_and_its_mask():
    layer = EdgeAwareConv2D(5, 3, "glorot_uniform", dtype="float64")
    layer.build((None, None, None, 4))
    layer.conv.bias.assign(np.arange(5.0))
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 6, 7, 4)))
    pad = [[0, 0], [1, 1], [1, 1], [0, 0]]
    mask = tf.pad(tf.zeros_like(x[..., :1]), pad, constant_values=1)
    expected = layer.conv(tf.concat([tf.pad(x, pad), mask], axis=-1))
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_tells_the_edge_from_a_dark_pixel():
    layer = EdgeAwareConv2D(2, 3, "ones", use_bias=False, dtype="float64")
    layer.build((None, None, None, 1))
    out = layer(tf.zeros([1, 4, 4, 1], tf.float64))[0, ..., 0].numpy()
    # All inputs are zero: only the padding mask speaks. A corner sees 5
    # padded positions, an edge 3, the interior none.
    assert out[0, 0] == 5 and out[0, 1] == 3 and out[1, 1] == 0
