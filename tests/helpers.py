"""Small models, videos and weight perturbations shared by the tests."""

import json
import socket

import keras
import numpy as np
import tensorflow as tf

import tfp_videoflow as vf
from tfp_videoflow import run_lock

TINY = dict(frame_shape=(8, 8, 3), num_context_frames=2, num_target_frames=3,
            num_levels=2, steps_per_level=2, coupling="affine",
            coupling_width=8, prior_width=8, prior_depth=1,
            prior_dilations=(1, 2), num_cond_frames=2, num_bits=5, seed=3)


def moving_squares(num_videos, num_frames, size, seed, side=3,
                   textured=False):
    """uint8 videos of a bright square moving one pixel per frame.

    Each video picks a start inside the frame and one of 4 directions;
    positions wrap around, so every frame holds the whole square. With
    `textured`, the background is a random texture that stays still: a model
    that sees the past can copy it, a per-frame model has to pay for it anew.
    """
    rng = np.random.default_rng(seed)
    videos = np.zeros((num_videos, num_frames, size, size, 3), np.uint8)
    if textured:
        videos[:] = rng.integers(0, 128, (num_videos, 1, size, size, 3))
    steps = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)])
    colours = np.array([(255, 64, 64), (64, 255, 64), (64, 64, 255)])
    for i in range(num_videos):
        row, col = rng.integers(0, size, 2)
        d_row, d_col = steps[rng.integers(4)]
        colour = colours[rng.integers(len(colours))]
        for t in range(num_frames):
            rows = (row + t * d_row + np.arange(side)) % size
            cols = (col + t * d_col + np.arange(side)) % size
            videos[i, t, rows[:, None], cols[None, :]] = colour
    return videos


def perturb_weights(variables, seed, scale=0.05):
    """Moves every float weight away from its (identity) initialisation."""
    rng = np.random.default_rng(seed)
    for v in variables:
        dtype = np.dtype(v.dtype)
        if np.issubdtype(dtype, np.floating):
            v.assign(v + scale * rng.standard_normal(v.shape).astype(dtype))


def sublayers(layer):
    """Every Keras layer reachable from `layer` through public attributes."""
    found, todo = [], [layer]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        for name in dir(current):
            if name.startswith("_"):
                continue
            try:
                value = getattr(current, name)
            except Exception:  # pylint: disable=broad-except
                continue  # a property that needs a state the layer lacks
            values = value if isinstance(value, (list, tuple)) else [value]
            todo += [v for v in values if isinstance(v, keras.layers.Layer)]
    return found[1:]


def bin_values(pixels, num_bits, seed):
    """Dequantized float frames in bin units for `pixels`."""
    noise = tf.random.stateless_uniform(pixels.shape, seed=[seed, 0])
    return vf.dequantization.dequantize(pixels, num_bits, noise)


def write_movie(path, frames, rate=10):
    """Writes uint8 RGB `[T, H, W, 3]` frames as a lossless H.264 movie (PyAV).

    libx264rgb at qp 0 keeps RGB exactly, so a test can compare frames.
    """
    import av  # pylint: disable=import-outside-toplevel
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=rate)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "rgb24"
        stream.options = {"qp": "0"}
        for frame in frames:
            container.mux(stream.encode(
                av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def write_lock(folder, pid):
    """The run-folder lock that a training of process `pid` here holds."""
    (folder / run_lock.NAME).write_text(json.dumps(
        {"pid": pid, "hostname": socket.gethostname(),
         "started": "2026-12-02 01:00:00 UTC"}))
