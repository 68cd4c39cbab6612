"""VideoFlow as a TFP distribution: shapes, sampling, density, variables."""

import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import TINY, bin_values, moving_squares, perturb_weights


def _context(model, batch_shape, seed=0):
    k = model.num_context_frames
    videos = moving_squares(int(np.prod(batch_shape)), k, 8, seed)
    return videos.reshape(tuple(batch_shape) + videos.shape[1:])


@pytest.mark.parametrize("batch_shape", [(1,), (3,), (2, 2)])
@pytest.mark.parametrize("num_frames", [1, 3])
def test_shapes(tiny_model, batch_shape, num_frames):
    dist = tiny_model(_context(tiny_model, batch_shape),
                      num_target_frames=num_frames)
    assert dist.batch_shape == batch_shape
    assert dist.event_shape == (num_frames, 8, 8, 3)
    draws = dist.sample(2, seed=1)
    assert draws.shape == (2, *batch_shape, num_frames, 8, 8, 3)
    log_prob = dist.log_prob(draws)
    assert log_prob.shape == (2, *batch_shape)
    assert np.all(np.isfinite(log_prob))
    assert dist.log_prob_per_frame(draws[0]).shape == (*batch_shape,
                                                        num_frames)


def test_seeded_sampling_is_reproducible(tiny_model):
    dist = tiny_model(_context(tiny_model, (2,)))
    first, again = dist.sample(3, seed=7), dist.sample(3, seed=7)
    np.testing.assert_array_equal(first, again)
    stateless = dist.sample(3, seed=(0, 7))
    np.testing.assert_array_equal(first, stateless)
    other = dist.sample(3, seed=8)
    assert np.abs(first - other).max() > 0.1
    # The three futures of one context differ from each other.
    assert np.abs(first[0] - first[1]).max() > 0.1


def test_log_prob_of_a_sample_is_base_log_prob_minus_forward_log_det(
        tiny_model):
    dist = tiny_model(_context(tiny_model, (2,)), num_target_frames=2)
    latents = dist.distribution.sample(4, seed=3)
    frames = dist.bijector.forward(latents)
    np.testing.assert_array_equal(frames, dist.sample(4, seed=3))
    expected = (dist.distribution.log_prob(latents)
                - tf.reduce_sum(dist.bijector.forward_log_det_jacobian(
                    latents), axis=-1))
    log_prob = dist.log_prob(tf.identity(frames))
    assert np.all(np.isfinite(log_prob))
    np.testing.assert_allclose(log_prob, expected, rtol=1e-4)


@pytest.mark.parametrize("discrete_history", [True, False])
@pytest.mark.parametrize("num_target", [1, 3])
def test_one_pass_log_prob_is_base_log_prob_of_the_inverse_plus_its_log_det(
        discrete_history, num_target):
    # log_prob encodes the context, the history and the targets in one pass;
    # the base distribution decodes the latents it is given. TFP's
    # definition must hold between the two, with a mixture prior too.
    model = vf.VideoFlowModel(**{**TINY, "num_target_frames": num_target},
                              discrete_history=discrete_history,
                              top_components=2)
    videos = moving_squares(4, 6, 8, seed=1)
    model.initialize(videos)
    perturb_weights(model.trainable_variables, seed=0)
    k = model.num_context_frames
    values = bin_values(videos[:, :k + num_target], 5, seed=3)
    dist = model(values[:, :k])
    target = values[:, k:]
    latents = dist.bijector.inverse(target)
    expected = dist.distribution.log_prob(latents) + tf.reduce_sum(
        dist.bijector.inverse_log_det_jacobian(target), axis=-1)
    np.testing.assert_allclose(dist.log_prob(target), expected, rtol=1e-5)
    compiled = tf.function(lambda c, y: model(c).log_prob(y))
    np.testing.assert_allclose(compiled(values[:, :k], target), expected,
                               rtol=1e-5)


def test_per_frame_log_prob_sums_to_log_prob(tiny_model, tiny_videos):
    k = tiny_model.num_context_frames
    dist = tiny_model(tiny_videos[:, :k])
    target = bin_values(tiny_videos[:, k:k + 3], 5, seed=0)
    per_frame = dist.log_prob_per_frame(target)
    np.testing.assert_allclose(tf.reduce_sum(per_frame, -1),
                               dist.log_prob(target), rtol=1e-5)
    bits = dist.bits_per_pixel(target)
    np.testing.assert_allclose(
        bits, -dist.log_prob(target) / (np.log(2) * 3 * 8 * 8 * 3), rtol=1e-6)


def test_temperature_reaches_log_prob_and_sample(tiny_model):
    context = _context(tiny_model, (1,))
    cold, warm = (tiny_model(context, temperature=t) for t in (0.5, 1.0))
    cold_draws, warm_draws = cold.sample(8, seed=2), warm.sample(8, seed=2)
    assert float(tf.math.reduce_std(cold_draws)) < float(
        tf.math.reduce_std(warm_draws))
    assert not np.allclose(cold.log_prob(warm_draws),
                           warm.log_prob(warm_draws))


