"""The step protocol: every flow layer's encode / decode, the shared log-det."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import FlowLayer, flow_layer
from tests.bijectors import flow_checks as checks


@pytest.mark.parametrize("name", sorted(checks.BIJECTORS))
def test_the_bijector_is_its_layers_encode_and_decode(name):
    make, shape = checks.BIJECTORS[name]
    bijector = checks.randomize(make(), 0)
    layer = bijector.layer
    assert isinstance(layer, FlowLayer)
    frames = checks.random_frames(shape, 0)
    latents, ildj = layer.encode(frames)
    expected, expected_ildj = bijector.inverse_and_log_det(frames)
    for a, b in zip(tf.nest.flatten(latents), tf.nest.flatten(expected)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ildj, expected_ildj)
    back, fldj = layer.decode(latents)
    np.testing.assert_allclose(back, frames, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fldj, -ildj, rtol=1e-10, atol=1e-10)


def test_per_pixel_log_det_counts_every_pixel():
    x = tf.zeros([3, 4, 5, 2], tf.float64)
    log_det = flow_layer.per_pixel_log_det(x, tf.constant([0.5, -2.0],
                                                          tf.float64))
    np.testing.assert_allclose(log_det, [4 * 5 * -1.5] * 3)


def test_the_base_layer_has_no_map():
    layer = FlowLayer()
    assert layer.frame_event_shape == (None, None, None)
    assert layer.actnorm_layers() == ()
    with pytest.raises(NotImplementedError):
        layer.encode(tf.zeros([1, 2, 2, 1]))
