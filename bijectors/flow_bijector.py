"""The common base of the flow layers: image events, Keras weights, no cache.

Every flow layer in this package is a `tfp.bijectors.Bijector` acting on
image-shaped events `[..., H, W, C]` (any number of leading batch dimensions).
Direction follows TFP: `forward` is the generative direction (latent ->
frame), `inverse` maps a frame to its latent.

A subclass implements two methods on rank-4 tensors `[N, H, W, C]`:

    _encode(x) -> (z, inverse_log_det)   # frame -> latent, log|det dz/dx|
    _decode(z) -> (x, forward_log_det)   # latent -> frame, log|det dx/dz|

each returning the log-determinant per example, shape [N]. This base class
turns them into TFP's `_inverse`, `_forward` and log-det methods, folds any
leading batch dimensions into one, and checks the input (rank, static shape,
dtype, finite values) so that mistakes surface with a message that names them.

Two deliberate differences from a stock TFP bijector:

* Weights live in Keras 3 layers (`self.layer`), so a `keras.Model` that holds
  the layer trains them; `trainable_variables` / `variables` return those same
  Keras variables, so TFP-style code sees the complete list too.
* TFP's result cache is disabled. It is keyed on the identity of the input
  tensor, so with trainable weights it would return a stale output (and no
  gradient) when the same tensor is transformed again after an update. Use
  `inverse_and_log_det` / `forward_and_log_det` to get both results from one
  pass instead.
"""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import cache_util

from bijectors import _keras_backend  # noqa: F401  (selects Keras' TF backend)

tfb = tfp.bijectors

EVENT_NDIMS = 3  # [H, W, C]


class _NoCache(cache_util.BijectorCache):
    """A bijector cache that never returns an earlier result."""

    def _lookup(self, input, forward_name, inverse_name, **kwargs):  # noqa: A002
        del inverse_name
        return getattr(self.bijector, forward_name)(input, **kwargs)

    def _attributes(self, input, fn_name, **kwargs):  # noqa: A002
        return {}  # Nothing is remembered between calls.


class FlowBijector(tfb.Bijector):
    """Base class of the image flow layers (see the module docstring)."""

    _cache = _NoCache()

    def __init__(self, *, layer=None, event_shape=None, dtype=tf.float32,
                 forward_min_event_ndims=EVENT_NDIMS,
                 inverse_min_event_ndims=EVENT_NDIMS, validate_args=False,
                 parameters=None, name=None):
        """Creates the bijector.

        Args:
          layer: the `keras.layers.Layer` that owns this bijector's weights, or
            None for a bijector without weights.
          event_shape: the frame-side event shape `(H, W, C)` this bijector
            accepts; any entry may be None (not checked).
          dtype: the floating dtype of inputs and weights.
          forward_min_event_ndims, inverse_min_event_ndims: as in TFP.
          validate_args: as in TFP; the checks here run regardless.
          parameters: the constructor's arguments, for TFP's `copy`.
          name: name of the bijector.
        """
        dtype = tf.as_dtype(dtype)
        if not dtype.is_floating:
            raise ValueError(f"{type(self).__name__} needs a floating dtype, "
                             f"got {dtype.name}.")
        self._layer = layer
        self._frame_shape = (None,) * EVENT_NDIMS if event_shape is None \
            else tuple(event_shape)
        super().__init__(
            forward_min_event_ndims=forward_min_event_ndims,
            inverse_min_event_ndims=inverse_min_event_ndims,
            dtype=None,  # Checked by `_check_input` with a clearer message.
            validate_args=validate_args,
            parameters=parameters or {},
            name=name or type(self).__name__)
        self._flow_dtype = dtype

    # ------------------------------------------------------------------ weights
    @property
    def layer(self):
        """The Keras layer that owns this bijector's weights (or None)."""
        return self._layer

    @property
    def flow_dtype(self):
        """The floating dtype of the inputs and weights."""
        return self._flow_dtype

    @property
    def trainable_variables(self):
        return tuple(self._layer.trainable_variables) if self._layer else ()

    @property
    def non_trainable_variables(self):
        return tuple(self._layer.non_trainable_variables) if self._layer else ()

    @property
    def variables(self):
        return tuple(self._layer.variables) if self._layer else ()

    # ------------------------------------------------------- TFP conventions
    @classmethod
    def _parameter_properties(cls, dtype):
        # No tensor parameters: the weights are variables of `self.layer`, the
        # same for every input, so the batch shape is [] (TFP's
        # `experimental_batch_shape`, slicing and broadcasting rely on this).
        del dtype
        return {}

    def copy(self, **override_parameters_kwargs):
        """A copy of this bijector that shares its weights.

        The constructor arguments (`self.parameters`) include the Keras layer
        that owns the weights, so TFP's copy (and slicing, which also
        rebuilds from them) makes the same transformation. Overriding an
        argument other than `name` or `validate_args` (channels, seed, ...)
        builds a bijector with new weights, as the new arguments ask.
        """
        override = dict(override_parameters_kwargs)
        if not set(override) <= {"name", "validate_args", "layer"}:
            override.setdefault("layer", None)
        return super().copy(**override)

    # ------------------------------------------------------------ to implement
    def _encode(self, x):
        raise NotImplementedError

    def _decode(self, z):
        raise NotImplementedError

    # ------------------------------------------------------- one-pass helpers
    def inverse_and_log_det(self, y, name="inverse_and_log_det"):
        """Returns `(inverse(y), inverse_log_det_jacobian(y))` in one pass."""
        with tf.name_scope(f"{self.name}/{name}"):
            y = self._check_frames(y, "inverse")
            return _fold_batch(self._encode, y, self._frame_batch_shape(y))

    def forward_and_log_det(self, x, name="forward_and_log_det"):
        """Returns `(forward(x), forward_log_det_jacobian(x))` in one pass."""
        with tf.name_scope(f"{self.name}/{name}"):
            x = self._check_latents(x, "forward")
            return _fold_batch(self._decode, x, self._latent_batch_shape(x))

    # ------------------------------------------------------------ TFP methods
    def _inverse(self, y):
        return self.inverse_and_log_det(y)[0]

    def _inverse_log_det_jacobian(self, y):
        return self.inverse_and_log_det(y)[1]

    def _forward(self, x):
        return self.forward_and_log_det(x)[0]

    def _forward_log_det_jacobian(self, x):
        return self.forward_and_log_det(x)[1]

    # ---------------------------------------------------------------- checking
    # Subclasses whose latent side differs from the frame side (a structure of
    # tensors, or another shape) override the `_latent_*` methods.
    def _check_frames(self, y, direction):
        return check_image(y, self._frame_shape, self._flow_dtype,
                           f"{self.name}.{direction}")

    def _check_latents(self, x, direction):
        return check_image(x, self._latent_event_shape(), self._flow_dtype,
                           f"{self.name}.{direction}")

    def _latent_event_shape(self):
        return self._frame_shape

    @staticmethod
    def _frame_batch_shape(y):
        return tf.shape(y)[:-EVENT_NDIMS]

    def _latent_batch_shape(self, x):
        return tf.shape(x)[:-EVENT_NDIMS]


