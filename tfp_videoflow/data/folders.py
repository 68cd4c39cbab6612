"""A folder of the user's videos as train, validation and test windows.

Which frames are in which split:

* A folder with `train/` and `test/` subfolders: their clips are the train
  and test clips, and a `validation/` subfolder's the validation clips. With
  no `validation/`, each train clip's last 10 % of frames (rounded up) is
  its validation part and only the rest trains.
* Any other folder: each clip's last 25 % of frames (rounded up) is its test
  part; of the 75 % before, the last 10 % (rounded up) is its validation part
  and the rest trains.

A window is `num_frames` consecutive frames of one clip's part of a split,
starting at any frame (a part of N frames holds N - num_frames + 1), so no
window crosses a split's boundary and no frame is in two splits. A part too
short for one window gives none.

Windows stream through `tf.data`: a clip is read frame by frame, each frame
fitted to the model's size as it is read (`framing.py`), so memory holds the
shuffle buffer's windows and a few per clip being read, never a folder's.
"""

import collections
import itertools
import logging
import pathlib

import numpy as np
import tensorflow as tf

from tfp_videoflow.data.framing import check_resize_mode, fit_frame
from tfp_videoflow.data.video_files import SUFFIXES, frame_count, iter_frames

SPLITS = ("train", "validation", "test")
# The share of a clip's frames at its end that a later split takes: a
# quarter for test, a tenth of the rest for validation (rounded up).
_TAIL_SHARES = {"test": 4, "validation": 10}
_RULES = {"train": "each clip's frames before its validation part",
          "validation": "the last 10 % of each clip's frames not held out "
                        "for test",
          "test": "the last 25 % of each clip's frames"}
# A clip's windows come out of Python this many at a time.
_WINDOWS_PER_CALL = 32
# Training reads this many clips at once, so a batch mixes clips.
_OPEN_CLIPS = 8
# The shuffle buffer holds at most this many windows and bytes of windows.
_SHUFFLE_WINDOWS = 4096
_SHUFFLE_BYTES = 256 * 2**20

_log = logging.getLogger(__name__)


def frame_ranges(num_frames, splits=SPLITS):
    """{split: (start, stop)} of a clip's frames, for `splits` in time order.

    The first split takes what the later ones leave: `frame_ranges(100)` is
    `{"train": (0, 67), "validation": (67, 75), "test": (75, 100)}`.
    """
    ranges, stop = {}, num_frames
    for split in reversed(splits[1:]):
        share = _TAIL_SHARES[split]
        start = stop - (stop + share - 1) // share
        ranges[split], stop = (start, stop), start
    ranges[splits[0]] = (0, stop)
    return ranges


def _layout(folder):
    """{directory: the splits its clips hold, in time order}."""
    present = [s for s in SPLITS if (folder / s).is_dir()]
    if not present:
        return {folder: SPLITS}
    if "train" not in present or "test" not in present:
        raise ValueError(f"{folder}: has {'/, '.join(present)}/ but a split "
                         "folder needs both train/ and test/ subfolders.")
    if "validation" in present:
        return {folder / s: (s,) for s in SPLITS}
    return {folder / "train": ("train", "validation"),
            folder / "test": ("test",)}


def _video_files(directory):
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such folder.")
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise ValueError(f"{directory}: holds no video files "
                         f"({', '.join(SUFFIXES)}).")
    return files


