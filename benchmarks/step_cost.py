"""CPU time of a `small` training step by batch size and precision.

    python benchmarks/step_cost.py --batch-sizes 16 32 64 \
        --precisions float32 mixed_bfloat16 --rounds 3

One TensorFlow thread; every contender is built and warmed up first, then
the contenders take turns, `--steps` steps each per round, so that the
machine's load at a moment slows all of them alike. Prints the CPU seconds
of this process per step and per video, each contender's median over the
rounds and its range, and the ratio to the first contender.
"""

import argparse
import itertools
import statistics
import sys
import time

import tensorflow as tf

import tfp_videoflow as vf
from tfp_videoflow import training


def contender(batch_size, precision, seed=0):
    """A compiled, initialised and warmed-up `small` model with its data."""
    model = vf.VideoFlowModel.from_preset("small", seed=seed,
                                          precision=precision)
    model.compile(optimizer=training.paper_optimizer(1e-3, 200))
    videos = vf.data.stochastic_movement("train", resolution=32, num_frames=3,
                                         batch_size=batch_size, seed=seed)
    model.initialize(next(iter(videos)))
    model.fit(videos, steps_per_epoch=3, epochs=1, verbose=0)
    return model, videos


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16])
    parser.add_argument("--precisions", nargs="+", default=["float32"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keys = list(itertools.product(args.precisions, args.batch_sizes))
    models = {key: contender(key[1], key[0]) for key in keys}
    seconds = {key: [] for key in keys}
    for _ in range(args.rounds):
        for key, (model, videos) in models.items():
            start = time.process_time()
            model.fit(videos, steps_per_epoch=args.steps, epochs=1, verbose=0)
            seconds[key].append((time.process_time() - start) / args.steps)
    first = statistics.median(seconds[keys[0]]) / keys[0][1]
    print("| precision | batch | CPU s / step (median, range) | CPU ms / video "
          "| per video vs first |\n|---|---|---|---|---|")
    for (precision, batch), values in seconds.items():
        median = statistics.median(values)
        print(f"| {precision} | {batch} | {median:.3f} ({min(values):.3f}-"
              f"{max(values):.3f}) | {1000 * median / batch:.1f} | "
              f"{first / (median / batch):.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
