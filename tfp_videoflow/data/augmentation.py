"""Training-data augmentation: more distinct windows from a little footage.

Each kind is a random symmetry of a window, drawn once per window:

* "mirror": flipped left-right with probability 1/2;
* "reverse": played backwards with probability 1/2 (camera pans, people and
  cars move either way; the statistics of how frames change keep their kind);
* "rotate": turned by 0, 90, 180 or 270 degrees, uniformly (square frames):
  motion and texture in every orientation, so a little footage teaches the
  model local structure rather than one scene's layout.

Kinds combine with "+" ("mirror+reverse"); "none" keeps the windows. A
mirrored, reversed or rotated camera clip is as plausible a video as the
clip, so a model of a few clips sees up to 16 times the distinct windows;
held-out frames are never augmented. The draw for the i-th window depends
only on `seed`, the kind's place in the list and i, so a resumed run (which
skips the windows already seen) draws what an uninterrupted one draws.
"""

import tensorflow as tf


def _mirror(video, draw):
    return tf.cond(draw % 2 == 1, lambda: video[:, :, ::-1], lambda: video)


def _reverse(video, draw):
    return tf.cond(draw % 2 == 1, lambda: video[::-1], lambda: video)


def _rotate(video, draw):
    # [frames, H, W, C] is a batch of images to rot90.
    return tf.image.rot90(video, k=tf.cast(draw % 4, tf.int32))


AUGMENTATIONS = {"mirror": _mirror, "reverse": _reverse, "rotate": _rotate}


def kinds_of(spec):
    """`"mirror+reverse"` -> `("mirror", "reverse")`; `"none"` -> `()`.

    Raises `ValueError` naming an unknown or repeated kind.
    """
    kinds = () if spec == "none" else tuple(spec.split("+"))
    for kind in kinds:
        if kind not in AUGMENTATIONS:
            raise ValueError(
                f"augmentation {kind!r}: choose one or more of "
                f"{', '.join(repr(k) for k in AUGMENTATIONS)} joined by '+', "
                f"or 'none'.")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"augmentation {spec!r}: a kind given twice.")
    return kinds


def augment(videos, spec, seed):
    """`videos` ([frames, H, W, C] elements) with augmentation `spec`."""
    kinds = kinds_of(spec)
    if "rotate" in kinds:
        height, width = videos.element_spec.shape[1:3]
        if height is None or height != width:
            raise ValueError(f"augmentation 'rotate' needs square frames, "
                             f"got {height}x{width}.")
    for place, kind in enumerate(kinds):
        # The first kind draws from `seed` itself ("mirror" as before).
        draws = tf.data.Dataset.random(seed=seed + 1000003 * place)
        videos = tf.data.Dataset.zip((videos, draws)).map(AUGMENTATIONS[kind])
    return videos
