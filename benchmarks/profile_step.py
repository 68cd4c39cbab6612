"""Where the time of a training step and of a sampling call goes.

Runs TensorFlow's profiler over a few training steps (forward, gradient,
optimizer update) and sampling calls, each compiled in a `tf.function` on
one TensorFlow thread, and adds up the time of every executed op by the
part of the model it belongs to: flow level and kind of layer (ActNorm,
1x1 convolution, coupling, squeeze / split), the prior of each level, the
optimizer, and the rest. Gradient ops are told from forward ops by
TensorFlow's `gradient_tape/` prefix. The executor's own time between ops
is the wall time minus the sum of the ops.

    python benchmarks/profile_step.py small     # the `small` preset's fit step
    python benchmarks/profile_step.py real      # the `real` preset's
    python benchmarks/profile_step.py flow32    # section 1's flow, 32x32
    python benchmarks/profile_step.py flow64
    python benchmarks/profile_step.py small --json benchmarks/results/profile_small.json
    python benchmarks/profile_step.py flow32 --batch 1   # one frame per call

The profiled code is whatever `tfp_videoflow` / `bijectors` Python imports
(put another tree first on PYTHONPATH to profile it). To attribute the flow
ops, each flow layer's `encode` / `decode` is wrapped in a name scope
("PROF_l<level>_<kind>") for the profile only; nothing else changes.
"""

import argparse
import collections
import glob
import json
import os
import pathlib
import re
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import flow_throughput  # noqa: E402  (benchmarks/flow_throughput.py)
import tensorflow as tf  # noqa: E402

import timing  # noqa: E402  (benchmarks/timing.py)

KINDS = {"ActNormLayer": "actnorm", "InvertibleConv1x1Layer": "conv1x1",
         "AffineCouplingLayer": "coupling",
         "AdditiveCouplingLayer": "coupling"}


def _scoped(fn, scope):
    def wrapped(*args, **kwargs):
        with tf.name_scope(scope):
            return fn(*args, **kwargs)
    return wrapped


def instrument(flow):
    """Wraps every flow layer's encode/decode in a PROF_ name scope."""
    layer = flow.layer
    for level in range(layer.num_levels):
        for step in layer.level_steps(level):
            kind = KINDS.get(type(step).__name__, type(step).__name__)
            for method in ("encode", "decode"):
                setattr(step, method, _scoped(getattr(step, method),
                                              f"PROF_l{level}_{kind}"))
    for method in ("encode", "decode"):
        setattr(layer.squeeze, method, _scoped(getattr(layer.squeeze, method),
                                               "PROF_squeeze"))


def classify(op_name):
    """(part, direction) of one executed op, from its name."""
    if "gradient_tape/" in op_name:
        direction = "gradient"
    elif re.search(r"/(adam|Adam|sgd|SGD)|clip_by_global_norm|global_norm|"
                   r"AssignSub|AssignAdd", op_name):
        return "optimizer", "update"
    else:
        direction = "forward"
    match = re.search(r"PROF_l(\d+)_([a-z0-9]+)", op_name)
    if match:
        return f"flow L{match.group(1)} {match.group(2)}", direction
    if "PROF_squeeze" in op_name:
        return "flow squeeze", direction
    match = re.search(r"level(\d+)_prior", op_name)
    if match:
        return f"prior L{match.group(1)}", direction
    if re.search(r"(^|/)(flow|multi_scale_flow)[^/]*/", op_name):
        return "flow split / log-det / other", direction
    return "other", direction


