"""VideoFlowModel: the Keras model that owns VideoFlow's weights.

    model = VideoFlowModel(frame_shape=(64, 64, 3), num_context_frames=3,
                           num_target_frames=10)
    dist = model(context)                    # a VideoFlow distribution
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    model.fit(videos)                        # uint8 [B, frames, H, W, C]
    model.evaluate(videos, return_dict=True)["bits_per_pixel"]
    model.predict(context)                   # sampled future frames, uint8

Training takes, from every video, a random window of K + T_train
consecutive frames (T_train = `train_target_frames`), dequantizes the whole
window uniformly at the model's bit depth, conditions on the first K frames
and minimises the bits per pixel of the other T_train. Evaluation does the
same on the first K + T frames (T = `num_target_frames`). With
`discrete_history` (the default) the model conditions on the discrete
past: every conditioning frame (context, earlier target or sampled frame)
is placed at its bin centres, so training, evaluation, `model(context)` and
sampling all condition on the same kind of input; with it off, on the
continuous values as given (the dequantized context in training).

All randomness (windows, dequantization noise, samples) comes from the
model's seed, through stateless seeds `(seed, n)` where n counts the draws
so far. The counter is a weight of the model, so it is saved and restored
with it: a training run resumed from a checkpoint draws exactly the windows
and noise that the uninterrupted run draws (Keras' own `SeedGenerator`
state is not saved). Under `tf.distribute` every replica draws the global
batch's numbers and keeps its own rows (see distribute.py), so training on
several replicas follows training on one device with the same batch.
"""

import contextlib
import math
import numbers

import keras
import tensorflow as tf

from bijectors import multiscale_flow
from tfp_videoflow import (
    dequantization,
    distribute,
    export,
    latent_dynamics,
    presets,
    training,
    video_flow,
)
from tfp_videoflow import precision as precision_lib


def _check_settings(seed, train_target_frames, gradient_clip_norm,
                    coupling_width, prior_width):
    """Raises `ValueError` naming the first setting that cannot work."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) \
            or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}.")
    if train_target_frames is not None and not train_target_frames >= 1:
        raise ValueError(f"train_target_frames must be >= 1 (or None: "
                         f"num_target_frames), got {train_target_frames}.")
    if gradient_clip_norm is not None and not (
            0 < gradient_clip_norm < float("inf")):
        raise ValueError(f"gradient_clip_norm must be finite and > 0 (or "
                         f"None: no clipping), got {gradient_clip_norm}.")
    for name, value in (("coupling_width", coupling_width),
                        ("prior_width", prior_width)):
        if not value >= 1:
            raise ValueError(f"{name} must be >= 1, got {value}.")


def _check_not_empty(x, where, what):
    """Keras does nothing (fit), or fails obscurely, on an empty array."""
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) and shape[0] == 0:
        raise ValueError(f"{where}: no {what} (got an array shaped "
                         f"{tuple(shape)}).")


@contextlib.contextmanager
def _forget_function_on_error(model, attribute):
    """Drops the model's cached Keras step function if the block raises."""
    try:
        yield
    except BaseException:
        setattr(model, attribute, None)
        raise


