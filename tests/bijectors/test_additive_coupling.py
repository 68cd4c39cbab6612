"""AdditiveCoupling's own behaviour (shared checks: test_coupling.py)."""

import numpy as np
import tensorflow as tf

from bijectors import AdditiveCoupling
from tests.bijectors import flow_checks as checks


def test_starts_as_identity_and_preserves_volume():
    bijector = AdditiveCoupling(4, hidden_width=8, dtype=tf.float64)
    frames = checks.random_frames([2, 4, 4, 4], 4)
    np.testing.assert_allclose(bijector.inverse(frames), frames)
    checks.randomize(bijector, 0, scale=0.5)
    assert not np.allclose(bijector.inverse(frames), frames)
    np.testing.assert_array_equal(bijector.inverse_log_det_jacobian(frames),
                                  0.0)
