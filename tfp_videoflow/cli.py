"""The `videoflow` command line: train, evaluate, sample.

    videoflow train --data stochastic_movement --steps 300 --out runs/demo
    videoflow evaluate --model runs/demo --data stochastic_movement
    videoflow sample --model runs/demo --out runs/demo/samples
    videoflow export --model runs/demo --out runs/demo/saved_model

Every command checks its input first and fails with one clear message and a
non-zero exit status, without touching existing files.
"""

import argparse
import os
import sys

from tfp_videoflow import presets
from tfp_videoflow.errors import UsageError, WriteError

DATA_HELP = ("'stochastic_movement' (generated, offline), 'bair' (TFDS "
             "bair_robot_pushing_small, from --data-dir), or the path of a "
             "folder of .mp4/.gif/.avi/.npy/.npz videos")


# data.AUGMENTATIONS (--help starts without TensorFlow, which the data
# package imports; a test keeps the two equal).
AUGMENTATIONS = ("mirror", "reverse", "rotate")


def _augmentation(text):
    """--augment's value: 'none' or kinds joined by '+', each known once."""
    kinds = [] if text == "none" else text.split("+")
    if any(kind not in AUGMENTATIONS for kind in kinds) or \
            len(set(kinds)) != len(kinds):
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose 'none' or one or more of "
            + ", ".join(repr(k) for k in AUGMENTATIONS)
            + " joined by '+', each once")
    return text


def _preset_keys():
    """The settings presets hold, for the help of --set."""
    return sorted({key for settings in presets.PRESETS.values()
                   for key in settings})


def _add_train(commands):
    train = commands.add_parser(
        "train", help="train a model",
        description="Train a VideoFlow model; writes checkpoints, TensorBoard "
                    "logs and model.keras (the best on validation data, or "
                    "the last) to --out.")
    _add_train_data(train.add_argument_group("data"))
    _add_train_model(train.add_argument_group("model"))
    _add_train_optimisation(train.add_argument_group("optimisation"))
    _add_train_run(train.add_argument_group("run directory, validation"))


def _add_train_data(group):
    """--help group of `train`: training and validation videos."""
    group.add_argument("--data", default="stochastic_movement", help=DATA_HELP)
    group.add_argument("--data-dir", default=None,
                       help="TFDS data directory (for --data bair)")
    group.add_argument("--augment", default=None, type=_augmentation,
                       help="random symmetries of the training windows: "
                            "'none' or " + ", ".join(AUGMENTATIONS)
                            + " joined by '+'; default: mirror+reverse+"
                            "rotate for a folder of footage (mirror+reverse "
                            "for frames that are not square), none for "
                            "stochastic_movement and bair; held-out data "
                            "never is")
    group.add_argument(
        "--validation-data", default=None, metavar="SOURCE",
        help="where validation videos come from: the 'validation' split of "
             "SOURCE (" + DATA_HELP + "), or 'none'; default: --data's own "
             "validation split when --data is a folder or "
             "stochastic_movement, none for bair. With validation, the "
             "model with the lowest validation bits per pixel is kept as "
             "model.keras; without, the last one")
    group.add_argument("--validation-batches", type=int, default=8,
                       metavar="N",
                       help="validate on the first N batches of "
                            "--batch-size videos, with the same "
                            "dequantization noise every time")


def _add_train_model(group):
    """--help group of `train`: the model's settings."""
    group.add_argument("--preset", default="small",
                       choices=sorted(presets.PRESETS),
                       help="model configuration: " + ", ".join(
                           f"'{name}' ({summary})" for name, summary
                           in presets.SUMMARIES.items()))
    group.add_argument(
        "--set", nargs="+", action="extend", default=None,
        metavar="KEY=VALUE",
        help="change model settings of the preset, e.g. --set "
             "latent_skip=True num_context_frames=2 (or --set "
             "frame_shape='(64, 64, 3)' --set coupling=additive); values "
             "are Python literals, bare words are strings; a key is any "
             "VideoFlowModel argument but seed and precision (their own "
             "flags), such as " + ", ".join(_preset_keys()) + "; "
             "recorded in run.json")
    group.add_argument("--precision", default=None,
                       choices=["auto", "float32", "mixed_bfloat16",
                                "mixed_float16"],
                       help="Keras dtype policy of the networks ('auto': "
                            "bfloat16 where the CPU or GPU computes it "
                            "natively, else float32); log-determinants, "
                            "log-densities and the loss stay float32 "
                            "(default: the preset's, else float32)")
    group.add_argument("--seed", type=int, default=0,
                       help="seed of weights, data order and noise")


