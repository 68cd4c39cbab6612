"""Memory-saving backpropagation: the same values and gradients as plain
autodiff, and the flow steps really recomputed in the backward pass."""

import numpy as np
import pytest
import tensorflow as tf

from bijectors import MultiScaleFlow, memory_saving
from tests.bijectors import flow_checks as checks
from tfp_videoflow import precision


def _twin_flows(dtype=tf.float64, **kwargs):
    """A plain flow and a memory-saving one with the same (moved) weights."""
    flows = [MultiScaleFlow((8, 8, 3), num_levels=2, steps_per_level=2,
                            coupling_width=8, seed=0, dtype=dtype,
                            memory_saving=saving, **kwargs)
             for saving in (False, True)]
    checks.randomize(flows[0], 1, scale=0.1)
    checks.randomize(flows[1], 1, scale=0.1)
    return flows


def _loss_and_gradients(flow, frames):
    with tf.GradientTape() as tape:
        tape.watch(frames)
        latents, conditions, log_det = flow.layer.encode_with_conditions(
            frames)
        # A loss that weighs every output differently.
        loss = tf.reduce_sum(log_det) + sum(
            tf.reduce_sum(tf.sin(t) * (i + 1))
            for i, t in enumerate(list(latents) + list(conditions[:-1])))
    return loss, tape.gradient(loss, [frames, *flow.trainable_variables])


def _assert_close(plain, saving, rtol):
    for a, b in zip(tf.nest.flatten(plain), tf.nest.flatten(saving)):
        a, b = np.asarray(a), np.asarray(b)
        scale = max(np.max(np.abs(a)), 1e-30)
        assert np.max(np.abs(a - b)) <= rtol * scale


@pytest.mark.parametrize("coupling, gated, compiled", [
    ("affine", True, False), ("additive", False, False),
    ("affine", True, True)])
def test_gradients_equal_plain_autodiff_float64(coupling, gated, compiled):
    plain, saving = _twin_flows(coupling=coupling, gated=gated)
    frames = checks.random_frames([3, 8, 8, 3], 2)
    run = tf.function(_loss_and_gradients) if compiled else _loss_and_gradients
    loss_plain, grads_plain = run(plain, frames)
    loss_saving, grads_saving = run(saving, frames)
    assert all(g is not None for g in grads_saving)
    # Every weight gets a gradient (none left at zero by the recomputation).
    assert all(np.any(np.asarray(g) != 0) for g in grads_saving)
    _assert_close(loss_plain, loss_saving, 1e-12)
    _assert_close(grads_plain, grads_saving, 1e-6)
    # The values of the pass itself are the plain ones.
    _assert_close(plain.inverse(frames), saving.inverse(frames), 1e-12)


def test_backward_pass_recomputes_each_step(monkeypatch):
    _, saving = _twin_flows()
    frames = checks.random_frames([2, 8, 8, 3], 3)
    calls = []
    original = memory_saving.encode_layers

    def counting(layers, x):
        calls.append(len(layers))
        return original(layers, x)

    monkeypatch.setattr(memory_saving, "encode_layers", counting)
    saving.layer.encode_with_conditions(frames)
    forward_calls = len(calls)
    assert forward_calls == 4  # 2 levels x 2 steps
    _loss_and_gradients(saving, frames)
    # The forward pass of the tape, then each step once more backwards.
    assert len(calls) == forward_calls + 2 * forward_calls


def test_mixed_precision_gradients_equal_plain():
    with precision.policy_scope("mixed_bfloat16"):
        plain, saving = _twin_flows(dtype=tf.float32, gated=True)
    frames = checks.random_frames([2, 8, 8, 3], 4, np.float32)
    loss_plain, grads_plain = _loss_and_gradients(plain, frames)
    loss_saving, grads_saving = _loss_and_gradients(saving, frames)
    # The networks really compute in bfloat16 here.
    assert plain.layer.steps[2].network.compute_dtype == "bfloat16"
    _assert_close(loss_plain, loss_saving, 1e-6)
    _assert_close(grads_plain, grads_saving, 1e-6)


def test_setting_is_saved_in_the_config():
    _, saving = _twin_flows()
    config = saving.layer.get_config()
    assert config["memory_saving"] is True
    assert type(saving.layer).from_config(config).memory_saving is True
