"""Wall-clock timing shared by the benchmark scripts (no TF, no torch).

Speed ratios are measured in pairs: contender A and contender B each run a
block of calls, alternately (A B, B A, A B, ...), so that whatever else the
machine is doing at that moment slows both sides of a pair alike. The
figure reported is the median of the per-pair ratios, with the
interquartile range (IQR) over the pairs as its spread; a ratio whose IQR
is wider than its lead (|median - 1|) is reported as "no measurable
difference".
"""

import os
import pathlib
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


def block_seconds(fn, calls):
    """Seconds per call of `fn`, over a block of `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def paired_times(contenders, pairs, calls):
    """Alternating blocks: per-call seconds of each contender, per pair.

    Args:
      contenders: dict name -> callable (one call = one step); two or more.
      pairs: number of rounds; in each every contender times one block,
        the order reversed on every other round (A B, B A, ...).
      calls: calls per block.

    Returns:
      dict name -> list of per-call seconds, one per round.
    """
    names = list(contenders)
    times = {name: [] for name in names}
    for round_ in range(pairs):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(block_seconds(contenders[name], calls))
    return times


def quartiles(values):
    """(first quartile, median, third quartile) of `values`."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def ratio_summary(numerator_times, denominator_times):
    """Median and IQR of the per-pair ratios numerator / denominator.

    With times, pass the slower-is-baseline side first: ratio = speed of
    the denominator's contender relative to the numerator's.
    """
    ratios = [a / b for a, b in zip(numerator_times, denominator_times)]
    q1, median, q3 = quartiles(ratios)
    return {"median": median, "q1": q1, "q3": q3, "iqr": q3 - q1,
            "min": min(ratios), "max": max(ratios), "pairs": len(ratios),
            "ratios": ratios, "verdict": verdict(median, q3 - q1)}


def verdict(median, iqr):
    """'no measurable difference' if the spread is wider than the lead."""
    if iqr >= abs(median - 1.0):
        return "no measurable difference"
    return "faster" if median > 1 else "slower"


def format_ratio(summary):
    """'1.83x (IQR 1.78-1.90, 20 pairs)' or with the verdict if no lead."""
    text = (f"{summary['median']:.2f}x (IQR {summary['q1']:.2f}-"
            f"{summary['q3']:.2f}, {summary['pairs']} pairs)")
    if summary["verdict"] == "no measurable difference":
        text += ": no measurable difference"
    return text


def machine():
    """CPU model, `nproc` and load average, for the result files."""
    cpu = "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
        flags = next(line for line in text.splitlines()
                     if line.startswith("flags"))
    except (OSError, StopIteration):
        pass
    features = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile")
                if f" {f}" in flags]
    return {"cpu": cpu, "nproc": len(os.sched_getaffinity(0)),
            "cpu_features": features,
            "load_average": list(os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def warm_step_functions(model, batch, num_batches, sample_frames):
    """`(train, sample)` of a compiled `VideoFlowModel`, ready to time.

    The model is initialised and its `fit` step traced on random videos.
    `train()` runs one `fit` step (Keras' `train_function` on a prefetched
    iterator over `num_batches` batches) and returns its logs; `sample()`
    draws `sample_frames` frames for `batch` contexts in a `tf.function`.
    """
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    frames = model.num_context_frames + model.train_target_frames
    videos = np.random.default_rng(0).integers(
        0, 256, (batch * num_batches, frames, *model.frame_shape),
        dtype=np.uint8)
    model.initialize(videos[:batch])
    model.fit(videos[:batch], batch_size=batch, verbose=0)  # builds, traces
    iterator = iter(tf.data.Dataset.from_tensor_slices(videos).batch(
        batch, drop_remainder=True).repeat().prefetch(2))
    train_function = model.train_function
    context = tf.constant(videos[:batch, :model.num_context_frames])

    @tf.function
    def sample():
        return model.sample_future(context, num_samples=1,
                                   num_frames=sample_frames, seed=[1, 2])

    return (lambda: train_function(iterator)), (lambda: sample().numpy())
