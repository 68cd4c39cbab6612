"""Constant Velocity: a square whose future is fully determined by its past.

Every video: a black frame and one bright square of `side` pixels in one of
the Stochastic Movement `COLOURS`, starting at a random pixel position and moving
by a velocity (dx, dy) in {-1, 0, 1}^2 \\ {(0, 0)} pixels per frame, drawn
once per video. The start is drawn so that the square stays inside the
frame for all `num_frames`. Two frames show the velocity, so with two
context frames the rest of the video has exactly one outcome: a model of
the dynamics should predict it with near certainty, a per-frame model
cannot. Video i of split s under seed k comes from its own random stream,
`np.random.default_rng((k, s, i))`, as in Stochastic Movement.
"""

import numpy as np
import tensorflow as tf

from tfp_videoflow.data import generated
from tfp_videoflow.data.stochastic_movement import COLOURS

VELOCITIES = tuple((dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if (dx, dy) != (0, 0))


def render_video(rng, resolution, num_frames, side):
    """uint8 `[num_frames, resolution, resolution, 3]` and its track.

    Returns the video and the square's centre `(x, y)` in pixels per frame.
    """
    dx, dy = VELOCITIES[rng.integers(len(VELOCITIES))]
    travel = num_frames - 1
    # Top-left corner such that every frame holds the whole square.
    low_x, low_y = max(0, -dx * travel), max(0, -dy * travel)
    high_x = resolution - side - max(0, dx * travel)
    high_y = resolution - side - max(0, dy * travel)
    if high_x < low_x or high_y < low_y:
        raise ValueError(f"a {side}-pixel square moving for {num_frames} "
                         f"frames does not fit in {resolution} pixels.")
    x0, y0 = rng.integers(low_x, high_x + 1), rng.integers(low_y, high_y + 1)
    colour = list(COLOURS.values())[
        rng.integers(len(COLOURS))]
    video = np.zeros((num_frames, resolution, resolution, 3), np.uint8)
    track = np.zeros((num_frames, 2), np.float64)
    for t in range(num_frames):
        x, y = x0 + t * dx, y0 + t * dy
        video[t, y:y + side, x:x + side] = colour
        track[t] = (x + side / 2, y + side / 2)
    return video, track


def constant_velocity(split="train", resolution=16, num_frames=4, side=3,
                      num_videos=None, seed=0, batch_size=None,
                      with_tracks=False):
    """Constant Velocity videos as a `tf.data.Dataset`.

    Args:
      split: "train", "validation" or "test" (disjoint random streams).
      resolution: frame height = width in pixels.
      num_frames: frames per video (>= 1).
      side: the square's side in pixels.
      num_videos: videos in the data set; None: endless for "train", 256
        otherwise.
      seed: non-negative int; the same seed gives the same videos.
      batch_size: if given, batches of this many videos.
      with_tracks: also yield the square's centre `(x, y)` in pixels per
        frame, float32 `[num_frames, 2]`.

    Returns:
      A data set of uint8 `[num_frames, resolution, resolution, 3]` videos
      (`[B, ...]` when batched), or `(video, track)` pairs.
    """
    generated.check_arguments(split, resolution, num_frames, num_videos, seed,
                              batch_size)
    if not 1 <= side <= resolution:
        raise ValueError(f"side must be between 1 and resolution, got {side}.")
    # Fails early, with a clear message, if the square cannot fit.
    render_video(np.random.default_rng(0), resolution, num_frames, side)
    split_index = generated.SPLITS.index(split)

    def generate(index):
        video, track = render_video(
            np.random.default_rng((seed, split_index, int(index))),
            resolution, num_frames, side)
        return video, track.astype(np.float32)

    def to_example(index):
        video, track = tf.numpy_function(generate, [index],
                                         (tf.uint8, tf.float32))
        video.set_shape((num_frames, resolution, resolution, 3))
        track.set_shape((num_frames, 2))
        return (video, track) if with_tracks else video

    return generated.generated_dataset(to_example, split, num_videos,
                                       batch_size)
