"""InvertibleConv1x1: exactness, log-det, never singular."""

import numpy as np
import tensorflow as tf

from bijectors import InvertibleConv1x1
from tests.bijectors import flow_checks as checks


def _conv(dtype=tf.float64, channels=4, seed=0):
    return checks.randomize(InvertibleConv1x1(channels, seed=3, dtype=dtype),
                            seed)


def test_round_trips():
    checks.check_round_trips(_conv(), checks.random_frames([3, 4, 5, 4], 0))


def test_log_det_matches_autodiff():
    bijector = _conv()
    ildj = checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 3, 3, 4], 1))
    # H * W * sum(log_diagonal) = H * W * log|det W|.
    _, log_abs_det = tf.linalg.slogdet(bijector.layer.weight())
    np.testing.assert_allclose(ildj, 9 * float(log_abs_det), rtol=1e-10)
    np.testing.assert_allclose(
        log_abs_det, tf.reduce_sum(bijector.layer.log_diagonal), rtol=1e-10)


def test_inverse_weight_is_the_inverse():
    layer = _conv().layer
    np.testing.assert_allclose(layer.inverse_weight() @ layer.weight(),
                               np.eye(4), atol=1e-12)


def test_cannot_become_singular():
    bijector = _conv()
    frames = checks.random_frames([1, 2, 2, 4], 2)
    # However small the learned diagonal, |det W| = exp(sum log_diagonal)
    # > 0: the log-det stays finite and exact.
    bijector.layer.log_diagonal.assign(tf.fill([4], tf.constant(
        -20.0, tf.float64)))
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(frames),
                               [4 * 4 * -20.0], rtol=1e-12)
    # And it still inverts (to the precision its conditioning allows).
    bijector.layer.log_diagonal.assign(tf.fill([4], tf.constant(
        -3.0, tf.float64)))
    checks.check_round_trips(bijector, frames, rtol=1e-7, atol=1e-7)


def test_seeded_initial_rotation():
    a, b, c = (InvertibleConv1x1(4, seed=s, dtype=tf.float64) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.layer.weight(), b.layer.weight())
    assert not np.allclose(a.layer.weight(), c.layer.weight())
    # A rotation: log|det| = 0 at initialisation.
    np.testing.assert_allclose(tf.reduce_sum(a.layer.log_diagonal), 0.0,
                               atol=1e-12)


def test_batch_dims_compiled_and_gradients():
    checks.check_batch_dims(_conv(), checks.random_frames([4, 3, 3, 4], 4))
    checks.check_compiled_matches_eager(
        _conv(tf.float32), checks.random_frames([2, 3, 3, 4], 5, np.float32))
    checks.check_gradients_reach_every_weight(
        _conv(), checks.random_frames([2, 3, 3, 4], 6))
