"""One video frame fitted to the model's frame size: crop, squash or pad.

* "crop" (the default): the largest centred part of the frame with the
  model's aspect, resized; nothing is distorted, the sides (or the top and
  bottom) are lost.
* "squash": the whole frame resized to the model's size, distorted when the
  aspects differ.
* "pad": the whole frame resized to fit inside, letterboxed with black.

Resizing is Pillow's bilinear filter, antialiased (its support widens with
the reduction), rounded to uint8.
"""

import numpy as np
from PIL import Image

RESIZE_MODES = ("crop", "squash", "pad")


def check_resize_mode(resize):
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {', '.join(RESIZE_MODES)}, "
                         f"got {resize!r}.")


def fit_frame(frame, size, resize="crop"):
    """uint8 RGB `[h, w, 3]` -> `[H, W, 3]` for `size = (H, W)`."""
    check_resize_mode(resize)
    height, width = size
    h, w = frame.shape[:2]
    image = Image.fromarray(frame)
    filter_ = Image.Resampling.BILINEAR
    if resize == "pad":
        scale = min(height / h, width / w)
        inner = (max(1, round(w * scale)), max(1, round(h * scale)))
        canvas = Image.new("RGB", (width, height))  # Black.
        canvas.paste(image.resize(inner, filter_),
                     ((width - inner[0]) // 2, (height - inner[1]) // 2))
        return np.asarray(canvas)
    box = (0.0, 0.0, float(w), float(h))
    if resize == "crop":
        if w * height > h * width:  # Wider than the model's frames.
            kept = h * width / height
            box = ((w - kept) / 2, 0.0, (w + kept) / 2, float(h))
        else:
            kept = w * height / width
            box = (0.0, (h - kept) / 2, float(w), (h + kept) / 2)
    return np.asarray(image.resize((width, height), filter_, box=box))
