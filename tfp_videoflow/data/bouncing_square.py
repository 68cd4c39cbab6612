"""Bouncing Square: a grey square that bounces off the walls, one channel.

Every video: a black single-channel frame and one grey square of `side`
pixels (brightness `BRIGHTNESS`) starting at a random position with a
velocity (vx, vy), each component drawn from {-2, -1, 1, 2} pixels per
frame once per video. When a step would take the square past a wall it
is reflected back inside by the overshoot and that component of the
velocity changes sign (an elastic bounce), so the square never leaves the
frame. Two frames show the velocity up to a bounce, so with two context
frames the future is (almost always) determined, but unlike Constant
Velocity a model must learn that walls reverse it. Video i of split s under
seed k comes from its own random stream, `np.random.default_rng((k, s, i))`.
"""

import numpy as np
import tensorflow as tf

from tfp_videoflow.data import generated

SPEEDS = (-2, -1, 1, 2)
BRIGHTNESS = 192


def bounce(position, velocity, limit):
    """One step of one axis: `(position, velocity)` after moving once.

    The position stays in [0, limit]; an overshoot is reflected back and
    the velocity reversed.
    """
    position += velocity
    if position < 0:
        position, velocity = -position, -velocity
    elif position > limit:
        position, velocity = 2 * limit - position, -velocity
    return position, velocity


def render_video(rng, resolution, num_frames, side):
    """uint8 `[num_frames, resolution, resolution, 1]` and its track.

    Returns the video and the square's centre `(x, y)` in pixels per frame.
    """
    limit = resolution - side
    x, y = (int(rng.integers(limit + 1)) for _ in range(2))
    vx, vy = (SPEEDS[rng.integers(len(SPEEDS))] for _ in range(2))
    video = np.zeros((num_frames, resolution, resolution, 1), np.uint8)
    track = np.zeros((num_frames, 2), np.float64)
    for t in range(num_frames):
        if t:
            (x, vx), (y, vy) = bounce(x, vx, limit), bounce(y, vy, limit)
        video[t, y:y + side, x:x + side] = BRIGHTNESS
        track[t] = (x + side / 2, y + side / 2)
    return video, track


def bouncing_square(split="train", resolution=16, num_frames=4, side=3,
                    num_videos=None, seed=0, batch_size=None,
                    with_tracks=False):
    """Bouncing Square videos as a `tf.data.Dataset`.

    Args:
      split: "train", "validation" or "test" (disjoint random streams).
      resolution: frame height = width in pixels.
      num_frames: frames per video (>= 1).
      side: the square's side in pixels, at most `resolution - 2` (room to
        move at 2 pixels per frame).
      num_videos: videos in the data set; None: endless for "train", 256
        otherwise.
      seed: non-negative int; the same seed gives the same videos.
      batch_size: if given, batches of this many videos.
      with_tracks: also yield the square's centre `(x, y)` in pixels per
        frame, float32 `[num_frames, 2]`.

    Returns:
      A data set of uint8 `[num_frames, resolution, resolution, 1]` videos
      (`[B, ...]` when batched), or `(video, track)` pairs.
    """
    generated.check_arguments(split, resolution, num_frames, num_videos, seed,
                              batch_size)
    if not 1 <= side <= resolution - 2:
        raise ValueError(f"side must be between 1 and resolution - 2 = "
                         f"{resolution - 2}, got {side}.")
    split_index = generated.SPLITS.index(split)

    def generate(index):
        video, track = render_video(
            np.random.default_rng((seed, split_index, int(index))),
            resolution, num_frames, side)
        return video, track.astype(np.float32)

    def to_example(index):
        video, track = tf.numpy_function(generate, [index],
                                         (tf.uint8, tf.float32))
        video.set_shape((num_frames, resolution, resolution, 1))
        track.set_shape((num_frames, 2))
        return (video, track) if with_tracks else video

    return generated.generated_dataset(to_example, split, num_videos,
                                       batch_size)
