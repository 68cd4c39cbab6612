"""The faster computations equal the plain ones they replace (issue 14).

(The one-pass window density is checked against TFP's definition through
the base distribution in test_video_flow.py.)
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bijectors import AffineCouplingLayer
from tfp_videoflow import priors


@pytest.mark.parametrize("time_kernel", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_causal_convolution_equals_the_padded_3d_convolution(time_kernel,
                                                             dilation):
    layer = priors.CausalConv3D(
        5, 4, (time_kernel, 3, 3), spatial_dilation=dilation,
        dtype="float64")
    layer.conv.bias.assign(np.arange(5.0))
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 3, 8, 8, 4)))
    variables = [layer.conv.kernel, layer.conv.bias]

    def value_and_gradients(fn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = tf.reduce_sum(y * y)
        return [y] + tape.gradient(loss, [x] + variables)

    expected = value_and_gradients(lambda x: layer.conv(tf.pad(
        x, layer.paddings)))
    for fn in (layer, tf.function(layer.call)):
        for got, want in zip(value_and_gradients(fn), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_affine_parameters_are_the_interleaved_halves():
    h = tf.constant(np.random.default_rng(1).standard_normal((2, 3, 3, 8)))
    shift, logit = AffineCouplingLayer.shift_and_scale_logit(h)
    np.testing.assert_array_equal(shift, h[..., 0::2])
    np.testing.assert_array_equal(logit, h[..., 1::2] + 2.0)


def test_pointwise_convolution_equals_the_3d_layer():
    layer = keras.layers.Conv3D(6, 1, dtype="float64")
    layer.build((None, None, None, None, 4))
    layer.bias.assign(np.arange(6.0))
    x = tf.constant(np.random.default_rng(2).standard_normal((2, 3, 5, 5, 4)))
    np.testing.assert_allclose(priors.causal_conv3d(layer, x),
                               layer(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gated", [False, True])
def test_coupling_network_with_folded_actnorms_is_the_same_function(gated):
    from bijectors import coupling  # pylint: disable=import-outside-toplevel
    net = coupling.CouplingNetwork(3, 6, width=8, gated=gated, seed=1,
                                   dtype="float64")
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((2, 5, 4, 3)))
    net(x)  # data-dependent initialisation of both ActNorms
    for v in net.trainable_variables:
        v.assign(v + tf.cast(0.3 * rng.standard_normal(v.shape), v.dtype))

    def plain(x):
        h = tf.nn.relu(net.norm_in(net.conv_in(x)))
        h = net.norm_hidden(net.conv_hidden(h))
        if gated:
            a, b = tf.split(h, 2, axis=-1)
            h = tf.tanh(a) * tf.sigmoid(b)
        else:
            h = tf.nn.relu(h)
        return net.conv_out(h)

    def value_and_gradients(fn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = tf.reduce_sum(tf.sin(y))
        return [y] + tape.gradient(loss, [x] + net.trainable_variables)

    expected = value_and_gradients(plain)
    # Traced with height and width unknown too: the hidden layer's product
    # over pixels reshapes by the input's run-time shape.
    traced = tf.function(net.call, input_signature=[
        tf.TensorSpec((None, None, None, 3), tf.float64)])
    for fn in (net, traced):
        for got, want in zip(value_and_gradients(fn), expected):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_last_frame_equals_the_slice_values_and_gradients():
    x = tf.constant(np.random.default_rng(4).standard_normal((2, 3, 4, 4, 2)))
    weights = tf.constant(np.random.default_rng(5).standard_normal((2, 4, 4, 2)))
    results = []
    for fn in (priors.last_frame, lambda v: v[:, -1]):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = tf.reduce_sum(y * weights)
        results.append((y, tape.gradient(loss, x)))
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)
