"""Data loaders given frames without pixels, or a model of no size."""

import numpy as np
import pytest

from tfp_videoflow import data


def test_frames_without_pixels_and_empty_frame_shapes(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros((4, 0, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="frames have no pixels"):
        data.load_video_file(tmp_path / "flat.npy")
    (tmp_path / "flat.npy").unlink()
    np.save(tmp_path / "a.npy", np.zeros((4, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"H, W >= 1, got \(0, 8, 3\)"):
        data.video_folder(tmp_path, "train", (0, 8, 3), 2)
