"""The latent-dynamics prior: causality, split conditions, sampling vs log_prob."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import MultiScaleFlow
from tests.helpers import perturb_weights
from tfp_videoflow import latent_dynamics

FRAME = (8, 8, 3)
SHAPES = ((4, 4, 6), (2, 2, 24))  # MultiScaleFlow(FRAME, num_levels=2)


def _logsumexp(x, axis):
    top = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def _network(dynamics, num_cond_frames=2, seed=0, top_components=1):
    network = latent_dynamics.LatentDynamicsNetwork(
        SHAPES, dynamics=dynamics, num_cond_frames=num_cond_frames, width=8,
        depth=1, dilations=(1, 2), top_components=top_components, seed=seed)
    # Zero-initialised outputs make every prior N(z_{t-1}, 1): move them.
    perturb_weights(network.trainable_variables, seed=seed + 7, scale=0.1)
    return network


def _flow(seed=0):
    flow = MultiScaleFlow(FRAME, num_levels=2, steps_per_level=1,
                          coupling_width=8, seed=seed)
    flow.initialize(tf.random.stateless_uniform((4, *FRAME), (seed, 1),
                                                maxval=32.0))
    perturb_weights(flow.trainable_variables, seed=seed + 3, scale=0.05)
    return flow


def _latents(batch, frames, seed):
    rng = np.random.default_rng(seed)
    return tuple(tf.constant(rng.standard_normal((batch, frames, *s)),
                             tf.float32) for s in SHAPES)


def _conditions(target, seed):
    """Stand-in x1 for every level but the top (any tensor works here)."""
    rng = np.random.default_rng(seed)
    return tuple(tf.constant(rng.standard_normal(z.shape), tf.float32)
                 for z in target[:-1]) + (None,)


def _score(network, context, target, conditions, temperature=1.0):
    """log p per target frame, each frame's history its own latents."""
    past = tuple(tf.concat([c, z[:, :-1]], axis=1)
                 for c, z in zip(context, target))
    return network.log_prob(past, target, conditions, temperature).numpy()


@pytest.mark.parametrize("dynamics", ["conv3d", "pointwise", "none"])
def test_frame_log_prob_ignores_the_future(dynamics):
    network = _network(dynamics)
    context, target = _latents(2, 2, 0), _latents(2, 4, 1)
    conditions = _conditions(target, 2)
    full = _score(network, context, target, conditions)
    assert full.shape == (2, 4) and np.all(np.isfinite(full))
    for t in range(4):
        prefix = _score(network, context, tuple(z[:, :t + 1] for z in target),
                        tuple(None if c is None else c[:, :t + 1]
                              for c in conditions))
        np.testing.assert_allclose(prefix[:, t], full[:, t], rtol=1e-5)


def test_frames_move_between_context_and_target_consistently():
    # Frame K+1 scored as a target after K context frames sees the same
    # window as when it is scored after K+1 context frames.
    network = _network("conv3d", num_cond_frames=3)
    video = _latents(2, 5, 2)
    conditions = _conditions(video, 3)
    as_targets = _score(network, tuple(z[:, :1] for z in video),
                        tuple(z[:, 1:] for z in video),
                        tuple(None if c is None else c[:, 1:]
                              for c in conditions))
    later = _score(network, tuple(z[:, :3] for z in video),
                   tuple(z[:, 3:] for z in video),
                   tuple(None if c is None else c[:, 3:] for c in conditions))
    np.testing.assert_allclose(later, as_targets[:, 2:], rtol=1e-5)


def test_conv3d_prior_uses_the_past_and_pads_missing_frames():
    network = _network("conv3d", num_cond_frames=3)
    context, target = _latents(1, 1, 3), _latents(1, 2, 4)
    conditions = _conditions(target, 5)
    moved = tuple(c + 1.0 for c in context)
    before = _score(network, context, target, conditions)
    after = _score(network, moved, target, conditions)
    # Every target frame depends on the single context frame.
    assert np.all(np.abs(before - after) > 1e-3)
    # With one context frame and a window of 3, the missing frames are
    # flagged: a context of zeros differs from padding.
    zero_context = tuple(tf.zeros_like(c) for c in context)
    two_zero_frames = tuple(tf.zeros_like(tf.concat([c, c], 1))
                            for c in context)
    one = _score(network, zero_context, target, conditions)
    two = _score(network, two_zero_frames, target, conditions)
    assert np.abs(one[0, 0] - two[0, 0]) > 1e-4


