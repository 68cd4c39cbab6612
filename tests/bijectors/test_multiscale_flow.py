"""MultiScaleFlow: exactness, latent shapes, weights owned by Keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bijectors import MultiScaleFlow
from tests.bijectors import flow_checks as checks


def _flow(frame_shape=(8, 8, 3), num_levels=2, coupling="affine",
          dtype=tf.float64, seed=0, **kwargs):
    flow = MultiScaleFlow(frame_shape, num_levels=num_levels,
                          steps_per_level=2, coupling=coupling,
                          coupling_width=8, seed=seed, dtype=dtype, **kwargs)
    return checks.randomize(flow, seed + 1, scale=0.1)


@pytest.mark.parametrize("coupling", ["affine", "additive"])
def test_round_trips_and_log_det(coupling):
    flow = _flow(coupling=coupling)
    checks.check_round_trips(flow, checks.random_frames([3, 8, 8, 3], 0),
                             rtol=1e-9, atol=1e-9)
    checks.check_log_det_matches_autodiff(
        flow, checks.random_frames([1, 8, 8, 3], 1))


def test_three_levels_and_gated():
    flow = _flow(num_levels=3, gated=True)
    checks.check_round_trips(flow, checks.random_frames([2, 8, 8, 3], 2),
                             rtol=1e-9, atol=1e-9)
    checks.check_log_det_matches_autodiff(
        flow, checks.random_frames([1, 8, 8, 3], 3))


def test_latent_shapes_finest_first():
    flow = MultiScaleFlow((64, 64, 3), num_levels=3, steps_per_level=1,
                          coupling_width=4)
    expected = ((32, 32, 6), (16, 16, 12), (8, 8, 48))
    assert flow.latent_shapes == expected
    assert tuple(flow.inverse_event_shape([64, 64, 3])) == expected
    assert flow.forward_event_shape(expected) == (64, 64, 3)
    latents = flow.inverse(tf.random.stateless_normal([2, 64, 64, 3], [1, 2]))
    assert tuple(tuple(z.shape) for z in latents) == tuple(
        (2,) + s for s in expected)
    assert flow.inverse_log_det_jacobian(
        tf.zeros([2, 64, 64, 3])).shape == (2,)


def test_batch_dims_compiled_and_gradients():
    checks.check_batch_dims(_flow(), checks.random_frames([4, 8, 8, 3], 4))
    checks.check_compiled_matches_eager(
        _flow(dtype=tf.float32), checks.random_frames([2, 8, 8, 3], 5,
                                                      np.float32))
    checks.check_gradients_reach_every_weight(
        _flow(), checks.random_frames([2, 8, 8, 3], 6))


class _Holder(keras.Model):
    """A Keras model that holds a flow, as a user's model would."""

    def __init__(self, flow):
        super().__init__(name="holder")
        self.flow = flow
        self.flow_layer = flow.layer

    def call(self, frames):
        latents, ildj = self.flow.inverse_and_log_det(frames)
        return ildj - sum(0.5 * tf.reduce_sum(tf.square(z), axis=[1, 2, 3])
                          for z in latents)


def test_keras_model_sees_every_weight_and_trains_them():
    flow = _flow(dtype=tf.float32)
    model = _Holder(flow)
    from_model = {id(v) for v in model.trainable_variables}
    from_flow = {id(v) for v in flow.trainable_variables}
    assert from_model == from_flow
    assert len(model.trainable_variables) == len(flow.trainable_variables)
    # Paths are unique, and every step owns weights:
    # 2 levels x 2 steps x (actnorm, conv, coupling).
    paths = [v.path for v in flow.variables]
    assert len(set(paths)) == len(paths)
    assert len({p.split("/")[0] for p in paths}) == 12
    frames = checks.random_frames([2, 8, 8, 3], 7, np.float32)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model(frames))
    gradients = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None and np.any(np.asarray(g) != 0)
               for g in gradients)
    before = [v.numpy() for v in flow.trainable_variables]
    model.compile(optimizer=keras.optimizers.SGD(1e-3),
                  loss=lambda _, log_prob: -log_prob)
    model.fit(frames, np.zeros(2), epochs=1, verbose=0)
    changed = [not np.array_equal(b, v.numpy())
               for b, v in zip(before, flow.trainable_variables)]
    assert all(changed)