def _add_train_optimisation(group):
    """--help group of `train`: how the steps are taken."""
    group.add_argument("--steps", type=int, default=300,
                       help="total number of training steps")
    group.add_argument("--batch-size", type=int, default=16,
                       help="videos per training step")
    group.add_argument("--learning-rate", type=float, default=None,
                       help="Adam learning rate (after warm-up; default "
                            "1e-3); with --resume, the new rate from the "
                            "checkpoint's step on (recorded in run.json)")
    group.add_argument("--warmup-steps", type=int, default=100,
                       help="steps of linear learning-rate warm-up")
    group.add_argument("--ema-momentum", type=float, default=None,
                       help="momentum of the moving average of the weights "
                            "that validation, samples and model.keras use "
                            "(default 0.99; 0: the trained weights; a "
                            "resumed run keeps its own)")
    group.add_argument("--split-every", type=int, default=None,
                       metavar="N",
                       help="every N steps, the top-level mixture's "
                            "components that hold almost no futures become "
                            "copies of the busiest one (default 250; 0: "
                            "never; no-op without a mixture; a resumed run "
                            "keeps its own)")
    group.add_argument("--split-until", type=int, default=None,
                       metavar="STEP",
                       help="the last step --split-every splits at (default "
                            "5000)")
    group.add_argument("--jit-compile", default="auto",
                       choices=["auto", "on", "off"],
                       help="compile the training step with XLA ('auto': "
                            "only when a GPU is present)")
    group.add_argument("--distribute", default="none",
                       help="'none' (one device), 'mirrored' (every GPU of "
                            "this machine) or 'multi-worker' (several "
                            "machines, each started with the same command "
                            "and its own TF_CONFIG); --batch-size is the "
                            "global batch")
    group.add_argument("--deterministic", action="store_true",
                       help="make every TensorFlow op deterministic (needed "
                            "for bit-exact resume on a GPU; disables XLA)")


def _add_train_run(group):
    """--help group of `train`: what the run writes and when it stops."""
    group.add_argument("--out", required=True,
                       help="run directory (must be new or empty, unless "
                            "--resume)")
    group.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last "
                            "checkpoint, exactly where it stopped")
    group.add_argument("--checkpoint-every", type=int, default=100,
                       help="write a checkpoint every this many steps")
    group.add_argument("--validate-every", type=int, default=None,
                       metavar="N",
                       help="compute validation bits per pixel every N "
                            "steps (default: --checkpoint-every)")
    group.add_argument("--patience", type=int, default=None, metavar="N",
                       help="stop once N validations in a row have not "
                            "beaten the best (its model is model.keras); "
                            "default: train all --steps")
    group.add_argument("--time-limit", type=float, default=None,
                       metavar="MINUTES",
                       help="stop after this many minutes of training (wall "
                            "clock, this invocation; then as at the end: "
                            "checkpoint and model.keras written, --resume "
                            "goes on); default: no limit")
    group.add_argument("--sample-every", type=int, default=500,
                       help="add a grid of sampled futures to TensorBoard "
                            "every this many steps (0: never)")


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate", help="test bits per pixel and best-of-N PSNR/SSIM",
        description="Evaluate a trained model on test videos: bits per pixel "
                    "(with its standard error) and best-of-N PSNR / SSIM of "
                    "sampled futures, next to the copy-last-frame baseline.")
    evaluate.add_argument("--model", required=True,
                          help="run directory (or .keras file) of the model")
    evaluate.add_argument("--data", default="stochastic_movement",
                          help=DATA_HELP)
    evaluate.add_argument("--data-dir", default=None,
                          help="TFDS data directory (for --data bair)")
    evaluate.add_argument("--num-samples", type=int, default=8,
                          help="N of best-of-N (0: likelihood only)")
    evaluate.add_argument("--temperature", type=float, default=None,
                          help="sampling temperature (default: the model's "
                               "sampling_temperature)")
    evaluate.add_argument("--batch-size", type=int, default=16,
                          help="videos per batch")
    evaluate.add_argument("--max-videos", type=int, default=256,
                          help="evaluate on at most this many test videos")
    evaluate.add_argument("--seed", type=int, default=0,
                          help="seed of noise and samples")
    evaluate.add_argument("--json", default=None,
                          help="also write the results to this JSON file")


