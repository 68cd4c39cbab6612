"""AffineCoupling's own behaviour (shared checks: test_coupling.py)."""

import numpy as np
import tensorflow as tf

from bijectors import AffineCoupling
from tests.bijectors import flow_checks as checks


def test_starts_as_a_fixed_scaling():
    # The zero-initialised last convolution: scale = sigmoid(2) everywhere,
    # shift 0; the kept half passes through.
    bijector = AffineCoupling(4, hidden_width=8, dtype=tf.float64)
    frames = checks.random_frames([2, 4, 4, 4], 4)
    latents = bijector.inverse(frames)
    np.testing.assert_allclose(latents[..., :2], frames[..., :2])
    sigmoid_two = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(latents[..., 2:], frames[..., 2:] * sigmoid_two,
                               rtol=1e-12)
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(frames),
                               2 * 4 * 4 * np.log(sigmoid_two), rtol=1e-12)
