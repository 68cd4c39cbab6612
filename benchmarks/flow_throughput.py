"""Our MultiScaleFlow against tfp.bijectors.Glow: training, sampling, memory.

Both flows get the same frame shape, levels L, steps per level K and coupling
width, affine coupling, ActNorm initialised from a first batch, and a
standard-normal prior over their latents; tfb.Glow's exit networks are set
to the identity so that it splits half the channels per level like ours.

* training: one step (negative log-likelihood, gradient of every trainable
  weight, an SGD update), in a `tf.function`.
* sampling: drawing latents and running latent -> frame.
* how: for each configuration one child process builds both flows and
  times them in alternating blocks (ours, Glow; Glow, ours; ...), on one
  TensorFlow thread by default, so that whatever else the machine does hits
  both sides of a pair alike. The speed ratio ours / tfb.Glow is the median
  of the per-pair ratios, with its interquartile range (IQR); a ratio whose
  IQR is wider than its lead is reported as "no measurable difference"
  (see timing.py).
* memory (`--memory`): peak resident set size of a process that only
  builds, trains and samples that one flow (each flow in its own child).

    python benchmarks/flow_throughput.py --out benchmarks/results/flow_throughput.md
    python benchmarks/flow_throughput.py --quick        # a smoke run
    python benchmarks/flow_throughput.py --memory \
        --normflows-python /tmp/torch/bin/python

`--out X.md` also writes the raw per-pair times to `X.json`. With
`--normflows-python` (and `--memory`), the normflows Glow (PyTorch) runs
too, alone, in that Python's own environment (see `normflows_glow.py`).

The flow measured is the `bijectors` package Python imports first: put
another checkout first on PYTHONPATH to measure it.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

import numpy as np

import timing  # benchmarks/timing.py

CONFIGS = {  # name: (frame shape, levels, steps per level, batch)
    "32x32": ((32, 32, 3), 3, 8, 16),
    "64x64": ((64, 64, 3), 3, 8, 8),
}


def _build(kind, frame_shape, levels, steps, width, prepare=None):
    """(log_prob(frames), sample(n), trainable variables) of one flow.

    `prepare(flow)`, if given, is called on our flow once it is built (the
    profiler wraps its layers in name scopes).
    """
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import tensorflow_probability as tfp  # pylint: disable=import-outside-toplevel
    tfb, tfd = tfp.bijectors, tfp.distributions
    if kind == "ours":
        from bijectors import MultiScaleFlow  # pylint: disable=import-outside-toplevel
        flow = MultiScaleFlow(frame_shape, num_levels=levels,
                              steps_per_level=steps, coupling="affine",
                              coupling_width=width, seed=0)
        if prepare is not None:
            prepare(flow)

        def log_prob(frames):
            latents, ildj = flow.inverse_and_log_det(frames)
            return ildj + sum(
                tf.reduce_sum(tfd.Normal(0.0, 1.0).log_prob(z), [1, 2, 3])
                for z in latents)

        def sample(n):
            latents = tuple(tf.random.normal((n, *s))
                            for s in flow.latent_shapes)
            return flow.forward(latents)

        return log_prob, sample, flow.trainable_variables
    glow = tfb.Glow(
        output_shape=frame_shape, num_glow_blocks=levels,
        num_steps_per_block=steps,
        coupling_bijector_fn=lambda shape: tfb.GlowDefaultNetwork(
            shape, num_hidden=width),
        # Exit "networks" that return the identity: plain splits, as ours.
        exit_bijector_fn=lambda shape, output_chan: (
            lambda inputs: tfb.Identity()),
        seed=0)
    size = int(np.prod(frame_shape))
    dist = tfd.TransformedDistribution(
        tfd.Sample(tfd.Normal(0.0, 1.0), [size]), glow)
    # Build its variables (and run ActNorm's data init) with one pass.
    dist.log_prob(tf.random.normal((2, *frame_shape)))
    return dist.log_prob, dist.sample, glow.trainable_variables


@dataclasses.dataclass
class FlowSteps:
    """One flow's compiled steps, traced and warm.

    `train()` / `sample()` run one step and wait for its result;
    `train_function` / `sample_function` are the `tf.function`s they call
    (for their graphs).
    """
    batch: int
    variables: list
    train_function: object
    sample_function: object

    def train(self):
        return self.train_function().numpy()

    def sample(self):
        return self.sample_function().numpy()


def make_steps(kind, config, width, prepare=None, batch=None):
    """`FlowSteps` of one flow; `prepare` as in `_build`; `batch` frames
    per call (default: the config's)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    frame_shape, levels, steps, config_batch = CONFIGS[config]
    batch = batch or config_batch
    log_prob, sample, variables = _build(kind, frame_shape, levels, steps,
                                         width, prepare)
    frames = tf.random.stateless_uniform((batch, *frame_shape), (1, 2),
                                         0.0, 256.0)
    # ActNorm data-dependent initialisation on a first batch (both flows).
    log_prob(frames)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(log_prob(frames))
        gradients = tape.gradient(loss, variables)
        for v, g in zip(variables, gradients):
            v.assign_sub(1e-6 * g)
        return loss

    @tf.function
    def draw():
        return sample(batch)

    for _ in range(2):  # trace and warm up
        train_step()
        draw()
    return FlowSteps(batch, variables, train_step, draw)


def _set_threads(threads):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def paired(config, args):
    """Ours and tfb.Glow in this process, timed in alternating blocks."""
    _set_threads(args.threads)
    steps = {kind: make_steps(kind, config, args.width)
             for kind in ("ours", "glow")}
    batch = steps["ours"].batch
    train = timing.paired_times(
        {kind: s.train for kind, s in steps.items()}, args.pairs,
        args.train_calls)
    sample = timing.paired_times(
        {kind: s.sample for kind, s in steps.items()}, args.pairs,
        args.sample_calls)
    weights = {kind: int(sum(np.prod(v.shape) for v in s.variables))
               for kind, s in steps.items()}
    return {
        "config": config, "batch": batch, "weights": weights,
        "train_seconds": train, "sample_seconds": sample,
        # Speed ratio ours / tfb.Glow = Glow's time / ours, per pair.
        "train_ratio": timing.ratio_summary(train["glow"], train["ours"]),
        "sample_ratio": timing.ratio_summary(sample["glow"], sample["ours"]),
    }


def measure(kind, config, width, repeats):
    """Runs in a child process: one flow's throughput and peak memory."""
    _set_threads(1)
    steps = make_steps(kind, config, width)
    train_seconds = timing.median_seconds(steps.train, repeats)
    sample_seconds = timing.median_seconds(steps.sample, repeats)
    return {
        "kind": kind, "config": config, "batch": steps.batch,
        "weights": int(sum(np.prod(v.shape) for v in steps.variables)),
        "train_frames_per_s": steps.batch / train_seconds,
        "sample_frames_per_s": steps.batch / sample_seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
    }


def _child(args):
    if args.only == "paired":
        result = paired(args.config, args)
    else:
        result = measure(args.only, args.config, args.width, args.repeats)
    print("RESULT " + json.dumps(result))


def _run_child(kind, config, args):
    command = [sys.executable, __file__, "--only", kind, "--config", config,
               "--width", str(args.width), "--repeats", str(args.repeats),
               "--pairs", str(args.pairs), "--train-calls",
               str(args.train_calls), "--sample-calls",
               str(args.sample_calls), "--threads", str(args.threads)]
    if kind == "normflows":
        frame_shape, levels, steps, batch = CONFIGS[config]
        command = [args.normflows_python,
                   str(pathlib.Path(__file__).with_name("normflows_glow.py")),
                   "--frame-shape", *map(str, frame_shape), "--levels",
                   str(levels), "--steps", str(steps), "--width",
                   str(args.width), "--batch", str(batch), "--repeats",
                   str(args.repeats)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    output = subprocess.run(command, capture_output=True, text=True, env=env,
                            check=False)
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{kind} {config} failed:\n{output.stderr[-3000:]}")


def _table(results, args, seconds):
    info = results["machine"]
    lines = [
        "Command: `" + " ".join(
            ([f"PYTHONPATH={os.environ['PYTHONPATH']}"]
             if os.environ.get("PYTHONPATH") else [])
            + ["python benchmarks/flow_throughput.py", *args.argv]) + "`",
        f"Machine: {info['cpu']}, nproc {info['nproc']} "
        f"({', '.join(info['cpu_features'])}), no GPU; load average at the "
        f"start {info['load_average'][0]:.2f}; {info['date']}; took "
        f"{seconds / 60:.1f} min. Coupling width {args.width}, affine "
        f"coupling, {args.threads} TensorFlow thread(s). Ours and tfb.Glow "
        f"alternate in one process: {args.pairs} pairs of blocks of "
        f"{args.train_calls} training steps and {args.sample_calls} sampling "
        "calls; ratio = speed ours / tfb.Glow, median over the pairs "
        "(interquartile range).",
        "",
        "| config | ours train ms/step | tfb.Glow train ms/step | "
        "**train speed ours / tfb.Glow** | ours sample ms | tfb.Glow sample "
        "ms | **sample speed ours / tfb.Glow** |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for config in args.configs:
        r = results["paired"][config]
        frame_shape, levels, steps, batch = CONFIGS[config]
        med = lambda xs: 1e3 * float(np.median(xs))  # noqa: E731
        lines.append(
            f"| {config} L{levels} K{steps}, batch {batch} | "
            f"{med(r['train_seconds']['ours']):.1f} | "
            f"{med(r['train_seconds']['glow']):.1f} | "
            f"**{timing.format_ratio(r['train_ratio'])}** | "
            f"{med(r['sample_seconds']['ours']):.1f} | "
            f"{med(r['sample_seconds']['glow']):.1f} | "
            f"**{timing.format_ratio(r['sample_ratio'])}** |")
    if results.get("single"):
        lines += [
            "", "Each flow alone in its own process (peak memory; the "
            f"speeds are medians of {args.repeats} calls, not paired, so "
            "only indicative):", "",
            "| config | flow | weights | train frames/s | sample frames/s | "
            "peak RSS MiB |", "|---|---|---:|---:|---:|---:|"]
        names = {"ours": "ours (MultiScaleFlow)", "glow": "tfb.Glow",
                 "normflows": "normflows Glow (PyTorch)"}
        for config in args.configs:
            for kind, row in results["single"][config].items():
                lines.append(
                    f"| {config} | {names[kind]} | {row['weights']:,} | "
                    f"{row['train_frames_per_s']:.1f} | "
                    f"{row['sample_frames_per_s']:.1f} | "
                    f"{row['peak_rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def _write(path, text):
    # Imported here: the parent process needs no TensorFlow until it writes.
    from tfp_videoflow import files  # pylint: disable=import-outside-toplevel
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write_text(path, text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS),
                        choices=list(CONFIGS))
    parser.add_argument("--width", type=int, default=128,
                        help="coupling width (the paper uses 512)")
    parser.add_argument("--pairs", type=int, default=15,
                        help="alternating rounds (A B, B A, ...)")
    parser.add_argument("--train-calls", type=int, default=3,
                        help="training steps per block")
    parser.add_argument("--sample-calls", type=int, default=5,
                        help="sampling calls per block")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--repeats", type=int, default=5,
                        help="calls timed by the one-flow memory runs")
    parser.add_argument("--memory", action="store_true",
                        help="also run each flow alone for its peak memory")
    parser.add_argument("--quick", action="store_true",
                        help="32x32 only, width 16, 3 pairs")
    parser.add_argument("--out", default=None,
                        help="write the markdown table here, and the raw "
                             "results next to it (.json)")
    parser.add_argument("--normflows-python", default=None,
                        help="Python of an environment with torch and "
                             "normflows: also measure the normflows Glow "
                             "(alone, with --memory)")
    parser.add_argument("--only", choices=["ours", "glow", "paired"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.only:
        return _child(args)
    if args.quick:
        args.configs, args.width, args.pairs = ["32x32"], 16, 3
    start = time.perf_counter()
    results = {"machine": timing.machine(), "args": {
        k: v for k, v in vars(args).items() if k not in ("only", "config")}}
    results["paired"] = {config: _run_child("paired", config, args)
                         for config in args.configs}
    if args.memory:
        kinds = ["ours", "glow"] + (["normflows"] if args.normflows_python
                                    else [])
        results["single"] = {
            config: {kind: _run_child(kind, config, args) for kind in kinds}
            for config in args.configs}
    table = _table(results, args, time.perf_counter() - start)
    print(table)
    if args.out:
        _write(args.out, table)
        _write(pathlib.Path(args.out).with_suffix(".json"),
               json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
