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
"""

import dataclasses

import numpy as np
import tensorflow as tf

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
SPLITS = ("train", "validation", "test")
# Videos per split when `num_videos` is None (None: an endless stream).
DEFAULT_NUM_VIDEOS = {"train": None, "validation": 256, "test": 256}
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
        (int(seed), SPLITS.index(split), int(index))))


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


def _check_arguments(split, resolution, num_frames, num_videos, seed,
                     batch_size):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    if not isinstance(resolution, (int, np.integer)) or resolution < 4:
        raise ValueError(f"resolution must be an int >= 4, got {resolution}.")
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames must be an int >= 1, got {num_frames}.")
    if num_videos is not None and num_videos < 1:
        raise ValueError(f"num_videos must be >= 1 or None, got {num_videos}.")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")


def stochastic_movement(split="train", resolution=64, num_frames=5,
                        num_videos=None, seed=0, batch_size=None,
                        with_labels=False):
    """Stochastic Movement videos as a `tf.data.Dataset`.

    Args:
      split: "train", "validation" or "test" (disjoint random streams).
      resolution: frame height = width in pixels (64 in the paper).
      num_frames: frames per video (5 in the paper).
      num_videos: videos in the data set; None: `DEFAULT_NUM_VIDEOS[split]`
        (an endless stream for "train", 256 otherwise).
      seed: non-negative int; the same seed gives the same videos.
      batch_size: if given, batches of this many videos.
      with_labels: also yield a dict of the video's "shape", "colour",
        "direction" (int32 indices) and "size" (float32, canvas units).

    Returns:
      A data set of uint8 `[num_frames, resolution, resolution, 3]` videos
      (`[B, ...]` when batched), or `(video, labels)` pairs.
    """
    _check_arguments(split, resolution, num_frames, num_videos, seed,
                     batch_size)
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

    return generated_dataset(to_example, split, num_videos, batch_size)


def generated_dataset(to_example, split, num_videos, batch_size):
    """Videos 0, 1, ... of a generated split as a `tf.data.Dataset`.

    `to_example` maps a video's int64 index to its example; `num_videos`
    None means `DEFAULT_NUM_VIDEOS[split]` (an endless stream for "train").
    The order is deterministic whatever the parallelism.
    """
    if num_videos is None:
        num_videos = DEFAULT_NUM_VIDEOS[split]
    indices = (tf.data.Dataset.counter() if num_videos is None
               else tf.data.Dataset.range(num_videos))
    videos = indices.map(to_example, num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True)
    if batch_size is not None:
        videos = videos.batch(batch_size)
    return videos.prefetch(tf.data.AUTOTUNE)
