"""What bounds a step: its convolutions and matmuls, in the step and alone.

    python benchmarks/kernel_bound.py small --json OUT.json    # the small preset
    python benchmarks/kernel_bound.py flow32 --phase sample    # section 1's flow
    python benchmarks/kernel_bound.py glow32                   # tfb.Glow's

The step's achieved FLOP/s (section 6 of BENCHMARKS.md) says how far it is
from the machine's matmul peak, not why. This script finds every
convolution and matrix product of a traced step (forward, the gradient's
input and filter convolutions), on one thread, and reports:

* the step's share of the float32 matmul peak, step and peak timed in
  alternating rounds (median and IQR over the rounds);
* the kernels' time inside the step (TensorFlow's profiler) and their
  FLOP/s there;
* the ceiling: the step's FLOPs over the kernels' time in the step, i.e.
  its FLOP/s if every other op (element-wise, reductions, the optimizer,
  the executor) took no time at all;
* each kernel run alone at the step's shapes and attributes (profiled,
  inputs as arguments): which shapes the CPU's kernels (oneDNN) serve
  badly. Alone they are slower than in the step (their inputs are no
  longer in cache), so they rank shapes and bound nothing.

FLOPs: 2 x multiply-adds of each convolution / product from its shapes
(the input and filter gradients of a convolution cost one forward
convolution each); the step's total as in scaling.py (TensorFlow's
profiler over the graph).
"""

import argparse
import collections
import json
import math
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import flow_throughput  # noqa: E402  (benchmarks/flow_throughput.py)
import profile_step  # noqa: E402  (benchmarks/profile_step.py)
import scaling  # noqa: E402  (benchmarks/scaling.py)
import tensorflow as tf  # noqa: E402

import timing  # noqa: E402  (benchmarks/timing.py)

KERNELS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
           "Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2",
           "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2")
SIZE_INPUTS = {"input_sizes", "filter_sizes"}


def _is_kernel_event(op_type):
    return "Conv" in op_type or "MatMul" in op_type


def graph_type(event_type):
    """The graph op a profiled kernel ran for: oneDNN's `_MklNativeFused
    Conv2D` -> `Conv2D`, `..BackpropFilterWithBias` -> `..BackpropFilter`."""
    for part in ("_MklNative", "_Mkl", "_Fused", "Fused", "WithBias"):
        event_type = event_type.replace(part, "")
    return event_type


def kernel_flops(op):
    """2 x multiply-adds of one convolution or matrix product (graph op)."""
    shape = lambda t: [int(d) for d in t.shape]  # noqa: E731
    if op.type in ("MatMul", "BatchMatMulV2"):
        out = shape(op.outputs[0])
        a = shape(op.inputs[0])
        inner = a[-2] if op.get_attr(
            "transpose_a" if op.type == "MatMul" else "adj_x") else a[-1]
        return 2 * math.prod(out) * inner
    if op.type in ("Conv2D", "Conv3D", "DepthwiseConv2dNative"):
        out, kernel = shape(op.outputs[0]), shape(op.inputs[1])
        if op.type == "DepthwiseConv2dNative":
            return 2 * math.prod(out) * math.prod(kernel[:2])
        return 2 * math.prod(out) * math.prod(kernel[:-1])
    # Gradients: out_backprop is the last input; the kernel's shape is the
    # filter input (input gradient) or the output (filter gradient).
    out_backprop = shape(op.inputs[2])
    kernel = (shape(op.inputs[1]) if "Input" in op.type
              else shape(op.outputs[0]))
    return 2 * math.prod(out_backprop) * math.prod(kernel[:-1])


def _signature(op):
    attrs = {a.name: op.get_attr(a.name) for a in op.op_def.attr
             if a.type != "type"}
    inputs = tuple(
        (arg.name, tuple(int(d) for d in t.shape))
        for arg, t in zip(op.op_def.input_arg, op.inputs))
    return (op.type, inputs, tuple(sorted(
        (k, str(v)) for k, v in attrs.items()))), attrs