@keras.saving.register_keras_serializable(package="tfp_videoflow")
class VideoFlowModel(keras.Model):
    """Keras model of VideoFlow; `model(context)` returns the distribution."""

    @precision_lib.builds_under_own_policy
    def __init__(self, frame_shape=(64, 64, 3), num_context_frames=3,
                 num_target_frames=10, num_levels=3, steps_per_level=24, *,
                 coupling="affine", coupling_width=512, gated_coupling=False,
                 dynamics="conv3d", num_cond_frames=3, prior_width=256,
                 prior_depth=5, prior_dilations=(1, 2, 4), latent_skip=True,
                 top_components=1, shared_component_scales=False,
                 component_codes=False, discrete_history=True, num_bits=8,
                 train_target_frames=None, temperature=1.0,
                 sampling_temperature=0.6, num_samples=1,
                 gradient_clip_norm=None, seed=0, precision="float32",
                 memory_saving=False, **kwargs):
        """Creates the model; defaults are the paper's BAIR setting.

        Args:
          frame_shape: `(H, W, C)`; H and W divisible by 2**num_levels.
          num_context_frames: K, frames conditioned on (>= 1).
          num_target_frames: T, frames predicted at evaluation / sampling.
          num_levels, steps_per_level: the multi-scale flow's L levels of S
            flow steps each (Glow's K; here K counts context frames).
          coupling: "affine" or "additive".
          coupling_width: hidden channels of the coupling networks.
          gated_coupling: gated activations in the coupling networks.
          dynamics: "conv3d", "pointwise" or "none" (frames independent).
          num_cond_frames: past frames each prior step sees.
          prior_width, prior_depth, prior_dilations, latent_skip: of the
            "conv3d" prior.
          top_components: mixture components of the top level's prior (1:
            the paper's Gaussian; > 1: one categorical choice of future per
            frame, "conv3d" only).
          shared_component_scales: the mixture's components share one
            scale per latent element (their means and weights stay their
            own), so a component that lost its futures early can win them
            back on its mean alone.
          component_codes: the mixture's components are decoded by one
            shared head from the prior's features plus a learned code per
            component, so what they share (the look of the past) is learned
            from every example and they differ only where the futures do.
          discrete_history: condition on the discrete past (the bin centres
            of context, earlier target and sampled frames), as the data is;
            False conditions on the continuous values.
          num_bits: bit depth the pixels are reduced to (1..8).
          train_target_frames: T_train, target frames per training window
            (default T).
          temperature: prior temperature of the distribution `model(context)`
            (1: the model's density).
          sampling_temperature: prior temperature of the futures that
            `sample_future`, `predict` and the command line draw unless told
            otherwise: the one that gives this model's best futures (the
            paper shows 0.6; `benchmarks/ship_model.py` stores the measured
            best in the shipped model).
          num_samples: futures drawn per context by `predict`.
          gradient_clip_norm: clip gradients to this global norm, or None.
          seed: integer seed of every initial weight and random draw.
          precision: "float32", or "mixed_bfloat16" / "mixed_float16": the
            networks compute in 16 bits, the densities in float32; "auto":
            "mixed_bfloat16" where the machine has native bfloat16, else
            "float32" (see precision.py).
          memory_saving: training's backward pass recomputes each flow
            step and each residual block of the prior from its input
            instead of keeping its activations: the same gradients in a
            fraction of the memory, for about one more forward pass
            (bijectors/memory_saving.py).
          **kwargs: for `keras.Model` (e.g. `name`).
        """
        super().__init__(**kwargs)
        if num_context_frames < 1 or num_target_frames < 1:
            raise ValueError(
                "num_context_frames and num_target_frames must be >= 1, got "
                f"{num_context_frames} and {num_target_frames}.")
        _check_settings(seed=seed, train_target_frames=train_target_frames,
                        gradient_clip_norm=gradient_clip_norm,
                        coupling_width=coupling_width, prior_width=prior_width)
        self.frame_shape = tuple(int(d) for d in frame_shape)
        self.num_context_frames = int(num_context_frames)
        self.num_target_frames = int(num_target_frames)
        self.train_target_frames = int(num_target_frames
                                       if train_target_frames is None
                                       else train_target_frames)
        self.num_bits = dequantization.check_bits(num_bits)
        if (not 0 < temperature < float("inf")
                or not 0 < sampling_temperature < float("inf")
                or num_samples < 1):
            raise ValueError(
                f"temperature and sampling_temperature must be finite and > 0"
                f" and num_samples >= 1, got {temperature}, "
                f"{sampling_temperature} and {num_samples}.")
        self.temperature = float(temperature)
        self.sampling_temperature = float(sampling_temperature)
        self.num_samples = int(num_samples)
        self.gradient_clip_norm = gradient_clip_norm
        self.seed = int(seed)
        self._config = dict(
            frame_shape=self.frame_shape,
            num_context_frames=self.num_context_frames,
            num_target_frames=self.num_target_frames, num_levels=num_levels,
            steps_per_level=steps_per_level, coupling=coupling,
            coupling_width=coupling_width, gated_coupling=gated_coupling,
            dynamics=dynamics, num_cond_frames=num_cond_frames,
            prior_width=prior_width, prior_depth=prior_depth,
            prior_dilations=tuple(prior_dilations), latent_skip=latent_skip,
            top_components=top_components,
            shared_component_scales=bool(shared_component_scales),
            component_codes=bool(component_codes),
            discrete_history=discrete_history,
            num_bits=self.num_bits,
            train_target_frames=self.train_target_frames,
            temperature=self.temperature,
            sampling_temperature=self.sampling_temperature,
            num_samples=self.num_samples,
            gradient_clip_norm=gradient_clip_norm, seed=self.seed,
            precision=precision, memory_saving=bool(memory_saving))

        # The layers own the weights; `flow` is the TFP bijector of the flow
        # layer, and `call` builds the distribution from both layers.
        self.flow_layer = multiscale_flow.MultiScaleFlowLayer(
            self.frame_shape, num_levels=num_levels,
            steps_per_level=steps_per_level, coupling=coupling,
            coupling_width=coupling_width, gated=gated_coupling, seed=seed,
            memory_saving=memory_saving, name="flow")
        self.flow = multiscale_flow.MultiScaleFlow(layer=self.flow_layer)
        self.dynamics = latent_dynamics.LatentDynamicsNetwork(
            self.flow.latent_shapes, dynamics=dynamics,
            num_cond_frames=num_cond_frames, width=prior_width,
            depth=prior_depth, dilations=prior_dilations,
            latent_skip=latent_skip, top_components=top_components,
            shared_component_scales=shared_component_scales,
            component_codes=component_codes, seed=seed + 1,
            memory_saving=memory_saving, name="dynamics")
        self.discrete_history = bool(discrete_history)
        self.random_draws = self.add_weight(
            name="random_draws", shape=(), dtype="int32", initializer="zeros",
            trainable=False)
        self.bits_per_pixel_tracker = keras.metrics.Mean(name="bits_per_pixel")
        self.built = True

    @classmethod
    def from_preset(cls, name, **overrides):
        """A model of preset `name` ("bair", "shapes", "small"), see presets."""
        return cls(**presets.preset(name, **overrides))

    def compile(self, optimizer="rmsprop", **kwargs):
        # float16 gradients underflow without loss scaling. (Keras wraps the
        # optimizer itself only when the model's own policy is float16.)
        optimizer = keras.optimizers.get(optimizer)
        if (precision_lib.resolve(self._config["precision"])
                == "mixed_float16" and not isinstance(
                optimizer, keras.optimizers.LossScaleOptimizer)):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # What Keras does when loading, which it skips for models that
        # define compile().
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {**super().get_config(), **self._config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------ the model
    def __call__(self, context, *args, **kwargs):
        # Keras' Layer.__call__ re-raises what `call` raises under a first
        # line of its own ("Exception encountered when calling ..."), the
        # reason further down. The arguments are checked here first, so a bad
        # one is refused with the reason on the first line. (Inside a graph,
        # values are checked when it runs; those errors are not rewrapped.)
        if tf.executing_eagerly():
            self.check_call_arguments(context, *args, **kwargs)
        return super().__call__(context, *args, **kwargs)

    def check_call_arguments(self, context, num_target_frames=None,
                             temperature=None, check_range=True,
                             validate_args=False):
        """Raises `ValueError` if `self(context, ...)` would refuse them."""
        del validate_args  # any bool
        latent_dynamics.check_settings(
            self.num_target_frames if num_target_frames is None
            else num_target_frames,
            self.temperature if temperature is None else temperature)
        video_flow.check_context(
            self._context_values(context), self.frame_shape,
            self.flow.flow_dtype, self.num_bits, check_range, "VideoFlow")

    def call(self, context, num_target_frames=None, temperature=None,
             check_range=True, validate_args=False):
        """The `VideoFlow` distribution of the frames after `context`.

        Args:
          context: `[*batch, K, H, W, C]`: uint8 pixels (placed at their bin
            centres) or floats already in bin units.
          num_target_frames: T (default: the model's `num_target_frames`).
          temperature: prior temperature (default: the model's).
          check_range: raise if float context frames lie outside the bins
            [0, 2**num_bits] (see `VideoFlow`); False skips the check.
          validate_args: as in TFP: True also refuses frames given to
            `log_prob` outside the bins. By default `log_prob` scores any
            finite frames (its own samples too).

        Returns:
          A `VideoFlow` distribution over `[T, H, W, C]` frames in bin units.
        """
        if num_target_frames is None:
            num_target_frames = self.num_target_frames
        return video_flow.VideoFlow(
            self.flow, self.dynamics, self._context_values(context),
            num_target_frames,
            temperature=self.temperature if temperature is None
            else temperature, discrete_history=self.discrete_history,
            num_bits=self.num_bits, check_range=check_range,
            validate_args=validate_args)

    def _context_values(self, context):
        context = tf.convert_to_tensor(context)
        if context.dtype == tf.uint8:
            return dequantization.bin_centres(context, self.num_bits)
        if not context.dtype.is_floating:
            raise ValueError(f"context must be uint8 pixels or floats in bin "
                             f"units, got {context.dtype.name}.")
        return tf.cast(context, tf.float32)

    def _next_seed(self):
        """A new stateless seed `(seed, draws so far)`; counts the draw."""
        draws = tf.identity(self.random_draws.value)
        self.random_draws.assign_add(1)
        return tf.stack([tf.constant(self.seed, tf.int32), draws])

    def initialize(self, videos):
        """Data-dependent initialisation from `videos`.

        Every ActNorm is set from the statistics of its input, and a mixture
        prior's components start at diverse real top-level latents (see
        `LatentDynamicsNetwork.initialize_components`). Without it the first
        training batch initialises the ActNorms (and the components keep
        their random start); call it with a larger batch (the paper used 128
        frames) for better statistics.

        Args:
          videos: uint8 `[B, frames, H, W, C]`.
        """
        videos = self.check_videos(videos, 1, "initialize")
        if videos.shape[0] == 0:  # Before any draw or weight changes.
            raise ValueError("initialize: needs at least one video, got "
                             f"shape {videos.shape}.")
        values = dequantization.dequantize(
            videos, self.num_bits, tf.random.stateless_uniform(
                tf.shape(videos), self._next_seed()))
        self.flow.initialize(values)
        # The frames after the first K are the ones the prior models; the
        # frame before each, at its bin centres, is its latent skip's past.
        k = self.num_context_frames
        # Only a mixture of uncoded components has them to start (the
        # encodings cost time).
        if (values.shape[1] != k and self._config["top_components"] > 1
                and not self._config["component_codes"]):
            def top_latents(frames):
                return self.flow.inverse(
                    tf.reshape(frames, [-1, *self.frame_shape]))[-1]
            self.dynamics.initialize_components(
                top_latents(values[:, k:]), top_latents(
                    dequantization.bin_centres(videos[:, k - 1:-1],
                                               self.num_bits)))

    # ------------------------------------------------------------- training
    def check_videos(self, videos, min_frames, where):
        videos = tf.convert_to_tensor(videos)
        if videos.dtype != tf.uint8:
            raise ValueError(f"{where}: expected uint8 videos, got "
                             f"{videos.dtype.name}.")
        shape = videos.shape
        if shape.rank is not None and shape.rank != 5:
            raise ValueError(f"{where}: expected videos shaped [B, frames, H, "
                             f"W, C], got shape {shape}.")
        if shape.rank is not None and any(
                want != got for want, got in zip(self.frame_shape, shape[2:])
                if got is not None):
            raise ValueError(f"{where}: expected frames of shape "
                             f"{self.frame_shape}, got {tuple(shape[2:])}.")
        if shape.rank is not None and shape[1] is not None and \
                shape[1] < min_frames:
            raise ValueError(
                f"{where}: videos have {shape[1]} frames, but "
                f"{min_frames} are needed (context + target frames).")
        if tf.executing_eagerly() or shape.is_fully_defined():
            return videos
        # Keras retraces with relaxed shapes: check the unknown ones when
        # the step runs.
        checks = [
            tf.debugging.assert_rank(
                videos, 5, message=f"{where}: expected videos shaped [B, "
                "frames, H, W, C]"),
            tf.debugging.assert_equal(
                tf.shape(videos)[2:], tf.constant(self.frame_shape),
                message=f"{where}: expected frames of shape "
                f"{self.frame_shape}"),
            tf.debugging.assert_greater_equal(
                tf.shape(videos)[1], min_frames,
                message=f"{where}: videos have fewer than the {min_frames} "
                "frames needed (context + target frames)")]
        with tf.control_dependencies(checks):
            videos = tf.identity(videos)
        videos.set_shape([None, None, *self.frame_shape])  # checked above
        return videos

    def bits_per_pixel(self, videos, seed=None):
        """Bits per pixel of each video's frames K+1..K+T given frames 1..K.

        Args:
          videos: uint8 `[B, frames, H, W, C]`, frames >= K + T.
          seed: stateless seed of the dequantization noise (default: the
            model's next seed).

        Returns:
          `[B]` bits per pixel (upper bounds on the code length at the
          model's bit depth).
        """
        return self._window_bits_per_pixel(
            videos, self.num_target_frames, False, "bits_per_pixel", seed)

    def _window_bits_per_pixel(self, videos, num_target, random_start, where,
                               seed=None):
        """Bits per pixel of the target frames of a window of each video."""
        length = self.num_context_frames + num_target
        videos = self.check_videos(videos, length, where)
        if random_start:
            num_starts = tf.shape(videos)[1] - length + 1
            starts = distribute.stateless_uniform_rows(
                tf.shape(videos)[:1], self._next_seed(), minval=0,
                maxval=num_starts, dtype=tf.int32)
            index = starts[:, tf.newaxis] + tf.range(length)[tf.newaxis]
            videos = tf.gather(videos, index, batch_dims=1)
        else:
            videos = videos[:, :length]
        # The whole window is dequantized with one draw (the context's noise
        # matters only without `discrete_history`).
        noise = distribute.stateless_uniform_rows(
            tf.shape(videos), self._next_seed() if seed is None else seed)
        values = dequantization.dequantize(videos, self.num_bits, noise)
        if values.shape[0] == 0:
            return tf.zeros([0], values.dtype)
        # (Dequantized pixels lie in the bins: no range check needed. The
        # first pass initialises the ActNorms, if nothing did before.)
        context, target = tf.split(
            values, [self.num_context_frames, num_target], axis=1)
        window = latent_dynamics.encode_window(
            self.flow, context, target, discrete_history=self.discrete_history,
            num_bits=self.num_bits)
        log_prob = tf.reduce_sum(latent_dynamics.window_log_prob(
            self.dynamics, window), axis=-1)
        return dequantization.bits_per_pixel(
            log_prob, num_target * math.prod(self.frame_shape))

    # A call that fails while Keras traces its step function (wrong dtype or
    # shape of the data, ...) leaves that half-built function cached; the next
    # valid call would reuse it and fail ("Creating variables on a non-first
    # call ..."). Dropping it on failure leaves the model as it was.
    #
    # A fit whose loss turns NaN or infinite stops at that step and raises
    # (unless the callbacks hold their own `training.NonFiniteGuard`).
    def fit(self, x=None, *args, **kwargs):
        _check_not_empty(x, "fit", "videos")
        callbacks = list(kwargs.pop("callbacks", None) or [])
        guard = None
        if len(args) < 5 and not any(isinstance(c, training.NonFiniteGuard)
                                     for c in callbacks):
            guard = training.NonFiniteGuard()
            callbacks.append(guard)
        with _forget_function_on_error(self, "train_function"):
            history = super().fit(x, *args, callbacks=callbacks, **kwargs)
        if guard is not None and guard.failure:
            raise FloatingPointError(
                f"fit: training diverged at step {guard.failure} and "
                "stopped; the weights may no longer be finite. Try a lower "
                "learning rate, a longer warm-up or gradient_clip_norm.")
        return history

    def evaluate(self, x=None, *args, **kwargs):
        _check_not_empty(x, "evaluate", "videos")
        with _forget_function_on_error(self, "test_function"):
            return super().evaluate(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        _check_not_empty(x, "predict", "contexts")
        with _forget_function_on_error(self, "predict_function"):
            return super().predict(x, *args, **kwargs)

    @staticmethod
    def _videos(data):
        # fit / evaluate pass (x,), (x, y) or x; only x (the videos) is used.
        return data[0] if isinstance(data, (tuple, list)) else data

    def train_step(self, data):
        videos = self._videos(data)
        replicas = distribute.num_replicas()
        distribute.initialize_from_global_batch(self, videos)
        with tf.GradientTape() as tape:
            bits = self._window_bits_per_pixel(
                videos, self.train_target_frames, True, "fit")
            loss = tf.reduce_mean(bits)
            # The optimizer sums the R replicas' gradients, so each replica's
            # mean is divided by R; scale_loss multiplies by the float16
            # loss scale (1 otherwise).
            scaled_loss = self.optimizer.scale_loss(loss / replicas)
        variables = self.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        # Clipping needs the global gradient; so does the float16 loss-scale
        # check, which must skip a step on all replicas or none.
        loss_scaled = isinstance(self.optimizer,
                                 keras.optimizers.LossScaleOptimizer)
        if self.gradient_clip_norm or (replicas > 1 and loss_scaled):
            # The gradients carry the loss scale: so does the clip norm.
            clip_norm = (self.gradient_clip_norm
                         * self.optimizer.scale_loss(1.0)
                         if self.gradient_clip_norm else None)
            gradients = distribute.sum_and_clip(gradients, clip_norm)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._update_metrics(bits)

    def test_step(self, data):
        bits = self._window_bits_per_pixel(
            self._videos(data), self.num_target_frames, False, "evaluate")
        return self._update_metrics(bits)

    def _update_metrics(self, bits):
        self.bits_per_pixel_tracker.update_state(bits)
        value = self.bits_per_pixel_tracker.result()
        return distribute.with_worker_axis(
            {"loss": value, "bits_per_pixel": value})

    @property
    def metrics(self):
        return [self.bits_per_pixel_tracker]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy, Keras' TF trainer takes the first batch off the
        # data to build the model (so fit would skip it) and averages it over
        # the replicas (no uint8 collective between workers). The model is
        # built in __init__; only the optimizer remains, which needs no data.
        if iterator is not None and self._distribute_strategy is not None:
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=())
            return
        super()._maybe_symbolic_build(iterator, data_batch)

    # ------------------------------------------------------------- sampling
    def sample_future(self, context, num_samples=None, num_frames=None,
                      temperature=None, seed=None):
        """Sampled future frames as uint8 pixels.

        Args:
          context: `[B, K, H, W, C]` uint8 (or floats in bin units).
          num_samples: futures per context (default: the model's).
          num_frames: frames per future (default: `num_target_frames`).
          temperature: prior temperature (default: the model's
            `sampling_temperature`).
          seed: stateless seed; default: the model's next seed.

        Returns:
          uint8 `[num_samples, B, T, H, W, C]`.
        """
        dist = self(context, num_target_frames=num_frames,
                    temperature=self.sampling_temperature
                    if temperature is None else temperature)
        if seed is None:
            seed = self._next_seed()
        values = dist.sample(
            self.num_samples if num_samples is None else num_samples,
            seed=seed)
        return dequantization.quantize(values, self.num_bits)

    def export_serving(self, path):
        """Writes a TensorFlow SavedModel for serving; see `export.py`."""
        return export.export_saved_model(self, path)

    def predict_step(self, data):
        """`predict`: `[B, T, H, W, C]`, or `[B, S, T, H, W, C]` if S > 1."""
        frames = self.sample_future(self._videos(data))
        if self.num_samples == 1:
            return frames[0]
        return tf.transpose(frames, [1, 0, 2, 3, 4, 5])
