"""VideoFlow as TensorFlow Probability distributions trained with Keras."""

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)