def split_parts(folder, split, num_frames):
    """[(file, start, stop)] of the clips' parts in `split` that hold a window.

    Raises:
      ValueError: no part holds a window of `num_frames` frames (the message
        says how long a clip must be), or the folder holds no videos.
    """
    folder = pathlib.Path(folder)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got "
                         f"{split!r}.")
    directory, splits = next((d, s) for d, s in _layout(folder).items()
                             if split in s)
    lengths = {file: frame_count(file) for file in _video_files(directory)}
    holds_window = lambda start, stop: stop - start >= num_frames
    parts = [(file, *frame_ranges(length, splits)[split])
             for file, length in lengths.items()]
    parts = [part for part in parts if holds_window(*part[1:])]
    if not parts:
        needed = next(n for n in itertools.count(num_frames)
                      if holds_window(*frame_ranges(n, splits)[split]))
        rule = f"whole clips in {directory}" if len(splits) == 1 else \
            _RULES[split]
        raise ValueError(
            f"{folder}: no clip is long enough for a {num_frames}-frame "
            f"{split} window ({split}: {rule}); that needs clips of at least "
            f"{needed} frames, the longest in {directory} has "
            f"{max(lengths.values())}.")
    if len(parts) < len(lengths):
        _log.warning("%s: %d of %d clips are too short for a %d-frame %s "
                     "window; skipped for %s.", directory,
                     len(lengths) - len(parts), len(lengths), num_frames,
                     split, split)
    return parts


def _clip_windows(part, frame_shape, num_frames, resize):
    """A clip part's windows, a few at a time (each call into Python costs).

    Yields uint8 `[n, num_frames, H, W, 3]`, n <= `_WINDOWS_PER_CALL`.
    """
    file, start, stop = part
    recent = collections.deque(maxlen=num_frames)
    ready = []
    for frame in iter_frames(file, start, stop):
        recent.append(fit_frame(frame, frame_shape[:2], resize))
        if len(recent) == num_frames:
            ready.append(np.stack(recent))
        if len(ready) == _WINDOWS_PER_CALL:
            yield np.stack(ready)
            ready = []
    if ready:
        yield np.stack(ready)


def video_folder(path, split, frame_shape, num_frames, resize="crop",
                 shuffle=False, seed=0):
    """Windows of `num_frames` frames of a folder's `split`, streamed.

    Args:
      path: a folder of files `video_files` reads (see the module docstring
        for which frames are in which split).
      split: "train", "validation" or "test".
      frame_shape: `(H, W, 3)` of the model.
      num_frames: frames per window.
      resize: how frames meet the model's size: "crop", "squash" or "pad"
        (see `framing.py`).
      shuffle: read the clips in an order shuffled each pass, several at
        once, and shuffle their windows in a bounded buffer (seeded by
        `seed`, so the same every run). Otherwise clips are read one after
        the other in name order and windows come in order.
      seed: the shuffles' seed.

    Returns:
      A data set of uint8 `[num_frames, H, W, 3]`.

    Raises:
      FileNotFoundError: no such folder.
      ValueError: bad settings, a file that cannot be decoded, or no window
        in the split.
    """
    folder = pathlib.Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder.")
    frame_shape = tuple(frame_shape)
    if len(frame_shape) != 3 or frame_shape[2] != 3 or min(frame_shape) < 1:
        raise ValueError(f"frame_shape must be (H, W, 3) with H, W >= 1, got "
                         f"{frame_shape}.")
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}.")
    check_resize_mode(resize)
    parts = split_parts(folder, split, num_frames)

    spec = tf.TensorSpec((None, num_frames) + frame_shape, tf.uint8)
    clip = lambda index: tf.data.Dataset.from_generator(
        lambda i: _clip_windows(parts[i], frame_shape, num_frames, resize),
        args=(index,), output_signature=spec).unbatch()
    clips = tf.data.Dataset.range(len(parts))
    if not shuffle:
        return clips.flat_map(clip)
    window_bytes = spec.shape[1:].num_elements()
    buffer = max(1, min(_SHUFFLE_WINDOWS, _SHUFFLE_BYTES // window_bytes))
    return (clips.shuffle(len(parts), seed=seed, reshuffle_each_iteration=True)
            .interleave(clip, cycle_length=min(len(parts), _OPEN_CLIPS),
                        block_length=1)
            .shuffle(buffer, seed=seed, reshuffle_each_iteration=True))
