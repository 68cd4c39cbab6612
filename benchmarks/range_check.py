"""Cost of VideoFlow's bin-range checks: log_prob with them (the context's
`check_range` and the targets' `validate_args=True`) and without either,
alternating in one process, eagerly and in a tf.function.

    python benchmarks/range_check.py [PRESET] [BATCH] [REPEATS]

Prints the median time of each and their ratio (with / without).
"""

import sys
import time

import numpy as np
import tensorflow as tf

import tfp_videoflow as vf


def main(preset="small", batch=8, repeats=15):
    model = vf.VideoFlowModel.from_preset(preset)
    k, t = model.num_context_frames, model.num_target_frames
    rng = np.random.default_rng(0)
    videos = rng.integers(0, 256, (batch, k + t, *model.frame_shape),
                          dtype=np.uint8)
    model.initialize(videos)
    values = vf.dequantization.bin_centres(videos, model.num_bits)
    context, target = values[:, :k], values[:, k:]

    def log_prob(check):
        return model(context, check_range=check,
                     validate_args=check).log_prob(target)

    graphs = {c: tf.function(lambda c=c: log_prob(c)) for c in (True, False)}
    for mode, run in (("eager", log_prob),
                      ("tf.function", lambda c: graphs[c]())):
        run(True), run(False)  # warm-up and tracing
        times = {True: [], False: []}
        for rep in range(repeats):
            for check in ((True, False) if rep % 2 else (False, True)):
                start = time.perf_counter()
                run(check).numpy()
                times[check].append(time.perf_counter() - start)
        with_check, without = np.median(times[True]), np.median(times[False])
        print(f"{preset} batch {batch} {mode}: with check "
              f"{with_check * 1e3:.1f} ms, without {without * 1e3:.1f} ms, "
              f"ratio {with_check / without:.3f}")


if __name__ == "__main__":
    main(*(f(a) for f, a in zip((str, int, int), sys.argv[1:])))
