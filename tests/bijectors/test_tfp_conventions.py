"""TFP conventions of the flow bijectors: copy and slicing share the
weights, the batch shape is []."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import ActNorm, AffineCoupling, MultiScaleFlow
from tests.bijectors import flow_checks as checks


@pytest.mark.parametrize("name", sorted(checks.BIJECTORS))
def test_copy_and_slicing_share_the_weights(name):
    make, shape = checks.BIJECTORS[name]
    bijector = make()
    # Randomised weights: a rebuilt bijector would differ from this one.
    checks.randomize(bijector, seed=2, scale=0.5)
    frames = checks.random_frames(shape, 0)
    expected = bijector.inverse(frames)
    for other in (bijector.copy(), bijector[...],
                  bijector.copy(validate_args=True), bijector.copy(name="x")):
        assert [id(v) for v in other.variables] == [
            id(v) for v in bijector.variables]
        for a, b in zip(tf.nest.flatten(other.inverse(frames)),
                        tf.nest.flatten(expected)):
            np.testing.assert_array_equal(a, b)
    assert bijector.copy(name="x").name == "x"
    assert bijector.experimental_batch_shape() == []
    assert bijector.experimental_batch_shape_tensor().numpy().tolist() == []


def test_a_given_layer_must_fit_and_new_arguments_give_new_weights():
    with pytest.raises(ValueError, match="layer must be"):
        ActNorm(4, layer=ActNorm(6).layer)
    with pytest.raises(ValueError, match="layer must be"):
        AffineCoupling(4, hidden_width=8, layer=ActNorm(4).layer)
    with pytest.raises(ValueError, match="layer must be"):
        MultiScaleFlow((8, 8, 3), num_levels=2, steps_per_level=2,
                       layer=checks.BIJECTORS["multiscale"][0]().layer)
    bijector = AffineCoupling(4, hidden_width=8, seed=1)
    other = bijector.copy(seed=5)
    assert other.layer is not bijector.layer
    assert not set(map(id, other.variables)) & set(map(id, bijector.variables))
