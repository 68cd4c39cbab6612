"""Video data sets, all `tf.data.Dataset`s of uint8 `[frames, H, W, C]`.

* `stochastic_movement`: the paper's synthetic set, generated offline (also
  the TFDS builder "stochastic_movement", registered by this import).
* `constant_velocity`: a square moving at constant velocity, a future fully
  determined by two past frames (a test of learnt dynamics).
* `bair`: BAIR robot pushing from the user's TFDS data directory.
* `video_folder` / `load_video_file`: the user's own videos.
"""

from tfp_videoflow.data.bair import bair
from tfp_videoflow.data.moving_square import constant_velocity
from tfp_videoflow.data.moving_shapes import (
    DIRECTIONS, stochastic_movement)
from tfp_videoflow.data.stochastic_movement_tfds import (
    StochasticMovement, StochasticMovementConfig)
from tfp_videoflow.data.video_files import load_video_file, video_folder

__all__ = [
    "DIRECTIONS", "StochasticMovement", "StochasticMovementConfig", "bair",
    "constant_velocity",
    "load_video_file", "stochastic_movement", "video_folder",
]