@pytest.mark.parametrize("dynamics", ["conv3d", "pointwise", "none"])
def test_finer_levels_see_their_split_condition_the_top_none(dynamics):
    network = _network(dynamics)
    history = _latents(3, 2, 6)
    missing = tf.zeros([3, 2])
    z = _latents(3, 1, 7)
    condition = _conditions(z, 8)[0][:, 0]
    fine = network.level_distribution(0, history[0], missing, condition)
    moved = network.level_distribution(0, history[0], missing, condition + 1)
    assert np.all(np.abs(fine.log_prob(z[0][:, 0])
                         - moved.log_prob(z[0][:, 0])) > 1e-3)
    assert fine.batch_shape == (3,) and fine.event_shape == SHAPES[0]
    with pytest.raises(ValueError, match="conditioned on x1"):
        network.level_distribution(0, history[0], missing, None)
    with pytest.raises(ValueError, match="not conditioned"):
        network.level_distribution(1, history[1], missing,
                                   tf.zeros((3, *SHAPES[1])))


def test_none_dynamics_ignores_the_past():
    network = _network("none")
    context, target = _latents(2, 2, 5), _latents(2, 3, 6)
    conditions = _conditions(target, 7)
    shuffled = tuple(tf.reverse(z, [1]) for z in target)
    shuffled_conditions = tuple(None if c is None else tf.reverse(c, [1])
                                for c in conditions)
    np.testing.assert_allclose(
        _score(network, context, target, conditions)[:, ::-1],
        _score(network, context, shuffled, shuffled_conditions), rtol=1e-5)


@pytest.mark.parametrize("dynamics,components,discrete",
                         [("conv3d", 1, True), ("conv3d", 1, False),
                          ("pointwise", 1, True), ("none", 1, True)])
def test_samples_follow_the_density_that_log_prob_computes(
        dynamics, components, discrete):
    # Draw at temperature tau; then for every value the standardised residual
    # e = (z - mean) / (tau * scale) is N(0, 1) iff sampling and scoring agree
    # on every mean, scale and conditioning input (history, x1). From
    # log_prob at tau and at 1:
    #   log p_tau(z) + n log tau - log p_1(z) = -(1 - tau^2) / 2 * sum e^2.
    # A mismatch of the means makes sum e^2 / n huge at small tau.
    network = _network(dynamics, top_components=components)
    flow = _flow()
    context = _latents(3, 2, 7)
    tau = 0.05

    def dist(temperature):
        return latent_dynamics.LatentDynamics(
            network, flow, context, 3, temperature=temperature,
            discrete_history=discrete, num_bits=5)
    samples = dist(tau).sample(seed=11)
    num_values = sum(np.prod(s) for s in SHAPES) * 3
    log_tau, log_one = dist(tau).log_prob(samples), dist(1.0).log_prob(samples)
    mean_square = (-2.0 * (log_tau + num_values * np.log(tau) - log_one)
                   / (1 - tau ** 2) / num_values).numpy()
    assert np.all((0.8 < mean_square) & (mean_square < 1.2)), mean_square


def test_discrete_history_sees_bins_only():
    # Frame 2 is conditioned on frame 1's bin: moving frame 1 inside its bin
    # changes nothing, moving it to another bin does.
    network, flow = _network("conv3d"), _flow()
    context = tf.random.stateless_uniform((2, 2, *FRAME), (1, 1), maxval=32.0)
    frames = tf.random.stateless_uniform((2, 2, *FRAME), (1, 2), maxval=32.0)
    bins = tf.floor(frames)

    def frame2_log_prob(first):
        video = tf.concat([first[:, tf.newaxis], frames[:, 1:]], axis=1)
        window = latent_dynamics.encode_window(flow, context, video,
                                               num_bits=5)
        return latent_dynamics.window_log_prob(network, window)[:, 1].numpy()

    base = frame2_log_prob(bins[:, 0] + 0.2)
    np.testing.assert_allclose(frame2_log_prob(bins[:, 0] + 0.9), base,
                               rtol=1e-4)
    assert np.all(np.abs(frame2_log_prob(bins[:, 0] + 1.5) - base) > 1e-3)


def test_mixture_log_prob_is_the_brute_force_sum_over_components():
    network = _network("conv3d", top_components=4)
    history, z = _latents(3, 2, 13), _latents(3, 1, 14)
    dist = network.level_distribution(1, history[1], tf.zeros([3, 2]),
                                      temperature=0.7)
    logits = dist.mixture_distribution.logits.numpy()
    normal = dist.components_distribution.distribution
    mean, scale = normal.loc.numpy(), normal.scale.numpy()  # [3, 4, h, w, c]
    value = z[1][:, 0].numpy()[:, np.newaxis]
    per_component = np.sum(
        -0.5 * ((value - mean) / scale) ** 2 - np.log(scale)
        - 0.5 * np.log(2 * np.pi), axis=(2, 3, 4))
    log_weights = logits - _logsumexp(logits, -1)[:, np.newaxis]
    expected = _logsumexp(per_component + log_weights, -1)
    np.testing.assert_allclose(dist.log_prob(z[1][:, 0]), expected, rtol=1e-5)
    # The components differ (their offsets break the symmetry at start).
    assert np.abs(mean[:, 0] - mean[:, 1]).max() > 0.1