def op_events(logdir):
    """(op name, op type, seconds) of every op the executors ran."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2  # pylint: disable=import-outside-toplevel
    path = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0]
    space = xplane_pb2.XSpace()
    space.ParseFromString(pathlib.Path(path).read_bytes())
    events, executor = [], 0.0
    for plane in space.planes:
        metadata = plane.event_metadata
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = metadata[event.metadata_id].name
                seconds = event.duration_ps * 1e-12
                if name == "ExecutorState::Process":
                    executor += seconds
                elif ":" in name and "::" not in name:  # ops, not runtime
                    op_name, op_type = name.rsplit(":", 1)
                    events.append((op_name, op_type, seconds))
    return events, executor


def profile(fn, calls):
    """Runs `fn` `calls` times under the profiler; per-call breakdown."""
    logdir = tempfile.mkdtemp(prefix="profile_step_")
    try:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        wall = (time.perf_counter() - start) / calls
        tf.profiler.experimental.stop()
        events, executor = op_events(logdir)
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    parts = collections.defaultdict(float)
    types = collections.defaultdict(float)
    count = 0
    for op_name, op_type, seconds in events:
        parts["|".join(classify(op_name))] += seconds / calls
        types[op_type] += seconds / calls
        count += 1
    ops_total = sum(parts.values())
    return {"wall_s": wall, "ops_s": ops_total,
            "executor_s": executor / calls, "ops_per_call": count / calls,
            "parts": dict(parts),
            "op_types": dict(sorted(types.items(), key=lambda kv: -kv[1]))}


def _time(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def preset_model(args):
    """(train step fn, sampling fn) of a preset (`small`, `real`), built and
    warm."""
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    model = vf.VideoFlowModel.from_preset(args.target)
    instrument(model.flow)
    batch = args.batch or 16
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    train, sample = timing.warm_step_functions(model, batch, 8,
                                               args.sample_frames)
    return train, sample, batch, batch * args.sample_frames


def flow_benchmark(args, config):
    """(train step fn, sampling fn) of section 1's flow (ours)."""
    steps = flow_throughput.make_steps("ours", config, args.width,
                                       prepare=instrument, batch=args.batch)
    return steps.train, steps.sample, steps.batch, steps.batch


def _report(name, result, items):
    lines = [f"### {name}: {1e3 * result['wall_s']:.1f} ms per call "
             f"({items / result['wall_s']:.1f} frames/s), "
             f"{result['ops_per_call']:.0f} ops per call", "",
             "| part | forward ms | gradient ms | update ms | share |",
             "|---|---:|---:|---:|---:|"]
    table = collections.defaultdict(lambda: collections.defaultdict(float))
    for key, seconds in result["parts"].items():
        part, direction = key.split("|")
        table[part][direction] += seconds
    wall = result["wall_s"]
    for part in sorted(table, key=lambda p: -sum(table[p].values())):
        row = table[part]
        lines.append(
            f"| {part} | {1e3 * row['forward']:.1f} | "
            f"{1e3 * row['gradient']:.1f} | {1e3 * row['update']:.1f} | "
            f"{100 * sum(row.values()) / wall:.0f} % |")
    between = wall - result["ops_s"]
    lines.append(f"| executor and Python between ops | | | | "
                 f"{100 * between / wall:.0f} % |")
    lines += ["", "Op types (ms per call): " + ", ".join(
        f"{t} {1e3 * s:.1f}" for t, s in list(result["op_types"].items())[:10]),
              ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target",
                        choices=["small", "real", "flow32", "flow64"])
    parser.add_argument("--calls", type=int, default=10,
                        help="profiled calls of each function")
    parser.add_argument("--width", type=int, default=128,
                        help="coupling width of the flow targets")
    parser.add_argument("--sample-frames", type=int, default=10)
    parser.add_argument("--batch", type=int, default=None,
                        help="videos (or frames) per call; default: 16 for "
                        "the presets, section 1's batch for the flows")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.target in ("small", "real"):
        train, sample, train_items, sample_items = preset_model(args)
    else:
        train, sample, train_items, sample_items = flow_benchmark(
            args, args.target.replace("flow", "") + "x"
            + args.target.replace("flow", ""))
    for _ in range(3):
        train()
        sample()
    results = {"target": args.target, "cpu": cpu_model(),
               "nproc": os.cpu_count(),
               "train": profile(train, args.calls),
               "sample": profile(sample, args.calls)}
    text = "\n".join([
        f"## {args.target}: {results['cpu']}, {results['nproc']} cores, "
        "1 TensorFlow thread", "",
        _report("training step", results["train"], train_items),
        _report("sampling", results["sample"], sample_items)])
    print(text)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
        pathlib.Path(args.json).with_suffix(".md").write_text(text)


def cpu_model():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    main()
