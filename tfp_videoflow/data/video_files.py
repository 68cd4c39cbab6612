"""The user's own video files, read frame by frame.

Readable files: .npy and .npz arrays (`[T, H, W]`, `[T, H, W, 1|3|4]`;
uint8, or floats in [0, 1]), animated .gif (Pillow), and .mp4 / .avi / .mov
/ .webm / .mkv (PyAV, `pip install av`; without it, imageio's plugins are
tried). Every frame comes back as uint8 RGB `[H, W, 3]`.

Frames stream: an array's frames are read from the file one at a time, a
movie's are decoded one at a time, so a clip longer than memory can be read.
A file that cannot be decoded raises one line naming it:
`ValueError: clips/a.mp4: cannot decode this video (<cause>)`.
"""

import contextlib
import itertools
import math
import pathlib
import zipfile

import numpy as np

ARRAY_SUFFIXES = (".npy", ".npz")
IMAGE_SUFFIXES = (".gif",)
MOVIE_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv")
SUFFIXES = ARRAY_SUFFIXES + IMAGE_SUFFIXES + MOVIE_SUFFIXES


# ------------------------------------------------------------------ checks
def _check_shape(shape, where):
    if len(shape) not in (3, 4) or (len(shape) == 4 and shape[-1] not in
                                    (1, 3, 4)):
        raise ValueError(f"{where}: expected frames [T, H, W] or [T, H, W, C] "
                         f"with C in (1, 3, 4), got shape {tuple(shape)}.")
    if 0 in shape[1:3]:
        raise ValueError(f"{where}: frames have no pixels (shape "
                         f"{tuple(shape)}).")


def to_rgb_uint8(video, where="video"):
    """A `[T, H, W]` / `[T, H, W, 1|3|4]` array as uint8 RGB `[T, H, W, 3]`.

    uint8 is kept; floats must lie in [0, 1] and are scaled to 0..255; other
    integer types must lie in 0..255.
    """
    video = np.asarray(video)
    _check_shape(video.shape, where)
    if video.ndim == 3:
        video = video[..., np.newaxis]
    if video.dtype.kind == "f":
        if not np.all(np.isfinite(video)):
            raise ValueError(f"{where}: holds NaN or inf values.")
        if video.size and (video.min() < 0 or video.max() > 1):
            raise ValueError(f"{where}: float frames must lie in [0, 1], got "
                             f"values in [{video.min()}, {video.max()}].")
        video = np.round(video * 255.0)
    elif video.dtype.kind in "iub":
        if video.size and (video.min() < 0 or video.max() > 255):
            raise ValueError(f"{where}: integer frames must lie in 0..255, "
                             f"got values in [{video.min()}, {video.max()}].")
    else:
        raise ValueError(f"{where}: unsupported dtype {video.dtype}.")
    video = video.astype(np.uint8)
    if video.shape[-1] == 1:
        video = np.repeat(video, 3, axis=-1)
    return video[..., :3]  # Drops an alpha channel.


@contextlib.contextmanager
def _decoding(path, advice=""):
    """Any decoder's failure as one line naming the file.

    Decoders fail on a broken file with many error types (Pillow raises
    SyntaxError, PyAV its own); all mean the same to the user.
    """
    try:
        yield
    except Exception as error:  # pylint: disable=broad-except
        cause = (getattr(error, "strerror", None) or str(error)
                 or type(error).__name__).splitlines()[0]
        raise ValueError(f"{path}: cannot decode this video ({cause})"
                         f"{advice}.") from error


# ------------------------------------------------------------------ arrays
@contextlib.contextmanager
def _array_data(path):
    """(file positioned at the pixels, shape, Fortran order, dtype)."""
    with contextlib.ExitStack() as stack:
        if path.suffix.lower() == ".npy":
            file = stack.enter_context(open(path, "rb"))
        else:
            archive = stack.enter_context(zipfile.ZipFile(path))
            names = [n for n in archive.namelist() if n.endswith(".npy")]
            if not names:
                raise ValueError("the .npz file holds no array")
            # np.load's choice: the array saved as `video`, else the first.
            file = stack.enter_context(archive.open(
                "video.npy" if "video.npy" in names else names[0]))
        version = np.lib.format.read_magic(file)
        shape, fortran_order, dtype = (
            np.lib.format.read_array_header_1_0(file) if version == (1, 0)
            else np.lib.format.read_array_header_2_0(file))
        if dtype.hasobject:
            raise ValueError("holds Python objects, not pixels")
        yield file, shape, fortran_order, dtype


