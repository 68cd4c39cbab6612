"""Likelihood, multimodality and best-of-N quality on Stochastic Movement.

Trains a preset ("small" by default: 32x32, 1 context frame) with each latent
dynamics ("conv3d", "pointwise", "none") for the same wall-clock budget on
this machine, then reports on test videos:

* test bits per pixel with its standard error;
* multimodality: for each of `--motion-videos` test videos, 64 futures from
  its first frame; the shape is tracked from the context frame through two
  sampled frames and each future is valid when it moves one unit per frame
  along one of the 8 directions and keeps the shape's form and colour
  (`motion.motion_modes`; the motion-only share of before issue 18 is shown
  beside it);
* the density's own view of the motions (`motion.motion_likelihood`):
  bits per pixel of futures that move validly, stand still, or move at half
  or double speed, and how the density spreads over the valid ones (sampling
  can miss modes that the density has);
* best-of-N PSNR / SSIM of sampled futures against the real ones, next to
  copying the last context frame.

    python benchmarks/quality.py                       # 3 x 9 minutes
    python benchmarks/quality.py --steps 2000          # equal steps
    python benchmarks/quality.py --dynamics conv3d --report-at 10 30 90
    python benchmarks/quality.py --set coupling=additive steps_per_level=8
    python benchmarks/quality.py --minutes 0.2 --quick # smoke run

`--report-at` measures the same model after several training budgets;
`--threads 1` lets two runs share a 2-core machine evenly. Writes a markdown
table and a JSON file (the training curves too) to --out.
"""

import argparse
import contextlib
import json
import os
import pathlib
import sys
import time

import keras
import tensorflow as tf

import tfp_videoflow as vf
from tfp_videoflow import diagnostics, evaluation, files, motion, presets, training

DYNAMICS = ("conv3d", "pointwise", "none")
STEPS_PER_EPOCH = 50


class _Curve(keras.callbacks.Callback):
    """Extends the run's curve every epoch; stops `fit` at `steps` in all."""

    def __init__(self, run, steps):
        super().__init__()
        self.run, self.steps = run, steps

    def on_epoch_end(self, epoch, logs=None):
        run = self.run
        run.curve.append({"step": run.steps, "seconds": round(run.seconds, 1),
                          "bits_per_pixel": float(logs["bits_per_pixel"])})
        if run.steps >= self.steps:
            self.model.stop_training = True


class _Averages(keras.callbacks.Callback):
    """Exponential moving averages of the weights, one set per momentum.

    Updated after every step; `swapped_in(momentum)` puts one set into the
    model for a measurement and restores the trained weights after it.
    """

    def __init__(self, model, momenta):
        super().__init__()
        self.weights = model.trainable_variables
        self.averages = {m: [tf.Variable(w.value) for w in self.weights]
                         for m in momenta}

    @tf.function
    def _update(self):
        for momentum, averages in self.averages.items():
            for average, weight in zip(averages, self.weights):
                average.assign(momentum * average
                               + (1 - momentum) * weight.value)

    def on_train_batch_end(self, batch, logs=None):
        self._update()

    @contextlib.contextmanager
    def swapped_in(self, momentum):
        trained = [w.numpy() for w in self.weights]
        for average, weight in zip(self.averages[momentum], self.weights):
            weight.assign(average.numpy())
        try:
            yield
        finally:
            for value, weight in zip(trained, self.weights):
                weight.assign(value)


