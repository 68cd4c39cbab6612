"""Video data sets, all `tf.data.Dataset`s of uint8 `[frames, H, W, C]`.

* `stochastic_movement`: the paper's synthetic set, generated offline (also
  the TFDS builder "stochastic_movement", registered by this import).
* `constant_velocity`: a square moving at constant velocity, a future fully
  determined by two past frames (a test of learnt dynamics).
* `bair`: BAIR robot pushing from the user's TFDS data directory.
* `video_folder` / `load_video_file`: the user's own videos.
* `load(source, ...)`: any of these by name (or folder path), as the
  command line chooses them.
"""

from tfp_videoflow.data.bair import bair
from tfp_videoflow.data.constant_velocity import constant_velocity
from tfp_videoflow.data.sources import NAMED_SOURCES, load
from tfp_videoflow.data.stochastic_movement import (
    DIRECTIONS,
    StochasticMovement,
    StochasticMovementConfig,
    stochastic_movement,
)
from tfp_videoflow.data.video_files import load_video_file, video_folder

__all__ = [
    "DIRECTIONS", "NAMED_SOURCES", "StochasticMovement",
    "StochasticMovementConfig", "bair", "constant_velocity", "load",
    "load_video_file", "stochastic_movement", "video_folder",
]
