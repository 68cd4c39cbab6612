"""Speed, memory and short-training likelihood of the VideoFlow model.

    python benchmarks/model_benchmarks.py sampling   # sample vs log_prob cost
    python benchmarks/model_benchmarks.py training   # steps/s and peak memory
    python benchmarks/model_benchmarks.py dynamics   # bpp: conv3d/pointwise/none
    python benchmarks/model_benchmarks.py compare --baseline TREE
        # the `small` preset's train steps/s and sampled frames/s: this tree
        # against another checkout (TREE), in two worker processes that
        # alternate (A B, B A, ...); median ratio and its IQR over the pairs

Each part prints a markdown table (BENCHMARKS.md holds the results, with the
command and the machine). Timings are medians over repeats of compiled
`tf.function`s, after a warm-up call that traces them. `--quick` shrinks every
part to a smoke test of the script itself.
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

import timing  # benchmarks/timing.py
from timing import median_seconds  # benchmarks/timing.py


def _moving_square_videos(num_videos, num_frames, size, seed):
    """Squares moving one of 8 directions, 1 pixel-unit per frame (uint8)."""
    from tfp_videoflow import data  # pylint: disable=import-outside-toplevel
    dataset = data.stochastic_movement(split="train", resolution=size,
                                       num_frames=num_frames,
                                       num_videos=num_videos, seed=seed)
    return np.stack([v.numpy() for v in dataset])


def sampling(args):
    """Sampling cost per generated frame / log_prob cost per frame."""
    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    config = dict(frame_shape=(32, 32, 3), num_context_frames=3,
                  num_target_frames=10, num_levels=3,
                  steps_per_level=2 if args.quick else 8,
                  coupling="affine", coupling_width=64 if args.quick else 128,
                  prior_width=32 if args.quick else 64,
                  prior_depth=1 if args.quick else 3, num_cond_frames=3)
    model = vf.VideoFlowModel(**config)
    batch = 4
    rng = np.random.default_rng(0)
    context = tf.constant(rng.integers(0, 256, (batch, 3, 32, 32, 3)),
                          tf.uint8)
    model.initialize(tf.constant(rng.integers(0, 256, (8, 4, 32, 32, 3)),
                                 tf.uint8))
    repeats = 2 if args.quick else 5
    lengths = (2, 4) if args.quick else (10, 25, 50, 100)
    target = tf.random.uniform((batch, 10, 32, 32, 3), 0, 256, seed=1)

    @tf.function
    def log_prob():
        return model(context, num_target_frames=10).log_prob(target)

    log_prob_per_frame = median_seconds(log_prob, repeats, warmup=1) / 10
    rows = []
    for length in lengths:
        @tf.function
        def sample(length=length):
            return model(context, num_target_frames=length).sample(
                seed=[1, 2])

        per_frame = median_seconds(sample, repeats, warmup=1) / length
        rows.append((length, per_frame, per_frame / log_prob_per_frame))
    print(f"\nconfig: {json.dumps(config)}, batch {batch}")
    print(f"log_prob: {1e3 * log_prob_per_frame:.1f} ms per target frame "
          "(10 target frames)\n")
    print("| frames sampled | ms per sampled frame | ÷ log_prob ms per frame |")
    print("|---:|---:|---:|")
    for length, per_frame, ratio in rows:
        print(f"| {length} | {1e3 * per_frame:.1f} | {ratio:.2f} |")
    print(f"\nper-frame cost at {lengths[-1]} frames ÷ at {lengths[0]}: "
          f"{rows[-1][1] / rows[0][1]:.2f} (1.0 = linear total cost)")


def _train_one(preset, batch, steps, quick):
    """Run in a subprocess: steps/s and peak RSS of one preset."""
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    overrides = {}
    if quick:
        overrides = dict(steps_per_level=1, coupling_width=16, prior_width=8,
                         prior_depth=1)
    model = vf.VideoFlowModel.from_preset(preset, **overrides)
    frames = model.num_context_frames + model.train_target_frames
    rng = np.random.default_rng(0)
    videos = rng.integers(0, 256, (batch * (steps + 1), frames,
                                   *model.frame_shape), dtype=np.uint8)
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model.fit(videos[:batch], batch_size=batch, verbose=0)  # trace + init
    start = time.perf_counter()
    model.fit(videos[batch:], batch_size=batch, verbose=0)
    seconds = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(preset=preset, batch=batch, weights=model.count_params(),
                seconds_per_step=seconds / steps,
                frames_per_second=batch * frames * steps / seconds,
                peak_rss_mib=peak_rss / 1024,
                model_rss_mib=start_rss / 1024)


def training(args):
    """Training-step throughput and peak memory, one subprocess per preset."""
    cases = [("small", 16, 3 if args.quick else 20),
             ("bair", 5, 1 if args.quick else 3)]
    print("| preset | weights | batch | s / step | frames / s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for preset, batch, steps in cases:
        output = subprocess.run(
            [sys.executable, __file__, "_train_one", preset, str(batch),
             str(steps)] + (["--quick"] if args.quick else []),
            check=True, capture_output=True, text=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(f"| {r['preset']} | {r['weights']:,} | {r['batch']} | "
              f"{r['seconds_per_step']:.2f} | {r['frames_per_second']:.1f} | "
              f"{r['peak_rss_mib']:.0f} |")


def dynamics(args):
    """Test bits per pixel after the same short training, per dynamics."""
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    size, frames = 16, 4
    train = _moving_square_videos(64 if args.quick else 512, frames, size, 0)
    test = _moving_square_videos(32 if args.quick else 128, frames, size, 1)
    epochs = 1 if args.quick else 10
    print(f"Stochastic Movement {size}x{size}, {len(train)} training videos "
          f"of {frames} frames, {epochs} epochs, batch 16, Adam 2e-3, 5 bits\n")
    print("| dynamics | test bits/pixel (2 context → 2 target frames) | "
          "train s |")
    print("|---|---:|---:|")
    for kind in ("conv3d", "pointwise", "none"):
        model = vf.VideoFlowModel(
            frame_shape=(size, size, 3), num_context_frames=2,
            num_target_frames=2, num_levels=2, steps_per_level=4,
            coupling="additive", coupling_width=32, dynamics=kind,
            num_cond_frames=2, prior_width=32, prior_depth=2, num_bits=5,
            seed=0)
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
        model.initialize(train[:64])
        start = time.perf_counter()
        model.fit(train, batch_size=16, epochs=epochs, verbose=0)
        seconds = time.perf_counter() - start
        bits = model.evaluate(test, batch_size=16, verbose=0,
                              return_dict=True)["bits_per_pixel"]
        print(f"| {kind} | {bits:.3f} | {seconds:.0f} |")


def _worker(args):
    """A server process: builds the `small` preset, then times on request.

    Reads lines "train N" / "sample N" on stdin and answers each with the
    seconds per call of N training steps (the `fit` step: Keras'
    `train_function` on a prefetched tf.data iterator) or N sampling calls
    (`sample_future` of 10 frames for 16 contexts, in a `tf.function`).
    Whatever `tfp_videoflow` is first on PYTHONPATH is the one measured.
    """
    import keras  # pylint: disable=import-outside-toplevel

    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    model = vf.VideoFlowModel.from_preset(args.preset)
    try:
        from tfp_videoflow import training as training_lib  # pylint: disable=import-outside-toplevel
        optimizer = training_lib.paper_optimizer()
    except (ImportError, AttributeError):
        optimizer = keras.optimizers.Adam(1e-4)
    model.compile(optimizer=optimizer)
    batch, sample_frames = 16, 10
    train_step, sample = timing.warm_step_functions(model, batch, 16,
                                                    sample_frames)

    def train():
        float(train_step()["loss"])

    for _ in range(3):
        train()
        sample()
    print(json.dumps({"ready": True, "module": vf.__file__,
                      "weights": model.count_params(), "batch": batch,
                      "sample_frames": batch * sample_frames}), flush=True)
    for line in sys.stdin:
        what, calls = line.split()
        fn = train if what == "train" else sample
        print(json.dumps({"seconds": timing.block_seconds(fn, int(calls))}),
              flush=True)


class _Worker:
    """A `_worker` subprocess running the tfp_videoflow of `tree`."""

    def __init__(self, tree, args):
        env = {**os.environ, "PYTHONPATH": str(tree),
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "_worker", "--preset", args.preset,
             "--threads", str(args.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.info = self._answer()

    def _answer(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("benchmark worker died")
            if line.startswith("{"):
                return json.loads(line)

    def time(self, what, calls):
        self.process.stdin.write(f"{what} {calls}\n")
        self.process.stdin.flush()
        return self._answer()["seconds"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def compare(args):
    """This tree against --baseline TREE: paired, alternating workers."""
    here = pathlib.Path(__file__).resolve().parents[1]
    start = time.perf_counter()
    machine = timing.machine()
    workers = {"baseline": _Worker(pathlib.Path(args.baseline).resolve(),
                                   args),
               "this": _Worker(here, args)}
    try:
        results = {"machine": machine, "preset": args.preset,
                   "baseline": str(args.baseline), "this": str(here),
                   "workers": {k: w.info for k, w in workers.items()}}
        for what, calls in (("train", args.train_calls),
                            ("sample", args.sample_calls)):
            # Alternating blocks (A B, B A, ...), timed by the workers.
            times = {name: [] for name in workers}
            for round_ in range(args.pairs):
                order = list(workers) if round_ % 2 == 0 \
                    else list(workers)[::-1]
                for name in order:
                    times[name].append(workers[name].time(what, calls))
            results[what] = {"seconds": times, "ratio": timing.ratio_summary(
                times["baseline"], times["this"])}
    finally:
        for w in workers.values():
            w.close()
    results["minutes"] = (time.perf_counter() - start) / 60
    info = workers["this"].info
    med = lambda xs: float(np.median(xs))  # noqa: E731
    lines = [
        "Command: `python benchmarks/model_benchmarks.py " + " ".join(
            sys.argv[1:]) + "`",
        f"Machine: {machine['cpu']}, nproc {machine['nproc']} "
        f"({', '.join(machine['cpu_features'])}); load average at the start "
        f"{machine['load_average'][0]:.2f}; {machine['date']}; "
        f"{args.threads} TensorFlow thread(s) per worker; took "
        f"{results['minutes']:.1f} min.",
        f"Preset `{args.preset}`, batch {info['batch']}; sampling: "
        f"{info['sample_frames']} frames per call (16 contexts x 10 frames). "
        f"{args.pairs} pairs of blocks of {args.train_calls} training steps / "
        f"{args.sample_calls} sampling calls, the two trees alternating.",
        "", "| | baseline | this tree | **speed this / baseline** |",
        "|---|---:|---:|---:|"]
    train, sample = results["train"], results["sample"]
    lines.append(
        f"| training steps / s | {1 / med(train['seconds']['baseline']):.2f} "
        f"| {1 / med(train['seconds']['this']):.2f} | "
        f"**{timing.format_ratio(train['ratio'])}** |")
    frames = info["sample_frames"]
    lines.append(
        f"| sampled frames / s | "
        f"{frames / med(sample['seconds']['baseline']):.1f} | "
        f"{frames / med(sample['seconds']['this']):.1f} | "
        f"**{timing.format_ratio(sample['ratio'])}** |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)
        pathlib.Path(args.out).with_suffix(".json").write_text(
            json.dumps(results, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["sampling", "training", "dynamics",
                                         "all", "compare", "_train_one",
                                         "_worker"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings: a smoke test of the script")
    parser.add_argument("--baseline", help="compare: the other tree")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--train-calls", type=int, default=10,
                        help="compare: training steps per block")
    parser.add_argument("--sample-calls", type=int, default=3,
                        help="compare: sampling calls per block")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="compare: write the table here (and "
                        "the raw results as .json next to it)")
    args = parser.parse_args()
    if args.part == "_worker":
        return _worker(args)
    if args.part == "compare":
        return compare(args)
    if args.part == "_train_one":
        preset, batch, steps = args.rest
        print(json.dumps(_train_one(preset, int(batch), int(steps),
                                    args.quick)))
        return None
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{tf.config.threading.get_inter_op_parallelism_threads() or 'default'}"
          f" inter-op threads; TF {tf.__version__}")
    parts = (["sampling", "training", "dynamics"] if args.part == "all"
             else [args.part])
    for part in parts:
        print(f"\n## {part}\n")
        globals()[part](args)
    return None


if __name__ == "__main__":
    sys.exit(main())
