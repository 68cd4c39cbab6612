"""Pictures of videos: image grids, animated GIFs (and MP4 when possible)."""

import importlib.util
import os
import pathlib
import uuid

import numpy as np
from PIL import Image

_SEPARATOR = 2  # pixels of white between frames and rows of a grid


def grid(rows, separator=_SEPARATOR):
    """Tiles `rows` (uint8 `[R, T, H, W, C]`) into one `[.., .., C]` image."""
    rows = np.asarray(rows)
    if rows.ndim != 5 or rows.dtype != np.uint8:
        raise ValueError(f"grid: expected uint8 [rows, frames, H, W, C], got "
                         f"{rows.dtype} {rows.shape}.")
    num_rows, num_frames, height, width, channels = rows.shape
    image = np.full((num_rows * (height + separator) - separator,
                     num_frames * (width + separator) - separator, channels),
                    255, np.uint8)
    for r in range(num_rows):
        for t in range(num_frames):
            top, left = r * (height + separator), t * (width + separator)
            image[top:top + height, left:left + width] = rows[r, t]
    return image


def _as_pil(frame):
    frame = np.asarray(frame)
    return Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame)


def _upscale(frames, factor):
    return np.repeat(np.repeat(frames, factor, axis=-3), factor, axis=-2)


def _atomic(path, write):
    """Calls `write(tmp_path)` and renames the result to `path`.

    The temporary name is unique but not created in advance (as mkstemp
    would, with mode 0600), so the writer creates the file with the usual
    permissions.
    """
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_gif(path, frames, fps=4):
    """Writes uint8 `[T, H, W, C]` frames as a looping GIF."""
    images = [_as_pil(f) for f in frames]
    return _atomic(path, lambda tmp: images[0].save(
        tmp, format="GIF", save_all=True, append_images=images[1:],
        duration=int(1000 / fps), loop=0))


def write_png(path, image):
    return _atomic(path, lambda tmp: _as_pil(image).save(tmp, format="PNG"))


def write_mp4(path, frames, fps=4):
    """Writes an MP4 if imageio's ffmpeg plugin is installed; else None."""
    if importlib.util.find_spec("imageio_ffmpeg") is None:
        return None
    import imageio.v2 as imageio  # pylint: disable=import-outside-toplevel
    return _atomic(path, lambda tmp: imageio.mimwrite(
        tmp, list(frames), fps=fps, format="FFMPEG"))


def write_samples(out_dir, context, futures, scale=None):
    """Writes context + sampled futures: a GIF per sample and a PNG grid.

    Args:
      out_dir: a new or empty directory.
      context: uint8 `[K, H, W, C]`.
      futures: uint8 `[S, T, H, W, C]`.
      scale: integer upscaling for viewing (default: to about 128 pixels).

    Returns:
      The paths written.
    """
    out_dir = pathlib.Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir} exists and is not an empty directory; "
                         "choose a new --out so nothing is overwritten.")
    out_dir.mkdir(parents=True, exist_ok=True)
    context, futures = np.asarray(context), np.asarray(futures)
    scale = scale or max(1, 128 // context.shape[1])
    videos = np.concatenate(
        [np.broadcast_to(context, (len(futures),) + context.shape), futures],
        axis=1)
    videos = _upscale(videos, scale)
    written = [write_png(out_dir / "grid.png", grid(videos))]
    for index, video in enumerate(videos):
        written.append(write_gif(out_dir / f"sample_{index}.gif", video))
        mp4 = write_mp4(out_dir / f"sample_{index}.mp4", video)
        if mp4:
            written.append(mp4)
    return written
