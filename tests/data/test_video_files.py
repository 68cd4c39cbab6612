"""Reading the user's own video files, whole or frame by frame."""

import sys

import imageio.v3 as iio
import numpy as np
import pytest

from tests.helpers import write_movie
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
    assert data.frame_count(tmp_path / "c.gif") == 4


def test_grey_float_and_alpha_arrays_become_uint8_rgb(tmp_path):
    grey = np.linspace(0, 1, 2 * 4 * 4).reshape(2, 4, 4).astype(np.float32)
    np.save(tmp_path / "grey.npy", grey)
    video = data.load_video_file(tmp_path / "grey.npy")
    assert video.shape == (2, 4, 4, 3) and video.dtype == np.uint8
    assert video[1, 3, 3, 0] == 255 and np.all(video[..., 0] == video[..., 2])
    rgba = np.zeros((2, 4, 4, 4), np.uint8)
    np.save(tmp_path / "rgba.npy", rgba)
    assert data.load_video_file(tmp_path / "rgba.npy").shape == (2, 4, 4, 3)


@pytest.mark.parametrize("layout", ["npy", "npz", "fortran npy", "grey npz"])
def test_frames_stream_from_start_to_stop(tmp_path, layout):
    video = _video(9, size=6, seed=3)
    if layout.startswith("grey"):
        video = video[..., 0]
    if layout.startswith("fortran"):
        video = np.asfortranarray(video)
    path = tmp_path / f"v.{layout.split()[-1]}"
    if path.suffix == ".npy":
        np.save(path, video)
    else:
        np.savez(path, other=np.zeros(3), video=video)  # `video` is chosen.
    assert data.frame_count(path) == 9
    frames = np.stack(list(data.iter_frames(path, start=2, stop=5)))
    expected = video[2:5] if video.ndim == 4 else np.repeat(
        video[2:5, ..., np.newaxis], 3, axis=-1)
    np.testing.assert_array_equal(frames, expected)
    assert len(list(data.iter_frames(path, start=7))) == 2


def test_a_truncated_array_counts_from_its_header_and_fails_where_it_ends(
        tmp_path):
    np.save(tmp_path / "v.npy", _video(5))
    whole = (tmp_path / "v.npy").read_bytes()
    (tmp_path / "v.npy").write_bytes(whole[:len(whole) - 16 * 16 * 3 - 10])
    assert data.frame_count(tmp_path / "v.npy") == 5
    frames = data.iter_frames(tmp_path / "v.npy")
    assert len([next(frames) for _ in range(3)]) == 3
    with pytest.raises(ValueError, match=r"v\.npy: cannot decode this video "
                       r"\(the file ends inside frame 3\)\.$"):
        next(frames)


@pytest.mark.parametrize("array, message", [
    (np.full((2, 4, 4, 3), np.nan, np.float32), "NaN"),
    (np.full((2, 4, 4, 3), 2.0, np.float32), r"\[0, 1\]"),
    (np.full((2, 4, 4, 3), 300, np.int32), "0..255"),
    (np.zeros((4, 4), np.uint8), "shape"),
    (np.zeros((2, 4, 4, 2), np.uint8), "shape"),
    (np.zeros((0, 4, 4, 3), np.uint8), "holds no frames"),
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
    with pytest.raises(ValueError, match="broken.gif: cannot decode this"):
        data.frame_count(tmp_path / "broken.gif")
    (tmp_path / "broken.npy").write_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match="broken.npy: cannot decode this"):
        data.load_video_file(tmp_path / "broken.npy")
    np.save(tmp_path / "objects.npy", np.array([{}]), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        data.frame_count(tmp_path / "objects.npy")


def test_a_movie_streams_frame_by_frame_through_pyav(tmp_path):
    pytest.importorskip("av")
    video = _video(12, size=16, seed=4)
    write_movie(tmp_path / "clip.mp4", video)
    assert data.frame_count(tmp_path / "clip.mp4") == 12
    np.testing.assert_array_equal(data.load_video_file(tmp_path / "clip.mp4"),
                                  video)  # Lossless.
    np.testing.assert_array_equal(
        np.stack(list(data.iter_frames(tmp_path / "clip.mp4", 4, 7))),
        video[4:7])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_movie_is_named_in_one_line_without_plugin_advice(
        tmp_path, damage):
    pytest.importorskip("av")
    path = tmp_path / "clip3.mp4"
    if damage == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(5000))
    else:
        write_movie(path, _video(12, size=16))
        path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError) as error:
        data.frame_count(path)
    message = str(error.value)
    assert message.startswith(f"{path}: cannot decode this video (")
    assert "\n" not in message and "pip" not in message
    assert "plugin" not in message


def test_without_pyav_a_movie_imageio_cannot_read_advises_it(
        tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` fails.
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match=r"clip\.mp4: cannot decode this "
                       r"video \(.*\); PyAV reads movies: `pip install av`"):
        data.frame_count(tmp_path / "clip.mp4")
