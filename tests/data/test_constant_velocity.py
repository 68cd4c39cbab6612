"""Constant Velocity: one square, one velocity, always inside the frame."""

import numpy as np
import pytest

from tfp_videoflow.data.constant_velocity import VELOCITIES, constant_velocity
from tfp_videoflow.motion import shape_centres


def test_squares_move_at_constant_velocity_inside_the_frame():
    data = constant_velocity("test", resolution=16, num_frames=5,
                                num_videos=40, with_tracks=True)
    velocities = set()
    for video, track in data:
        video, track = video.numpy(), track.numpy()
        assert video.shape == (5, 16, 16, 3) and video.dtype == np.uint8
        # The whole 3x3 square in every frame: 9 lit pixels.
        assert np.all((video.max(axis=-1) > 0).sum(axis=(1, 2)) == 9)
        np.testing.assert_allclose(shape_centres(video), track)
        steps = np.diff(track, axis=0)
        np.testing.assert_array_equal(steps, np.repeat(steps[:1], 4, 0))
        velocities.add(tuple(steps[0]))
    assert velocities <= set(VELOCITIES) and len(velocities) >= 6


def test_deterministic_and_splits_differ():
    def first(split, seed):
        return next(iter(constant_velocity(split, num_videos=4, seed=seed,
                                              batch_size=4))).numpy()
    np.testing.assert_array_equal(first("train", 0), first("train", 0))
    assert not np.array_equal(first("train", 0), first("test", 0))
    assert not np.array_equal(first("train", 0), first("train", 1))


def test_bad_arguments():
    with pytest.raises(ValueError, match="does not fit"):
        constant_velocity(resolution=8, num_frames=8, side=3)
    with pytest.raises(ValueError, match="side"):
        constant_velocity(side=0)
    with pytest.raises(ValueError, match="split"):
        constant_velocity("dev")
