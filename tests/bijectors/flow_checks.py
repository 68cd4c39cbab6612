"""Checks every flow bijector must pass: exactness, log-dets, tracing.

Each check takes a bijector whose weights `randomize` has moved away from
their identity initialisation, and always passes fresh tensors
(`tf.identity`) so that a bijector cache could never answer in its place.
"""

import numpy as np
import tensorflow as tf

from bijectors import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleConv1x1,
    MultiScaleFlow,
    Squeeze,
)
from tests import helpers

# One small float64 instance of every bijector, with the frame shape it
# takes: the contract tests run on each.
F64 = dict(dtype=tf.float64)
BIJECTORS = {
    "actnorm": (lambda: ActNorm(4, **F64), [2, 4, 4, 4]),
    "conv1x1": (lambda: InvertibleConv1x1(4, seed=1, **F64), [2, 4, 4, 4]),
    "affine": (lambda: AffineCoupling(4, hidden_width=8, **F64),
               [2, 4, 4, 4]),
    "additive": (lambda: AdditiveCoupling(4, hidden_width=8, **F64),
                 [2, 4, 4, 4]),
    "squeeze": (lambda: Squeeze(**F64), [2, 4, 4, 4]),
    "multiscale": (lambda: MultiScaleFlow(frame_shape=(8, 8, 3), num_levels=2,
                                          steps_per_level=1, coupling_width=4,
                                          **F64), [2, 8, 8, 3]),
}


def randomize(bijector, seed, scale=0.3):
    """Moves every trainable weight off its initial value; marks ActNorms
    initialised so that no data-dependent init overwrites the weights."""
    helpers.perturb_weights(bijector.trainable_variables, seed, scale)
    for layer in bijector.layer.actnorm_layers():
        layer.initialized.assign(True)
    return bijector


def fresh(structure):
    return tf.nest.map_structure(tf.identity, structure)


def flatten(structure):
    """One example's tensors (each `[1, ...]`) as one vector `[D]`."""
    return tf.concat([tf.reshape(t, [-1]) for t in tf.nest.flatten(structure)],
                     axis=0)


def random_frames(shape, seed, dtype=np.float64):
    return tf.constant(np.random.default_rng(seed).standard_normal(shape),
                       dtype)


def check_round_trips(bijector, frames, rtol=1e-10, atol=1e-10):
    """inverse then forward, and forward then inverse, give the input back."""
    latents = bijector.inverse(fresh(frames))
    np.testing.assert_allclose(bijector.forward(fresh(latents)), frames,
                               rtol=rtol, atol=atol)
    other = tf.nest.map_structure(
        lambda z: tf.constant(np.random.default_rng(1).standard_normal(
            z.shape), z.dtype), latents)
    again = bijector.inverse(bijector.forward(fresh(other)))
    for a, b in zip(tf.nest.flatten(again), tf.nest.flatten(other)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    # The map really acts: it is not the identity.
    assert not np.allclose(flatten(latents), flatten(frames))


def check_log_det_matches_autodiff(bijector, frame, rtol=1e-9):
    """ildj(x) = log|det d inverse(x) / dx|, and fldj(inverse(x)) = -ildj(x).

    Args:
      frame: one example `[1, H, W, C]` (small: the Jacobian is D x D).
    """
    frame = fresh(frame)
    with tf.GradientTape() as tape:
        tape.watch(frame)
        latent = flatten(bijector.inverse(frame))
    jacobian = tape.jacobian(latent, frame)
    jacobian = tf.reshape(jacobian, [latent.shape[0], -1])
    _, log_abs_det = tf.linalg.slogdet(jacobian)
    ildj = bijector.inverse_log_det_jacobian(fresh(frame))
    assert ildj.shape == (1,)
    np.testing.assert_allclose(ildj[0], log_abs_det, rtol=rtol, atol=1e-9)
    fldj = bijector.forward_log_det_jacobian(
        fresh(bijector.inverse(fresh(frame))))
    np.testing.assert_allclose(fldj, -ildj, rtol=rtol, atol=1e-9)
    assert np.all(np.isfinite(ildj))
    return float(ildj[0])


def check_batch_dims(bijector, frames):
    """Several leading batch dims give what the flattened batch gives."""
    batch = frames.shape[0]
    nested = tf.reshape(frames, [2, batch // 2, *frames.shape[1:]])
    latents, ildj = bijector.inverse_and_log_det(fresh(nested))
    flat_latents, flat_ildj = bijector.inverse_and_log_det(fresh(frames))
    assert ildj.shape == (2, batch // 2)
    np.testing.assert_allclose(tf.reshape(ildj, [-1]), flat_ildj, rtol=1e-12)
    for z, flat in zip(tf.nest.flatten(latents), tf.nest.flatten(flat_latents)):
        assert z.shape[:2] == (2, batch // 2)
        np.testing.assert_allclose(tf.reshape(z, flat.shape), flat,
                                   rtol=1e-12)
    back = bijector.forward(fresh(latents))
    assert back.shape == nested.shape
    np.testing.assert_allclose(back, nested, rtol=1e-9, atol=1e-9)
    fldj = bijector.forward_log_det_jacobian(fresh(latents))
    np.testing.assert_allclose(fldj, -ildj, rtol=1e-9)


def check_compiled_matches_eager(bijector, frames):
    """tf.function and XLA (jit_compile) give the eager numbers (float32)."""
    def both_ways(x):
        latents, ildj = bijector.inverse_and_log_det(x)
        back, fldj = bijector.forward_and_log_det(latents)
        return latents, ildj, back, fldj

    eager = both_ways(fresh(frames))
    for jit in (False, True):
        compiled = tf.function(both_ways, jit_compile=jit)(fresh(frames))
        for a, b in zip(tf.nest.flatten(compiled), tf.nest.flatten(eager)):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4)


def check_gradients_reach_every_weight(bijector, frames):
    """A likelihood loss has a non-zero gradient for every trainable weight."""
    with tf.GradientTape() as tape:
        latents, ildj = bijector.inverse_and_log_det(fresh(frames))
        loss = sum(0.5 * tf.reduce_sum(tf.square(z))
                   for z in tf.nest.flatten(latents)) - tf.reduce_sum(ildj)
    variables = bijector.trainable_variables
    assert variables
    gradients = tape.gradient(loss, variables)
    for v, g in zip(variables, gradients):
        assert g is not None, v.path
        assert np.any(np.asarray(g) != 0), v.path
