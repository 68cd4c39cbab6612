"""The normflows (PyTorch) Glow, measured like `flow_throughput.py` does ours.

Run by `flow_throughput.py --normflows-python PYTHON` with the Python of a
separate environment that has torch and normflows (they are not dependencies
of this project):

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch==2.13.0 normflows

Same architecture as ours at equal settings: L levels of [squeeze, K x
(ActNorm, LU 1x1 conv, affine coupling with sigmoid scale and a 3x3 / 1x1 /
zero-initialised 3x3 network of the given width)], half the channels split
off per level, a standard-normal prior. Prints one `RESULT {json}` line.
"""

import argparse
import json
import resource

import normflows as nf
import torch

from timing import median_seconds  # benchmarks/timing.py


def build(frame_shape, levels, steps, width):
    height, width_px, channels = frame_shape
    q0, merges, flows = [], [], []
    for i in range(levels):  # i = 0 is the coarsest level in normflows
        level = [nf.flows.GlowBlock(channels * 2 ** (levels + 1 - i), width,
                                    split_mode="channel", scale=True)
                 for _ in range(steps)]
        flows.append(level + [nf.flows.Squeeze()])
        if i > 0:
            merges.append(nf.flows.Merge())
            shape = (channels * 2 ** (levels - i), height // 2 ** (levels - i),
                     width_px // 2 ** (levels - i))
        else:
            shape = (channels * 2 ** (levels + 1), height // 2 ** levels,
                     width_px // 2 ** levels)
        q0.append(nf.distributions.DiagGaussian(shape, trainable=False))
    return nf.MultiscaleFlow(q0, flows, merges, class_cond=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frame-shape", type=int, nargs=3, required=True)
    parser.add_argument("--levels", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build(args.frame_shape, args.levels, args.steps, args.width)
    height, width, channels = args.frame_shape
    frames = torch.rand(args.batch, channels, height, width) * 256.0
    model.forward_kld(frames)  # ActNorm's data-dependent initialisation
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=1e-6)

    def train_step():
        optimizer.zero_grad()
        loss = model.forward_kld(frames)
        loss.backward()
        optimizer.step()

    def draw():
        with torch.no_grad():
            model.sample(args.batch)

    for _ in range(2):
        train_step()
        draw()
    train_seconds = median_seconds(train_step, args.repeats)
    sample_seconds = median_seconds(draw, args.repeats)
    print("RESULT " + json.dumps({
        "kind": "normflows", "batch": args.batch,
        "weights": int(sum(p.numel() for p in parameters)),
        "train_frames_per_s": args.batch / train_seconds,
        "sample_frames_per_s": args.batch / sample_seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
