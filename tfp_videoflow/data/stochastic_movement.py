"""Stochastic Movement, the paper's synthetic video data set.

Every video: a black 10 x 10-unit canvas and one shape, drawn uniformly from

    shape      circle (radius s), square (side 2s), triangle (side 2s)
    size       s ~ U(0.5, 1.5) units
    colour     blue, green, red, cyan, magenta or yellow
    direction  one of the 8 steps in `DIRECTIONS`, (dx, dy) in {-1, 0, 1}^2

The shape starts at the centre (5, 5) and its centre at frame t is
(5, 5) + t * (dx, dy): one unit per frame along the axes, so diagonal moves
are sqrt(2) units long. From the fifth frame on it starts to leave the canvas.
Given the first frame the future has exactly 8 equally likely outcomes,
which is what makes the set a test of multimodal prediction.

Frames are rendered by numpy with anti-aliasing: each pixel's value is the
colour times the fraction of a 4 x 4 grid of sub-pixel points inside the
shape. Video i of split s under seed k is drawn from its own random stream,
`np.random.default_rng((k, s, i))`, so the splits never share a stream, any
video can be regenerated alone, and the data does not depend on the order or
parallelism of generation.

`stochastic_movement(...)` returns the videos as a `tf.data.Dataset`; the
same videos are also a TFDS data set (`StochasticMovement`, below).
"""

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_videoflow.data import generated

CANVAS_UNITS = 10.0
# (dx, dy) per frame in canvas units; x grows to the right, y downwards.
DIRECTIONS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1),
              (1, -1))
SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0),
    "cyan": (0, 255, 255), "magenta": (255, 0, 255), "yellow": (255, 255, 0),
}
SIZE_RANGE = (0.5, 1.5)
_SUPERSAMPLING = 4


@dataclasses.dataclass(frozen=True)
class VideoParams:
    """What defines one video: indices into SHAPES, COLOURS, DIRECTIONS."""
    shape: int
    colour: int
    direction: int
    size: float


def sample_video_params(rng):
    """Draws the parameters of one video from a `np.random.Generator`."""
    return VideoParams(
        shape=int(rng.integers(len(SHAPES))),
        colour=int(rng.integers(len(COLOURS))),
        direction=int(rng.integers(len(DIRECTIONS))),
        size=float(rng.uniform(*SIZE_RANGE)))


def video_params(seed, split, index):
    """The parameters of video `index` of `split` under `seed`."""
    return sample_video_params(np.random.default_rng(
        (int(seed), generated.SPLITS.index(split), int(index))))


def _inside(shape, size, x, y):
    """Boolean mask of the points (x, y), relative to the centre, inside."""
    if SHAPES[shape] == "circle":
        return x * x + y * y <= size * size
    if SHAPES[shape] == "square":
        return (np.abs(x) <= size) & (np.abs(y) <= size)
    # Equilateral triangle of side 2s, apex up, centred on its centroid:
    # inradius r = 2s / (2 sqrt 3); inside = within r of all three edges.
    inradius = size / np.sqrt(3.0)
    inside = np.ones(np.broadcast(x, y).shape, bool)
    for angle in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3,
                  np.pi / 2 + 4 * np.pi / 3):
        # Outward normal of each edge (y down: the base's normal points +y).
        inside &= x * np.cos(angle) + y * np.sin(angle) <= inradius
    return inside


def render_frame(params, centre, resolution):
    """One anti-aliased uint8 frame `[resolution, resolution, 3]`.

    Args:
      params: a `VideoParams`.
      centre: (x, y) of the shape's centre in canvas units.
      resolution: frame height = width in pixels.
    """
    n = resolution * _SUPERSAMPLING
    # Sub-pixel sample points, in canvas units.
    grid = (np.arange(n) + 0.5) * (CANVAS_UNITS / n)
    inside = _inside(params.shape, params.size, grid[np.newaxis] - centre[0],
                     grid[:, np.newaxis] - centre[1])
    coverage = inside.reshape(resolution, _SUPERSAMPLING, resolution,
                              _SUPERSAMPLING).mean(axis=(1, 3))
    colour = np.asarray(list(COLOURS.values())[params.colour], np.float64)
    return np.round(coverage[..., np.newaxis] * colour).astype(np.uint8)


