"""Train-step and sampling speed: strategy, XLA, bfloat16; achieved FLOP/s.

    python benchmarks/scaling.py --threads 1 --rounds 6 --steps 4

Contenders are timed in alternating rounds in one process (A B C D A B C D
...), so that load from other processes on a shared machine hits them
alike; every ratio is reported as the median over rounds with its min-max.

* train step of the "small" preset (32x32, batch 16) through `fit`:
  no strategy (float32, no XLA: the baseline), a 1-replica MirroredStrategy,
  XLA (jit_compile=True), mixed_bfloat16;
* sampling (`sample_future`, 10 frames) in a tf.function with and
  without XLA;
* achieved FLOP/s of the baseline train step against this machine's matmul
  peak: FLOPs per step counted on the traced train step's graph by
  TensorFlow's profiler (its registry covers MatMul, Conv2D and Conv2D's
  gradients, Conv3D, element-wise ops; the Conv3D gradient ops it lacks are
  counted here from their shapes as one forward convolution each); the peak
  is the best of float32 (and bfloat16) 2048x2048 matmuls, 2 n^3 FLOPs.
"""

import argparse
import json
import math
import platform
import statistics
import subprocess
import time

import numpy as np
import tensorflow as tf


def _videos(num_videos, num_frames, seed):
    from tfp_videoflow import data  # pylint: disable=import-outside-toplevel
    dataset = data.stochastic_movement(split="train", resolution=32,
                                       num_frames=num_frames,
                                       num_videos=num_videos, seed=seed)
    return np.stack([v.numpy() for v in dataset])


def _trainer(name, videos, batch, strategy=None, jit=False,
             precision="float32"):
    """A function running `steps` training steps of a fresh small model."""
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    scope = strategy.scope() if strategy else _NullScope()
    with scope:
        model = vf.VideoFlowModel.from_preset("small", precision=precision)
        model.initialize(videos[:batch])
        model.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=jit)
    dataset = tf.data.Dataset.from_tensor_slices(videos).repeat().batch(
        batch, drop_remainder=True)

    def run(steps):
        model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    run(1)  # trace (and compile) outside the timing
    return name, run, model


class _NullScope:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _alternate(contenders, rounds, work):
    """Seconds per unit of `work` for each contender, per round."""
    times = {name: [] for name, _ in contenders}
    for _ in range(rounds):
        for name, fn in contenders:
            start = time.perf_counter()
            fn(work)
            times[name].append((time.perf_counter() - start) / work)
    return times


def _ratio(times, name, baseline):
    ratios = [b / t for t, b in zip(times[name], times[baseline])]
    return statistics.median(ratios), min(ratios), max(ratios)


def _conv3d_gradient_flops(graph):
    """FLOPs of the Conv3D gradient ops (absent from TF's flops registry)."""
    total = 0
    for op in graph.get_operations():
        if op.type not in ("Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"):
            continue
        out_backprop = op.inputs[2].shape
        # The kernel is the filter gradient's output, the input gradient's
        # second input.
        kernel = (op.inputs[1].shape if op.type == "Conv3DBackpropInputV2"
                  else op.outputs[0].shape)
        total += 2 * math.prod(out_backprop) * math.prod(kernel[:4])
    return total


def graph_flops(graph):
    """FLOPs of one run of a traced graph (see the module's docstring)."""
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    counted = tf.compat.v1.profiler.profile(graph=graph, options=options)
    return counted.total_float_ops + _conv3d_gradient_flops(graph)


def train_step_graph(model, batch, num_frames):
    """The traced graph of a model's `train_step` on uint8 windows."""
    spec = tf.TensorSpec([batch, num_frames, *model.frame_shape], tf.uint8)
    return tf.function(model.train_step).get_concrete_function(spec).graph


def train_step_flops(model, batch, num_frames):
    return graph_flops(train_step_graph(model, batch, num_frames))


def matmul_peak(dtype, n=2048, repeats=5):
    a = tf.random.stateless_normal([n, n], (1, 2), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.reduce_sum(tf.cast(
        tf.matmul(x, x), tf.float32)))
    matmul(a).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4,
                        help="training steps per contender per round")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel

    videos = _videos(64, 3, seed=0)
    results = {"cpu": subprocess.run(
        ["lscpu"], capture_output=True, text=True).stdout.split(
            "Model name:")[1].splitlines()[0].strip()
        if platform.system() == "Linux" else platform.processor(),
        "threads": args.threads, "rounds": args.rounds,
        "steps_per_round": args.steps, "batch": args.batch}

    trainers = [_trainer("none", videos, args.batch)]
    # Counted first: cheap, and a failure here should not cost the timings.
    results["train_step_flops"] = train_step_flops(
        trainers[0][2], args.batch, videos.shape[1])
    trainers += [
        _trainer("mirrored_1_replica", videos, args.batch,
                 strategy=tf.distribute.MirroredStrategy(["/cpu:0"])),
        _trainer("xla", videos, args.batch, jit=True),
        _trainer("bfloat16", videos, args.batch, precision="mixed_bfloat16"),
    ]
    times = _alternate([(n, fn) for n, fn, _ in trainers], args.rounds,
                       args.steps)
    results["train_seconds_per_step"] = {
        n: statistics.median(t) for n, t in times.items()}
    results["train_speedup_vs_none"] = {
        n: _ratio(times, n, "none") for n in times if n != "none"}
    print(json.dumps(results), flush=True)

    model = trainers[0][2]
    context = videos[:4, :1]
    samplers = []
    for jit in (False, True):
        fn = tf.function(lambda c, m=model: m.sample_future(
            c, num_frames=10, temperature=0.6, seed=(1, 2)), jit_compile=jit)
        fn(context).numpy()

        def sample(work, fn=fn):
            for _ in range(work):
                fn(context).numpy()
        samplers.append(("xla" if jit else "no_xla", sample))
    times = _alternate(samplers, args.rounds, 2)
    results["sample_seconds_per_call"] = {
        n: statistics.median(t) for n, t in times.items()}
    results["sample_xla_speedup"] = _ratio(times, "xla", "no_xla")

    print(json.dumps(results), flush=True)
    flops = results["train_step_flops"]
    peak32 = matmul_peak(tf.float32)
    peak16 = matmul_peak(tf.bfloat16)
    step = results["train_seconds_per_step"]["none"]
    results["achieved_flops_per_second"] = flops / step
    results["matmul_peak_float32"] = peak32
    results["matmul_peak_bfloat16"] = peak16
    results["fraction_of_float32_peak"] = flops / step / peak32
    print(json.dumps(results, indent=2))
    if args.json:
        vf.files.atomic_write_text(args.json, json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