def _add_sample(commands):
    sample = commands.add_parser(
        "sample", help="sample futures as GIFs and a PNG grid",
        description="Sample futures of context frames; writes one GIF per "
                    "sample (context then future) and a PNG grid.")
    sample.add_argument("--model", required=True,
                        help="run directory (or .keras file) of the model")
    source = sample.add_mutually_exclusive_group()
    source.add_argument("--context", default=None,
                        help="a video file (.gif/.npy/.npz/.mp4) whose first "
                             "K frames are the context")
    source.add_argument("--data", default=None, help=DATA_HELP +
                        " (the context is the start of a test video)")
    sample.add_argument("--data-dir", default=None,
                        help="TFDS data directory (for --data bair)")
    sample.add_argument("--video-index", type=int, default=0,
                        help="which test video gives the context (--data)")
    sample.add_argument("--num-samples", type=int, default=4,
                        help="number of futures")
    sample.add_argument("--frames", type=int, default=None,
                        help="frames per future (default: the model's T)")
    sample.add_argument("--temperature", type=float, default=None,
                        help="prior temperature (default: the model's "
                             "sampling_temperature, the one its futures are "
                             "best at; 0.6 unless measured)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed")
    sample.add_argument("--out", required=True,
                        help="directory for the GIFs and the PNG grid")


def _add_export(commands):
    export = commands.add_parser(
        "export", help="write a TensorFlow SavedModel for serving",
        description="Export a trained model as a TensorFlow SavedModel with "
                    "a 'sample' signature (uint8 context, number of samples, "
                    "temperature, seed -> uint8 frames) and a "
                    "'bits_per_pixel' signature (uint8 context and target "
                    "frames -> bits per pixel). Loading it needs only "
                    "TensorFlow.")
    export.add_argument("--model", required=True,
                        help="run directory (or .keras file) of the model")
    export.add_argument("--out", required=True,
                        help="directory for the SavedModel (must not exist)")


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="videoflow",
        description="VideoFlow: train, evaluate and sample a flow-based "
                    "generative model of video.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_evaluate, _add_sample, _add_export):
        add(commands)
    for subparser in commands.choices.values():
        subparser.add_argument(
            "--verbose", action="store_true",
            help="show TensorFlow's own start-up and warning messages")
    return parser


def _quiet_tensorflow_logging():
    """Only errors from TensorFlow's loggers (C++ and Python) from now on.

    Lines TensorFlow prints while it loads ignore this; the `videoflow`
    launcher hides them (see videoflow.py).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.get_logger().setLevel("ERROR")


def main(argv=None):
    """Entry point of the `videoflow` console script."""
    args = _build_parser().parse_args(argv)
    if not args.verbose:
        _quiet_tensorflow_logging()
    try:
        # Imported here so that `--help` and argument errors are instant.
        from tfp_videoflow import commands
        return getattr(commands, args.command)(args) or 0
    except (UsageError, WriteError) as error:
        # WriteError: a full disk, a read-only or removed folder.
        print(f"videoflow {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"videoflow {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
