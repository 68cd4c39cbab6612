"""ActNorm: exactness, log-det, data-dependent initialisation."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import ActNorm
from tests.bijectors import flow_checks as checks


def _actnorm(dtype=tf.float64, channels=3, seed=0):
    return checks.randomize(ActNorm(channels, dtype=dtype), seed)


def test_round_trips():
    checks.check_round_trips(_actnorm(), checks.random_frames([4, 5, 6, 3], 0))


def test_log_det_matches_autodiff():
    bijector = _actnorm()
    ildj = checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 4, 4, 3], 1))
    # log-det = H * W * sum(log |s|).
    assert ildj == pytest.approx(16 * float(tf.reduce_sum(
        bijector.layer.log_scale)))


def test_batch_dims_and_compiled():
    checks.check_batch_dims(_actnorm(), checks.random_frames([6, 4, 4, 3], 2))
    checks.check_compiled_matches_eager(
        _actnorm(tf.float32), checks.random_frames([4, 4, 4, 3], 3,
                                                   np.float32))


def test_gradients():
    checks.check_gradients_reach_every_weight(
        _actnorm(), checks.random_frames([2, 4, 4, 3], 4))


def _statistics(z):
    return (tf.reduce_mean(z, axis=[0, 1, 2]).numpy(),
            tf.math.reduce_std(z, axis=[0, 1, 2]).numpy())


def test_first_inverse_batch_initialises_to_zero_mean_unit_variance():
    bijector = ActNorm(3, dtype=tf.float64)
    frames = 5.0 + 3.0 * checks.random_frames([8, 6, 6, 3], 5)
    mean, std = _statistics(bijector.inverse(frames))
    np.testing.assert_allclose(mean, 0.0, atol=1e-6)
    np.testing.assert_allclose(std, 1.0, rtol=1e-4)
    # A second batch does not initialise again.
    weights = [v.numpy() for v in bijector.variables]
    bijector.inverse(checks.random_frames([8, 6, 6, 3], 6))
    for before, v in zip(weights, bijector.variables):
        np.testing.assert_array_equal(before, v.numpy())


def test_initialisation_inside_a_graph_and_explicitly():
    frames = 2.0 - 4.0 * checks.random_frames([8, 6, 6, 3], 7, np.float32)
    traced = ActNorm(3)
    mean, std = _statistics(tf.function(traced.inverse)(frames))
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(std, 1.0, rtol=1e-3)
    explicit = ActNorm(3)
    explicit.initialize(frames)
    np.testing.assert_allclose(explicit.layer.log_scale,
                               traced.layer.log_scale, rtol=1e-5)


def test_forward_direction_does_not_initialise():
    bijector = ActNorm(3, dtype=tf.float64)
    latents = checks.random_frames([2, 4, 4, 3], 8)
    np.testing.assert_allclose(bijector.forward(latents), latents)
    assert not bool(bijector.layer.initialized.numpy())
