"""Does the prior learn motion when the future is certain?

A bright 3x3 square moves at constant velocity on 16x16 frames
(`data.constant_velocity`, the default `--data`), or a grey one bounces off
the walls at 1 or 2 pixels per frame on 16x16x1 frames at 8 bits
(`--data bouncing_square`); two context frames fix its future. Trains
a small model (L=2, K=4, widths 32) with each latent dynamics for the same
budget of this process's CPU time, then reports on 256 test videos:

* test bits per pixel (2 target frames), and its ratio to dynamics "none";
* the context gain in bits per video (`diagnostics.context_gain`);
* low-temperature samples: the share of test videos whose sampled square
  (first future frame) lies within 1.5 pixels of the true position, and
  the mean brightness of the sampled square relative to the real one.

    python benchmarks/deterministic_motion.py --minutes 5 --threads 1
    python benchmarks/deterministic_motion.py --dynamics none --minutes 5
    python benchmarks/deterministic_motion.py --data bouncing_square --dynamics conv3d

Writes OUT.md and OUT.json.
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np
import tensorflow as tf

import tfp_videoflow as vf
from tfp_videoflow import (
    commands,
    diagnostics,
    evaluation,
    files,
    motion,
    presets,
    training,
)

MODEL = dict(frame_shape=(16, 16, 3), num_context_frames=2,
             num_target_frames=2, train_target_frames=1, num_levels=2,
             steps_per_level=4, coupling="affine", coupling_width=32,
             num_cond_frames=2, prior_width=32, prior_depth=2,
             prior_dilations=(1, 2), latent_skip=False, num_bits=5,
             gradient_clip_norm=1.0)
# Each data set, and what it changes in MODEL.
DATA = {
    "constant_velocity": (vf.data.constant_velocity, {}),
    "bouncing_square": (vf.data.bouncing_square,
                        dict(frame_shape=(16, 16, 1), num_bits=8)),
}
STEPS_PER_EPOCH = 50


def train(dynamics, args):
    data, changes = DATA[args.data]
    model = vf.VideoFlowModel(**{**MODEL, **changes, **args.set,
                                 "dynamics": dynamics, "seed": args.seed})
    model.compile(optimizer=training.paper_optimizer(
        args.learning_rate, 200, ema_momentum=args.ema_momentum))
    videos = data("train", num_frames=4, batch_size=args.batch_size,
                  seed=args.seed)
    # ActNorm statistics from the first training batch, or from the first
    # videos holding --init-frames of the frames the prior models.
    first = -(-(args.init_frames or 1) // model.num_target_frames)
    model.initialize(np.concatenate(
        [batch.numpy() for batch in videos.take(-(-first // args.batch_size))]))
    # This process's CPU time: runs sharing the machine get equal work.
    limit = training.TimeLimit(args.minutes * 60, clock=time.process_time)
    model.fit(videos, steps_per_epoch=STEPS_PER_EPOCH, epochs=10 ** 9,
              verbose=0,
              callbacks=[limit, training.KeepTrainedWeights()])
    return model, int(model.optimizer.iterations.numpy()), limit.elapsed


def measure(model, args):
    videos, tracks = next(iter(DATA[args.data][0](
        "test", num_frames=4, num_videos=args.test_videos, seed=0,
        with_tracks=True, batch_size=args.test_videos)))
    videos, tracks = videos.numpy(), tracks.numpy()
    bits = np.concatenate([
        model.bits_per_pixel(videos[i:i + 64], seed=(1, i)).numpy()
        for i in range(0, len(videos), 64)])
    gain = np.concatenate([
        diagnostics.context_gain(model, videos[i:i + 64], seed=(2, i))
        for i in range(0, len(videos), 64)])
    k = model.num_context_frames
    samples = {}
    for temperature in args.temperatures:
        futures = model.sample_future(videos[:, :k], num_samples=1,
                                      temperature=temperature,
                                      seed=(3, 0)).numpy()[0]
        centres = motion.shape_centres(futures[:, 0])
        error = np.linalg.norm(centres - tracks[:, k], axis=-1)
        mass = (motion.shape_mass(futures[:, 0])
                / motion.shape_mass(videos[:, k]))
        samples[str(temperature)] = {
            "within_1.5px": float(np.mean(np.nan_to_num(error, nan=1e9)
                                          <= 1.5)),
            "median_error_px": float(np.nanmedian(error)) if np.any(
                np.isfinite(error)) else float("nan"),
            "shape_mass": float(np.mean(mass))}
    return {"bits_per_pixel": vars(evaluation.MeanAndError.of(bits)),
            "context_gain_bits": vars(evaluation.MeanAndError.of(gain)),
            "samples": samples}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0,
                        help="CPU minutes of training per model")
    parser.add_argument("--dynamics", nargs="+", default=["conv3d", "none"])
    parser.add_argument("--data", choices=sorted(DATA),
                        default="constant_velocity")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="model settings over the benchmark's")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--init-frames", type=int, default=None,
                        help="ActNorm initialisation from the first videos "
                             "holding this many modelled frames (the command"
                             f" line: {commands.INITIALIZATION_FRAMES}); "
                             "default: the first batch")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="peak of the warm-up schedule (200 steps)")
    parser.add_argument("--test-videos", type=int, default=256)
    parser.add_argument("--temperatures", type=float, nargs="+",
                        default=[0.0001, 0.3, 0.7])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ema-momentum", type=float, default=0.0,
                        help="measure (and save) the moving average of the "
                             "weights, as the command line does (0.99); "
                             "default 0: the trained weights")
    parser.add_argument("--out", default="benchmarks/results/deterministic")
    parser.add_argument("--save-models", default=None)
    args = parser.parse_args(argv)
    args.set = presets.parse_overrides(args.set)
    argv = sys.argv[1:] if argv is None else argv
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    results = {}
    for dynamics in args.dynamics:
        model, steps, seconds = train(dynamics, args)
        with training.averaged_weights(model):  # (the weights, without)
            results[dynamics] = {"steps": steps, "cpu_minutes": seconds / 60,
                                 **measure(model, args)}
            print(dynamics, json.dumps(results[dynamics]), flush=True)
            if args.save_models:
                folder = pathlib.Path(args.save_models)
                folder.mkdir(parents=True, exist_ok=True)
                files.atomic_save_model(model, folder / f"{dynamics}.keras")
    lines = [f"Command: `python benchmarks/deterministic_motion.py "
             f"{' '.join(argv)}`", "",
             "| dynamics | steps | CPU min | test bits/pixel | context gain "
             "bits/video | T | sampled square within 1.5 px | median error "
             "px | shape mass |", "|---|---|---|---|---|---|---|---|---|"]
    for dynamics, r in results.items():
        for temperature, s in r["samples"].items():
            lines.append(
                f"| {dynamics} | {r['steps']} | {r['cpu_minutes']:.1f} | "
                f"{r['bits_per_pixel']['mean']:.3f} ± "
                f"{r['bits_per_pixel']['standard_error']:.3f} | "
                f"{r['context_gain_bits']['mean']:.1f} | {temperature} | "
                f"{100 * s['within_1.5px']:.0f} % | "
                f"{s['median_error_px']:.2f} | {s['shape_mass']:.2f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write_text(f"{args.out}.md", table)
    files.atomic_write_text(f"{args.out}.json", json.dumps(results,
                                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
