"""Dequantization at a bit depth, and bits per pixel, on hand-computed cases."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfp_videoflow import dequantization


def test_bins_at_5_and_8_bits():
    pixels = np.array([0, 7, 8, 255, 128], np.uint8)
    # 5 bits: bin = floor(p / 8).
    np.testing.assert_array_equal(dequantization.to_bins(pixels, 5),
                                  [0, 0, 1, 31, 16])
    np.testing.assert_array_equal(dequantization.to_bins(pixels, 8),
                                  [0, 7, 8, 255, 128])
    np.testing.assert_array_equal(dequantization.bin_centres(pixels, 5),
                                  [0.5, 0.5, 1.5, 31.5, 16.5])


def test_quantize_inverts_dequantize_for_any_noise():
    pixels = np.arange(256, dtype=np.uint8)
    for bits in (5, 8):
        noise = tf.random.stateless_uniform([256], seed=[bits, 1])
        values = dequantization.dequantize(pixels, bits, noise)
        back = dequantization.quantize(values, bits).numpy()
        # At 5 bits the low 3 bits are dropped: 13 -> 8.
        np.testing.assert_array_equal(back, pixels // 2 ** (8 - bits)
                                      * 2 ** (8 - bits))


def test_quantize_clips_out_of_range_values():
    values = tf.constant([-3.0, 40.0, 31.99])
    np.testing.assert_array_equal(dequantization.quantize(values, 5),
                                  [0, 248, 248])


def test_bits_per_pixel_of_uniform_density_is_the_bit_depth():
    # A uniform density over [0, 2^n)^D gives exactly n bits per value: the
    # code length of a uniform distribution over the 2^n bins.
    num_values = 12
    for bits in (5, 8):
        log_prob = -num_values * bits * math.log(2.0)
        assert dequantization.bits_per_pixel(log_prob, num_values) == (
            pytest.approx(bits))


@pytest.mark.parametrize("bad", [0, 9, -1])
def test_bad_bit_depth(bad):
    with pytest.raises(ValueError, match="num_bits"):
        dequantization.to_bins(np.zeros(3, np.uint8), bad)


def test_non_uint8_pixels_are_rejected():
    with pytest.raises(ValueError, match="uint8"):
        dequantization.to_bins(np.zeros(3, np.float32), 8)
