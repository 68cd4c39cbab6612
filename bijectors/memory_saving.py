"""Memory-saving backpropagation through a chain of flow layers.

Plain autodiff keeps every activation of the forward pass until the backward
pass has used it: for a Glow flow, the wide hidden layers of every coupling
network of every step (BENCHMARKS.md section 11). A flow step's input is far
smaller than its internals (C channels against the network's hundreds), so
`encode_recomputed(layers, x)` keeps only the input of the step: the forward
pass runs without recording, and the backward pass runs the step again from
its saved input under a tape of its own, then differentiates that
(`tf.recompute_grad`). The recomputed ops are the same ops on the same
values, so values and gradients equal plain autodiff (the tests check it in
float64), whatever the dtype policy or distribution strategy.

Memory then grows with the flow's depth only by one C-channel tensor per
step, and the peak holds one step's internals at a time; the price is one
more forward pass of the flow per training step.
"""

import functools

import tensorflow as tf


def encode_layers(layers, x):
    """`x` through the flow layers' `encode` in turn -> `(z, log_det)`."""
    log_det = tf.zeros(tf.shape(x)[:1], x.dtype)
    for layer in layers:
        x, layer_log_det = layer.encode(x)
        log_det += layer_log_det
    return x, log_det


def encode_recomputed(layers, x):
    """`encode_layers(layers, x)`, whose backward pass recomputes the step.

    Only `x` is kept for the gradient; the layers' internals are computed
    again when the gradient is taken. The layers must not change their
    weights while encoding (initialise every ActNorm first).
    """
    return tf.recompute_grad(functools.partial(encode_layers, tuple(layers)))(x)
