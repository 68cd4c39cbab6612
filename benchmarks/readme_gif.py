"""The README's animation: sampled futures next to the real test videos.

    python benchmarks/readme_gif.py runs/demo/model.keras benchmarks/results/samples.gif

Rows are Stochastic Movement test videos (32x32); in each row the left tile
is the real video and the others are futures sampled from its first frame.
Also writes the frames side by side as a PNG next to the GIF.
"""

import argparse
import pathlib
import sys

import keras
import numpy as np

import tfp_videoflow as vf
from tfp_videoflow import visualization


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras file of a 32x32 model")
    parser.add_argument("out", help="the GIF to write")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--frames", type=int, default=3,
                        help="sampled frames after the given one")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--upscale", type=int, default=3)
    args = parser.parse_args(argv)

    model = keras.models.load_model(args.model)
    videos = next(iter(vf.data.stochastic_movement(
        "test", resolution=model.frame_shape[0], num_frames=args.frames + 1,
        num_videos=args.videos, seed=0, batch_size=args.videos))).numpy()
    context = videos[:, :1]
    futures = model.sample_future(  # [samples, videos, frames, H, W, C]
        context, num_samples=args.samples, num_frames=args.frames,
        temperature=args.temperature, seed=(0, 7)).numpy()
    sampled = np.concatenate(  # the given frame opens every sampled future
        [np.broadcast_to(context[np.newaxis], futures[:, :, :1].shape),
         futures], axis=2)
    tiles = np.concatenate(  # [videos, 1 + samples, frames, H, W, C]
        [videos[:, np.newaxis], np.moveaxis(sampled, 0, 1)], axis=1)
    zoom = np.ones((args.upscale, args.upscale, 1), np.uint8)
    frames = np.stack([np.kron(visualization.grid(tiles[:, :, t]), zoom)
                       for t in range(tiles.shape[2])])
    visualization.write_gif(args.out, frames, fps=2)
    gap = np.full_like(frames[0][:, :4 * args.upscale], 255)
    strip = [part for frame in frames for part in (frame, gap)][:-1]
    visualization.write_png(str(pathlib.Path(args.out).with_suffix(".png")),
                            np.concatenate(strip, axis=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