class TrainingRun:
    """One model of a preset, trained in segments; keeps its curve."""

    def __init__(self, dynamics, args):
        overrides = _overrides(args)
        if dynamics != "conv3d" and "top_components" not in overrides:
            # Only the conv3d prior has a mixture (the small preset's).
            overrides["top_components"] = 1
        self.model = vf.VideoFlowModel.from_preset(
            args.preset, dynamics=dynamics, seed=args.seed, **overrides)
        self.model.compile(optimizer=training.paper_optimizer(
            args.learning_rate, args.warmup_steps, args.decay_steps))
        # The first K + T frames of each video, as the CLI trains: later
        # frames leave the canvas, and the 8-way first step is what matters.
        self.videos = vf.data.stochastic_movement(
            "train", resolution=self.model.frame_shape[0],
            num_frames=args.train_frames or (self.model.num_context_frames
                                             + self.model.num_target_frames),
            batch_size=args.batch_size, seed=args.seed)
        # CPU time of this process (all its threads): runs that share the
        # machine get equal work, whatever else runs beside them.
        self.limit = training.TimeLimit(
            float("inf"), clock=(time.process_time if args.budget == "cpu"
                                 else time.perf_counter))
        # ActNorm statistics and the mixture's starting components come
        # from the first --init-batches batches.
        init_videos = tf.concat(list(self.videos.take(args.init_batches)),
                                axis=0)
        self.model.initialize(init_videos)
        self.curve = []
        self.averages = _Averages(self.model, args.ema)
        # Dead components reborn as copies of the busiest, judged on the
        # initialisation videos (--split-every 0: never).
        self.splitter = (training.SplitCollapsedComponents(
            init_videos, args.split_every, args.split_until, seed=args.seed)
            if args.split_every else None)

    @property
    def steps(self):
        return int(self.model.optimizer.iterations.numpy())

    @property
    def seconds(self):
        """Training time so far (by --budget's clock)."""
        return self.limit.elapsed

    def train_until(self, seconds=float("inf"), steps=float("inf")):
        """Trains on until `seconds` of training time or `steps` in all."""
        self.limit.seconds = seconds
        self.model.fit(self.videos, steps_per_epoch=STEPS_PER_EPOCH,
                       epochs=10 ** 9, verbose=0,
                       callbacks=[self.limit, _Curve(self, steps),
                                  self.averages,
                                  *([self.splitter] if self.splitter else [])])
        if self.splitter and self.splitter.splits:
            print(f"splits (step, source, target): {self.splitter.splits}",
                  flush=True)


def _report(run, name, args):
    """Saves (with --save-models) and measures the model as it is now."""
    if args.save_models:  # first: a failed measurement loses nothing
        folder = pathlib.Path(args.save_models)
        folder.mkdir(parents=True, exist_ok=True)
        files.atomic_save_model(run.model, folder / f"{name}_{run.steps}.keras")
    scores, motion, likelihood, prior = measure(run.model, args)
    print(name, json.dumps({
        "steps": run.steps, "train_minutes": run.seconds / 60,
        "bits_per_pixel": scores["bits_per_pixel"],
        "motion": motion, "likelihood": likelihood, "prior": prior}),
        flush=True)
    return {"step": run.steps, "seconds": round(run.seconds, 1),
            "train_bits_per_pixel": run.curve[-1]["bits_per_pixel"],
            "scores": scores, "motion": motion, "likelihood": likelihood,
            "prior": prior}


def _overrides(args):
    """Preset overrides from --set KEY=VALUE and --latent-skip."""
    overrides = presets.parse_overrides(args.set)
    if args.latent_skip is not None:
        overrides["latent_skip"] = args.latent_skip == "on"
    return overrides


