"""Fitting frames to the model's size: centre crop, squash, letterbox."""

import numpy as np
import pytest

from tfp_videoflow.data.framing import fit_frame

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _bands(height=20, width=40):
    """A wide frame: red left quarter, green middle half, blue right quarter."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, :width // 4] = RED
    frame[:, width // 4:3 * width // 4] = GREEN
    frame[:, 3 * width // 4:] = BLUE
    return frame


def test_crop_keeps_the_centre_at_the_model_aspect():
    fitted = fit_frame(_bands(), (10, 10), "crop")
    assert fitted.shape == (10, 10, 3) and fitted.dtype == np.uint8
    # The centred 20x20 square is the green half: only the filter's reach
    # across the crop's edge brings in a little red and blue.
    assert np.all(fitted[:, 1:-1] == GREEN)
    assert np.all(fitted[..., 1] > 200) and np.all(fitted[..., [0, 2]] < 64)
    tall = fit_frame(np.swapaxes(_bands(), 0, 1), (10, 10), "crop")
    assert np.all(tall[1:-1] == GREEN)


def test_squash_keeps_everything_distorted():
    fitted = fit_frame(_bands(), (10, 10), "squash")
    assert np.all(fitted[:, :2] == RED) and np.all(fitted[:, -2:] == BLUE)
    assert np.all(fitted[:, 3:7] == GREEN)


def test_pad_letterboxes_with_black():
    fitted = fit_frame(_bands(), (10, 10), "pad")
    # 40x20 scaled by 1/4 is 10x5, centred: rows 2..6 hold the picture.
    assert np.all(fitted[:2] == 0) and np.all(fitted[7:] == 0)
    picture = fitted[2:7]
    assert np.all(picture[:, :2] == RED) and np.all(picture[:, -2:] == BLUE)
    assert np.all(picture[:, 3:7] == GREEN)


def test_the_model_size_is_kept_exactly_and_other_aspects_resize():
    frame = np.random.default_rng(0).integers(0, 256, (12, 16, 3), np.uint8)
    for resize in ("crop", "squash", "pad"):
        np.testing.assert_array_equal(fit_frame(frame, (12, 16), resize),
                                      frame)
        assert fit_frame(frame, (6, 5), resize).shape == (6, 5, 3)


def test_antialiased_downscaling_averages_fine_detail():
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, ::2] = 255  # One-pixel stripes: aliasing would keep them.
    fitted = fit_frame(stripes, (8, 8), "squash").astype(int)
    # Grey inside; at the sides the filter reaches past the frame's edge.
    assert np.all(np.abs(fitted[:, 1:-1] - 128) <= 1)
    assert np.all(np.abs(fitted - 128) <= 12)


def test_unknown_mode():
    with pytest.raises(ValueError, match="resize must be one of crop, squash"):
        fit_frame(_bands(), (10, 10), "stretch")
