import numpy as np
import pytest
import tensorflow as tf

from tfp_videoflow import cli, data


def _videos(n):
    # Window i holds the value i in a left-right asymmetric pattern.
    frames = np.zeros((n, 2, 4, 4, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(n)[:, None, None, None] + 1
    return frames


def test_mirror_flips_about_half_of_the_windows_left_right():
    frames = _videos(200)
    out = np.stack(list(data.augment(
        tf.data.Dataset.from_tensor_slices(frames), "mirror", 3)))
    flipped = [np.array_equal(o, f[:, :, ::-1]) for o, f in zip(out, frames)]
    kept = [np.array_equal(o, f) for o, f in zip(out, frames)]
    assert all(a != b for a, b in zip(flipped, kept))  # one or the other
    assert 70 < sum(flipped) < 130


def test_mirror_coins_are_seeded_and_survive_a_skip():
    frames = tf.data.Dataset.from_tensor_slices(_videos(50))
    first = np.stack(list(data.augment(frames, "mirror", 3)))
    again = np.stack(list(data.augment(frames, "mirror", 3)))
    other = np.stack(list(data.augment(frames, "mirror", 4)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # A resumed run skips the windows it has seen: the same coins follow.
    resumed = np.stack(list(data.augment(frames, "mirror", 3).skip(20)))
    np.testing.assert_array_equal(resumed, first[20:])


def test_none_keeps_the_windows_and_an_unknown_kind_is_refused():
    frames = _videos(5)
    out = np.stack(list(data.augment(
        tf.data.Dataset.from_tensor_slices(frames), "none", 0)))
    np.testing.assert_array_equal(out, frames)
    with pytest.raises(ValueError, match="augmentation 'rotate': choose one"):
        data.augment(tf.data.Dataset.from_tensor_slices(frames), "rotate", 0)


def test_the_command_line_offers_every_augmentation(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--augment", "rotate"])
    error = capsys.readouterr().err
    for kind in data.AUGMENTATIONS:
        assert repr(kind) in error
