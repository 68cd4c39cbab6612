"""BAIR through TFDS, mocked with TFDS' own testing tools (no download)."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfp_videoflow import data


def test_bair_yields_uint8_videos_from_tfds():
    with tfds.testing.mock_data(num_examples=3):
        videos = list(data.bair("train").as_numpy_iterator())
    assert len(videos) == 3
    assert videos[0].shape == (30, 64, 64, 3) and videos[0].dtype == np.uint8


def test_missing_bair_data_says_how_to_prepare_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="tfds build"):
        data.bair("train", data_dir=tmp_path)


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        data.bair("validation")
