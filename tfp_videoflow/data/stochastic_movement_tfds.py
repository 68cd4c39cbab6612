"""Stochastic Movement as a TFDS builder: `tfds.load("stochastic_movement")`.

Importing `tfp_videoflow` registers it. It builds locally from the generator
in `moving_shapes.py` (no download), at the resolution and size of its
config: "64" (the paper's), "32" and "16" (for CPUs), each with 5-frame
videos and 10000 / 500 / 500 train / validation / test videos. A custom
`StochasticMovementConfig` can be passed as `builder_kwargs={"config": ...}`.
"""

import dataclasses

import numpy as np

import tensorflow_datasets as tfds

from tfp_videoflow.data import moving_shapes as generator


@dataclasses.dataclass
class StochasticMovementConfig(tfds.core.BuilderConfig):
    """Resolution, frames per video, videos per split and seed."""
    resolution: int = 64
    num_frames: int = 5
    num_videos: dict = dataclasses.field(default_factory=lambda: {
        "train": 10000, "validation": 500, "test": 500})
    seed: int = 0


def _config(resolution):
    return StochasticMovementConfig(
        name=str(resolution), resolution=resolution,
        description=f"{resolution}x{resolution} frames, 5 frames per video.")


class StochasticMovement(tfds.core.GeneratorBasedBuilder):
    """The paper's Stochastic Movement videos, generated locally."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS = [_config(64), _config(32), _config(16)]

    def _info(self):
        config = self.builder_config
        size = config.resolution
        return self.dataset_info_from_configs(
            description=generator.__doc__,
            features=tfds.features.FeaturesDict({
                "video": tfds.features.Video(
                    (config.num_frames, size, size, 3)),
                "shape": tfds.features.ClassLabel(names=generator.SHAPES),
                "colour": tfds.features.ClassLabel(
                    names=list(generator.COLOURS)),
                "direction": tfds.features.ClassLabel(num_classes=len(
                    generator.DIRECTIONS)),
                "size": tfds.features.Scalar(dtype=np.float32),
            }),
            supervised_keys=None,
            homepage="https://arxiv.org/abs/1903.01434")

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        return {split: self._generate_examples(split)
                for split in generator.SPLITS}

    def _generate_examples(self, split):
        config = self.builder_config
        for index in range(config.num_videos[split]):
            params = generator.video_params(config.seed, split, index)
            yield index, {
                "video": generator.render_video(
                    params, config.resolution, config.num_frames),
                "shape": params.shape, "colour": params.colour,
                "direction": params.direction, "size": params.size,
            }
