"""From uint8 pixels to continuous values in bin units, and back.

At a bit depth of n bits a pixel value p in 0..255 falls in bin
q = floor(p / 2^(8-n)), q in 0..2^n - 1. The flow models continuous values in
bin units: y = q + u with u ~ U[0, 1) (uniform dequantization). Because every
bin has width 1, E_u[-log2 p(q + u)] is an upper bound on the discrete code
length of q, with no extra constant; dividing by the number of pixel values
gives bits per pixel at that bit depth, the number the paper reports.
"""

import math
import numbers

import tensorflow as tf


def check_bits(num_bits):
    if isinstance(num_bits, bool) or not isinstance(
            num_bits, numbers.Integral) or not 1 <= int(num_bits) <= 8:
        raise ValueError(f"num_bits must be between 1 and 8, got {num_bits}.")
    return int(num_bits)


def to_bins(pixels, num_bits):
    """uint8 pixels -> integer bins 0..2^num_bits - 1, as float32."""
    num_bits = check_bits(num_bits)
    pixels = tf.convert_to_tensor(pixels)
    if pixels.dtype != tf.uint8:
        raise ValueError(f"expected uint8 pixels, got {pixels.dtype.name}.")
    return tf.floor(tf.cast(pixels, tf.float32) / 2.0 ** (8 - num_bits))


def dequantize(pixels, num_bits, noise):
    """Bins plus `noise`, a float tensor of U[0, 1) draws of the same shape."""
    return to_bins(pixels, num_bits) + noise


def bin_centres(pixels, num_bits):
    """Bins plus 1/2: the deterministic value used for conditioning frames."""
    return to_bins(pixels, num_bits) + 0.5


def centre_values(values, num_bits):
    """Continuous values in bin units -> the centres of their (clipped) bins.

    What the model conditions on: the discrete frame a value belongs to.
    Values beyond the range go to the first or last bin, NaN to the first
    (a sampled frame may hold them; the history must stay finite).
    """
    num_bits = check_bits(num_bits)
    values = tf.where(tf.math.is_nan(values), tf.zeros_like(values), values)
    return tf.clip_by_value(tf.floor(values), 0.0, 2.0 ** num_bits - 1.0) + 0.5


def quantize(values, num_bits):
    """Continuous values in bin units -> uint8 pixels of their bins.

    The bins are those of `centre_values`: clipped to the range, NaN to 0.
    """
    return tf.cast((centre_values(values, num_bits) - 0.5)
                   * 2.0 ** (8 - num_bits), tf.uint8)


def bits_per_pixel(log_prob, num_values):
    """-log p / (ln 2 * number of pixel values)."""
    return -log_prob / (math.log(2.0) * num_values)
