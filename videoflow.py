"""The `videoflow` command (also `python -m videoflow`).

Hides TensorFlow's C++ start-up lines (oneDNN, CUDA and CPU-feature
notices) unless `--verbose` is given, then runs `tfp_videoflow.cli`. It is a
module outside the package because importing anything from `tfp_videoflow`
imports TensorFlow, and those lines are printed during that import, before
TF_CPP_MIN_LOG_LEVEL or any logger setting can act: standard error is
pointed at /dev/null while TensorFlow loads and looks for devices.
"""

import os
import sys


def _import_tensorflow_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
        tf.config.list_physical_devices()  # CUDA probing prints here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" not in argv:
        _import_tensorflow_quietly()
    from tfp_videoflow import cli  # pylint: disable=import-outside-toplevel
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
