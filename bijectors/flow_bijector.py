"""FlowBijector: the TFP face of a flow layer.

Every flow layer of this package (`flow_layer.FlowLayer`, a Keras layer that
owns its weights) becomes a `tfp.bijectors.Bijector` acting on image-shaped
events `[..., H, W, C]` (any number of leading batch dimensions) through
this one adapter. Direction follows TFP: `forward` is the generative
direction (latent -> frame) and calls the layer's `decode`; `inverse` maps a
frame to its latent and calls `encode`. The adapter folds leading batch
dimensions into one, checks the input (rank, static shape, dtype, finite
values) so that mistakes surface with a message that names them, and
computes nothing else.

    bijector = FlowBijector(layer)          # or ActNorm(...), which builds one
    bijector.layer                          # the Keras layer with the weights

Two deliberate differences from a stock TFP bijector:

* Weights live in the Keras layer, so a `keras.Model` that holds the layer
  trains them; `trainable_variables` / `variables` return those same Keras
  variables. `copy()` (which TFP uses, e.g. to slice a distribution) builds
  a new adapter around the same layer, so copies share the weights.
* TFP's result cache is disabled. It is keyed on the identity of the input
  tensor, so with trainable weights it would return a stale output (and no
  gradient) when the same tensor is transformed again after an update. Use
  `inverse_and_log_det` / `forward_and_log_det` to get both results from one
  pass instead.

This module is the package's one use of TFP's internals: TFP offers no
public switch for its cache (tensorflow/probability issue 1510, open), so
`_NoCache` subclasses `cache_util.BijectorCache`. A test
(`test_tfp_still_caches_a_stock_bijector_across_weight_changes`) fails once
TFP stops answering from its cache after a weight change.
"""

import inspect

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
    """A flow layer as a TFP bijector (see the module docstring)."""

    _cache = _NoCache()

    def __init__(self, layer, *, forward_min_event_ndims=EVENT_NDIMS,
                 inverse_min_event_ndims=EVENT_NDIMS, validate_args=False,
                 parameters=None, name=None):
        """Creates the bijector.

        Args:
          layer: the `flow_layer.FlowLayer` that computes and owns the
            weights.
          forward_min_event_ndims, inverse_min_event_ndims: as in TFP.
          validate_args: as in TFP; the checks here run regardless.
          parameters: the constructor's arguments (including `layer`), for
            TFP's `copy`; default: this constructor's.
          name: name of the bijector (default: the layer's).
        """
        dtype = tf.as_dtype(layer.variable_dtype)
        if not dtype.is_floating:
            raise ValueError(f"{type(self).__name__} needs a floating dtype, "
                             f"got {dtype.name}.")
        name = name or layer.name
        if parameters is None:
            parameters = dict(layer=layer, validate_args=validate_args,
                              name=name)
        self._layer = layer
        self._frame_shape = tuple(layer.frame_event_shape)
        super().__init__(
            forward_min_event_ndims=forward_min_event_ndims,
            inverse_min_event_ndims=inverse_min_event_ndims,
            dtype=None,  # Checked by `_check_input` with a clearer message.
            validate_args=validate_args, parameters=parameters, name=name)
        self._flow_dtype = dtype

    @classmethod
    def _parameter_properties(cls, dtype):
        # No parameter has a batch shape: one set of weights for all events.
        del dtype
        return {}

    def copy(self, **override_parameters_kwargs):
        """A copy of this bijector that shares its weights (its layer).

        TFP's copy (and slicing, which also rebuilds from the constructor's
        arguments) passes the layer on. Overriding an argument other than
        `name` or `validate_args` (channels, seed, ...) builds a bijector
        with new weights, as the new arguments ask.
        """
        override = dict(override_parameters_kwargs)
        if set(override) - {"name", "validate_args", "layer"}:
            override.setdefault("layer", None)
        return super().copy(**override)

    # ------------------------------------------------------------------ weights
    @property
    def layer(self):
        """The Keras flow layer that owns this bijector's weights."""
        return self._layer

    @property
    def flow_dtype(self):
        """The floating dtype of the inputs and weights."""
        return self._flow_dtype

    @property
    def trainable_variables(self):
        return tuple(self._layer.trainable_variables)

    @property
    def non_trainable_variables(self):
        return tuple(self._layer.non_trainable_variables)

    @property
    def variables(self):
        return tuple(self._layer.variables)

    # ------------------------------------------------------- one-pass helpers
    def inverse_and_log_det(self, y, name="inverse_and_log_det"):
        """Returns `(inverse(y), inverse_log_det_jacobian(y))` in one pass."""
        with tf.name_scope(f"{self.name}/{name}"):
            y = self._check_frames(y, "inverse")
            return _fold_batch(self._layer.encode, y,
                               self._frame_batch_shape(y))

    def forward_and_log_det(self, x, name="forward_and_log_det"):
        """Returns `(forward(x), forward_log_det_jacobian(x))` in one pass."""
        with tf.name_scope(f"{self.name}/{name}"):
            x = self._check_latents(x, "forward")
            return _fold_batch(self._layer.decode, x,
                               self._latent_batch_shape(x))

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


def arguments_with_layer(bijector_class, layer_class, arguments):
    """The constructor arguments of a bijector built around `layer`.

    For the constructors of the subclasses: `arguments` are theirs (with
    `layer`, which may be None: nothing to check). A given layer must be a
    `layer_class` whose settings (its Keras config) agree with every
    argument given other than its default; the arguments are returned with
    the layer's settings filled in, so that `copy()` rebuilds the same
    bijector.

    Raises:
      ValueError: the layer does not fit the arguments.
    """
    layer = arguments["layer"]
    if layer is None:
        return arguments
    where = arguments.get("name") or bijector_class.__name__
    if not isinstance(layer, layer_class):
        raise ValueError(f"{where}: layer must be a {layer_class.__name__}, "
                         f"got {layer!r}.")
    defaults = {name: p.default for name, p in inspect.signature(
        bijector_class.__init__).parameters.items()}
    config = layer.get_config()
    completed = dict(arguments)
    for key in set(arguments) & set(config) - {"name", "dtype", "trainable"}:
        given, actual = arguments[key], config[key]
        if isinstance(actual, list):
            actual = tuple(actual)
        if isinstance(given, list):
            given = tuple(given)
        if given != defaults.get(key) and given != actual:
            raise ValueError(
                f"{where}: layer must be a {layer_class.__name__} with "
                f"{key}={given!r}; the layer given has {actual!r}.")
        completed[key] = actual
    if "dtype" in completed:
        completed["dtype"] = tf.as_dtype(layer.variable_dtype)
    return completed


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
