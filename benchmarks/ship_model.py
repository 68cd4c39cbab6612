"""Copies a trained model into the package as a shipped `vf.pretrained` model.

    python benchmarks/ship_model.py MODEL.keras small_stochastic_movement \
        --sampling-temperature 0.6

Writes `tfp_videoflow/pretrained_models/NAME.keras` with the model's
configuration and weights only: no optimizer state (Adam's two moments
would triple the file), so it loads uncompiled, ready to sample and score.
`--sampling-temperature` stores the temperature its futures were measured
best at (`benchmarks/quality.py --temperatures ...`) as the model's default.
"""

import argparse
import pathlib
import sys

import keras

import tfp_videoflow as vf
from tfp_videoflow import files

FOLDER = pathlib.Path(vf.__file__).parent / "pretrained_models"
MAX_BYTES = 10 * 2 ** 20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a trained .keras file")
    parser.add_argument("name", help="the name vf.pretrained will know")
    parser.add_argument("--sampling-temperature", type=float, default=None,
                        help="the default temperature of its futures "
                             "(default: the trained model's)")
    args = parser.parse_args(argv)
    trained = keras.models.load_model(args.model)
    config = trained.get_config()
    if args.sampling_temperature is not None:
        config["sampling_temperature"] = args.sampling_temperature
    shipped = vf.VideoFlowModel.from_config(config)
    shipped.set_weights(trained.get_weights())
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / f"{args.name}.keras"
    files.atomic_save_model(shipped, path)
    size = path.stat().st_size
    print(f"wrote {path} ({size / 2 ** 20:.1f} MiB)")
    if size > MAX_BYTES:
        path.unlink()
        raise SystemExit(f"{path} is over {MAX_BYTES / 2 ** 20:.0f} MiB; "
                         "not shipped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