def _array_frames(path, start, stop):
    # Plain reads, not a memory map: pages read through a map count as the
    # process's memory until the system reclaims them.
    with _array_data(path) as (file, shape, fortran_order, dtype):
        stop = shape[0] if stop is None else min(stop, shape[0])
        if fortran_order:  # No frame is contiguous on disk: read it whole.
            video = np.frombuffer(file.read(), dtype).reshape(shape,
                                                              order="F")
            yield from video[start:stop]
            return
        frame_bytes = math.prod(shape[1:]) * dtype.itemsize
        file.seek(start * frame_bytes, 1)
        for index in range(start, stop):
            pixels = file.read(frame_bytes)
            if len(pixels) < frame_bytes:
                raise ValueError(f"the file ends inside frame {index}")
            yield np.frombuffer(pixels, dtype).reshape(shape[1:])


def _array_length(path):
    with _decoding(path), _array_data(path) as (_, shape, _, _):
        pass
    _check_shape(shape, path)
    return shape[0]


# ------------------------------------------------------------------ images
def _gif_frames(path, start, stop):
    from PIL import Image, ImageSequence  # pylint: disable=import-outside-toplevel
    with Image.open(path) as image:
        for frame in itertools.islice(ImageSequence.Iterator(image), start,
                                      stop):
            yield np.asarray(frame.convert("RGB"))


def _gif_length(path):
    from PIL import Image  # pylint: disable=import-outside-toplevel
    with _decoding(path), Image.open(path) as image:
        image.load()  # A broken file fails here rather than mid-training.
        return image.n_frames


# ------------------------------------------------------------------ movies
def _pyav():
    try:
        import av  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return av


# Without PyAV a movie may still be read through one of imageio's plugins;
# if it cannot be, the message says which reader to install.
_NO_PYAV = "; PyAV reads movies: `pip install av`"


def _movie_frames(path, start, stop):
    av = _pyav()
    if av is None:
        import imageio.v3 as iio  # pylint: disable=import-outside-toplevel
        yield from itertools.islice(iio.imiter(path), start, stop)
        return
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # Decodes on every core.
        for index, frame in enumerate(container.decode(stream)):
            if stop is not None and index >= stop:
                break
            if index >= start:
                yield frame.to_ndarray(format="rgb24")


def _movie_length(path):
    av = _pyav()
    if av is None:
        with _decoding(path, _NO_PYAV):
            return sum(1 for _ in _movie_frames(path, 0, None))
    with _decoding(path):
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("it holds no video stream")
            stream = container.streams.video[0]
            next(container.decode(stream), None)  # A broken stream fails here.
            if stream.frames:  # The container's count, where it keeps one.
                return stream.frames
        with av.open(str(path)) as container:  # Else its packets, undecoded.
            return sum(1 for packet in container.demux(video=0) if packet.size)


# -------------------------------------------------------------------- files
_READERS = {".npy": (_array_length, _array_frames),
            ".npz": (_array_length, _array_frames),
            ".gif": (_gif_length, _gif_frames)}
_READERS.update({suffix: (_movie_length, _movie_frames)
                 for suffix in MOVIE_SUFFIXES})


def _checked(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: unknown video type {suffix!r}; expected one "
                         f"of {', '.join(SUFFIXES)}.")
    return path, _READERS[suffix]


def frame_count(path):
    """How many frames a video file holds, read from its header.

    Also opens the file the way reading it will, so a damaged file fails
    here. A movie's count is its container's (or its packets'); its frames
    are what decodes.

    Raises:
      FileNotFoundError: if there is no such file.
      ValueError: if the file is of an unknown type or cannot be decoded.
    """
    path, (length, _) = _checked(path)
    return length(path)


def iter_frames(path, start=0, stop=None):
    """Frames `start` to `stop` (exclusive) of a video file, one at a time.

    Yields uint8 RGB `[H, W, 3]` arrays; raises as `frame_count` does, and a
    `ValueError` naming the file for a frame that cannot be decoded or holds
    values that are not pixels.
    """
    path, (_, frames) = _checked(path)
    advice = _NO_PYAV if (path.suffix.lower() in MOVIE_SUFFIXES
                          and _pyav() is None) else ""
    raw_frames = frames(path, start, stop)
    while True:
        with _decoding(path, advice):
            raw = next(raw_frames, None)
        if raw is None:
            return
        yield to_rgb_uint8(raw[np.newaxis], where=str(path))[0]


def load_video_file(path):
    """Reads one whole video file as uint8 RGB `[T, H, W, 3]`.

    Raises:
      FileNotFoundError: if there is no such file.
      ValueError: if the file is of an unknown type, cannot be decoded, or
        does not hold frames.
    """
    frame_count(path)  # Checks the file and its frames' shape.
    frames = list(iter_frames(path))
    if not frames:
        raise ValueError(f"{path}: holds no frames.")
    return np.stack(frames)
