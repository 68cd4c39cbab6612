"""The latent-dynamics prior: causality, windows, sampling vs log_prob."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_videoflow import latent_dynamics
from tests.tfp_videoflow.conftest import perturb_weights

SHAPES = ((4, 4, 6), (2, 2, 24))


def _network(dynamics, num_cond_frames=2, seed=0):
    network = latent_dynamics.LatentDynamicsNetwork(
        SHAPES, dynamics=dynamics, num_cond_frames=num_cond_frames, width=8,
        depth=1, dilations=(1, 2), seed=seed)
    # Zero-initialised outputs make every prior N(z_{t-1}, 1): move them.
    perturb_weights(network.trainable_variables, seed=seed + 7, scale=0.1)
    return network


def _latents(batch, frames, seed):
    rng = np.random.default_rng(seed)
    return tuple(tf.constant(rng.standard_normal((batch, frames, *s)),
                             tf.float32) for s in SHAPES)


@pytest.mark.parametrize("dynamics", ["conv3d", "pointwise", "none"])
def test_frame_log_prob_ignores_the_future(dynamics):
    network = _network(dynamics)
    context, target = _latents(2, 2, 0), _latents(2, 4, 1)
    full = network.log_prob(context, target).numpy()
    assert full.shape == (2, 4) and np.all(np.isfinite(full))
    for t in range(4):
        prefix = network.log_prob(context, tuple(z[:, :t + 1] for z in target))
        np.testing.assert_allclose(prefix[:, t], full[:, t], rtol=1e-5)


def test_frames_move_between_context_and_target_consistently():
    # Frame K+1 scored as a target after K context frames sees the same
    # window as when it is scored after K+1 context frames.
    network = _network("conv3d", num_cond_frames=3)
    video = _latents(2, 5, 2)
    as_targets = network.log_prob(tuple(z[:, :1] for z in video),
                                  tuple(z[:, 1:] for z in video))
    later = network.log_prob(tuple(z[:, :3] for z in video),
                             tuple(z[:, 3:] for z in video))
    np.testing.assert_allclose(later, as_targets[:, 2:], rtol=1e-5)


def test_conv3d_prior_uses_the_past_and_pads_missing_frames():
    network = _network("conv3d", num_cond_frames=3)
    context, target = _latents(1, 1, 3), _latents(1, 2, 4)
    moved = tuple(c + 1.0 for c in context)
    before = network.log_prob(context, target).numpy()
    after = network.log_prob(moved, target).numpy()
    # Every target frame depends on the single context frame.
    assert np.all(np.abs(before - after) > 1e-3)
    # With one context frame and a window of 3, the missing frames are
    # flagged: a context of zeros differs from padding.
    zero_context = tuple(tf.zeros_like(c) for c in context)
    two_zero_frames = tuple(tf.zeros_like(tf.concat([c, c], 1))
                            for c in context)
    one = network.log_prob(zero_context, target).numpy()
    two = network.log_prob(two_zero_frames, target).numpy()
    assert np.abs(one[0, 0] - two[0, 0]) > 1e-4


def test_none_dynamics_ignores_the_past():
    network = _network("none")
    context, target = _latents(2, 2, 5), _latents(2, 3, 6)
    shuffled = tuple(tf.reverse(z, [1]) for z in target)
    np.testing.assert_allclose(
        network.log_prob(context, target).numpy()[:, ::-1],
        network.log_prob(context, shuffled), rtol=1e-5)


@pytest.mark.parametrize("dynamics", ["conv3d", "pointwise", "none"])
def test_samples_follow_the_density_that_log_prob_computes(dynamics):
    # Draw at temperature tau; then for every value the standardised residual
    # e = (z - mean) / (tau * scale) is N(0, 1) iff sampling and scoring agree
    # on every mean and scale. From log_prob at tau and at 1:
    #   log p_tau(z) + n log tau - log p_1(z) = -(1 - tau^2) / 2 * sum e^2.
    # A mismatch of the means makes sum e^2 / n huge at small tau.
    network = _network(dynamics)
    context = _latents(3, 2, 7)
    tau = 0.05
    samples = network.sample(context, 4, temperature=tau, seed=11)
    num_values = sum(np.prod(s) for s in SHAPES) * 4
    log_tau = network.log_prob(context, samples, temperature=tau)
    log_one = network.log_prob(context, samples, temperature=1.0)
    log_tau, log_one = (tf.reduce_sum(x, axis=1) for x in (log_tau, log_one))
    mean_square = (-2.0 * (log_tau + num_values * np.log(tau) - log_one)
                   / (1 - tau ** 2) / num_values).numpy()
    assert np.all((0.8 < mean_square) & (mean_square < 1.2)), mean_square


def test_sampling_is_reproducible_under_a_seed():
    network = _network("conv3d")
    context = _latents(2, 2, 8)
    first = network.sample(context, 3, seed=5)
    again = network.sample(context, 3, seed=5)
    other = network.sample(context, 3, seed=6)
    for a, b, c in zip(first, again, other):
        assert a.shape == (2, 3) + b.shape[2:]
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - c).max() > 0.1


def test_temperature_scales_the_spread():
    network = _network("pointwise")
    context = _latents(1, 2, 9)
    mean_path = network.sample(context, 1, temperature=1e-6, seed=3)
    spreads = []
    for tau in (0.5, 1.0):
        draws = network.sample(context, 1, temperature=tau, seed=4)
        spreads.append(float(tf.math.reduce_std(draws[1] - mean_path[1])))
    assert spreads[1] / spreads[0] == pytest.approx(2.0, rel=1e-3)


def test_distribution_shapes_and_log_prob():
    network = _network("conv3d")
    context = tuple(tf.reshape(c, (2, 3) + tuple(c.shape[1:]))
                    for c in _latents(6, 2, 10))
    dist = latent_dynamics.LatentDynamics(network, context, 3)
    assert dist.batch_shape == (2, 3)
    assert tuple(dist.event_shape) == ((3, 4, 4, 6), (3, 2, 2, 24))
    draws = dist.sample(5, seed=1)
    assert draws[0].shape == (5, 2, 3, 3, 4, 4, 6)
    log_prob = dist.log_prob(draws)
    assert log_prob.shape == (5, 2, 3)
    # The sample dimension broadcasts the context: same as scoring one draw.
    one = dist.log_prob(tuple(d[2] for d in draws))
    np.testing.assert_allclose(log_prob[2], one, rtol=1e-5)
    per_frame = dist.log_prob_per_frame(tuple(d[2] for d in draws))
    assert per_frame.shape == (2, 3, 3)
    np.testing.assert_allclose(tf.reduce_sum(per_frame, -1), one, rtol=1e-5)


def test_log_scales_stay_bounded():
    from tfp_videoflow import priors  # pylint: disable=import-outside-toplevel
    raw = tf.constant([-1e4, -3.0, 0.0, 2.0, 1e4])
    bounded = priors.bounded_log_scale(raw).numpy()
    assert np.all(np.abs(bounded) <= priors.LOG_SCALE_BOUND)
    np.testing.assert_allclose(bounded[1:4], [-3.0, 0.0, 2.0], atol=0.3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dynamics"):
        latent_dynamics.LatentDynamicsNetwork(SHAPES, dynamics="lstm")
    with pytest.raises(ValueError, match="num_cond_frames"):
        latent_dynamics.LatentDynamicsNetwork(SHAPES, num_cond_frames=0)
    network = _network("none")
    with pytest.raises(ValueError, match="levels"):
        latent_dynamics.LatentDynamics(network, _latents(1, 1, 0)[:1], 2)
    with pytest.raises(ValueError, match="temperature"):
        latent_dynamics.LatentDynamics(network, _latents(1, 1, 0), 2,
                                       temperature=0.0)
