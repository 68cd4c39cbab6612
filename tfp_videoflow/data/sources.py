"""Which data: one entrance from a source's name to its videos.

    videos = data.load("stochastic_movement", "train", frame_shape=(32, 32, 3),
                       num_frames=4)

A source is "stochastic_movement" (generated, offline), "bair" (TFDS, from
the user's data directory) or the path of a folder of video files (its
train / validation / test split and windows: `folders.py`). Every
problem (unknown source, frames of the wrong size, too few frames) raises a
`ValueError` that names it; the command line shows it as its one-line usage
error.
"""

import pathlib

import tensorflow as tf

from tfp_videoflow.data.bair import bair
from tfp_videoflow.data.folders import video_folder
from tfp_videoflow.data.stochastic_movement import stochastic_movement

NAMED_SOURCES = ("stochastic_movement", "bair")
# Videos generated for Stochastic Movement have at least this many frames
# (the paper's 5), more if the model's window needs them.
_GENERATED_FRAMES = 5


def load(source, split, frame_shape, num_frames, seed=0, data_dir=None,
         resize="crop"):
    """uint8 videos `[num_frames, H, W, C]` of `source` as a `tf.data.Dataset`.

    Args:
      source: a name in `NAMED_SOURCES` or the path of a folder of videos.
      split: "train" or "test" (and "validation" for generated data and
        folders).
      frame_shape: `(H, W, C)` the videos must have (BAIR and folders are
        resized).
      num_frames: frames per video (the first ones are kept); a folder's
        windows have this many frames and start at every frame.
      seed: seed of generated data, and of the order of a folder's training
        windows (shuffled; its other splits come in order).
      data_dir: the TFDS data directory (BAIR).
      resize: how a folder's frames meet `frame_shape`: "crop" (centred, to
        the model's aspect), "squash" or "pad" (letterboxed with black).

    Raises:
      ValueError: the source cannot give such videos.
    """
    frame_shape = tuple(frame_shape)
    if source == "stochastic_movement":
        if frame_shape[0] != frame_shape[1] or frame_shape[2] != 3:
            raise ValueError("stochastic_movement makes square RGB frames; "
                             f"the model expects {frame_shape}.")
        videos = stochastic_movement(
            split=split, resolution=frame_shape[0],
            num_frames=max(num_frames, _GENERATED_FRAMES), seed=seed)
    elif source == "bair":
        videos = bair(split=split, data_dir=data_dir)
        if frame_shape != (64, 64, 3):
            videos = videos.map(lambda v: tf.cast(tf.clip_by_value(
                tf.round(tf.image.resize(v, frame_shape[:2], antialias=True)),
                0, 255), tf.uint8))
    else:
        path = pathlib.Path(source)
        if not path.exists():
            raise ValueError(f"data {source!r}: no such folder (and not one "
                             f"of {', '.join(NAMED_SOURCES)}).")
        videos = video_folder(path, split, frame_shape=frame_shape,
                              num_frames=num_frames, resize=resize,
                              shuffle=split == "train", seed=seed)
    spec = videos.element_spec
    if spec.shape.rank != 4:
        raise ValueError(f"data {source!r}: expected videos [frames, H, W, C],"
                         f" got elements shaped {spec.shape}.")
    available = spec.shape[0]
    if available is not None and available < num_frames:
        raise ValueError(f"data {source!r}: its videos have {available} "
                         f"frames; the model needs {num_frames}.")
    return videos.map(lambda v: v[:num_frames])
