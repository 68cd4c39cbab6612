"""Squeeze: a pure rearrangement of 2x2 blocks into channels."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import Squeeze
from tests.bijectors import flow_checks as checks


def test_round_trips_and_zero_log_det():
    bijector = Squeeze(dtype=tf.float64)
    checks.check_round_trips(bijector, checks.random_frames([2, 4, 6, 3], 0))
    assert checks.check_log_det_matches_autodiff(
        bijector, checks.random_frames([1, 4, 4, 2], 1)) == 0.0


def test_moves_each_block_into_the_channels():
    frame = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1])
    latent = Squeeze().inverse(frame)
    assert latent.shape == (1, 2, 2, 4)
    # The top-left 2x2 block (0, 1, 4, 5) becomes the first pixel's channels.
    np.testing.assert_array_equal(latent[0, 0, 0], [0, 1, 4, 5])


def test_event_shapes_and_batch_dims():
    bijector = Squeeze(dtype=tf.float64)
    assert bijector.inverse_event_shape([8, 6, 3]) == (4, 3, 12)
    assert bijector.forward_event_shape([4, 3, 12]) == (8, 6, 3)
    checks.check_batch_dims(bijector, checks.random_frames([4, 4, 4, 3], 2))
    checks.check_compiled_matches_eager(
        Squeeze(), checks.random_frames([2, 4, 4, 3], 3, np.float32))


def test_odd_sizes_are_rejected():
    with pytest.raises(ValueError, match="not divisible by 2"):
        Squeeze().inverse(tf.zeros([1, 5, 4, 3]))
    with pytest.raises(ValueError, match="not divisible by 4"):
        Squeeze().forward(tf.zeros([1, 2, 2, 3]))
