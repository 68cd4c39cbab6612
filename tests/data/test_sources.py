"""`data.load`: a data source by name or folder, or a clear ValueError."""

import numpy as np
import pytest

from tfp_videoflow import data


def test_stochastic_movement_by_name_keeps_the_frames_asked_for():
    videos = data.load("stochastic_movement", "test", (16, 16, 3),
                       num_frames=3, seed=1)
    first = next(iter(videos)).numpy()
    assert first.shape == (3, 16, 16, 3) and first.dtype == np.uint8
    expected = next(iter(data.stochastic_movement(
        "test", resolution=16, num_frames=5, seed=1))).numpy()[:3]
    np.testing.assert_array_equal(first, expected)


def test_a_folder_of_videos(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        np.save(tmp_path / f"v{i}.npy",
                rng.integers(0, 256, (12, 16, 24, 3), dtype=np.uint8))
    videos = list(data.load(str(tmp_path), "train", (8, 8, 3), 4)
                  .as_numpy_iterator())
    # 12 frames: 8 train (5 windows at every start), 1 validation, 3 test.
    assert len(videos) == 2 * 5
    assert all(v.shape == (4, 8, 8, 3) and v.dtype == np.uint8
               for v in videos)


def test_a_folders_test_split_never_holds_a_training_frame(tmp_path):
    # Every frame unique (a random texture): a shared frame would show.
    rng = np.random.default_rng(1)
    for i in range(3):
        np.save(tmp_path / f"v{i}.npy",
                rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8))
    frames = {}
    for split in ("train", "validation", "test"):
        windows = data.load(str(tmp_path), split, (8, 8, 3), 3, seed=2)
        frames[split] = {f.tobytes() for w in windows.as_numpy_iterator()
                         for f in w}
    assert [len(f) for f in frames.values()] == [3 * 27, 3 * 3, 3 * 10]
    assert not frames["train"] & frames["test"]
    assert not frames["train"] & frames["validation"]
    assert not frames["validation"] & frames["test"]


def test_a_folders_frames_are_centre_cropped_unless_asked(tmp_path):
    wide = np.zeros((8, 8, 16, 3), np.uint8)
    wide[:, :, :4] = 255  # A white left quarter, outside the centre crop.
    np.save(tmp_path / "wide.npy", wide)
    for resize, white in [("crop", False), ("squash", True)]:
        window = next(iter(data.load(str(tmp_path), "test", (8, 8, 3), 2,
                                     resize=resize))).numpy()
        assert np.any(window == 255) == white, resize


@pytest.mark.parametrize("source, frame_shape, num_frames, message", [
    ("stochastic_movement", (16, 8, 3), 2, "square RGB"),
    ("stochastic_movement", (16, 16, 1), 2, "square RGB"),
    ("no/such/folder", (16, 16, 3), 2, "no such folder"),
])
def test_bad_sources(source, frame_shape, num_frames, message):
    with pytest.raises(ValueError, match=message):
        data.load(source, "train", frame_shape, num_frames)


def test_too_few_frames(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises((ValueError, OSError), match="frames"):
        next(iter(data.load(str(tmp_path), "train", (8, 8, 3), 5)))
