"""Lossless codecs as baselines for VideoFlow's bits per pixel.

Each function takes frames of n-bit values stored in uint8 (`x >> (8 - n)`
of 8-bit pixels, the bins the model codes; see tfp_videoflow/dequantization.py)
shaped `[N, H, W, 3]` and returns the bits each frame costs, `[N]`, so that a
caller can add them up over any set of target frames:

* `png`: every frame its own PNG (zlib level 9), whole file.
* `ffv1`: FFV1 (PyAV), intra-only (every frame a key frame), range coder;
  the bytes of each frame's packet (its global header, under 200 bytes
  per stream, and any container left out).
* `h264`: lossless H.264 (PyAV `libx264rgb`, `qp=0`, preset veryslow), all
  frames as one stream: the bytes of each frame's packet (the first one
  carries the stream's headers).
* `copy_last_zlib`: frame i predicted by frame i - 1, the residual
  (mod 2^n) compressed with zlib level 9; frame 0 has no prediction (NaN).

FFV1 and H.264 are decoded again and checked to give the frames back.
"""

import fractions
import io
import zlib

import av
import numpy as np
from PIL import Image


def png(frames):
    bits = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="PNG", optimize=True)
        bits.append(8 * buffer.tell())
    return np.array(bits, np.float64)


def copy_last_zlib(frames, num_bits):
    residuals = (frames[1:].astype(np.int16) - frames[:-1]) % (1 << num_bits)
    bits = [8 * len(zlib.compress(r.astype(np.uint8).tobytes(), 9))
            for r in residuals]
    return np.array([np.nan] + bits, np.float64)


def ffv1(frames):
    return _encode(frames, "ffv1", "ffv1", "bgr0", gop_size=1, options={
        "level": "3", "coder": "1", "context": "1", "slicecrc": "0"})


def h264(frames):
    return _encode(frames, "libx264rgb", "h264", "rgb24",
                   gop_size=len(frames),
                   options={"qp": "0", "preset": "veryslow"})


def _encode(frames, codec, decoder, pixel_format, gop_size, options):
    """Bits of each frame's packet(s); the stream is decoded and checked."""
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height = frames.shape[2], frames.shape[1]
    encoder.pix_fmt = pixel_format
    encoder.time_base = fractions.Fraction(1, 25)
    encoder.framerate = 25
    encoder.gop_size = gop_size
    encoder.options = options
    packets = []
    for index, frame in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
        if pixel_format != "rgb24":
            picture = picture.reformat(format=pixel_format)
        picture.pts = index
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    bits = np.zeros(len(frames), np.float64)
    for packet in packets:
        bits[packet.pts] += 8 * packet.size
    _check_lossless(encoder, decoder, packets, frames)
    return bits


def _check_lossless(encoder, decoder_name, packets, frames):
    decoder = av.CodecContext.create(decoder_name, "r")
    decoder.width, decoder.height = encoder.width, encoder.height
    decoder.pix_fmt = encoder.pix_fmt
    if encoder.extradata:
        decoder.extradata = encoder.extradata
    decoded = []
    for packet in sorted(packets, key=lambda p: p.dts):
        decoded += decoder.decode(packet)
    decoded += decoder.decode(None)
    got = np.stack([d.to_ndarray(format="rgb24") for d in
                    sorted(decoded, key=lambda d: d.pts)])
    if not np.array_equal(got, frames):
        raise AssertionError(f"{encoder.name} did not give the frames back.")
