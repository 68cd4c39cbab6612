"""Reading the user's own video files and folders."""

import imageio.v3 as iio
import numpy as np
import pytest

from tfp_videoflow import data


def _video(num_frames, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num_frames, size, size, 3), dtype=np.uint8)


def test_npy_npz_and_gif_files(tmp_path):
    video = _video(4)
    np.save(tmp_path / "a.npy", video)
    np.savez(tmp_path / "b.npz", video=video)
    np.testing.assert_array_equal(data.load_video_file(tmp_path / "a.npy"),
                                  video)
    np.testing.assert_array_equal(data.load_video_file(tmp_path / "b.npz"),
                                  video)
    # GIFs are palette-coded: use few colours so they survive exactly.
    flat = (video // 128) * 255
    iio.imwrite(tmp_path / "c.gif", flat, loop=0)
    gif = data.load_video_file(tmp_path / "c.gif")
    assert gif.shape == (4, 16, 16, 3) and gif.dtype == np.uint8
    np.testing.assert_array_equal(gif, flat)


def test_grey_float_and_alpha_arrays_become_uint8_rgb(tmp_path):
    grey = np.linspace(0, 1, 2 * 4 * 4).reshape(2, 4, 4).astype(np.float32)
    np.save(tmp_path / "grey.npy", grey)
    video = data.load_video_file(tmp_path / "grey.npy")
    assert video.shape == (2, 4, 4, 3) and video.dtype == np.uint8
    assert video[1, 3, 3, 0] == 255 and np.all(video[..., 0] == video[..., 2])
    rgba = np.zeros((2, 4, 4, 4), np.uint8)
    np.save(tmp_path / "rgba.npy", rgba)
    assert data.load_video_file(tmp_path / "rgba.npy").shape == (2, 4, 4, 3)


@pytest.mark.parametrize("array, message", [
    (np.full((2, 4, 4, 3), np.nan, np.float32), "NaN"),
    (np.full((2, 4, 4, 3), 2.0, np.float32), r"\[0, 1\]"),
    (np.full((2, 4, 4, 3), 300, np.int32), "0..255"),
    (np.zeros((4, 4), np.uint8), "shape"),
    (np.zeros((2, 4, 4, 2), np.uint8), "shape"),
])
def test_bad_arrays(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=message):
        data.load_video_file(tmp_path / "bad.npy")


def test_missing_unknown_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.load_video_file(tmp_path / "missing.npy")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="unknown video type"):
        data.load_video_file(tmp_path / "notes.txt")
    (tmp_path / "broken.gif").write_bytes(b"GIF89a not really")
    with pytest.raises(ValueError, match="could not be read"):
        data.load_video_file(tmp_path / "broken.gif")
    (tmp_path / "broken.npy").write_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match="could not be read"):
        data.load_video_file(tmp_path / "broken.npy")


def test_folder_windows_resized(tmp_path):
    np.save(tmp_path / "long.npy", _video(7, size=32, seed=1))
    np.save(tmp_path / "short.npy", _video(2, size=32, seed=2))
    (tmp_path / "readme.txt").write_text("not a video")
    windows = list(data.video_folder(tmp_path, (16, 16, 3), num_frames=3)
                   .as_numpy_iterator())
    # 7 frames -> windows at 0 and 3; the 2-frame file is skipped.
    assert len(windows) == 2
    assert windows[0].shape == (3, 16, 16, 3) and windows[0].dtype == np.uint8
    overlapping = list(data.video_folder(tmp_path, (16, 16, 3), num_frames=3,
                                         stride=1))
    assert len(overlapping) == 5
    np.testing.assert_array_equal(overlapping[1][:2], overlapping[0][1:])


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        data.video_folder(tmp_path / "nothing", (16, 16, 3), 3)
    with pytest.raises(ValueError, match="no video files"):
        data.video_folder(tmp_path, (16, 16, 3), 3)
    np.save(tmp_path / "short.npy", _video(2))
    with pytest.raises(ValueError, match="frames a window needs"):
        data.video_folder(tmp_path, (16, 16, 3), 3)
