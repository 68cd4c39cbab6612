"""A folder of videos: its split, its windows at every start, streamed."""

import numpy as np
import pytest

from tests.helpers import write_movie
from tfp_videoflow import data
from tfp_videoflow.data import folders

W = 3  # Frames per window.


def _clip(clip, num_frames, size=8):
    """Frames that say who they are: red = frame index, green = clip."""
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    frames[..., 0] = np.arange(num_frames)[:, None, None]
    frames[..., 1] = clip
    return frames


def _who(window):
    """[(clip, frame)] of a window's frames, read from the centre pixel."""
    middle = window.shape[1] // 2
    return [(int(f[middle, middle, 1]), int(f[middle, middle, 0]))
            for f in window]


def _windows(folder, split, **kwargs):
    return [_who(w) for w in data.video_folder(
        folder, split, (8, 8, 3), W, **kwargs).as_numpy_iterator()]


def _frames(windows):
    return {frame for window in windows for frame in window}


def test_frame_ranges_split_each_clip_in_time_order():
    assert folders.frame_ranges(100) == {
        "train": (0, 67), "validation": (67, 75), "test": (75, 100)}
    for n in range(0, 120):
        ranges = folders.frame_ranges(n)
        assert ranges["train"][0] == 0 and ranges["test"][1] == n
        assert ranges["train"][1] == ranges["validation"][0]
        assert ranges["validation"][1] == ranges["test"][0]
        assert ranges["test"][1] - ranges["test"][0] == -(-n // 4)
        trainable = ranges["test"][0]
        assert ranges["validation"][1] - ranges["validation"][0] == \
            -(-trainable // 10)
    assert folders.frame_ranges(50, ("train", "validation")) == {
        "train": (0, 45), "validation": (45, 50)}
    assert folders.frame_ranges(50, ("test",)) == {"test": (0, 50)}


def test_held_out_windows_start_at_every_frame_and_share_no_frame(tmp_path):
    lengths = {0: 40, 1: 64, 2: 100}
    for clip, n in lengths.items():
        np.save(tmp_path / f"c{clip}.npy", _clip(clip, n))
    windows = {split: _windows(tmp_path, split) for split in folders.SPLITS}
    for split, found in windows.items():
        expected = []
        for clip, n in lengths.items():
            start, stop = folders.frame_ranges(n)[split]
            expected += [[(clip, t + i) for i in range(W)]
                         for t in range(start, stop - W + 1)]
        # Every start, in order (name order, then time): N - w + 1 per part.
        assert found == expected, split
    assert len(windows["train"]) == (27 - 2) + (43 - 2) + (67 - 2)
    train, validation, test = (_frames(windows[s]) for s in folders.SPLITS)
    assert not train & validation and not train & test \
        and not validation & test
    # Between them they use every frame of parts a window fits in.
    assert len(train | validation | test) == sum(lengths.values())


def test_movies_split_the_same_way(tmp_path):
    pytest.importorskip("av")
    write_movie(tmp_path / "a.mp4", _clip(7, 48, size=16))
    np.save(tmp_path / "b.npy", _clip(8, 48))
    windows = {split: _windows(tmp_path, split) for split in folders.SPLITS}
    train, validation, test = (_frames(windows[s]) for s in folders.SPLITS)
    assert not train & validation and not train & test \
        and not validation & test
    # 48 frames: train 0..31, validation 32..35, test 36..47 of each clip.
    assert {t for c, t in test if c == 7} == set(range(36, 48))
    assert {t for c, t in validation if c == 7} == set(range(32, 36))
    assert len(windows["train"]) == 2 * (32 - W + 1)


def test_train_and_test_subfolders(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    np.save(tmp_path / "train" / "a.npy", _clip(1, 50))
    np.save(tmp_path / "test" / "b.npy", _clip(2, 20))
    np.save(tmp_path / "loose.npy", _clip(3, 50))  # Not in a split: unused.
    test = _windows(tmp_path, "test")
    assert len(test) == 20 - W + 1 and _frames(test) == {
        (2, t) for t in range(20)}
    # No validation/: the last 10 % of each train clip validates.
    assert _frames(_windows(tmp_path, "train")) == {(1, t) for t in range(45)}
    assert _frames(_windows(tmp_path, "validation")) == {
        (1, t) for t in range(45, 50)}
    (tmp_path / "validation").mkdir()
    np.save(tmp_path / "validation" / "c.npy", _clip(4, 10))
    assert len(_windows(tmp_path, "train")) == 50 - W + 1
    assert _frames(_windows(tmp_path, "validation")) == {
        (4, t) for t in range(10)}


def test_half_a_split_layout_is_refused(tmp_path):
    (tmp_path / "train").mkdir()
    np.save(tmp_path / "train" / "a.npy", _clip(1, 50))
    with pytest.raises(ValueError, match="needs both train/ and test/"):
        data.video_folder(tmp_path, "train", (8, 8, 3), W)


def test_short_clips_are_skipped_and_an_empty_split_says_what_it_needs(
        tmp_path, caplog):
    np.save(tmp_path / "long.npy", _clip(0, 40))
    np.save(tmp_path / "short.npy", _clip(1, 20))  # validation part: 2 frames
    assert _frames(_windows(tmp_path, "validation")) == {
        (0, t) for t in range(27, 30)}
    assert "1 of 2 clips are too short for a 3-frame validation" in caplog.text
    (tmp_path / "long.npy").unlink()
    with pytest.raises(ValueError) as error:
        data.video_folder(tmp_path, "validation", (8, 8, 3), W)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path}: no clip is long enough for a "
                              "3-frame validation window")
    # 28 frames is the shortest clip whose validation part holds 3 frames.
    assert "clips of at least 28 frames" in message
    assert folders.frame_ranges(28)["validation"] == (18, 21)
    assert folders.frame_ranges(27)["validation"] == (18, 20)
    assert "the longest in" in message and "has 20." in message


@pytest.mark.parametrize("settings, message", [
    (dict(split="training"), "split must be one of train, validation, test"),
    (dict(resize="stretch"), "resize must be one of"),
    (dict(frame_shape=(0, 8, 3)), r"H, W >= 1, got \(0, 8, 3\)"),
    (dict(num_frames=0), "num_frames must be >= 1"),
])
def test_bad_settings(tmp_path, settings, message):
    np.save(tmp_path / "a.npy", _clip(0, 40))
    arguments = dict(split="train", frame_shape=(8, 8, 3), num_frames=W)
    with pytest.raises(ValueError, match=message):
        data.video_folder(tmp_path, **{**arguments, **settings})


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        data.video_folder(tmp_path / "nothing", "train", (8, 8, 3), W)
    with pytest.raises(ValueError, match="no video files"):
        data.video_folder(tmp_path, "train", (8, 8, 3), W)
    np.save(tmp_path / "a.npy", _clip(0, 40))
    (tmp_path / "b.npy").write_bytes(b"not an array")
    with pytest.raises(ValueError, match="b.npy: cannot decode this video"):
        data.video_folder(tmp_path, "test", (8, 8, 3), W)


def test_the_shuffled_training_order_is_seeded(tmp_path):
    for clip in range(10):
        np.save(tmp_path / f"c{clip}.npy", _clip(clip, 30))
    in_order = _windows(tmp_path, "train")
    first = data.video_folder(tmp_path, "train", (8, 8, 3), W, shuffle=True,
                              seed=0)
    epochs = [[_who(w) for w in first.as_numpy_iterator()] for _ in range(2)]
    again = _windows(tmp_path, "train", shuffle=True, seed=0)
    other_seed = _windows(tmp_path, "train", shuffle=True, seed=1)
    assert epochs[0] == again  # The same every run.
    assert epochs[1] != epochs[0] and other_seed != epochs[0]
    for order in epochs + [other_seed]:
        assert sorted(order) == sorted(in_order) and order != in_order
    # Clips are read several at once: the first windows mix clips.
    assert len({clip for window in epochs[0][:16] for clip, _ in window}) > 2


def test_windows_have_a_static_shape_and_are_fitted_as_asked(tmp_path):
    wide = np.zeros((5, 20, 40, 3), np.uint8)
    wide[:, :, :10] = 255  # A white left quarter.
    np.save(tmp_path / "wide.npy", wide)
    np.save(tmp_path / "more.npy", wide)
    for resize, white_columns in [("crop", 0), ("squash", 2), ("pad", 2)]:
        videos = data.video_folder(tmp_path, "train", (10, 10, 3), 2,
                                   resize=resize, shuffle=True)
        assert videos.element_spec.shape == (2, 10, 10, 3)
        assert videos.element_spec.dtype == np.uint8
        window = next(videos.as_numpy_iterator())
        white = np.all(window[0] == 255, axis=(0, 2))  # Whole white columns.
        assert white.sum() == (white_columns if resize != "pad" else 0)
        if resize == "pad":
            assert np.all(window[0, :2] == 0)  # Black letterbox.
            assert np.all(window[0, 2:7, :2] == 255)


def test_windows_stream_file_by_file(tmp_path, monkeypatch):
    for clip in range(6):
        np.save(tmp_path / f"c{clip}.npy", _clip(clip, 400))
    read = []

    def counting(path, start=0, stop=None):
        for frame in data.iter_frames(path, start, stop):
            read.append(path.name)
            yield frame

    monkeypatch.setattr(folders, "iter_frames", counting)
    videos = data.video_folder(tmp_path, "test", (8, 8, 3), W)
    iterator = iter(videos)
    next(iterator)
    # Not the whole folder, nor even the whole of the first clip's test part.
    assert set(read) == {"c0.npy"} and len(read) < 100
    remaining = sum(1 for _ in iterator)
    assert remaining == 6 * (100 - W + 1) - 1 and len(read) == 6 * 100