def test_trainable_variables_are_the_models(tiny_model):
    dist = tiny_model(_context(tiny_model, (1,)))
    from_model = {id(v) for v in tiny_model.trainable_variables}
    from_dist = {id(v) for v in dist.trainable_variables}
    assert from_model == from_dist
    assert len(dist.trainable_variables) == len(tiny_model.trainable_variables)


def test_a_gradient_tape_loop_trains_the_distribution(tiny_model,
                                                      tiny_videos):
    k = tiny_model.num_context_frames
    context = tiny_videos[:, :k]
    target = bin_values(tiny_videos[:, k:k + 3], 5, seed=1)
    variables = tiny_model(context).trainable_variables
    moments = [tf.zeros_like(v) for v in variables]

    def loss():
        return -tf.reduce_mean(tiny_model(context).log_prob(target))

    before = float(loss())
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, variables)
        assert all(g is not None for g in grads)
        for i, (v, g) in enumerate(zip(variables, grads)):
            # Sign-momentum descent: no Keras, no optimizer library.
            moments[i] = 0.9 * moments[i] + 0.1 * g
            v.assign_sub(3e-3 * tf.sign(moments[i]))
    after = float(loss())
    assert after < before - 0.05 * abs(before), (before, after)


@pytest.mark.parametrize("frames, message", [
    (np.zeros((1, 2, 8, 8, 3), np.float32), "target frames"),
    (np.zeros((1, 3, 8, 4, 3), np.float32), "shape"),
    (tf.zeros((1, 3, 8, 8, 3), tf.int32), "dtype|float|int32"),
    (np.full((1, 3, 8, 8, 3), np.nan, np.float32), "NaN|finite"),
])
def test_bad_target_frames(tiny_model, frames, message):
    dist = tiny_model(_context(tiny_model, (1,)))
    with pytest.raises(ValueError, match=message):
        dist.log_prob(frames)


def test_bad_context(tiny_model):
    with pytest.raises(ValueError, match="shape"):
        tiny_model(np.zeros((1, 2, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8|float"):
        tiny_model(np.zeros((1, 2, 8, 8, 3), np.int32))
    with pytest.raises(ValueError, match="context frame"):
        tiny_model(np.zeros((1, 0, 8, 8, 3), np.uint8))


# The paper's presets at an eighth of their widths: every layer and option
# as in the preset (levels, steps, gating, latent skip, past frames, memory
# saving), at a fraction of the minutes the full widths take here.
_NARROW = dict(coupling_width=64, prior_width=32)


def _model_of(preset):
    if preset == "tests' TINY":
        return vf.VideoFlowModel(**TINY)
    if preset == "bair, 2 target frames, narrow":
        return vf.VideoFlowModel.from_preset("bair", num_target_frames=2,
                                             **_NARROW)
    if preset == "shapes, narrow":
        return vf.VideoFlowModel.from_preset("shapes", **_NARROW)
    return vf.VideoFlowModel.from_preset(preset)


@pytest.mark.parametrize("preset", [
    "tests' TINY", "tiny", "small", "real",
    pytest.param("shapes, narrow", marks=pytest.mark.slow),
    pytest.param("bair, 2 target frames, narrow", marks=pytest.mark.slow)])
def test_log_prob_scores_its_own_samples(preset):
    # TFP's most basic idiom (REINFORCE, ELBOs): score what was sampled. The
    # untrained flow's samples leave the bins; the density is defined there.
    model = _model_of(preset)
    k, size = model.num_context_frames, model.frame_shape[0]
    videos = moving_squares(3, k + model.num_target_frames, size, seed=5)
    model.initialize(videos)
    _check_log_prob_of_samples(model(videos[:, :k]), model.num_bits,
                               leave_the_bins=True)


def test_the_shipped_model_scores_its_own_samples():
    model = vf.pretrained("small_stochastic_movement")
    videos = moving_squares(3, model.num_context_frames, 32, seed=5)
    _check_log_prob_of_samples(model(videos), model.num_bits,
                               leave_the_bins=False)


def _check_log_prob_of_samples(dist, num_bits, leave_the_bins):
    """Samples of `dist` (batch 3), its slices and copies score finitely."""
    draws = dist.sample(2, seed=11)
    if leave_the_bins:  # so that a range check would have refused them
        assert float(tf.reduce_min(draws)) < 0 or float(
            tf.reduce_max(draws)) > 2 ** num_bits
    for scored, values in ((dist, draws), (dist[1:3], draws[:, 1:3]),
                           (dist[0], draws[:, 0]), (dist.copy(), draws)):
        log_prob = scored.log_prob(values)
        assert log_prob.shape == values.shape[:-4]
        assert np.all(np.isfinite(log_prob))
    for derived in (dist[1:3], dist.copy()):
        values = derived.sample(seed=12)
        assert np.all(np.isfinite(derived.log_prob(values)))
    np.testing.assert_allclose(dist[1:3].log_prob(draws[:, 1:3]),
                               dist.log_prob(draws)[:, 1:3], rtol=1e-5)
