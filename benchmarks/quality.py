"""Likelihood, multimodality and best-of-N quality on Stochastic Movement.

Trains the "small" preset (32x32, 1 context frame) with each latent dynamics
("conv3d", "pointwise", "none") for the same wall-clock budget on this
machine, then reports on test videos:

* test bits per pixel (5-bit) with its standard error;
* multimodality: for each of `--motion-videos` test videos, 64 futures from
  its first frame; the shape is tracked from the context frame through two
  sampled frames and each track is classified as one of the 8 motions at 1
  unit per frame, or invalid (`evaluation.motion_modes`);
* best-of-N PSNR / SSIM of sampled futures against the real ones, next to
  copying the last context frame.

    python benchmarks/quality.py                       # 3 x 9 minutes
    python benchmarks/quality.py --steps 2000          # equal steps
    python benchmarks/quality.py --minutes 0.2 --quick # smoke run

Writes a markdown table and a JSON file (the training curves too) to --out.
"""

import argparse
import json
import os
import pathlib
import sys
import time

import keras

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import tfp_videoflow as vf  # noqa: E402  pylint: disable=wrong-import-position
from tfp_videoflow import evaluation, training  # noqa: E402  pylint: disable=wrong-import-position

DYNAMICS = ("conv3d", "pointwise", "none")


class _Budget(keras.callbacks.Callback):
    """Stops training after `seconds`; records the training curve."""

    def __init__(self, seconds, steps_per_epoch):
        super().__init__()
        self.seconds = seconds
        self.steps_per_epoch = steps_per_epoch
        self.curve = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.start
        self.curve.append({"step": (epoch + 1) * self.steps_per_epoch,
                           "seconds": round(elapsed, 1),
                           "bits_per_pixel": float(logs["bits_per_pixel"])})
        if elapsed > self.seconds:
            self.model.stop_training = True


