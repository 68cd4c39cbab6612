"""benchmarks/kernel_bound.py: the kernels it finds in a step, their FLOPs,
and that each one run alone computes what the step's op computes."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(name="kernel_bound")
def _kernel_bound(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import kernel_bound  # pylint: disable=import-outside-toplevel
    return kernel_bound


def _step_graph():
    """A conv (3x3, 5 -> 7 channels, 6x6 frames, batch 2) and a matmul,
    with their gradients, traced."""
    kernel = tf.Variable(tf.random.stateless_normal([3, 3, 5, 7], (1, 2)))
    weights = tf.Variable(tf.random.stateless_normal([7, 4], (3, 4)))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.conv2d(x, kernel, 1, "SAME")
            y = tf.matmul(tf.reshape(h, [-1, 7]), weights)
            loss = tf.reduce_sum(y ** 2)
        return tape.gradient(loss, [x, kernel, weights])
    return step.get_concrete_function(tf.TensorSpec([2, 6, 6, 5])).graph


def test_finds_each_kernel_with_its_flops(kernel_bound):
    kernels = kernel_bound.step_kernels(_step_graph())
    flops = {k["type"]: k["flops"] for k in kernels.values()}
    conv = 2 * (2 * 6 * 6 * 7) * (3 * 3 * 5)  # 2 x output x kernel window
    products = 2 * 72 * 7 * 4                 # [72, 7] @ [7, 4]
    assert flops["Conv2D"] == conv
    assert flops["Conv2DBackpropInput"] == conv
    assert flops["Conv2DBackpropFilter"] == conv
    # The matmul and its two gradients (each the same 2 x m x k x n).
    assert sorted(k["flops"] for k in kernels.values()
                  if k["type"] == "MatMul") == [products] * 3


def _reference(kernel, inputs):
    """What the kernel computes, through TensorFlow's public ops."""
    kind, sizes = kernel["type"], kernel.get("sizes", {})
    if kind == "MatMul":
        return tf.linalg.matmul(inputs["a"], inputs["b"],
                                transpose_a=kernel["attrs"]["transpose_a"],
                                transpose_b=kernel["attrs"]["transpose_b"])
    if kind == "Conv2D":
        return tf.nn.conv2d(inputs["input"], inputs["filter"], 1, "SAME")
    x = tf.zeros(sizes["input"]) if "input" in sizes else inputs["input"]
    k = tf.zeros(sizes["filter"]) if "filter" in sizes else inputs["filter"]
    with tf.GradientTape() as tape:
        tape.watch([x, k])
        y = tf.nn.conv2d(x, k, 1, "SAME")
    return tape.gradient(y, x if "input" in sizes else k,
                         output_gradients=inputs["out_backprop"])


def test_a_kernel_alone_computes_what_the_step_computes(kernel_bound):
    kernels = kernel_bound.step_kernels(_step_graph())
    assert len(kernels) == 6
    for index, kernel in enumerate(kernels.values()):
        inputs = {name: tf.random.stateless_normal(shape, (index, i))
                  for i, (name, shape) in enumerate(kernel["inputs"])
                  if name not in kernel_bound.SIZE_INPUTS}
        np.testing.assert_allclose(kernel_bound.alone(kernel, index)(),
                                   _reference(kernel, inputs),
                                   rtol=1e-4, atol=1e-4)


def test_counts_the_kernels_inside_called_functions(kernel_bound):
    assert kernel_bound.kernels_in_functions(_step_graph()) == 0

    @tf.function
    def loop(x):
        return tf.while_loop(lambda i, y: i < 3,
                             lambda i, y: (i + 1, tf.matmul(y, y)), [0, x])
    graph = loop.get_concrete_function(tf.TensorSpec([2, 2])).graph
    assert kernel_bound.step_kernels(graph) == {}  # the body is a function
    assert kernel_bound.kernels_in_functions(graph) == 1


def test_profiled_kernels_map_to_graph_ops(kernel_bound):
    assert kernel_bound.graph_type("_MklNativeFusedConv2D") == "Conv2D"
    assert kernel_bound.graph_type(
        "_MklNativeConv2DBackpropFilterWithBias") == "Conv2DBackpropFilter"
    assert kernel_bound.graph_type("_MklNativeConv2DBackpropInput") == (
        "Conv2DBackpropInput")
    assert kernel_bound.graph_type("MatMul") == "MatMul"
