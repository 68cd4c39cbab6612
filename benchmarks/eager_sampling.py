"""Eager sampling: each frame as one compiled step, against the plain step.

Called eagerly, `sample_future` and `sample_stream` run each frame's step
(the prior's levels, the flow's decode, the encode of the frame's bin
centres) as one compiled graph, traced on the first call for a context
shape and reused after. Before, each frame ran op by op from Python. This
times both on one TensorFlow thread with the shipped model
(`small_stochastic_movement`), or with a preset's untrained model
(`--preset`, ActNorm initialised on random videos; `--narrow`: coupling
width 64 and prior width 32, as the tests' deep presets), futures of one
random context:

* the first compiled call of each (its trace included) and the first
  plain call of the same shape;
* later calls, the two alternating in blocks (timing.py): ratio = speed of
  the compiled step over the plain one. The plain step is the same code
  with `tf.config.run_functions_eagerly(True)`, which runs a tf.function's
  Python instead of its graph.

    python benchmarks/eager_sampling.py --out benchmarks/results/eager_sampling.md
    python benchmarks/eager_sampling.py --preset bair --narrow --frames 4 --pairs 3

`--out X.md` also writes the raw times to `X.json`.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import timing  # noqa: E402  (benchmarks/timing.py)


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8,
                        help="futures per call (default 8)")
    parser.add_argument("--frames", type=int, default=10,
                        help="frames per future (default 10)")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--preset", default=None,
                        help="a preset's untrained model instead of the "
                        "shipped one")
    parser.add_argument("--narrow", action="store_true",
                        help="with --preset: coupling width 64, prior 32")
    parser.add_argument("--out", default=None, help="write X.md and X.json")
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    if args.preset is None:
        name = "`small_stochastic_movement`"
        model = vf.pretrained("small_stochastic_movement")
    else:
        widths = (dict(coupling_width=64, prior_width=32) if args.narrow
                  else {})
        name = f"preset `{args.preset}`{' (narrow)' if args.narrow else ''}"
        model = vf.VideoFlowModel.from_preset(args.preset, **widths)
        model.initialize(np.random.default_rng(1).integers(
            0, 256, (2, model.num_context_frames, *model.frame_shape),
            dtype=np.uint8))
    context = np.random.default_rng(0).integers(
        0, 256, (1, model.num_context_frames, *model.frame_shape),
        dtype=np.uint8)

    def future(seed=0):
        return model.sample_future(context, num_samples=args.samples,
                                   num_frames=args.frames, seed=(0, seed))

    def stream(seed=0):
        for _ in model.sample_stream(context, num_samples=args.samples,
                                     num_frames=args.frames, seed=(1, seed)):
            pass

    def plain(fn):
        def run(seed=0):
            tf.config.run_functions_eagerly(True)
            try:
                fn(seed)
            finally:
                tf.config.run_functions_eagerly(False)
        return run

    # One plain frame first, so that neither first call below pays for
    # Python's and TensorFlow's own first-use costs; the compiled one
    # still traces.
    plain(lambda seed: model.sample_future(
        context, num_samples=args.samples, num_frames=1))()
    first = {"compiled sample_future": _seconds(lambda: future(1)),
             "plain sample_future": _seconds(lambda: plain(future)(1)),
             "compiled sample_stream": _seconds(lambda: stream(1)),
             "plain sample_stream": _seconds(lambda: plain(stream)(1))}
    later = {}
    for call, fn in (("sample_future", future), ("sample_stream", stream)):
        times = timing.paired_times(
            {"plain": plain(fn), "compiled": fn}, args.pairs, 1)
        later[call] = {"times": times, "ratio": timing.ratio_summary(
            times["plain"], times["compiled"])}
    env = timing.machine()
    lines = [
        "Command: `python benchmarks/eager_sampling.py "
        + " ".join(argv if argv is not None else sys.argv[1:]) + "`",
        f"Machine: {env['cpu']}, nproc {env['nproc']}; load average at the "
        f"start {env['load_average'][0]:.2f}; {env['date']}. Model "
        f"{name}, one context, {args.samples} futures "
        f"of {args.frames} frames per call, 1 TensorFlow thread.", "",
        "| call | first call s (compiled: trace included) | later calls s, "
        "median | **speed compiled / plain** |",
        "|---|---:|---:|---:|"]
    for call in ("sample_future", "sample_stream"):
        times = later[call]["times"]
        for kind in ("plain", "compiled"):
            ratio = (timing.format_ratio(later[call]["ratio"])
                     if kind == "compiled" else "1")
            lines.append(
                f"| {call}, {kind} | {first[f'{kind} {call}']:.2f} | "
                f"{float(np.median(times[kind])):.2f} | {ratio} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        out = pathlib.Path(args.out)
        out.write_text(report)
        out.with_suffix(".json").write_text(json.dumps(
            {"machine": env, "first_call_s": first,
             "later": {call: {"times_s": v["times"], "ratio": v["ratio"]}
                       for call, v in later.items()}}, indent=1))


if __name__ == "__main__":
    main()
