"""The Stochastic Movement TFDS builder builds offline and matches."""

import numpy as np
import tensorflow_datasets as tfds

import tfp_videoflow  # noqa: F401  (registers the builder)
from tfp_videoflow.data import moving_shapes as sm
from tfp_videoflow.data import StochasticMovementConfig


def test_registered_with_its_configs():
    assert "stochastic_movement" in tfds.list_builders()
    builder = tfds.builder("stochastic_movement/16", data_dir="/nonexistent")
    assert builder.builder_config.resolution == 16


def test_tfds_load_builds_locally_and_matches_the_generator(tmp_path):
    config = StochasticMovementConfig(
        name="tiny", resolution=16, num_frames=3,
        num_videos={"train": 6, "validation": 2, "test": 4}, seed=5)
    test = tfds.load("stochastic_movement", split="test", data_dir=tmp_path,
                     builder_kwargs={"config": config}, download=True)
    examples = list(test.as_numpy_iterator())
    assert len(examples) == 4
    for example in examples:
        video = example["video"]
        assert video.shape == (3, 16, 16, 3) and video.dtype == np.uint8
        # Find the generator's video with the same parameters.
        index = next(i for i in range(4) if np.isclose(
            sm.video_params(5, "test", i).size, example["size"]))
        params = sm.video_params(5, "test", index)
        assert example["direction"] == params.direction
        np.testing.assert_array_equal(video, sm.render_video(params, 16, 3))