def step_kernels(graph):
    """{signature: count, FLOPs each, op type, inputs, attrs and, for a
    gradient convolution, "sizes": the shape of what it computes} of the
    convolutions and products in a graph's own ops (not in functions it
    calls: see `kernels_in_functions`)."""
    found = {}
    for op in graph.get_operations():
        if op.type not in KERNELS:
            continue
        key, attrs = _signature(op)
        if key in found:
            found[key]["count"] += 1
            continue
        found[key] = {"count": 1, "flops": kernel_flops(op),
                      "type": op.type, "inputs": key[1], "attrs": attrs}
        if op.type in ("Conv2DBackpropInput", "Conv2DBackpropFilter"):
            which = "input" if "Input" in op.type else "filter"
            found[key]["sizes"] = {
                which: [int(d) for d in op.outputs[0].shape]}
    return found


def kernels_in_functions(graph):
    """How many convolutions and products sit in functions the graph calls
    (loop bodies, branches, recomputed blocks): `step_kernels` misses them."""
    return sum(node.op in KERNELS
               for function in graph.as_graph_def().library.function
               for node in function.node_def)


def alone(kernel, index):
    """A callable running one kernel, compiled, on fixed random inputs.

    The inputs are the function's arguments, not constants captured by it:
    oneDNN keeps a reordered copy of a constant filter, which the step's
    filters (variables) do not get.
    """
    if kernel["type"].startswith("Conv3DBackprop"):
        raise NotImplementedError("3-D convolution gradients")
    values = {}
    for i, (name, shape) in enumerate(kernel["inputs"]):
        if name not in SIZE_INPUTS:  # sizes: the result's shape, below
            values[name] = tf.random.stateless_normal(shape, (index, i))
    sizes = {f"{which}_sizes": tf.constant(size, tf.int32)
             for which, size in kernel.get("sizes", {}).items()}
    op = getattr(tf.raw_ops, kernel["type"])

    @tf.function
    def run(values):
        return op(**values, **sizes, **kernel["attrs"], name=f"kb{index}x")
    return lambda: run(values)


def profiled_seconds(functions, calls):
    """Per-call kernel seconds of each function, from one profiler run."""
    for fn in functions:
        fn()
    logdir = tempfile.mkdtemp(prefix="kernel_bound_")
    try:
        tf.profiler.experimental.start(logdir)
        for _ in range(calls):
            for fn in functions:
                fn()
        tf.profiler.experimental.stop()
        events, _ = profile_step.op_events(logdir)
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    seconds = collections.defaultdict(float)
    for op_name, op_type, duration in events:
        if op_name.startswith("kb") and _is_kernel_event(op_type):
            seconds[int(op_name[2:].split("x")[0])] += duration / calls
    return seconds


