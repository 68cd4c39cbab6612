"""Wall-clock timing shared by the benchmark scripts (no TF, no torch)."""

import statistics
import time


def median_seconds(fn, repeats, warmup=0):
    """Median wall time of `repeats` calls of `fn`, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