def test_mixture_samples_pick_components_by_their_weights():
    network = _network("conv3d", top_components=4)
    prior = network.level_priors[1]
    prior.logits_out.bias.assign([1.0, 0.0, -0.5, 0.5])
    prior.logits_out.kernel.assign(tf.zeros_like(prior.logits_out.kernel))
    history = _latents(1, 2, 15)[1]
    dist = network.level_distribution(1, tf.repeat(history, 4000, axis=0),
                                      tf.zeros([4000, 2]), temperature=0.05)
    draws = dist.sample(seed=(3, 4)).numpy()
    means = dist.components_distribution.distribution.loc.numpy()[0]
    nearest = np.argmin(np.sum((draws[:, np.newaxis] - means) ** 2,
                               axis=(2, 3, 4)), axis=1)
    counts = np.bincount(nearest, minlength=4)
    weights = np.exp([1.0, 0.0, -0.5, 0.5])
    weights /= weights.sum()
    # Within 4 binomial standard errors of the weights.
    error = np.sqrt(weights * (1 - weights) / 4000)
    np.testing.assert_array_less(np.abs(counts / 4000 - weights), 4 * error)
    again = dist.sample(seed=(3, 4)).numpy()
    np.testing.assert_array_equal(draws, again)


def test_sampling_is_reproducible_under_a_seed():
    network, flow = _network("conv3d", top_components=3), _flow()
    context = _latents(2, 2, 8)
    # (At temperature 1 the perturbed flow overflows on some draws.)
    first, frames = network.sample(flow, context, 3, 0.5, seed=5)
    again, _ = network.sample(flow, context, 3, 0.5, seed=5)
    other, _ = network.sample(flow, context, 3, 0.5, seed=6)
    assert frames.shape == (2, 3, *FRAME)
    for a, b, c in zip(first, again, other):
        assert a.shape == (2, 3) + b.shape[2:]
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - c).max() > 0.1
    # The frames are the flow's decode of the sampled latents (float32,
    # decoded in other batches, through a perturbed flow whose values reach
    # 1e3: equal up to rounding, so a relative tolerance).
    decoded = flow.forward(tuple(tf.reshape(z, (6, *z.shape[2:]))
                                 for z in first))
    np.testing.assert_allclose(tf.reshape(frames, (6, *FRAME)), decoded,
                               rtol=1e-4, atol=1e-4)


def test_temperature_scales_the_spread():
    network, flow = _network("pointwise"), _flow()
    context = _latents(1, 2, 9)
    mean_path, _ = network.sample(flow, context, 1, temperature=1e-6, seed=3)
    spreads = []
    for tau in (0.5, 1.0):
        draws, _ = network.sample(flow, context, 1, temperature=tau, seed=4)
        spreads.append(float(tf.math.reduce_std(draws[1] - mean_path[1])))
    assert spreads[1] / spreads[0] == pytest.approx(2.0, rel=1e-3)


def test_distribution_shapes_and_log_prob():
    network, flow = _network("conv3d"), _flow()
    context = tuple(tf.reshape(c, (2, 3) + tuple(c.shape[1:]))
                    for c in _latents(6, 2, 10))
    dist = latent_dynamics.LatentDynamics(network, flow, context, 3)
    assert dist.batch_shape == (2, 3)
    assert tuple(dist.event_shape) == ((3, 4, 4, 6), (3, 2, 2, 24))
    draws = dist.sample(5, seed=1)
    assert draws[0].shape == (5, 2, 3, 3, 4, 4, 6)
    log_prob = dist.log_prob(draws)
    assert log_prob.shape == (5, 2, 3)
    # The sample dimension broadcasts the context: same as scoring one draw.
    one = dist.log_prob(tuple(d[2] for d in draws))
    np.testing.assert_allclose(log_prob[2], one, rtol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dynamics"):
        latent_dynamics.LatentDynamicsNetwork(SHAPES, dynamics="lstm")
    with pytest.raises(ValueError, match="num_cond_frames"):
        latent_dynamics.LatentDynamicsNetwork(SHAPES, num_cond_frames=0)
    with pytest.raises(ValueError, match="top_components"):
        latent_dynamics.LatentDynamicsNetwork(SHAPES, dynamics="none",
                                              top_components=4)
    network, flow = _network("none"), _flow()
    with pytest.raises(ValueError, match="levels"):
        latent_dynamics.LatentDynamics(network, flow, _latents(1, 1, 0)[:1], 2)
    with pytest.raises(ValueError, match="temperature"):
        latent_dynamics.LatentDynamics(network, flow, _latents(1, 1, 0), 2,
                                       temperature=0.0)
