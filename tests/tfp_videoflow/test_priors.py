"""The per-level priors: shapes, causality, identity start, bounded scales."""

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import perturb_weights
from tfp_videoflow import priors

SHAPES = ((4, 4, 6), (2, 2, 24))


def test_identity_blocks_at_initialisation():
    # Zero-initialised gates: every residual block starts as the identity.
    prior = priors.Conv3DPrior(SHAPES[0], conditioned=True, num_cond_frames=2,
                               width=8, depth=2, dilations=(1, 2))
    h = tf.random.stateless_normal([2, 2, 4, 4, 8], [0, 1])
    for block in prior.blocks:
        np.testing.assert_array_equal(block(h), h)
    # A dilation as wide as the grid would read only padding: dropped.
    top = priors.Conv3DPrior((2, 2, 24), width=8, depth=1, dilations=(1, 2, 4))
    assert [b.name for b in top.blocks[0].branches] == ["branch_d1"]


def test_log_scales_stay_bounded():
    raw = tf.constant([-1e4, -3.0, 0.0, 2.0, 1e4])
    bounded = priors.bounded_log_scale(raw).numpy()
    assert np.all(np.abs(bounded) <= priors.LOG_SCALE_BOUND)
    np.testing.assert_allclose(bounded[1:4], [-3.0, 0.0, 2.0], atol=0.3)


@pytest.mark.parametrize("name", sorted(priors.PRIORS))
def test_each_prior_gives_a_distribution_over_one_latent(name):
    prior = priors.PRIORS[name](SHAPES[0], conditioned=True)
    perturb_weights(prior.trainable_variables, seed=1, scale=0.1)
    history = tf.random.stateless_normal([3, 2, *SHAPES[0]], [0, 2])
    condition = tf.random.stateless_normal([3, *SHAPES[0]], [0, 3])
    dist = prior(history, tf.zeros([3, 2]), condition, temperature=0.5)
    assert dist.batch_shape == (3,) and dist.event_shape == SHAPES[0]
    z = dist.sample(seed=(1, 2))
    assert z.shape == (3, *SHAPES[0])
    assert np.all(np.isfinite(dist.log_prob(z)))
    # The temperature scales the spread (same mean).
    wide = prior(history, tf.zeros([3, 2]), condition, temperature=1.0)
    np.testing.assert_allclose(wide.stddev(), 2 * dist.stddev(), rtol=1e-5)
    with pytest.raises(ValueError, match="conditioned on x1"):
        prior(history, tf.zeros([3, 2]), None)


def test_conv3d_prior_reads_only_the_past_and_the_last_step():
    prior = priors.Conv3DPrior(SHAPES[0], num_cond_frames=3, width=8,
                               depth=2, dilations=(1, 2))
    perturb_weights(prior.trainable_variables, seed=2, scale=0.1)
    history = tf.random.stateless_normal([2, 3, *SHAPES[0]], [0, 4])
    missing = tf.zeros([2, 3])
    base = prior(history, missing).mean()
    for t in range(3):
        moved = tf.tensor_scatter_nd_add(
            history, [[0, t]], tf.ones([1, *SHAPES[0]]))
        changed = np.abs(prior(moved, missing).mean() - base)
        # Video 0 changes (every past frame is seen), video 1 does not.
        assert changed[0].max() > 1e-4, t
        np.testing.assert_array_equal(changed[1], 0.0)


def test_one_head_decodes_every_component_from_its_code():
    shape = SHAPES[0]
    prior = priors.Conv3DPrior(shape, width=8, depth=1, num_components=3)
    perturb_weights(prior.trainable_variables, seed=7, scale=0.1)
    history = tf.random.stateless_normal([2, 1, *shape], [0, 8])
    missing = tf.zeros([2, 1])
    components = prior(history, missing).components_distribution
    means = components.mean().numpy()  # [N, M, h, w, c]
    assert not np.allclose(means[:, 0], means[:, 1])
    # One head of 2c outputs serves all M components: a component is its
    # code, so changing code 1 moves component 1 alone.
    assert prior.conv_out.kernel.shape[-1] == 2 * shape[-1]
    prior.codes.assign(tf.tensor_scatter_nd_add(
        prior.codes, [[1]], tf.ones([1, 8])))
    moved = prior(history, missing).components_distribution.mean().numpy()
    np.testing.assert_array_equal(moved[:, [0, 2]], means[:, [0, 2]])
    assert not np.allclose(moved[:, 1], means[:, 1])
    # A code per component, restored from the config.
    again = priors.Conv3DPrior.from_config(prior.get_config())
    assert again.num_components == 3 and again.codes.shape == (3, 8)


def test_a_split_component_shares_the_weight_and_keeps_the_density():
    shape = SHAPES[0]
    prior = priors.Conv3DPrior(shape, width=8, depth=1, num_components=3,
                               dtype="float64")
    perturb_weights(prior.trainable_variables, seed=9, scale=0.3)
    history = tf.random.stateless_normal([4, 1, *shape], [0, 9], dtype=tf.float64)
    missing = tf.zeros([4, 1], tf.float64)
    before = prior(history, missing)
    z = before.sample(seed=[1, 9])
    weights = before.mixture_distribution.probs_parameter().numpy()
    prior.split_component(0, 2, np.zeros(8))
    after = prior(history, missing)
    # Component 2 is now a copy of component 0; the two share 0's weight
    # (renormalised without 2's old weight) ...
    split = after.mixture_distribution.probs_parameter().numpy()
    np.testing.assert_allclose(
        split[:, [0, 2]], (weights[:, [0, 0]] / 2) / (1 - weights[:, [2, 2]]),
        rtol=1e-10)
    means = after.components_distribution.mean().numpy()
    np.testing.assert_array_equal(means[:, 2], means[:, 0])
    # ... and the density is what it was but for component 2's old part
    # (next to nothing for a dead component).
    old = before.components_distribution.log_prob(z[:, None]).numpy()
    expected = np.logaddexp(np.log(weights[:, 0]) + old[:, 0],
                            np.log(weights[:, 1]) + old[:, 1])
    renormalised = expected - np.log(1 - weights[:, 2])
    np.testing.assert_allclose(after.log_prob(z).numpy(), renormalised,
                               rtol=1e-10)
    # With noise the copy differs from its source.
    prior.split_component(1, 2, np.full(8, 0.5))
    moved = prior(history, missing).components_distribution.mean().numpy()
    assert not np.allclose(moved[:, 2], moved[:, 1])
    with pytest.raises(ValueError, match="two different components of 3"):
        prior.split_component(1, 1, np.zeros(8))