def train(dynamics, minutes, batch_size, seed, latent_skip=None, steps=None):
    """Trains for `minutes` of wall time, or exactly `steps` steps if given."""
    overrides = {} if latent_skip is None else {"latent_skip": latent_skip}
    model = vf.VideoFlowModel.from_preset("small", dynamics=dynamics,
                                          seed=seed, **overrides)
    model.compile(optimizer=training.paper_optimizer(1e-3, 200))
    videos = vf.data.stochastic_movement("train", resolution=32,
                                         batch_size=batch_size, seed=seed)
    model.initialize(next(iter(videos)))
    budget = _Budget(float("inf") if steps else minutes * 60,
                     steps_per_epoch=50)
    model.fit(videos, steps_per_epoch=50,
              epochs=-(-steps // 50) if steps else 100000, verbose=0,
              callbacks=[budget])
    return model, budget.curve


def measure(model, args):
    test = vf.data.stochastic_movement("test", resolution=32, num_frames=3,
                                       num_videos=args.test_videos, seed=0,
                                       batch_size=32)
    scores = evaluation.evaluate_model(model, test, num_samples=args.best_of,
                                       temperature=args.best_of_temperature,
                                       seed=1)
    motion_videos = next(iter(vf.data.stochastic_movement(
        "test", resolution=32, num_frames=3, num_videos=args.motion_videos,
        seed=0, batch_size=args.motion_videos))).numpy()
    motion = {str(t): evaluation.motion_modes(
        model, motion_videos, num_samples=64, num_frames=2, temperature=t,
        seed=2) for t in args.temperatures}
    return {key: vars(value) for key, value in scores.items()}, motion


def _table(results, args, seconds):
    lines = [
        f"Command: `python benchmarks/quality.py {' '.join(args.argv)}`",
        f"Machine: {os.cpu_count()} CPU cores, no GPU; "
        f"{time.strftime('%Y-%m-%d')}; took {seconds / 60:.1f} min in all, "
        + (f"{args.steps} training steps" if args.steps
           else f"{args.minutes:g} min of training")
        + f" per model (preset 'small', latent skip "
        f"{args.latent_skip or 'as in the preset'}, batch {args.batch_size}, "
        "Adam lr 1e-3 after 200 warm-up steps, gradients clipped as in the "
        "preset).",
        "",
        "| dynamics | steps | train min | train bits/pixel (last 50 steps) "
        "| test bits/pixel (5-bit) | best-of-"
        f"{args.best_of} PSNR dB | best-of-{args.best_of} SSIM | "
        "copy-last PSNR dB | copy-last SSIM |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dynamics, result in results.items():
        s = result["scores"]

        def fmt(key, digits):
            return (f"{s[key]['mean']:.{digits}f} ± "
                    f"{s[key]['standard_error']:.{digits}f}")
        lines.append(
            f"| {dynamics} | {result['curve'][-1]['step']} | "
            f"{result['curve'][-1]['seconds'] / 60:.1f} | "
            f"{result['curve'][-1]['bits_per_pixel']:.3f} | "
            f"{fmt('bits_per_pixel', 3)} | {fmt('psnr', 2)} | "
            f"{fmt('ssim', 3)} | {fmt('copy_last_psnr', 2)} | "
            f"{fmt('copy_last_ssim', 3)} |")
    lines += ["", f"Multimodality ({args.motion_videos} test videos x 64 "
              "futures from the first frame; 8 motions exist):", "",
              "| dynamics | temperature | directions per video | "
              "directions in all | valid share |", "|---|---|---|---|---|"]
    for dynamics, result in results.items():
        for temperature, m in result["motion"].items():
            lines.append(
                f"| {dynamics} | {temperature} | "
                f"{m['directions_per_video']:.2f} | {m['directions_total']} "
                f"| {100 * m['valid_share']:.1f} % |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=9.0,
                        help="training budget per model")
    parser.add_argument("--steps", type=int, default=None,
                        help="train exactly this many steps instead "
                             "(equal for every model, whatever the load)")
    parser.add_argument("--dynamics", nargs="+", default=list(DYNAMICS),
                        choices=DYNAMICS)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--test-videos", type=int, default=256)
    parser.add_argument("--motion-videos", type=int, default=32)
    parser.add_argument("--best-of", type=int, default=8)
    parser.add_argument("--best-of-temperature", type=float, default=0.6)
    parser.add_argument("--temperatures", type=float, nargs="+",
                        default=[0.6, 0.8, 1.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latent-skip", choices=["on", "off"], default=None,
                        help="override the preset's latent skip")
    parser.add_argument("--quick", action="store_true",
                        help="few test videos (a smoke run)")
    parser.add_argument("--out", default="benchmarks/results/quality",
                        help="writes OUT.md and OUT.json")
    parser.add_argument("--save-models", default=None,
                        help="folder to save the trained models in")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.quick:
        args.test_videos, args.motion_videos = 32, 4
    start = time.perf_counter()
    results = {}
    for dynamics in args.dynamics:
        model, curve = train(dynamics, args.minutes, args.batch_size,
                             args.seed, {"on": True, "off": False,
                                         None: None}[args.latent_skip],
                             args.steps)
        scores, motion = measure(model, args)
        results[dynamics] = {"curve": curve, "scores": scores,
                             "motion": motion}
        print(dynamics, json.dumps({"steps": curve[-1]["step"],
                                    "bits_per_pixel": scores[
                                        "bits_per_pixel"]}), flush=True)
        if args.save_models:
            pathlib.Path(args.save_models).mkdir(parents=True, exist_ok=True)
            training.atomic_save_model(
                model, pathlib.Path(args.save_models) / f"{dynamics}.keras")
    table = _table(results, args, time.perf_counter() - start)
    print(table)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    training.atomic_write_text(f"{args.out}.md", table)
    training.atomic_write_text(f"{args.out}.json",
                               json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
