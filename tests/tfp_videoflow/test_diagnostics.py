"""Diagnostics of the prior: calibration, level swaps, context gain."""

import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import moving_squares, perturb_weights
from tfp_videoflow import diagnostics, latent_dynamics

MODEL = dict(frame_shape=(8, 8, 3), num_context_frames=1, num_target_frames=2,
             num_levels=2, steps_per_level=1, coupling_width=8,
             prior_width=8, prior_depth=1, prior_dilations=(1,),
             num_cond_frames=1, latent_skip=False, num_bits=5, seed=2)


def _model(**overrides):
    model = vf.VideoFlowModel(**{**MODEL, **overrides})
    model.initialize(moving_squares(8, 3, 8, seed=0))
    return model


@pytest.mark.parametrize("components", [1, 3])
def test_calibration_is_one_at_the_priors_own_samples(components):
    # Latents drawn from a level's prior are calibrated by definition (for
    # a mixture: under the component that drew them, which is also the most
    # responsible one when the components are apart).
    model = _model(top_components=components)
    perturb_weights(model.dynamics.trainable_variables, seed=4, scale=0.05)
    network = model.dynamics
    top = network.num_levels - 1
    history = tf.random.stateless_normal([256, 1, *network.latent_shapes[top]],
                                         (1, 2))
    dist = network.level_distribution(top, history, tf.zeros([256, 1]))
    z = dist.sample(seed=(3, 4))
    square = diagnostics.standardized_square(dist, z).numpy()
    assert square.shape == (256,)
    assert np.mean(square) == pytest.approx(1.0, abs=0.05)


def test_calibration_of_a_model_on_videos():
    model = _model(top_components=3)
    levels = diagnostics.prior_calibration(model, moving_squares(8, 3, 8, 1))
    assert len(levels) == 2
    for level in levels:
        assert np.isfinite(level["calibration"]) and level["calibration"] > 0
        assert level["encoded_spread"] > 0 and level["sampled_spread"] > 0


def test_calibration_sees_an_overconfident_prior():
    model = _model()
    videos = moving_squares(8, 3, 8, seed=1)
    before = diagnostics.prior_calibration(model, videos)
    # Shrink every scale by e: squared errors grow by e^2.
    for prior in model.dynamics.level_priors:
        bias = prior.conv_out.bias
        channels = bias.shape[0] // 2
        bias.assign(tf.concat([bias[:channels],
                               bias[channels:] - 1.0], 0))
    after = diagnostics.prior_calibration(model, videos)
    for b, a in zip(before, after):
        assert a["calibration"] == pytest.approx(
            b["calibration"] * np.e ** 2, rel=0.05)


def test_level_swap_keeps_the_given_levels():
    model = _model()
    perturb_weights(model.dynamics.trainable_variables, seed=5, scale=0.05)
    videos = moving_squares(3, 3, 8, seed=2)
    swaps = diagnostics.level_swap(model, videos, num_samples=2, seed=(1, 2))
    assert set(swaps) == {"real_top", "sampled_top"}
    for frames in swaps.values():
        assert frames.shape == (2, 3, 2, 8, 8, 3) and frames.dtype == tf.uint8
    # With every level given, the "sample" is the real future itself.
    values = diagnostics.dequantized(model, videos, (1, 2))
    latents, _, _ = latent_dynamics.encode_frames(model.flow, values[:, 1:])
    _, frames = model(values[:, :1]).distribution.sample_latents_and_frames(
        1, seed=(0, 1), given=latents)
    np.testing.assert_allclose(frames, values[:, 1:], atol=1e-3)


def test_context_gain_is_zero_without_dynamics_and_counts_bits():
    videos = moving_squares(4, 3, 8, seed=3)
    none = _model(dynamics="none")
    perturb_weights(none.dynamics.trainable_variables, seed=6, scale=0.05)
    np.testing.assert_allclose(diagnostics.context_gain(none, videos), 0.0,
                               atol=1e-3)
    model = _model()
    perturb_weights(model.dynamics.trainable_variables, seed=6, scale=0.05)
    gain = diagnostics.context_gain(model, videos, seed=(0, 5))
    values = diagnostics.dequantized(model, videos, (0, 5))
    own = model(values[:, :1]).log_prob(values[:, 1:])
    other = model(tf.roll(values[:, :1], 1, 0)).log_prob(values[:, 1:])
    np.testing.assert_allclose(gain, (own - other) / np.log(2.0), rtol=1e-4)
    assert np.abs(gain).max() > 0.1
    with pytest.raises(ValueError, match="at least 2 videos"):
        diagnostics.context_gain(model, videos[:1])


def test_component_shares_are_the_mixtures_posterior():
    model = _model(top_components=3)
    videos = moving_squares(6, 3, 8, seed=6)
    perturb_weights(model.trainable_variables, seed=2, scale=0.05)
    shares = diagnostics.component_shares(model, videos).numpy()
    assert shares.shape == (6, 3)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-5)
    # A component without prior weight gets no posterior share.
    prior = model.dynamics.level_priors[-1]
    prior.logits_out.bias.assign([0.0, 0.0, -40.0])
    np.testing.assert_array_less(
        diagnostics.component_shares(model, videos).numpy()[:, 2], 1e-12)
    with pytest.raises(ValueError, match="not a mixture"):
        diagnostics.component_shares(_model(), videos)
