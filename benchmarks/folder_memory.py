"""Peak memory of training on a folder whose windows would not fit in memory.

    python benchmarks/folder_memory.py [CLIPS] [FRAMES] [BATCHES] [STEPS]

Writes CLIPS .npy clips of FRAMES 32x32 random frames to a temporary folder
(default 1000 x 1500: 4.6 GB on disk, whose stride-1 training windows of the
`small` model's 3 frames would take 8.7 GiB decoded, and all its splits'
12.8 GiB), then reads BATCHES batches of 32 shuffled training windows through
`data.load`, trains the `small` model STEPS steps on it, and prints the peak
resident memory (`getrusage`) after each stage. The folder is deleted at the
end.
"""

import pathlib
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

import tfp_videoflow as vf
from tfp_videoflow import data
from tfp_videoflow.data import folders

FRAME_SHAPE = (32, 32, 3)
WINDOW = 3  # The `small` preset's 1 context + 2 target frames.
GIB = 2**30


def _peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB


def _report(stage, start):
    print(f"{stage:<42} peak RSS {_peak_rss() / GIB:5.2f} GiB  "
          f"({time.perf_counter() - start:6.1f} s)", flush=True)


def _write_folder(folder, clips, frames):
    rng = np.random.default_rng(0)
    for clip in range(clips):
        np.save(folder / f"clip{clip:05d}.npy",
                rng.integers(0, 256, (frames, *FRAME_SHAPE), dtype=np.uint8))


def main(clips=1000, frames=1500, batches=2000, steps=10):
    start = time.perf_counter()
    _report("TensorFlow and the package imported", start)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="folder_memory_"))
    try:
        _write_folder(folder, clips, frames)
        size = sum(p.stat().st_size for p in folder.iterdir())
        window_bytes = WINDOW * np.prod(FRAME_SHAPE)
        windows = {split: sum(stop - start_ - WINDOW + 1 for _, start_, stop
                              in folders.split_parts(folder, split, WINDOW))
                   for split in folders.SPLITS}
        print(f"{folder}: {clips} clips x {frames} frames, {size / 1e9:.1f} "
              f"GB on disk; stride-1 windows decoded: train "
              f"{windows['train']:,} ({windows['train'] * window_bytes / GIB:.1f}"
              f" GiB), all splits {sum(windows.values()):,} "
              f"({sum(windows.values()) * window_bytes / GIB:.1f} GiB)")
        _report("folder written", start)
        videos = data.load(str(folder), "train", FRAME_SHAPE, WINDOW, seed=0)
        _report("data.load(folder, 'train')", start)
        read_start = time.perf_counter()
        for _ in videos.repeat().batch(32).take(batches):
            pass
        rate = batches * 32 / (time.perf_counter() - read_start)
        _report(f"{batches} batches of 32 read ({rate:,.0f} windows/s)",
                start)
        model = vf.VideoFlowModel.from_preset("small")
        model.compile(optimizer=vf.training.paper_optimizer(1e-4, 10))
        batched = videos.repeat().batch(16, drop_remainder=True)
        model.initialize(next(iter(batched)))
        model.fit(batched, steps_per_epoch=steps, epochs=1, verbose=0)
        _report(f"small model trained {steps} steps, batch 16", start)
        validation = data.load(str(folder), "validation", FRAME_SHAPE, WINDOW)
        print("validation loss and bits per pixel, 20 batches:",
              model.evaluate(validation.batch(16).take(20), verbose=0))
        _report("validation evaluated", start)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
