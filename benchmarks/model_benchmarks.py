"""Speed, memory and short-training likelihood of the VideoFlow model.

    python benchmarks/model_benchmarks.py sampling   # sample vs log_prob cost
    python benchmarks/model_benchmarks.py training   # steps/s and peak memory
    python benchmarks/model_benchmarks.py dynamics   # bpp: conv3d/pointwise/none

Each part prints a markdown table (BENCHMARKS.md holds the results, with the
command and the machine). Timings are medians over repeats of compiled
`tf.function`s, after a warm-up call that traces them. `--quick` shrinks every
part to a smoke test of the script itself.
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["sampling", "training", "dynamics",
                                         "all", "_train_one"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings: a smoke test of the script")
    args = parser.parse_args()
    if args.part == "_train_one":
        preset, batch, steps = args.rest
        print(json.dumps(_train_one(preset, int(batch), int(steps),
                                    args.quick)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{tf.config.threading.get_inter_op_parallelism_threads() or 'default'}"
          f" inter-op threads; TF {tf.__version__}")
    parts = (["sampling", "training", "dynamics"] if args.part == "all"
             else [args.part])
    for part in parts:
        print(f"\n## {part}\n")
        globals()[part](args)


if __name__ == "__main__":
    main()
