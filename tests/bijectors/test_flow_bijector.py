"""What every flow bijector shares: input checks and no stale cache."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from bijectors import ActNorm, AffineCoupling, MultiScaleFlow
from tests.bijectors import flow_checks as checks


def test_results_follow_weight_changes_for_the_same_tensor():
    # TFP caches bijector results keyed on the input tensor; with weights
    # that change under training that would return stale results.
    bijector = checks.randomize(AffineCoupling(4, hidden_width=8), 0)
    frames = tf.constant(checks.random_frames([1, 4, 4, 4], 0, np.float32))
    first = bijector.inverse(frames)
    first_ildj = bijector.inverse_log_det_jacobian(frames)
    checks.randomize(bijector, 1)
    assert not np.allclose(bijector.inverse(frames), first)
    assert not np.allclose(bijector.inverse_log_det_jacobian(frames),
                           first_ildj)
    latents = bijector.inverse(frames)
    back = bijector.forward(latents)
    checks.randomize(bijector, 2)
    assert not np.allclose(bijector.forward(latents), back)


def test_tfp_still_caches_a_stock_bijector_across_weight_changes():
    # flow_bijector._NoCache subclasses TFP's internal BijectorCache because
    # TFP has no public way to turn its cache off (tensorflow/probability
    # issue 1510). This fails once TFP stops answering from its cache after
    # a weight change; then the subclass should go.
    scale = tf.Variable(2.0)
    stock = tfp.bijectors.Scale(scale)
    y = stock.forward(tf.constant([1.0]))
    scale.assign(4.0)
    assert float(stock.inverse(y)[0]) == 1.0  # stale: y / 4 would be 0.5


FLOW = dict(frame_shape=(8, 8, 3), num_levels=2, steps_per_level=1,
            coupling_width=4)


@pytest.mark.parametrize("frames, message", [
    (tf.zeros([8, 8]), "rank"),
    (tf.zeros([1, 8, 8, 4]), "dimension C is 4, should be 3"),
    (tf.zeros([1, 6, 8, 3]), "dimension H is 6, should be 8"),
    (tf.constant(np.full([1, 8, 8, 3], np.nan, np.float32)), "NaN or inf"),
    (tf.constant(np.full([1, 8, 8, 3], np.inf, np.float32)), "NaN or inf"),
    (tf.zeros([1, 8, 8, 3], tf.int32), "expected a float32 tensor, got int32"),
    (tf.zeros([1, 8, 8, 3], tf.float64), "expected a float32 tensor"),
])
def test_bad_frames_raise_value_error_naming_the_problem(frames, message):
    flow = MultiScaleFlow(**FLOW)
    with pytest.raises(ValueError, match=message):
        flow.inverse(frames)


def test_bad_values_inside_a_graph():
    flow = MultiScaleFlow(**FLOW)
    inverse = tf.function(flow.inverse_log_det_jacobian)
    inverse(tf.zeros([1, 8, 8, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or inf"):
        inverse(tf.fill([1, 8, 8, 3], np.nan))


def test_single_layer_channel_mismatch():
    with pytest.raises(ValueError, match="should be 3"):
        ActNorm(3).inverse(tf.zeros([2, 4, 4, 5]))


def test_unknown_sizes_are_checked_when_the_graph_runs():
    flow = MultiScaleFlow(**FLOW)
    inverse = tf.function(flow.inverse_log_det_jacobian, input_signature=[
        tf.TensorSpec([None, None, None, 3], tf.float32)])
    assert inverse(tf.zeros([1, 8, 8, 3])).shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="dimension H should be 8"):
        inverse(tf.zeros([1, 12, 12, 3]))
