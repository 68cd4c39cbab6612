"""Peak memory of a training step, with and without memory saving.

    python benchmarks/memory.py peak      # small, shapes, bair at their
                                          # batches and 4x, off / on
    python benchmarks/memory.py ratio     # step time on / off, alternated
    python benchmarks/memory.py sampling  # peak memory sampling 10 / 100 frames
                                          # (sample_future and sample_stream)
    python benchmarks/memory.py peak --cases bair:5 --quick   # one case

`peak` runs every case in its own process (the preset built with
`memory_saving` off or on, compiled with the command line's optimizer,
initialised, its `fit` step traced, then `--steps` steps timed) and reports
the process's peak resident memory (`getrusage`: everything, TensorFlow's
runtime and the first step's graph optimisation included) and the peak of
the tensors TensorFlow holds during the timed steps
(`tf.config.experimental.get_memory_info`, of the GPU where there is
one). A process whose memory passes `--cap-gib` is stopped and reported
as "> cap". `ratio` builds both
models (the same weights) in one process and times them in alternating
blocks (`timing.paired_times`): the median ratio and its IQR. Prints a
markdown table and writes JSON with `--json`.
"""

import argparse
import itertools
import json
import pathlib
import resource
import subprocess
import sys
import time

import timing  # benchmarks/timing.py

# Each preset's training batch (the command line's, or the paper's).
BATCHES = {"small": 16, "shapes": 10, "bair": 5}


def _build(preset, memory_saving, args):
    import tfp_videoflow as vf  # pylint: disable=import-outside-toplevel
    from tfp_videoflow import presets, training  # pylint: disable=import-outside-toplevel
    overrides = presets.parse_overrides(args.set)
    if args.quick:
        overrides.update(steps_per_level=2, coupling_width=32,
                         prior_width=16, prior_depth=1)
    model = vf.VideoFlowModel.from_preset(preset, memory_saving=memory_saving,
                                          **overrides)
    model.compile(optimizer=training.paper_optimizer())
    return model


def _device():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def _one_case(args):
    """In a subprocess: one preset, batch and setting; prints JSON."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    preset, batch = args.case.split(":")
    batch = int(batch)
    model = _build(preset, args.memory_saving == "on", args)
    train, _ = timing.warm_step_functions(model, batch, 2, 1)
    # TensorFlow's own count of the tensors it holds, over the timed steps
    # only (the first step also optimises the graph, which RSS includes).
    tf.config.experimental.reset_memory_stats(_device())
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = float(train()["loss"])
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({
        "case": args.case, "memory_saving": args.memory_saving,
        "seconds_per_step": seconds, "loss": loss,
        "peak_rss_gib": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "tensor_peak_gib": tf.config.experimental.get_memory_info(
            _device())["peak"] / 2**30, "device": _device()}), flush=True)


def _rss_gib(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def _run_capped(command, cap_gib):
    """Runs `command`; its last stdout line as JSON, or None past the cap."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    highest = 0.0
    while process.poll() is None:
        highest = max(highest, _rss_gib(process.pid))
        if highest > cap_gib:
            process.kill()
            process.wait()
            return None, highest
        time.sleep(0.2)
    output = process.stdout.read()
    if process.returncode:
        raise RuntimeError(f"{command} failed ({process.returncode})")
    return json.loads(output.strip().splitlines()[-1]), highest


def peak(args):
    cases = args.cases or [f"{p}:{b * k}" for p, b in BATCHES.items()
                           for k in (1, 4)]
    rows = []
    print(f"Machine: {json.dumps(timing.machine())}\n")
    print("| preset | batch | memory saving | peak RSS GiB | tensors' peak GiB "
          "(a step) | s / step |")
    print("|---|---:|---|---:|---:|---:|")
    for case in cases:
        for setting in args.settings:
            command = [sys.executable, __file__, "_one_case", "--case", case,
                       "--memory-saving", setting, "--steps", str(args.steps),
                       "--set", *args.set]
            result, highest = _run_capped(
                command + (["--quick"] if args.quick else []), args.cap_gib)
            preset, batch = case.split(":")
            if result is None:
                rows.append({"case": case, "memory_saving": setting,
                             "peak_rss_gib": None, "stopped_above_gib":
                             args.cap_gib})
                print(f"| {preset} | {batch} | {setting} | > {args.cap_gib:g}"
                      f" (stopped) | - | - |", flush=True)
                continue
            rows.append(result)
            print(f"| {preset} | {batch} | {setting} | "
                  f"{result['peak_rss_gib']:.2f} | "
                  f"{result['tensor_peak_gib']:.2f} | "
                  f"{result['seconds_per_step']:.2f} |", flush=True)
    return rows