def test_seeded_construction():
    a, b = (MultiScaleFlow((8, 8, 3), 2, 1, coupling_width=4, seed=5)
            for _ in range(2))
    for x, y in zip(a.variables, b.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_initialize_sets_every_actnorm_from_data():
    flow = MultiScaleFlow((8, 8, 3), 2, 2, coupling_width=8)
    frames = 3.0 + 10.0 * checks.random_frames([16, 8, 8, 3], 8, np.float32)
    flow.initialize(frames)
    latents = flow.inverse(frames)
    # The top latent went through ActNorms set from data: unit-ish scale.
    assert 0.3 < float(tf.math.reduce_std(latents[-1])) < 3.0
    # No frames: an error before any weight moves.
    before = [v.numpy() for v in flow.variables]
    with pytest.raises(ValueError, match="at least one frame"):
        flow.initialize(frames[:0])
    for b, v in zip(before, flow.variables):
        np.testing.assert_array_equal(b, v.numpy())


@pytest.mark.parametrize("kwargs, message", [
    (dict(frame_shape=(12, 12, 3), num_levels=3), "divisible by 2\\*\\*"),
    (dict(frame_shape=(8, 8)), "frame_shape"),
    (dict(frame_shape=(8, 8, 3), num_levels=0), "num_levels"),
    (dict(frame_shape=(8, 8, 3), coupling="spline"), "coupling"),
])
def test_bad_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiScaleFlow(**{"steps_per_level": 1, "coupling_width": 4, **kwargs})


def test_bad_latents():
    flow = _flow(dtype=tf.float32)
    latents = flow.inverse(tf.zeros([1, 8, 8, 3]))
    with pytest.raises(ValueError, match="tuple of 2 latents"):
        flow.forward(latents[0])
    with pytest.raises(ValueError, match="tuple of 2 latents"):
        flow.forward_log_det_jacobian(latents[:1])
    with pytest.raises(ValueError, match="level 1"):
        flow.forward((latents[0], tf.zeros([1, 2, 2, 12])))


def test_split_conditions_decode_top_down():
    # x1 of each level, from the frame -> latent pass, equals the top-down
    # partial decode of the coarser latents; the finest decode is the frame.
    flow = _flow(num_levels=3)
    frames = checks.random_frames([2, 8, 8, 3], 7)
    latents, conditions, log_det = flow.encode_with_conditions(frames)
    np.testing.assert_allclose(log_det, flow.inverse_log_det_jacobian(frames),
                               rtol=1e-12)
    for z, expected in zip(latents, flow.inverse(frames)):
        np.testing.assert_array_equal(z, expected)
    assert conditions[-1] is None
    condition = None
    for level in reversed(range(3)):
        if level < 2:
            assert conditions[level].shape == latents[level].shape
            np.testing.assert_allclose(condition, conditions[level],
                                       rtol=1e-9, atol=1e-9)
        condition = flow.decode_level(level, latents[level], condition)
    np.testing.assert_allclose(condition, frames, rtol=1e-9, atol=1e-9)
    # x1 of level 0 depends on the coarser latents only.
    moved = flow.decode_level(1, latents[1] + 1.0, conditions[1])
    assert np.abs(moved - conditions[0]).max() > 1e-3
    with pytest.raises(ValueError, match="needs a condition"):
        flow.decode_level(0, latents[0])
    with pytest.raises(ValueError, match="needs no condition"):
        flow.decode_level(2, latents[2], conditions[1])
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        flow.encode_with_conditions(frames[tf.newaxis])