def centre_at(params, frame):
    """Centre (x, y) of the shape at `frame`, in canvas units."""
    dx, dy = DIRECTIONS[params.direction]
    half = CANVAS_UNITS / 2
    return np.array([half + frame * dx, half + frame * dy], np.float64)


def render_video(params, resolution, num_frames):
    """uint8 `[num_frames, resolution, resolution, 3]` of one video."""
    return np.stack([render_frame(params, centre_at(params, t), resolution)
                     for t in range(num_frames)])


def stochastic_movement(split="train", resolution=64, num_frames=5,
                        num_videos=None, seed=0, batch_size=None,
                        with_labels=False):
    """Stochastic Movement videos as a `tf.data.Dataset`.

    Args:
      split: "train", "validation" or "test" (disjoint random streams).
      resolution: frame height = width in pixels (64 in the paper).
      num_frames: frames per video (5 in the paper).
      num_videos: videos in the data set; None:
        `generated.DEFAULT_NUM_VIDEOS[split]`
        (an endless stream for "train", 256 otherwise).
      seed: non-negative int; the same seed gives the same videos.
      batch_size: if given, batches of this many videos.
      with_labels: also yield a dict of the video's "shape", "colour",
        "direction" (int32 indices) and "size" (float32, canvas units).

    Returns:
      A data set of uint8 `[num_frames, resolution, resolution, 3]` videos
      (`[B, ...]` when batched), or `(video, labels)` pairs.
    """
    generated.check_arguments(split, resolution, num_frames, num_videos,
                              seed, batch_size)
    def generate(index):
        params = video_params(seed, split, int(index))
        return (render_video(params, resolution, num_frames),
                np.int32(params.shape), np.int32(params.colour),
                np.int32(params.direction), np.float32(params.size))

    def to_example(index):
        video, shape, colour, direction, size = tf.numpy_function(
            generate, [index],
            (tf.uint8, tf.int32, tf.int32, tf.int32, tf.float32))
        video.set_shape((num_frames, resolution, resolution, 3))
        labels = {"shape": tf.reshape(shape, []),
                  "colour": tf.reshape(colour, []),
                  "direction": tf.reshape(direction, []),
                  "size": tf.reshape(size, [])}
        return (video, labels) if with_labels else video

    return generated.generated_dataset(to_example, split, num_videos,
                                       batch_size)


# ------------------------------------------------------------- TFDS builder
# `tfds.load("stochastic_movement")`, registered by importing tfp_videoflow.
# It builds locally from the generator above (no download), at the
# resolution and size of its config: "64" (the paper's), "32" and "16" (for
# CPUs), each with 5-frame videos and 10000 / 500 / 500 train / validation /
# test videos. A custom `StochasticMovementConfig` can be passed as
# `builder_kwargs={"config": ...}`.
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
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "video": tfds.features.Video(
                    (config.num_frames, size, size, 3)),
                "shape": tfds.features.ClassLabel(names=SHAPES),
                "colour": tfds.features.ClassLabel(
                    names=list(COLOURS)),
                "direction": tfds.features.ClassLabel(num_classes=len(
                    DIRECTIONS)),
                "size": tfds.features.Scalar(dtype=np.float32),
            }),
            supervised_keys=None,
            homepage="https://arxiv.org/abs/1903.01434")

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        return {split: self._generate_examples(split)
                for split in generated.SPLITS}

    def _generate_examples(self, split):
        config = self.builder_config
        for index in range(config.num_videos[split]):
            params = video_params(config.seed, split, index)
            yield index, {
                "video": render_video(
                    params, config.resolution, config.num_frames),
                "shape": params.shape, "colour": params.colour,
                "direction": params.direction, "size": params.size,
            }
