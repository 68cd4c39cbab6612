"""The user's own videos: files and folders of them.

Readable files: .npy and .npz arrays (`[T, H, W]`, `[T, H, W, 1|3|4]`;
uint8, or floats in [0, 1]), animated .gif, and .mp4 / .avi / .mov / .webm
(these need a video plugin for imageio: `pip install av` or
`pip install imageio-ffmpeg`). Every video comes back as uint8 RGB
`[T, H, W, 3]`.
"""

import logging
import pathlib

import numpy as np
import tensorflow as tf

ARRAY_SUFFIXES = (".npy", ".npz")
IMAGE_SUFFIXES = (".gif",)
MOVIE_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv")
SUFFIXES = ARRAY_SUFFIXES + IMAGE_SUFFIXES + MOVIE_SUFFIXES

_log = logging.getLogger(__name__)


def _read_array(path):
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with np.load(path, allow_pickle=False) as arrays:
        if not arrays.files:
            raise ValueError(f"{path}: the .npz file holds no array.")
        return arrays["video" if "video" in arrays.files else arrays.files[0]]


def _read_movie(path):
    import imageio.v3 as iio  # pylint: disable=import-outside-toplevel
    try:
        return iio.imread(path, index=None)
    except (ImportError, ValueError) as error:
        if path.suffix in MOVIE_SUFFIXES and "plugin" in str(error).lower():
            raise ValueError(
                f"{path}: reading {path.suffix} files needs a video plugin for "
                f"imageio; install one with `pip install av` (or "
                f"`pip install imageio-ffmpeg`).") from error
        raise


def to_rgb_uint8(video, where="video"):
    """A `[T, H, W]` / `[T, H, W, 1|3|4]` array as uint8 RGB `[T, H, W, 3]`.

    uint8 is kept; floats must lie in [0, 1] and are scaled to 0..255; other
    integer types must lie in 0..255.
    """
    video = np.asarray(video)
    if video.ndim == 3:
        video = video[..., np.newaxis]
    if video.ndim != 4 or video.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{where}: expected frames [T, H, W] or [T, H, W, C] "
                         f"with C in (1, 3, 4), got shape {video.shape}.")
    if 0 in video.shape[1:3]:
        raise ValueError(f"{where}: frames have no pixels (shape "
                         f"{video.shape}).")
    if video.dtype.kind == "f":
        if not np.all(np.isfinite(video)):
            raise ValueError(f"{where}: holds NaN or inf values.")
        if video.size and (video.min() < 0 or video.max() > 1):
            raise ValueError(f"{where}: float frames must lie in [0, 1], got "
                             f"values in [{video.min()}, {video.max()}].")
        video = np.round(video * 255.0)
    elif video.dtype.kind in "iub":
        if video.size and (video.min() < 0 or video.max() > 255):
            raise ValueError(f"{where}: integer frames must lie in 0..255, "
                             f"got values in [{video.min()}, {video.max()}].")
    else:
        raise ValueError(f"{where}: unsupported dtype {video.dtype}.")
    video = video.astype(np.uint8)
    if video.shape[-1] == 1:
        video = np.repeat(video, 3, axis=-1)
    return video[..., :3]  # Drops an alpha channel.


def load_video_file(path):
    """Reads one video file as uint8 RGB `[T, H, W, 3]`.

    Raises:
      FileNotFoundError: if there is no such file.
      ValueError: if the file is of an unknown type, unreadable, or does not
        hold frames.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: unknown video type {suffix!r}; expected one "
                         f"of {', '.join(SUFFIXES)}.")
    try:
        raw = (_read_array(path) if suffix in ARRAY_SUFFIXES
               else _read_movie(path))
    except Exception as error:  # pylint: disable=broad-except
        # Readers fail on a broken file with many error types (PIL raises
        # SyntaxError); all mean the same to the user.
        if isinstance(error, ValueError) and "video plugin" in str(error):
            raise
        raise ValueError(f"{path}: could not be read as a video "
                         f"({type(error).__name__}: {error}).") from error
    video = to_rgb_uint8(raw, where=str(path))
    if len(video) == 0:
        raise ValueError(f"{path}: holds no frames.")
    return video


def resize_video(video, frame_shape):
    """uint8 `[T, h, w, 3]` -> `[T, H, W, 3]` (anti-aliased, rounded)."""
    height, width = frame_shape[:2]
    if video.shape[1:3] == (height, width):
        return video
    resized = tf.image.resize(video, (height, width), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255),
                   tf.uint8).numpy()


def video_folder(path, frame_shape, num_frames, stride=None, shuffle=False,
                 seed=0):
    """Windows of `num_frames` frames from every video file in a folder.

    Files are read in name order, resized to `frame_shape`, and cut into
    windows starting every `stride` frames (default: `num_frames`, i.e. not
    overlapping). Files shorter than one window are skipped with a warning.
    All windows are held in memory: for corpora larger than that, write a
    TFDS builder.

    Args:
      path: a folder of files `load_video_file` reads.
      frame_shape: `(H, W, 3)` of the model.
      num_frames: frames per window.
      stride: frames between window starts.
      shuffle: shuffle the windows (with `seed`) every pass.
      seed: the shuffle's seed.

    Returns:
      A data set of uint8 `[num_frames, H, W, 3]`.
    """
    folder = pathlib.Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder.")
    if len(frame_shape) != 3 or frame_shape[2] != 3 or min(frame_shape) < 1:
        raise ValueError(f"frame_shape must be (H, W, 3) with H, W >= 1, got "
                         f"{frame_shape}.")
    if num_frames < 1 or (stride is not None and stride < 1):
        raise ValueError(f"num_frames and stride must be >= 1, got "
                         f"{num_frames} and {stride}.")
    stride = stride or num_frames
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: holds no video files "
                         f"({', '.join(SUFFIXES)}).")
    windows = []
    for file in files:
        video = load_video_file(file)
        if len(video) < num_frames:
            _log.warning("%s: %d frames, fewer than the %d of a window; "
                         "skipped.", file, len(video), num_frames)
            continue
        video = resize_video(video, frame_shape)
        windows += [video[start:start + num_frames] for start in
                    range(0, len(video) - num_frames + 1, stride)]
    if not windows:
        raise ValueError(f"{folder}: no video has the {num_frames} frames a "
                         "window needs.")
    videos = tf.data.Dataset.from_tensor_slices(np.stack(windows))
    if shuffle:
        videos = videos.shuffle(len(windows), seed=seed,
                                reshuffle_each_iteration=True)
    return videos
