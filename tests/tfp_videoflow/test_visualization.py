"""Grids, GIFs and PNGs of `tfp_videoflow.visualization`."""

import os
import stat

import imageio.v3 as iio
import numpy as np
import pytest

from tfp_videoflow import visualization


def test_grid_tiles_rows_and_frames_with_separators():
    rows = np.zeros((2, 3, 4, 5, 3), np.uint8)
    rows[1, 2] = 7
    image = visualization.grid(rows, separator=1)
    assert image.shape == (2 * 4 + 1, 3 * 5 + 2, 3)
    assert (image[5:, 12:] == 7).all()  # row 1, frame 2
    assert (image[4] == 255).all()  # the separator between the rows
    with pytest.raises(ValueError, match="uint8"):
        visualization.grid(rows.astype(np.float32))


def test_gif_and_png_round_trip_with_usual_permissions(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3),
                                               dtype=np.uint8)
    gif = visualization.write_gif(tmp_path / "video.gif", frames)
    png = visualization.write_png(tmp_path / "frame.png", frames[0])
    assert iio.imread(gif, index=None).shape[:3] == (3, 8, 8)
    np.testing.assert_array_equal(iio.imread(png), frames[0])
    mask = os.umask(0)
    os.umask(mask)
    for path in (gif, png):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame.png",
                                                          "video.gif"]
