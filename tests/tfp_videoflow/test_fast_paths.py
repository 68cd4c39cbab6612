"""The faster computations equal the plain ones they replace (issue 14)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from bijectors import AffineCouplingLayer
from tests.helpers import TINY, moving_squares, perturb_weights
from tfp_videoflow import priors


@pytest.mark.parametrize("discrete_history", [True, False])
@pytest.mark.parametrize("num_target", [1, 3])
def test_one_flow_pass_gives_the_distributions_bits(discrete_history,
                                                    num_target):
    model = vf.VideoFlowModel(**{**TINY, "num_target_frames": num_target},
                              discrete_history=discrete_history,
                              top_components=2)
    videos = moving_squares(4, 6, 8, seed=1)
    model.initialize(videos)
    perturb_weights(model.trainable_variables, seed=0)
    k = model.num_context_frames
    window = videos[:, :k + num_target]
    seed = (3, 1)
    values = vf.dequantization.dequantize(
        window, 5, tf.random.stateless_uniform(window.shape, seed))
    expected = model(values[:, :k]).bits_per_pixel(values[:, k:])
    np.testing.assert_allclose(model.bits_per_pixel(videos, seed=seed),
                               expected, rtol=1e-5)
    compiled = tf.function(lambda v: model.bits_per_pixel(v, seed=seed))
    np.testing.assert_allclose(compiled(videos), expected, rtol=1e-5)


def test_uninitialised_model_initialises_from_the_context_as_before():
    model = vf.VideoFlowModel(**TINY)
    videos = moving_squares(4, 6, 8, seed=2)
    flags = [layer.initialized for layer in model.flow_layer.actnorm_layers()]
    assert not any(bool(f.numpy()) for f in flags)
    model.bits_per_pixel(videos, seed=(1, 1))
    assert all(bool(f.numpy()) for f in flags)


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
    shift, log_scale = AffineCouplingLayer.shift_and_log_scale(h)
    np.testing.assert_array_equal(shift, h[..., 0::2])
    np.testing.assert_allclose(log_scale,
                               tf.math.log_sigmoid(h[..., 1::2] + 2.0))


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

    for got, want in zip(value_and_gradients(net),
                         value_and_gradients(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