def measure(model, args):
    resolution = model.frame_shape[0]
    test = vf.data.stochastic_movement("test", resolution=resolution,
                                       num_frames=3,
                                       num_videos=args.test_videos, seed=0,
                                       batch_size=32)
    scores = evaluation.evaluate_model(
        model, test, num_samples=0 if args.motion_only else args.best_of,
        temperature=args.best_of_temperature, seed=1)
    scores = {key: vars(value) for key, value in scores.items()}
    motion_videos = next(iter(vf.data.stochastic_movement(
        "test", resolution=resolution, num_frames=3,
        num_videos=args.motion_videos, seed=0,
        batch_size=args.motion_videos))).numpy()
    modes = {str(t): motion.motion_modes(
        model, motion_videos, num_samples=64, num_frames=2, temperature=t,
        seed=2) for t in args.temperatures}
    if args.motion_only:
        return scores, modes, None, None
    likelihood = motion.motion_likelihood(
        model, num_videos=args.motion_videos, data_seed=0, seed=3)
    likelihood["bits_per_pixel"] = {
        kind: vars(value)
        for kind, value in likelihood["bits_per_pixel"].items()}
    k = model.num_context_frames
    swaps = diagnostics.level_swap(model, motion_videos, num_samples=16,
                                   temperature=args.swap_temperature,
                                   seed=(4, 0))
    prior = {
        "calibration": diagnostics.prior_calibration(
            model, motion_videos, temperature=args.swap_temperature,
            seed=(5, 0)),
        "context_gain_bits": vars(evaluation.MeanAndError.of(
            diagnostics.context_gain(model, motion_videos, seed=(6, 0)))),
        "level_swap": {kind: motion.motion_statistics(
            motion_videos[:, k - 1], frames.numpy())
            for kind, frames in swaps.items()},
    }
    return scores, modes, likelihood, prior