def target_step(name, batch, phase):
    """(`run()` doing one step, the step's traced graph) of a target: a
    preset's `fit` step, or section 1's flow at 32x32 (`flow32`: ours,
    `glow32`: tfp.bijectors.Glow), its training step or its sampling."""
    if name in ("flow32", "glow32"):
        steps = flow_throughput.make_steps(
            "ours" if name == "flow32" else "glow", "32x32", 128)
        if phase == "sample":
            return steps.sample, steps.sample_function.get_concrete_function(
            ).graph
        return steps.train, steps.train_function.get_concrete_function().graph
    if phase == "sample":
        raise SystemExit("--phase sample: flow32 or glow32 only")
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    model = vf.VideoFlowModel.from_preset(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    train, _ = timing.warm_step_functions(model, batch, 8, 1)
    frames = model.num_context_frames + model.train_target_frames
    return train, scaling.train_step_graph(model, batch, frames)


def share_of_peak(run, flops, rounds):
    """The step's FLOP/s over the matmul peak, per round: each round times
    the step (median of 5) and then the peak (best of 3) right after it."""
    shares = []
    for _ in range(rounds):
        step = timing.median_seconds(run, 5)
        shares.append(flops / step / scaling.matmul_peak(tf.float32, repeats=3))
    return shares


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["small", "real", "flow32",
                                           "glow32"])
    parser.add_argument("--phase", choices=["train", "sample"],
                        default="train")
    parser.add_argument("--batch", type=int, default=16,
                        help="the presets' batch (the flows': 16)")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    run, graph = target_step(args.target, args.batch, args.phase)
    kernels = step_kernels(graph)
    order = list(kernels)
    functions = [alone(kernels[key], i) for i, key in enumerate(order)]
    seconds_alone = profiled_seconds(functions, args.calls)

    for _ in range(3):
        run()
    step = profile_step.profile(run, args.calls)
    in_step = collections.defaultdict(float)
    for op_type, seconds in step["op_types"].items():
        if _is_kernel_event(op_type):
            in_step[graph_type(op_type)] += seconds
    total_flops = scaling.graph_flops(graph)
    wall = timing.median_seconds(run, 10)
    peak = scaling.matmul_peak(tf.float32)
    shares = share_of_peak(run, total_flops, args.rounds)

    rows = []
    for i, key in enumerate(order):
        k = kernels[key]
        seconds = seconds_alone.get(i, float("nan"))
        rows.append({"type": k["type"], "inputs": k["inputs"],
                     "count": k["count"], "flops": k["flops"],
                     "seconds_alone": seconds,
                     "flops_per_second_alone": k["flops"] / seconds})
    rows.sort(key=lambda r: -r["count"] * r["seconds_alone"])
    kernel_flops_total = sum(r["count"] * r["flops"] for r in rows)
    kernel_in_step = sum(in_step.values())
    results = {
        "target": args.target, "phase": args.phase, "batch": args.batch,
        "cpu": profile_step.cpu_model(), "threads": 1,
        "step_seconds": wall, "step_flops": total_flops,
        "matmul_peak_float32": peak,
        "step_share_of_peak": timing.quartiles(shares),
        "kernel_flops": kernel_flops_total,
        "kernels_in_functions": kernels_in_functions(graph),
        "kernel_seconds_in_step": kernel_in_step,
        "kernel_share_of_peak_in_step":
            kernel_flops_total / kernel_in_step / peak,
        "ceiling_share_of_peak": total_flops / kernel_in_step / peak,
        "by_type": {t: {"in_step": in_step[t], "alone": sum(
            r["count"] * r["seconds_alone"] for r in rows if r["type"] == t)}
            for t in sorted(in_step)},
        "kernels": rows}
    text = report(results)
    print(text)
    if args.json:
        from tfp_videoflow import files  # pylint: disable=import-outside-toplevel
        files.atomic_write_text(args.json, json.dumps(results, indent=1))
        files.atomic_write_text(args.json.replace(".json", ".md"), text)


def report(r):
    ms = lambda s: f"{1e3 * s:.1f} ms"  # noqa: E731
    q1, median, q3 = (100 * x for x in r["step_share_of_peak"])
    lines = [
        f"## {r['target']} {r['phase']}, batch {r['batch']}: {r['cpu']}, "
        "1 thread", "",
        f"- step: {ms(r['step_seconds'])}, {r['step_flops'] / 1e9:.2f} GFLOP"
        f" = {r['step_flops'] / r['step_seconds'] / 1e9:.1f} GFLOP/s; share "
        f"of the float32 matmul peak ({r['matmul_peak_float32'] / 1e9:.0f} "
        f"GFLOP/s) {median:.0f} % (IQR {q1:.0f}-{q3:.0f} %, step and peak "
        "timed in alternating rounds)",
        f"- its convolutions and products: {r['kernel_flops'] / 1e9:.2f} "
        f"GFLOP ({100 * r['kernel_flops'] / r['step_flops']:.0f} % of the "
        f"step's) in {ms(r['kernel_seconds_in_step'])} of the step = "
        f"{100 * r['kernel_share_of_peak_in_step']:.0f} % of peak",
        f"- ceiling (every other op free): "
        f"{100 * r['ceiling_share_of_peak']:.0f} % of peak",
        f"- convolutions and products inside functions the step calls "
        f"(not counted above): {r['kernels_in_functions']}", "",
        "| kernel | ms in the step | ms alone |", "|---|---:|---:|"] + [
        f"| {t} | {1e3 * v['in_step']:.1f} | {1e3 * v['alone']:.1f} |"
        for t, v in r["by_type"].items()] + ["",
        "| kernel | inputs | count | MFLOP each | ms each alone "
        "| % of peak alone |", "|---|---|---:|---:|---:|---:|"]
    for k in r["kernels"][:20]:
        shapes = ", ".join("x".join(map(str, s)) for _, s in k["inputs"])
        lines.append(
            f"| {k['type']} | {shapes} | {k['count']} | "
            f"{k['flops'] / 1e6:.1f} | {1e3 * k['seconds_alone']:.3f} | "
            f"{100 * k['flops_per_second_alone'] / r['matmul_peak_float32']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
