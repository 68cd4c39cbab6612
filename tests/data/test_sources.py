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
                rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8))
    videos = list(data.load(str(tmp_path), "train", (8, 8, 3), 4)
                  .as_numpy_iterator())
    assert videos and all(v.shape == (4, 8, 8, 3) for v in videos)


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
