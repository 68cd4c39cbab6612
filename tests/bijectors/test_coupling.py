"""Coupling layers: the edge-aware convolution and the checks both share."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import AdditiveCoupling, AffineCoupling
from bijectors.coupling import EdgeAwareConv2D
from tests.bijectors import flow_checks as checks


@pytest.mark.parametrize("size", [3, 5])
@pytest.mark.parametrize("channels, filters", [
    (4, 3),   # narrow output: the mask term added as a map
    (2, 5),   # wide output: through a channel of ones, as a bias
])
def test_equals_a_convolution_over_the_padded_input_and_its_mask(
        size, channels, filters):
    # Values and gradients (input, kernel and bias), eagerly and traced
    # with the height and width unknown until run time.
    layer = EdgeAwareConv2D(filters, size, "glorot_uniform", dtype="float64")
    layer.build((None, None, None, channels))
    layer.conv.bias.assign(np.arange(filters, dtype=np.float64))
    x = tf.constant(np.random.default_rng(size).standard_normal(
        (2, 6, 7, channels)))
    pad = [[0, 0], [size // 2] * 2, [size // 2] * 2, [0, 0]]

    def padded(x):
        mask = tf.pad(tf.zeros_like(x[..., :1]), pad, constant_values=1)
        return layer.conv(tf.concat([tf.pad(x, pad), mask], axis=-1))

    def value_and_gradients(fn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = tf.reduce_sum(tf.sin(y))
        return [y, *tape.gradient(
            loss, [x, layer.conv.kernel, layer.conv.bias])]

    traced = tf.function(layer.call, input_signature=[
        tf.TensorSpec([None, None, None, channels], tf.float64)])
    expected = value_and_gradients(padded)
    for fn in (layer, traced):
        for got, want in zip(value_and_gradients(fn), expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_tells_the_edge_from_a_dark_pixel():
    layer = EdgeAwareConv2D(2, 3, "ones", use_bias=False, dtype="float64")
    layer.build((None, None, None, 1))
    out = layer(tf.zeros([1, 4, 4, 1], tf.float64))[0, ..., 0].numpy()
    # All inputs are zero: only the padding mask speaks. A corner sees 5
    # padded positions, an edge 3, the interior none.
    assert out[0, 0] == 5 and out[0, 1] == 3 and out[1, 1] == 0


COUPLINGS = [AffineCoupling, AdditiveCoupling]


def _coupling(cls, dtype=tf.float64, channels=4, gated=False):
    return checks.randomize(cls(channels, hidden_width=8, gated=gated, seed=3,
                                dtype=dtype), 0, scale=0.5)


@pytest.mark.parametrize("cls", COUPLINGS)
@pytest.mark.parametrize("gated", [False, True])
def test_round_trips_and_log_det(cls, gated):
    bijector = _coupling(cls, gated=gated)
    checks.check_round_trips(bijector, checks.random_frames([3, 4, 4, 4], 0))
    checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 4, 4, 4], 1))


@pytest.mark.parametrize("cls", COUPLINGS)
def test_odd_channel_count(cls):
    bijector = _coupling(cls, channels=3)
    checks.check_round_trips(bijector, checks.random_frames([2, 4, 4, 3], 2))
    checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 2, 2, 3], 3))


@pytest.mark.parametrize("cls", COUPLINGS)
def test_batch_dims_compiled_and_gradients(cls):
    checks.check_batch_dims(_coupling(cls),
                            checks.random_frames([4, 4, 4, 4], 5))
    checks.check_compiled_matches_eager(
        _coupling(cls, tf.float32),
        checks.random_frames([2, 4, 4, 4], 6, np.float32))
    checks.check_gradients_reach_every_weight(
        _coupling(cls), checks.random_frames([2, 4, 4, 4], 7))


@pytest.mark.parametrize("cls", COUPLINGS)
def test_needs_two_channels(cls):
    with pytest.raises(ValueError, match="at least 2 channels"):
        cls(1, hidden_width=8)
