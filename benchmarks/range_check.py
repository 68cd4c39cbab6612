"""Cost of VideoFlow's bin-range check (`check_range`): log_prob with and
without it, alternating in one process, eagerly and in a tf.function.

    python benchmarks/range_check.py [PRESET] [BATCH] [REPEATS]
"""
import time, sys
import numpy as np, tensorflow as tf
import tfp_videoflow as vf
preset = sys.argv[1] if len(sys.argv) > 1 else "small"
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 8
m = vf.VideoFlowModel.from_preset(preset)
k, t = m.num_context_frames, m.num_target_frames
rng = np.random.default_rng(0)
videos = rng.integers(0, 256, (batch, k + t, *m.frame_shape), dtype=np.uint8)
m.initialize(videos)
values = vf.dequantization.bin_centres(videos, m.num_bits)
ctx, tgt = values[:, :k], values[:, k:]
def run(check):
    return m(ctx, check_range=check).log_prob(tgt)
graph = {c: tf.function(lambda c=c: run(c)) for c in (True, False)}
for mode, fn in (("eager", run), ("tf.function", lambda c: graph[c]())):
    fn(True); fn(False)  # warm up / trace
    times = {True: [], False: []}
    for rep in range(int(sys.argv[3]) if len(sys.argv) > 3 else 15):
        for c in ((True, False) if rep % 2 else (False, True)):
            t0 = time.perf_counter(); fn(c).numpy(); times[c].append(time.perf_counter() - t0)
    on, off = np.median(times[True]), np.median(times[False])
    print(f"{preset} batch {batch} {mode}: with check {on*1e3:.1f} ms, without {off*1e3:.1f} ms, ratio {on/off:.3f}")
