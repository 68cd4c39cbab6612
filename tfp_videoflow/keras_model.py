"""The `keras.Model` that `VideoFlowModel` extends: what it changes, and why.

Each change to Keras' behaviour is here, so the model itself is only the
Keras guide's shape (`train_step`, `test_step`, `metrics`, `get_config`):

* a bad argument to `model(...)` is refused with its reason on the first
  line (Keras rewraps what `call` raises under a line of its own);
* `fit` stops, and raises `FloatingPointError`, at the first step whose
  loss is not finite, unless its callbacks hold a `NonFiniteGuard`;
* `fit`, `evaluate` and `predict` refuse an empty array with one line
  (Keras' `fit` does nothing, its `predict` fails with an
  `UnboundLocalError`);
* the one use of a private Keras name: under a `tf.distribute` strategy
  Keras 3's TensorFlow trainer builds the model symbolically before `fit`
  or `evaluate` (`TensorFlowTrainer._maybe_symbolic_build` in
  `keras/src/backend/tensorflow/trainer.py`) from the first batch of the
  data, averaged over the replicas with `strategy.reduce("MEAN", batch)`
  (the consumed batch is keras-team/keras#20394). A batch of uint8 videos
  has no collective kernel between workers, so a multi-worker `fit` fails
  there; a model built in `__init__` needs no batch (only the optimizer is
  left to build). `tests/tfp_videoflow/test_keras_model.py` checks that
  Keras still averages the batch; it fails once Keras changes this, and
  then the override should go.
"""

import keras
import tensorflow as tf

from tfp_videoflow import training


def check_not_empty(x, where, what):
    """Raises `ValueError` if `x` is an array of no rows."""
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) and shape[0] == 0:
        raise ValueError(f"{where}: no {what} (got an array shaped "
                         f"{tuple(shape)}).")


class Model(keras.Model):
    """`keras.Model` with the changes above; subclasses define
    `check_call_arguments(*args, **kwargs)`, which raises `ValueError`."""

    def __call__(self, *args, **kwargs):
        # (Inside a graph, values are checked when it runs; those errors are
        # not rewrapped.)
        if tf.executing_eagerly():
            self.check_call_arguments(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def check_call_arguments(self, *args, **kwargs):
        """Raises `ValueError` if `self(*args, **kwargs)` would refuse them."""

    def compile_from_config(self, config):
        # What Keras does when loading, which it skips for models that
        # define compile().
        self.compile(**keras.saving.deserialize_keras_object(config))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
            callbacks=None, *args, **kwargs):
        """`keras.Model.fit`; a loss that turns NaN or infinite stops it.

        It stops at that step and raises `FloatingPointError`, unless
        `callbacks` hold their own `training.NonFiniteGuard`.
        """
        check_not_empty(x, "fit", "videos")
        callbacks = list(callbacks or [])
        guard = None
        if not any(isinstance(c, training.NonFiniteGuard) for c in callbacks):
            guard = training.NonFiniteGuard()
            callbacks.append(guard)
        history = super().fit(x, y, batch_size, epochs, verbose, callbacks,
                              *args, **kwargs)
        if guard is not None and guard.failure:
            raise FloatingPointError(
                f"fit: training diverged at step {guard.failure} and "
                "stopped; the weights may no longer be finite. Try a lower "
                "learning rate, a longer warm-up or gradient_clip_norm.")
        return history

    def evaluate(self, x=None, *args, **kwargs):
        check_not_empty(x, "evaluate", "videos")
        return super().evaluate(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        check_not_empty(x, "predict", "contexts")
        return super().predict(x, *args, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # `_distribute_strategy` is None unless a strategy is in use (the
        # public `distribute_strategy` then gives the default one).
        if iterator is not None and self._distribute_strategy is not None:
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=())
            return
        super()._maybe_symbolic_build(iterator, data_batch)
