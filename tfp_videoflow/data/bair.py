"""BAIR robot pushing (action-free) through TFDS' `bair_robot_pushing_small`.

30-frame 64x64 RGB videos of the main camera ("image_main"), read from the
user's TFDS `data_dir` without downloading: prepare it once on a machine with
network access (`tfds build bair_robot_pushing_small --data_dir DIR`) and copy
DIR over.
"""

import tensorflow_datasets as tfds

DATASET = "bair_robot_pushing_small"
SPLITS = ("train", "test")


def bair(split="train", data_dir=None):
    """BAIR videos as a data set of uint8 `[30, 64, 64, 3]`.

    Args:
      split: "train" or "test" (TFDS split syntax such as "train[:10%]" also
        works).
      data_dir: the TFDS data directory holding the prepared data set
        (default: TFDS' default, `~/tensorflow_datasets`).

    Raises:
      FileNotFoundError: if the data set is not prepared in `data_dir`.
    """
    if split.split("[")[0] not in SPLITS:
        raise ValueError(f"BAIR split must be one of {SPLITS}, got {split!r}.")
    try:
        videos = tfds.load(DATASET, split=split, data_dir=data_dir,
                           download=False, shuffle_files=False)
    except (AssertionError, FileNotFoundError, tfds.core.DatasetNotFoundError
            ) as error:
        where = data_dir or "the default TFDS data directory"
        raise FileNotFoundError(
            f"BAIR robot pushing is not prepared in {where}. On a machine "
            f"with network access run `tfds build {DATASET} --data_dir DIR` "
            f"and pass that DIR as data_dir / --data-dir. ({error})"
        ) from error
    return videos.map(lambda example: example["image_main"])