def check_layer(layer, layer_type, num_channels, where):
    """Checks that a layer handed to a bijector's constructor fits it."""
    if not isinstance(layer, layer_type) or layer.num_channels != num_channels:
        raise ValueError(f"{where}: layer must be a {layer_type.__name__} of "
                         f"{num_channels} channels, got {layer!r}.")


def _fold_batch(fn, inputs, batch_shape):
    """Applies `fn` (rank-4 in, rank-4 out and [N] log-det) to any batch rank.

    Leading dimensions are folded into one before `fn` and unfolded after, so
    implementations only ever see `[N, H, W, C]`.
    """
    def fold(t):
        event = t.shape[-EVENT_NDIMS:]
        if event.is_fully_defined():  # Keep static shapes for Keras layers.
            return tf.reshape(t, [-1] + event.as_list())
        return tf.reshape(t, tf.concat([[-1], tf.shape(t)[-EVENT_NDIMS:]], 0))

    def unfold(t):
        folded = tf.reshape(t, tf.concat([batch_shape, tf.shape(t)[1:]], 0))
        if folded.shape.rank is not None:
            folded.set_shape(folded.shape[:-EVENT_NDIMS].concatenate(
                t.shape[-EVENT_NDIMS:]))
        return folded

    outputs, log_det = fn(tf.nest.map_structure(fold, inputs))
    return (tf.nest.map_structure(unfold, outputs),
            tf.reshape(log_det, batch_shape))


def check_image(x, event_shape, dtype, where):
    """Converts `x` to a tensor and checks it is a batch of finite images.

    Static facts (dtype, rank, known dimensions) raise `ValueError` at once;
    non-finite values raise `ValueError` eagerly and `InvalidArgumentError`
    inside a `tf.function`.

    Args:
      x: array-like, shaped `[..., H, W, C]`.
      event_shape: `(H, W, C)`, entries may be None (not checked).
      dtype: the floating dtype expected.
      where: the name of the caller, for messages.

    Returns:
      `x` as a tensor.
    """
    if not tf.is_tensor(x):
        x = tf.convert_to_tensor(x, dtype_hint=dtype)
    if x.dtype != dtype:
        raise ValueError(f"{where}: expected a {dtype.name} tensor, got "
                         f"{x.dtype.name}. Cast the input (integer pixels "
                         "must first be dequantized to floats).")
    rank = x.shape.rank
    if rank is not None and rank < EVENT_NDIMS:
        raise ValueError(f"{where}: expected images shaped [..., H, W, C] "
                         f"(rank >= {EVENT_NDIMS}), got shape {x.shape}.")
    if rank is not None:
        actual = x.shape[-EVENT_NDIMS:]
        for axis, (want, got) in enumerate(zip(event_shape, actual)):
            if want is not None and got is not None and want != got:
                raise ValueError(
                    f"{where}: expected event shape (H, W, C) = "
                    f"{tuple(event_shape)}, got {tuple(actual)} (dimension "
                    f"{'HWC'[axis]} is {got}, should be {want}).")
    x = _assert_event_shape(x, event_shape, where)
    return assert_finite(x, where)


def _assert_event_shape(x, event_shape, where):
    """Checks at run time the event dims that are unknown when tracing."""
    if x.shape.rank is None or x.shape[-EVENT_NDIMS:].is_fully_defined() \
            or tf.executing_eagerly():
        return x
    checks = [
        tf.debugging.assert_equal(
            tf.shape(x)[axis - EVENT_NDIMS], want,
            message=f"{where}: dimension {'HWC'[axis]} should be {want}")
        for axis, want in enumerate(event_shape)
        if want is not None and x.shape[axis - EVENT_NDIMS] is None]
    with tf.control_dependencies(checks):
        return tf.identity(x)


def assert_finite(x, where):
    """Raises if `x` holds NaN or inf (eagerly: ValueError)."""
    if tf.executing_eagerly():
        if not bool(tf.reduce_all(tf.math.is_finite(x))):
            raise ValueError(f"{where}: input contains NaN or inf values.")
        return x
    return tf.debugging.assert_all_finite(
        x, f"{where}: input contains NaN or inf values.")
