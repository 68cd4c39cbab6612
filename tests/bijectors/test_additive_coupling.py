"""AdditiveCoupling: exactness, zero log-det, the network's weights."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import AdditiveCoupling
from tests.bijectors import flow_checks as checks


def _coupling(dtype=tf.float64, channels=4, gated=False, seed=0):
    return checks.randomize(AdditiveCoupling(
        channels, hidden_width=8, gated=gated, seed=3, dtype=dtype), seed,
        scale=0.5)


@pytest.mark.parametrize("gated", [False, True])
def test_round_trips_and_log_det(gated):
    bijector = _coupling(gated=gated)
    checks.check_round_trips(bijector, checks.random_frames([3, 4, 4, 4], 0))
    checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 4, 4, 4], 1))


def test_odd_channel_count():
    bijector = _coupling(channels=3)
    checks.check_round_trips(bijector, checks.random_frames([2, 4, 4, 3], 2))
    checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 2, 2, 3], 3))


def test_starts_as_identity_and_preserves_volume():
    bijector = AdditiveCoupling(4, hidden_width=8, dtype=tf.float64)
    frames = checks.random_frames([2, 4, 4, 4], 4)
    np.testing.assert_allclose(bijector.inverse(frames), frames)
    moved = _coupling()
    assert not np.allclose(moved.inverse(frames), frames)
    np.testing.assert_array_equal(moved.inverse_log_det_jacobian(frames), 0.0)


def test_batch_dims_compiled_and_gradients():
    checks.check_batch_dims(_coupling(), checks.random_frames([4, 4, 4, 4], 5))
    checks.check_compiled_matches_eager(
        _coupling(tf.float32), checks.random_frames([2, 4, 4, 4], 6,
                                                    np.float32))
    checks.check_gradients_reach_every_weight(
        _coupling(), checks.random_frames([2, 4, 4, 4], 7))


def test_needs_two_channels():
    with pytest.raises(ValueError, match="at least 2 channels"):
        AdditiveCoupling(1, hidden_width=8)
