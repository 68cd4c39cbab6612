"""Stochastic Movement: the definition, determinism, splits and TFDS builder."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfp_videoflow.data.generated import DEFAULT_NUM_VIDEOS
from tfp_videoflow.data.stochastic_movement import (
    CANVAS_UNITS,
    DIRECTIONS,
    SHAPES,
    StochasticMovementConfig,
    VideoParams,
    render_frame,
    render_video,
    stochastic_movement,
    video_params,
)
from tfp_videoflow.motion import classify_motion, shape_centres


def _videos(split="train", num_videos=40, seed=0, **kwargs):
    dataset = stochastic_movement(split, num_videos=num_videos, seed=seed,
                                     with_labels=True, **kwargs)
    videos, labels = zip(*[(v.numpy(), {k: x.numpy() for k, x in lab.items()})
                           for v, lab in dataset])
    return np.stack(videos), labels


def _weighted_centres(video):
    """Intensity-weighted centre (x, y) of each frame, in pixels."""
    weight = video.max(axis=-1).astype(np.float64)
    ys, xs = np.mgrid[0:video.shape[1], 0:video.shape[2]] + 0.5
    total = weight.sum(axis=(1, 2))
    return np.stack([(weight * xs).sum(axis=(1, 2)) / total,
                     (weight * ys).sum(axis=(1, 2)) / total], axis=-1)


def test_every_direction_moves_one_unit_per_frame():
    resolution = 64
    for direction, (dx, dy) in enumerate(DIRECTIONS):
        params = VideoParams(shape=0, colour=1, direction=direction,
                                size=1.0)
        video = render_video(params, resolution, 4)
        centres = _weighted_centres(video)
        steps = np.diff(centres, axis=0) * CANVAS_UNITS / resolution
        np.testing.assert_allclose(steps, [[dx, dy]] * 3, atol=0.02)
        # Starts at the centre of the canvas.
        np.testing.assert_allclose(centres[0], [32, 32], atol=0.1)
        # The evaluation's motion classifier recognises it.
        assert classify_motion(shape_centres(video), resolution) == direction


def test_shapes_have_the_defined_areas():
    resolution, size = 64, 1.2
    pixel_area = (CANVAS_UNITS / resolution) ** 2
    expected = {"circle": np.pi * size ** 2, "square": (2 * size) ** 2,
                "triangle": np.sqrt(3) / 4 * (2 * size) ** 2}
    for shape, area in expected.items():
        params = VideoParams(SHAPES.index(shape), 2, 0, size)
        frame = render_frame(params, (5.0, 5.0), resolution)
        red = frame[..., 0].astype(np.float64) / 255.0
        assert red.sum() * pixel_area == pytest.approx(area, rel=0.02), shape
        assert frame[..., 1:].max() == 0


def test_frames_are_anti_aliased_and_black_elsewhere():
    video = render_video(VideoParams(0, 0, 1, 1.0), 32, 3)
    blue = video[..., 2]
    assert np.any((blue > 0) & (blue < 255))
    assert video[..., :2].max() == 0
    assert (blue == 0).mean() > 0.8


def test_parameters_cover_their_ranges():
    videos, labels = _videos(num_videos=200, resolution=16)
    assert videos.shape == (200, 5, 16, 16, 3) and videos.dtype == np.uint8
    for key, count in (("shape", 3), ("colour", 6), ("direction", 8)):
        assert {int(lab[key]) for lab in labels} == set(range(count)), key
    sizes = np.array([lab["size"] for lab in labels])
    assert sizes.min() >= 0.5 and sizes.max() <= 1.5
    assert sizes.max() - sizes.min() > 0.8


def test_same_seed_same_videos_other_seed_other_videos():
    first, _ = _videos(seed=3, resolution=16, num_videos=10)
    again, _ = _videos(seed=3, resolution=16, num_videos=10)
    other, _ = _videos(seed=4, resolution=16, num_videos=10)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # Any video can be regenerated alone.
    params = video_params(3, "train", 7)
    np.testing.assert_array_equal(render_video(params, 16, 5), first[7])


def test_splits_are_disjoint_streams():
    train = [video_params(0, "train", i) for i in range(300)]
    test = [video_params(0, "test", i) for i in range(300)]
    # Sizes are continuous: a shared video would share its exact size.
    assert not {p.size for p in train} & {p.size for p in test}


def test_train_is_endless_and_batches():
    dataset = stochastic_movement("train", resolution=8, batch_size=4)
    batches = list(dataset.take(30).as_numpy_iterator())
    assert len(batches) == 30 and batches[0].shape == (4, 5, 8, 8, 3)
    test = stochastic_movement("test", resolution=8)
    assert sum(1 for _ in test) == DEFAULT_NUM_VIDEOS["test"]
    with pytest.raises(ValueError, match="resolution"):
        stochastic_movement(resolution=2)


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
            video_params(5, "test", i).size, example["size"]))
        params = video_params(5, "test", index)
        assert example["direction"] == params.direction
        np.testing.assert_array_equal(video, render_video(params, 16, 3))
