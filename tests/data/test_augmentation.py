import numpy as np
import pytest
import tensorflow as tf

from tfp_videoflow import cli, data


def _videos(n, frames=2):
    # Window i holds the value i + 1 in a pattern with no symmetry in space
    # (one corner pixel) or in time (only the first frame).
    videos = np.zeros((n, frames, 4, 4, 3), np.uint8)
    videos[:, 0, 0, 1, 0] = np.arange(n) + 1
    return videos


def _augmented(videos, spec, seed):
    return np.stack(list(data.augment(
        tf.data.Dataset.from_tensor_slices(videos), spec, seed)))


def _variants(video, kinds):
    """Every video the kinds can make of `video`, by name."""
    out = {"": video}
    if "mirror" in kinds:
        out = {**out, **{k + "m": v[:, :, ::-1] for k, v in out.items()}}
    if "reverse" in kinds:
        out = {**out, **{k + "r": v[::-1] for k, v in out.items()}}
    if "rotate" in kinds:
        out = {**out, **{k + f"t{q}": np.rot90(v, q, axes=(1, 2))
                         for k, v in out.items() for q in (1, 2, 3)}}
    return out


@pytest.mark.parametrize("spec, distinct", [
    ("mirror", 2), ("reverse", 2), ("rotate", 4), ("mirror+reverse", 4),
    ("mirror+reverse+rotate", 16)])
def test_each_window_becomes_one_of_its_symmetries_drawn_evenly(
        spec, distinct):
    videos = _videos(800)
    out = _augmented(videos, spec, 3)
    counts = {}
    for o, v in zip(out, videos):
        names = [name for name, w in _variants(v, spec.split("+")).items()
                 if np.array_equal(o, w)]
        assert names, "not a symmetry of the window"
        counts[names[0]] = counts.get(names[0], 0) + 1
    # Every symmetry of the group comes up, each often.
    assert len(counts) == distinct
    assert min(counts.values()) > 0.4 * 800 / len(counts)


def test_draws_are_seeded_and_survive_a_skip():
    frames = tf.data.Dataset.from_tensor_slices(_videos(50))
    spec = "mirror+reverse+rotate"
    first = np.stack(list(data.augment(frames, spec, 3)))
    again = np.stack(list(data.augment(frames, spec, 3)))
    other = np.stack(list(data.augment(frames, spec, 4)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # A resumed run skips the windows it has seen: the same draws follow.
    resumed = np.stack(list(data.augment(frames, spec, 3).skip(20)))
    np.testing.assert_array_equal(resumed, first[20:])


def test_mirror_alone_draws_the_coins_it_always_drew():
    # Runs recorded with --augment mirror resume with the same windows.
    videos = _videos(40)
    coins = [int(r) % 2 == 1 for r in
             tf.data.Dataset.random(seed=3).take(40).as_numpy_iterator()]
    expected = np.stack([v[:, :, ::-1] if c else v
                         for v, c in zip(videos, coins)])
    np.testing.assert_array_equal(_augmented(videos, "mirror", 3), expected)


def test_none_keeps_the_windows_and_bad_specs_are_refused():
    frames = _videos(5)
    np.testing.assert_array_equal(_augmented(frames, "none", 0), frames)
    dataset = tf.data.Dataset.from_tensor_slices(frames)
    with pytest.raises(ValueError, match="augmentation 'spin': choose"):
        data.augment(dataset, "spin", 0)
    with pytest.raises(ValueError, match="given twice"):
        data.augment(dataset, "mirror+mirror", 0)
    wide = tf.data.Dataset.from_tensor_slices(np.zeros((2, 2, 4, 6, 3),
                                                       np.uint8))
    with pytest.raises(ValueError, match="'rotate' needs square frames"):
        data.augment(wide, "rotate", 0)


def test_the_command_line_offers_every_augmentation(capsys):
    assert set(cli.AUGMENTATIONS) == set(data.AUGMENTATIONS)
    for bad in ("spin", "mirror+mirror", "mirror+"):
        with pytest.raises(SystemExit):
            cli.main(["train", "--augment", bad])
        error = capsys.readouterr().err
        for kind in data.AUGMENTATIONS:
            assert repr(kind) in error
