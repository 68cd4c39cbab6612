"""What the generated data sets share: splits, arguments, the tf.data stream.

A generated set draws video i of split s under seed k from its own random
stream, so any video can be regenerated alone, in any order.
"""

import numpy as np
import tensorflow as tf

SPLITS = ("train", "validation", "test")
# Videos per split when `num_videos` is None (None: an endless stream).
DEFAULT_NUM_VIDEOS = {"train": None, "validation": 256, "test": 256}


def check_arguments(split, resolution, num_frames, num_videos, seed,
                    batch_size):
    """Raises ValueError naming the first bad argument of a generated set."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    if not isinstance(resolution, (int, np.integer)) or resolution < 4:
        raise ValueError(f"resolution must be an int >= 4, got {resolution}.")
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames must be an int >= 1, got {num_frames}.")
    if num_videos is not None and num_videos < 1:
        raise ValueError(f"num_videos must be >= 1 or None, got {num_videos}.")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")


def generated_dataset(to_example, split, num_videos, batch_size):
    """Videos 0, 1, ... of a generated split as a `tf.data.Dataset`.

    `to_example` maps a video's int64 index to its example; `num_videos`
    None means `DEFAULT_NUM_VIDEOS[split]` (an endless stream for "train").
    The order is deterministic whatever the parallelism.
    """
    if num_videos is None:
        num_videos = DEFAULT_NUM_VIDEOS[split]
    indices = (tf.data.Dataset.counter() if num_videos is None
               else tf.data.Dataset.range(num_videos))
    videos = indices.map(to_example, num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True)
    if batch_size is not None:
        videos = videos.batch(batch_size)
    return videos.prefetch(tf.data.AUTOTUNE)
