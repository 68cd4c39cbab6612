"""Pictures of videos: image grids, animated GIFs (and MP4 when possible)."""

import importlib.util
import pathlib
import tempfile
import uuid

import numpy as np
from PIL import Image

from tfp_videoflow import files

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


def upscale(frames, factor):
    """Enlarges uint8 `[..., H, W, C]` frames `factor` times (pixel copies)."""
    return np.repeat(np.repeat(frames, factor, axis=-3), factor, axis=-2)


def write_gif(path, frames, fps=4):
    """Writes uint8 `[T, H, W, C]` frames as a looping GIF."""
    images = [_as_pil(f) for f in frames]
    return files.atomic_write(path, lambda tmp: images[0].save(
        tmp, format="GIF", save_all=True, append_images=images[1:],
        duration=int(1000 / fps), loop=0))


def write_png(path, image):
    return files.atomic_write(path, lambda tmp: _as_pil(image).save(tmp, format="PNG"))


def write_mp4(path, frames, fps=4):
    """Writes an MP4 if imageio's ffmpeg plugin is installed; else None."""
    if importlib.util.find_spec("imageio_ffmpeg") is None:
        return None
    import imageio.v2 as imageio  # pylint: disable=import-outside-toplevel
    return files.atomic_write(path, lambda tmp: imageio.mimwrite(
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
    out_dir = files.check_new_output(out_dir)
    files.make_dirs(out_dir)
    context, futures = np.asarray(context), np.asarray(futures)
    scale = scale or max(1, 128 // context.shape[1])
    videos = np.concatenate(
        [np.broadcast_to(context, (len(futures),) + context.shape), futures],
        axis=1)
    videos = upscale(videos, scale)
    written = [write_png(out_dir / "grid.png", grid(videos))]
    for index, video in enumerate(videos):
        written.append(write_gif(out_dir / f"sample_{index}.gif", video))
        mp4 = write_mp4(out_dir / f"sample_{index}.mp4", video)
        if mp4:
            written.append(mp4)
    return written


# ------------------------------------------------------------- in notebooks
def show_image(image, scale=4):
    """Displays a uint8 image `[H, W, C]`, enlarged, in a notebook."""
    _display(write_png(_display_path(".png"), upscale(image, scale)))


def show_video(frames, scale=4, fps=3):
    """Displays uint8 frames `[T, H, W, C]` as a GIF in a notebook."""
    _display(write_gif(_display_path(".gif"), upscale(frames, scale), fps=fps))


def _display_path(suffix):
    folder = pathlib.Path(tempfile.gettempdir()) / "tfp_videoflow_display"
    folder.mkdir(exist_ok=True)
    return folder / f"{uuid.uuid4().hex}{suffix}"


def _display(path):
    from IPython import display  # pylint: disable=import-outside-toplevel
    display.display(display.Image(filename=str(path)))
