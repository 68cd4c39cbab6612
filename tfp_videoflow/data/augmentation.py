"""Training-data augmentation: more distinct windows from a little footage.

`mirrored(videos, seed)` flips each window left-right with probability 1/2.
A mirrored camera clip is as plausible as the clip (motion, lighting and
scene statistics keep their kind), so a model of a few clips sees twice the
distinct windows; held-out frames are never augmented. The coin of the i-th
window depends only on `seed` and i, so a resumed run (which skips the
windows already seen) draws the same coins as an uninterrupted one.
"""

import tensorflow as tf

AUGMENTATIONS = ("none", "mirror")


def mirrored(videos, seed):
    """`videos` ([frames, H, W, C] elements) each flipped left-right or not."""
    coins = tf.data.Dataset.random(seed=seed).map(lambda r: r % 2 == 1)
    return tf.data.Dataset.zip((videos, coins)).map(
        lambda video, flip: tf.cond(flip, lambda: video[:, :, ::-1],
                                    lambda: video))


def augment(videos, kind, seed):
    """`videos` with augmentation `kind` (one of `AUGMENTATIONS`)."""
    if kind not in AUGMENTATIONS:
        raise ValueError(f"augmentation {kind!r}: choose one of "
                         f"{', '.join(AUGMENTATIONS)}.")
    return mirrored(videos, seed) if kind == "mirror" else videos
