"""Bouncing Square: one grey square, reflected by the walls, always inside."""

import numpy as np
import pytest

from tfp_videoflow.data.bouncing_square import (
    BRIGHTNESS,
    SPEEDS,
    bounce,
    bouncing_square,
)
from tfp_videoflow.motion import shape_centres


def test_a_wall_reflects_the_overshoot_and_reverses_the_velocity():
    assert bounce(5, 2, limit=13) == (7, 2)
    assert bounce(1, -2, limit=13) == (1, 2)    # 1 - 2 = -1 -> 1
    assert bounce(0, -1, limit=13) == (1, 1)
    assert bounce(12, 2, limit=13) == (12, -2)  # 14 -> 12
    assert bounce(13, 1, limit=13) == (12, -1)


def test_squares_stay_inside_and_bounce():
    data = bouncing_square("test", resolution=16, num_frames=12,
                           num_videos=40, with_tracks=True)
    bounced = 0
    for video, track in data:
        video, track = video.numpy(), track.numpy()
        assert video.shape == (12, 16, 16, 1) and video.dtype == np.uint8
        # The whole 3x3 square in every frame, at one grey level.
        assert np.all((video > 0).sum(axis=(1, 2, 3)) == 9)
        assert set(np.unique(video)) == {0, BRIGHTNESS}
        np.testing.assert_allclose(
            shape_centres(np.repeat(video, 3, axis=-1)), track)
        steps = np.diff(track, axis=0)
        # Every step moves by at most 2 pixels per axis, and the speed along
        # an axis changes only at a wall.
        assert np.all(np.abs(steps) <= max(SPEEDS))
        turned = np.sign(steps[1:]) != np.sign(steps[:-1])
        near_wall = (np.minimum(track[1:-1], 16 - track[1:-1]) <= 1.5 + 2)
        assert np.all(near_wall[turned])
        bounced += int(turned.any())
    assert bounced >= 20  # 12 frames: most squares meet a wall


def test_deterministic_and_splits_differ():
    def first(split, seed):
        return next(iter(bouncing_square(split, num_videos=4, seed=seed,
                                         batch_size=4))).numpy()
    np.testing.assert_array_equal(first("train", 0), first("train", 0))
    assert not np.array_equal(first("train", 0), first("test", 0))
    assert not np.array_equal(first("train", 0), first("train", 1))


def test_bad_arguments():
    with pytest.raises(ValueError, match="side"):
        bouncing_square(resolution=8, side=7)
    with pytest.raises(ValueError, match="split"):
        bouncing_square("dev")
