"""Video data sets, all `tf.data.Dataset`s of uint8 `[frames, H, W, C]`.

* `stochastic_movement`: the paper's synthetic set, generated offline (also
  the TFDS builder "stochastic_movement", registered by this import).
* `constant_velocity`: a square moving at constant velocity, a future fully
  determined by two past frames (a test of learnt dynamics).
* `bouncing_square`: a grey square bouncing off the walls, one channel
  (dynamics with a rule at the walls).
* `bair`: BAIR robot pushing from the user's TFDS data directory.
* `video_folder`: a folder of the user's own videos, split into train /
  validation / test windows and streamed; `load_video_file`,
  `iter_frames`, `frame_count`: one video file.
* `augment(videos, spec, seed)`: training windows mirrored, reversed or
  rotated at random (`AUGMENTATIONS`, joined by "+" in `spec`).
* `load(source, ...)`: any of these by name (or folder path), as the
  command line chooses them.
"""

from tfp_videoflow.data.augmentation import AUGMENTATIONS, augment
from tfp_videoflow.data.bair import bair
from tfp_videoflow.data.bouncing_square import bouncing_square
from tfp_videoflow.data.constant_velocity import constant_velocity
from tfp_videoflow.data.folders import video_folder
from tfp_videoflow.data.sources import NAMED_SOURCES, load
from tfp_videoflow.data.stochastic_movement import (
    DIRECTIONS,
    StochasticMovement,
    StochasticMovementConfig,
    stochastic_movement,
)
from tfp_videoflow.data.video_files import frame_count, iter_frames, load_video_file

__all__ = [
    "AUGMENTATIONS", "DIRECTIONS", "NAMED_SOURCES", "StochasticMovement",
    "StochasticMovementConfig", "augment", "bair", "bouncing_square",
    "constant_velocity", "frame_count",
    "iter_frames", "load", "load_video_file", "stochastic_movement",
    "video_folder",
]