def _table(results, args, seconds):
    overrides = _overrides(args)
    trained = (
        "saved models, measured only" if args.models else
        f"preset '{args.preset}'"
        + (f" with {overrides}" if overrides else "")
        + f", batch {args.batch_size}, Adam lr {args.learning_rate:g} after "
        f"{args.warmup_steps} warm-up steps, "
        f"{args.budget} time budget")
    lines = [
        f"Command: `python benchmarks/quality.py {' '.join(args.argv)}`",
        f"Machine: {os.cpu_count()} CPU cores, no GPU, TensorFlow threads: "
        f"{args.threads or 'default'}; {time.strftime('%Y-%m-%d')}; took "
        f"{seconds / 60:.1f} min in all; {trained}.",
        "",
        "| dynamics | steps | train min | train bits/pixel (last 50 steps) "
        "| test bits/pixel | best-of-"
        f"{args.best_of} PSNR dB | best-of-{args.best_of} SSIM | "
        "copy-last PSNR dB | copy-last SSIM |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dynamics, report in _reports(results):
        s = report["scores"]

        def fmt(key, digits, s=s):
            if key not in s:  # --motion-only
                return "-"
            return (f"{s[key]['mean']:.{digits}f} ± "
                    f"{s[key]['standard_error']:.{digits}f}")
        lines.append(
            f"| {dynamics} | {report['step']} | "
            f"{report['seconds'] / 60:.1f} | "
            f"{report['train_bits_per_pixel']:.3f} | "
            f"{fmt('bits_per_pixel', 3)} | {fmt('psnr', 2)} | "
            f"{fmt('ssim', 3)} | {fmt('copy_last_psnr', 2)} | "
            f"{fmt('copy_last_ssim', 3)} |")
    lines += ["", f"Multimodality ({args.motion_videos} test videos x 64 "
              "futures from the first frame; 8 motions exist):", "",
              "| dynamics | steps | temperature | directions per video | "
              "directions in all | valid share (moves, form and colour) | "
              "moves share (motion only) | keeps form / colour | mean IoU | "
              "shape mass sampled / context |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for dynamics, report in _reports(results):
        for temperature, m in report["motion"].items():
            lines.append(
                f"| {dynamics} | {report['step']} | {temperature} | "
                f"{m['directions_per_video']:.2f} | {m['directions_total']} "
                f"| {100 * m['valid_share']:.1f} % | "
                f"{100 * m['moves_share']:.1f} % | "
                f"{100 * m['form_share']:.1f} % / "
                f"{100 * m['colour_share']:.1f} % | {m['mean_iou']:.2f} | "
                f"{m['shape_mass_ratio']:.2f} |")
    lines += ["", "The density's view of the motions (`motion.motion_likelihood`"
              f", {args.motion_videos} test videos: bits per pixel of the 2 "
              "future frames when the shape moves validly, stands still, or "
              "moves at half or double speed):", "",
              "| dynamics | steps | valid | still | half speed | double speed "
              "| valid beat all wrong | valid beat wrong, pairs | "
              "effective directions |", "|---|---|---|---|---|---|---|---|---|"]
    for dynamics, report in _reports(results):
        m = report["likelihood"]
        if m is None:  # --motion-only
            continue
        bits = m["bits_per_pixel"]
        lines.append(
            f"| {dynamics} | {report['step']} | "
            + " | ".join(f"{bits[kind]['mean']:.3f}" for kind in (
                "valid", "still", "half_speed", "double_speed"))
            + f" | {100 * m['valid_above_all_share']:.0f} % | "
            f"{100 * m['pairwise_share']:.0f} % | "
            f"{m['effective_directions']:.2f} |")
    lines += ["", "The prior, level by level (`diagnostics`, same videos): "
              "calibration on the real futures (mean squared standardised "
              "error, 1 when calibrated), spread of encoded / sampled "
              f"latents (T {args.swap_temperature}), context gain (bits per "
              "video the own first frame saves over another video's), and "
              "level swaps: valid share (motion-only share) and shape mass "
              "of futures with the real top level and sampled finer levels, "
              "and the reverse:",
              "", "| dynamics | steps | calibration, finest to top | "
              "spread encoded / sampled, finest to top | context gain "
              "bits/video | real top: valid (moves), mass | sampled top: "
              "valid (moves), mass |", "|---|---|---|---|---|---|---|"]
    for dynamics, report in _reports(results):
        p = report.get("prior")
        if p is None:  # results of an older quality.py
            continue
        levels = p["calibration"]
        swap = p["level_swap"]
        lines.append(
            f"| {dynamics} | {report['step']} | "
            + " / ".join(f"{lv['calibration']:.2f}" for lv in levels)
            + " | " + " / ".join(f"{lv['encoded_spread']:.2f}:"
                                 f"{lv['sampled_spread']:.2f}"
                                 for lv in levels)
            + f" | {p['context_gain_bits']['mean']:.0f} ± "
            f"{p['context_gain_bits']['standard_error']:.0f} | "
            + " | ".join(f"{100 * swap[kind]['valid_share']:.1f} % "
                         f"({100 * swap[kind]['moves_share']:.1f} %), "
                         f"{swap[kind]['shape_mass_ratio']:.2f}"
                         for kind in ("real_top", "sampled_top")) + " |")
    return "\n".join(lines) + "\n"


def _reports(results):
    """(dynamics or model name, report) for every measurement, in order."""
    for dynamics, result in results.items():
        for report in result["reports"]:
            yield dynamics, report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=9.0,
                        help="training budget per model")
    parser.add_argument("--report-at", type=float, nargs="+", default=None,
                        metavar="MINUTES",
                        help="measure after these many minutes of training "
                             "(default: once, after --minutes)")
    parser.add_argument("--steps", type=int, default=None,
                        help="train exactly this many steps instead "
                             "(equal for every model, whatever the load)")
    parser.add_argument("--dynamics", nargs="+", default=list(DYNAMICS),
                        choices=DYNAMICS)
    parser.add_argument("--preset", default="small",
                        help="model preset (its frames must be square RGB)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override preset settings, e.g. "
                             "coupling=additive steps_per_level=8")
    parser.add_argument("--latent-skip", choices=["on", "off"], default=None,
                        help="override the preset's latent skip")
    parser.add_argument("--budget", choices=["cpu", "wall"], default="cpu",
                        help="--minutes of this process's CPU time (default)"
                             " or of wall-clock time")
    parser.add_argument("--init-batches", type=int, default=1,
                        help="batches for the data-dependent initialisation")
    parser.add_argument("--train-frames", type=int, default=None,
                        help="frames per training video (default: the "
                             "model's K + T, the first frames of each video)")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--decay-steps", type=int, default=None,
                        help="cosine decay of the learning rate to 0 at "
                             "this step (default: constant after warm-up)")
    parser.add_argument("--test-videos", type=int, default=256)
    parser.add_argument("--motion-videos", type=int, default=32)
    parser.add_argument("--best-of", type=int, default=8)
    parser.add_argument("--best-of-temperature", type=float, default=0.6)
    parser.add_argument("--temperatures", type=float, nargs="+",
                        default=[0.6, 0.8, 1.0])
    parser.add_argument("--swap-temperature", type=float, default=0.8,
                        help="temperature of the diagnostics' samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-every", type=int, default=0, metavar="N",
                        help="every N steps, top-level mixture components "
                             "with almost no futures become copies of the "
                             "busiest one (training.SplitCollapsedComponents)"
                             "; 0: never")
    parser.add_argument("--split-until", type=int, default=5000,
                        metavar="STEP", help="the last step --split-every "
                                             "splits at")
    parser.add_argument("--ema", type=float, nargs="+", default=[],
                        metavar="MOMENTUM",
                        help="also measure exponential moving averages of "
                             "the weights with these momenta (e.g. 0.99 "
                             "0.999), at every report")
    parser.add_argument("--motion-only", action="store_true",
                        help="measure only test bits per pixel and the "
                             "sampled motions (no best-of-N, density or "
                             "diagnostics tables): for ablations")
    parser.add_argument("--quick", action="store_true",
                        help="few test videos (a smoke run)")
    parser.add_argument("--out", default="benchmarks/results/quality",
                        help="writes OUT.md and OUT.json")
    parser.add_argument("--save-models", default=None,
                        help="folder to save the trained models in")
    parser.add_argument("--models", nargs="+", default=None, metavar="FILE",
                        help="measure these saved models instead of "
                             "training (e.g. those of --save-models)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.steps and args.report_at:
        parser.error("--report-at goes with a time budget, not --steps.")
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.quick:
        args.test_videos, args.motion_videos = 32, 4
    start = time.perf_counter()
    results = {}
    for path in args.models or []:
        model = keras.models.load_model(path)
        scores, motion, likelihood, prior = measure(model, args)
        # A shipped model has no optimizer, so no step count.
        steps = (int(model.optimizer.iterations.numpy())
                 if getattr(model, "optimizer", None) is not None else "n/a")
        results[pathlib.Path(path).stem] = {"curve": [], "reports": [{
            "step": steps, "seconds": float("nan"),
            "train_bits_per_pixel": float("nan"), "scores": scores,
            "motion": motion, "likelihood": likelihood, "prior": prior}]}
        print(path, json.dumps({"steps": steps, "motion": motion}),
              flush=True)
    for dynamics in ([] if args.models else args.dynamics):
        run = TrainingRun(dynamics, args)
        reports = []
        budgets = ([None] if args.steps
                   else sorted(args.report_at or [args.minutes]))
        for minutes in budgets:
            if args.steps:
                run.train_until(steps=args.steps)
            else:
                run.train_until(seconds=minutes * 60)
            for momentum in [None] + args.ema:
                name = dynamics if momentum is None else f"{dynamics}_ema{momentum:g}"
                swap = (contextlib.nullcontext() if momentum is None
                        else run.averages.swapped_in(momentum))
                with swap:
                    report = _report(run, name, args)
                (reports if momentum is None else results.setdefault(
                    name, {"curve": [], "reports": []})["reports"]).append(report)
        results[dynamics] = {"curve": run.curve, "reports": reports,
                             "splits": (run.splitter.splits
                                        if run.splitter else [])}
    table = _table(results, args, time.perf_counter() - start)
    print(table)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write_text(f"{args.out}.md", table)
    files.atomic_write_text(f"{args.out}.json",
                               json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