def ratio(args):
    """Step time with memory saving over without, alternated in one process."""
    results = []
    print(f"Machine: {json.dumps(timing.machine())}\n")
    print("| preset | batch | step time on / off (median, IQR) | "
          "s / step off | s / step on |")
    print("|---|---:|---|---:|---:|")
    for case in args.cases or ["small:16"]:
        preset, batch = case.split(":")
        batch = int(batch)
        models = {s: _build(preset, s == "on", args)
                  for s in ("off", "on")}
        for mine, theirs in zip(models["on"].weights, models["off"].weights):
            mine.assign(theirs)  # the same weights (and starting seeds)
        steps = {s: timing.warm_step_functions(m, batch, 4, 1)[0]
                 for s, m in models.items()}
        times = timing.paired_times(
            {s: (lambda f=f: float(f()["loss"])) for s, f in steps.items()},
            args.pairs, args.calls)
        summary = timing.ratio_summary(times["on"], times["off"])
        off, on = (timing.quartiles(times[s])[1] for s in ("off", "on"))
        print(f"| {preset} | {batch} | {timing.format_ratio(summary)} | "
              f"{off:.3f} | {on:.3f} |", flush=True)
        results.append({"case": case, "on_over_off": summary,
                        "seconds_off": times["off"], "seconds_on": times["on"]})
        del models, steps
    return results


def _one_sampling(args):
    """In a subprocess: peak memory of sampling `--frames` frames.

    Besides peak RSS, the peak of the tensors TensorFlow holds while
    sampling and the bytes of what the sampler returns (the float frames
    and the latents it keeps for the output, all frames at once): the part
    of the peak that must grow with the frames.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    preset, batch = args.case.split(":")
    model = _build(preset, False, args)
    context = tf.zeros([int(batch), model.num_context_frames,
                        *model.frame_shape], tf.uint8)
    model.initialize(tf.zeros([int(batch), model.num_context_frames + 1,
                               *model.frame_shape], tf.uint8))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    device = _device()
    tf.config.experimental.reset_memory_stats(device)
    start = time.perf_counter()
    num_frames = args.frames[0]  # one length per process
    if args.sampler == "stream":  # each frame dropped once it is made
        for frame in model.sample_stream(context, num_samples=1,
                                         num_frames=num_frames, seed=[1, 2]):
            shape = [num_frames, *frame.shape]
    else:
        frame = model.sample_future(context, num_samples=1,
                                    num_frames=num_frames, seed=[1, 2])
        shape = frame.shape
    seconds = time.perf_counter() - start
    # What the sampler holds for its result, float frames and latents (as
    # many numbers as pixels), 4 bytes each: all frames, or the last one.
    output = 2 * 4 * int(tf.size(frame))
    print(json.dumps({
        "case": args.case, "sampler": args.sampler, "frames": num_frames,
        "shape": list(shape), "seconds": seconds,
        "rss_before_gib": before,
        "peak_rss_gib": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "tensors_peak_mib": tf.config.experimental.get_memory_info(
            device)["peak"] / 2**20,
        "output_mib": output / 2**20}), flush=True)


def sampling(args):
    rows = []
    print(f"Machine: {json.dumps(timing.machine())}\n")
    print("| preset | contexts | sampler | frames sampled | peak RSS GiB | "
          "RSS before sampling GiB | tensors' peak MiB | output MiB | s |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for case, sampler, frames in itertools.product(
            args.cases or ["small:16", "bair:1"], args.samplers, args.frames):
        result, _ = _run_capped(
            [sys.executable, __file__, "_one_sampling", "--case", case,
             "--sampler", sampler, "--frames", str(frames), "--set", *args.set]
            + (["--quick"] if args.quick else []),
            args.cap_gib)
        preset, batch = case.split(":")
        if result is None:
            rows.append({"case": case, "sampler": sampler, "frames": frames,
                         "stopped_above_gib": args.cap_gib})
            print(f"| {preset} | {batch} | {sampler} | {frames} | "
                  f"> {args.cap_gib:g} (stopped) | - | - | - | - |",
                  flush=True)
            continue
        rows.append(result)
        print(f"| {preset} | {batch} | {sampler} | {frames} | "
              f"{result['peak_rss_gib']:.2f} | "
              f"{result['rss_before_gib']:.2f} | "
              f"{result['tensors_peak_mib']:.1f} | "
              f"{result['output_mib']:.1f} | "
              f"{result['seconds']:.1f} |", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["peak", "ratio", "sampling",
                                         "_one_case", "_one_sampling"])
    parser.add_argument("--cases", nargs="+", default=None,
                        metavar="PRESET:BATCH")
    parser.add_argument("--case", default=None)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="preset overrides, as videoflow train --set")
    parser.add_argument("--memory-saving", choices=["off", "on"],
                        default="off")
    parser.add_argument("--settings", nargs="+", choices=["off", "on"],
                        default=["off", "on"], help="memory saving (peak)")
    parser.add_argument("--steps", type=int, default=2,
                        help="timed steps after the traced one (peak)")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2,
                        help="steps per timed block (ratio)")
    parser.add_argument("--frames", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--samplers", nargs="+", default=["future", "stream"],
                        choices=["future", "stream"],
                        help="sample_future (all frames at once) or "
                             "sample_stream (one at a time)")
    parser.add_argument("--sampler", default="future",
                        choices=["future", "stream"])
    parser.add_argument("--cap-gib", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true",
                        help="narrow models: a smoke run of the script")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.part == "_one_case":
        return _one_case(args)
    if args.part == "_one_sampling":
        return _one_sampling(args)
    results = {"peak": peak, "ratio": ratio, "sampling": sampling}[args.part](
        args)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"machine": timing.machine(), "argv": sys.argv[1:],
             "results": results}, indent=1))
    return None


if __name__ == "__main__":
    main()
