"""Batches of uint8 videos `[B, frames, H, W, C]`: checks and windows.

What `fit`, `evaluate`, `bits_per_pixel`, `initialize` and the diagnostics
take. A bad batch is refused with one line that names the call (`where`)
and what is wrong; inside a graph with shapes Keras relaxed, the unknown
dimensions are checked when the step runs.
"""

import tensorflow as tf

from tfp_videoflow import distribute


def check_videos(videos, frame_shape, min_frames, where):
    """`videos` as a tensor, if uint8 `[B, >= min_frames, *frame_shape]`."""
    videos = tf.convert_to_tensor(videos)
    frame_shape = tuple(frame_shape)
    if videos.dtype != tf.uint8:
        raise ValueError(f"{where}: expected uint8 videos, got "
                         f"{videos.dtype.name}.")
    shape = videos.shape
    if shape.rank is not None and shape.rank != 5:
        raise ValueError(f"{where}: expected videos shaped [B, frames, H, "
                         f"W, C], got shape {shape}.")
    if shape.rank is not None and any(
            want != got for want, got in zip(frame_shape, shape[2:])
            if got is not None):
        raise ValueError(f"{where}: expected frames of shape "
                         f"{frame_shape}, got {tuple(shape[2:])}.")
    if shape.rank is not None and shape[1] is not None and \
            shape[1] < min_frames:
        raise ValueError(
            f"{where}: videos have {shape[1]} frames, but "
            f"{min_frames} are needed (context + target frames).")
    if tf.executing_eagerly() or shape.is_fully_defined():
        return videos
    checks = [
        tf.debugging.assert_rank(
            videos, 5, message=f"{where}: expected videos shaped [B, "
            "frames, H, W, C]"),
        tf.debugging.assert_equal(
            tf.shape(videos)[2:], tf.constant(frame_shape),
            message=f"{where}: expected frames of shape {frame_shape}"),
        tf.debugging.assert_greater_equal(
            tf.shape(videos)[1], min_frames,
            message=f"{where}: videos have fewer than the {min_frames} "
            "frames needed (context + target frames)")]
    with tf.control_dependencies(checks):
        videos = tf.identity(videos)
    videos.set_shape([None, None, *frame_shape])  # checked above
    return videos


def windows(videos, length, seed=None):
    """`length` consecutive frames of each video.

    Args:
      videos: `[B, frames, ...]`, frames >= length.
      length: frames per window.
      seed: stateless seed of each video's random start (uniform over the
        starts that fit); None: every window starts at the first frame.

    Returns:
      `[B, length, ...]`.
    """
    if seed is None:
        return videos[:, :length]
    num_starts = tf.shape(videos)[1] - length + 1
    starts = distribute.stateless_uniform_rows(
        tf.shape(videos)[:1], seed, minval=0, maxval=num_starts,
        dtype=tf.int32)
    index = starts[:, tf.newaxis] + tf.range(length)[tf.newaxis]
    return tf.gather(videos, index, batch_dims=1)
