"""keras_model: the one override of a private Keras method is still needed."""

import inspect
import re

import numpy as np
import pytest
from keras.src.backend.tensorflow import trainer

from tfp_videoflow import keras_model


def test_keras_still_averages_a_data_batch_to_build_under_a_strategy():
    # keras_model.Model overrides `_maybe_symbolic_build` because Keras
    # averages the first batch over the replicas (no uint8 collective).
    # This fails once Keras stops doing so; then the override should go.
    source = inspect.getsource(
        trainer.TensorFlowTrainer._maybe_symbolic_build)  # noqa: SLF001
    assert re.search(r'reduce\(\s*"MEAN"', source)
    assert "_maybe_symbolic_build" in vars(keras_model.Model)


def test_an_empty_array_is_one_clear_line():
    for where in ("fit", "evaluate", "predict"):
        with pytest.raises(ValueError, match=rf"^{where}: no videos \(got an "
                                             r"array shaped \(0, 3\)\)"):
            keras_model.check_not_empty(np.zeros((0, 3)), where, "videos")
    keras_model.check_not_empty(np.zeros((1, 3)), "fit", "videos")
