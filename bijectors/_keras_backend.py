"""Makes sure Keras 3 runs on the TensorFlow backend.

Keras picks its backend once, at its first import, from KERAS_BACKEND. This
package keeps its weights in Keras layers and uses them inside TensorFlow
Probability, so only the TensorFlow backend can work. Importing this module
before Keras selects it; if Keras was already imported with another backend we
fail loudly rather than mix tensors of two frameworks.
"""

import os
import sys
import warnings

_REQUIRED = "tensorflow"

if "keras" not in sys.modules:
    requested = os.environ.get("KERAS_BACKEND", _REQUIRED)
    if requested != _REQUIRED:
        warnings.warn(
            f"KERAS_BACKEND={requested!r} ignored: tfp_videoflow needs Keras "
            "on the TensorFlow backend.", stacklevel=2)
    os.environ["KERAS_BACKEND"] = _REQUIRED

import keras  # noqa: E402  (must come after the environment is set)

if keras.backend.backend() != _REQUIRED:
    raise ImportError(
        f"Keras was already imported with the {keras.backend.backend()!r} "
        "backend, but tfp_videoflow needs the TensorFlow backend. Set "
        "KERAS_BACKEND=tensorflow before importing keras, or import "
        "tfp_videoflow (or bijectors) first.")
