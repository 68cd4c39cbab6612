"""VideoFlowModel: the Keras model that trains and samples VideoFlow.

    model = VideoFlowModel(frame_shape=(64, 64, 3), num_context_frames=3,
                           num_target_frames=10)
    dist = model(context)                    # a VideoFlow distribution
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    model.fit(videos)                        # uint8 [B, frames, H, W, C]
    model.evaluate(videos, return_dict=True)["bits_per_pixel"]
    model.predict(context)                   # sampled future frames, uint8

The weights live in `model.network`, the layer that maps context frames to
the distribution (network.py); the model adds settings, seeds and the Keras
steps. Training minimises the bits per pixel of the last T_train frames
(`train_target_frames`) of a random window of K + T_train frames of each
video, dequantized with one draw; evaluation scores the first K + T.

All randomness (windows, dequantization noise, samples) comes from the
model's seed, through stateless seeds `(seed, n)` where n counts the draws
so far. The counter is a weight, saved with the model, so a resumed run
draws exactly the windows and noise of the uninterrupted one (Keras' own
`SeedGenerator` state is not saved). Under `tf.distribute` every replica
draws the global batch's numbers and keeps its own rows (distribute.py).
"""

import math

import keras
import tensorflow as tf

from tfp_videoflow import (
    dequantization,
    distribute,
    export,
    keras_model,
    network,
    presets,
    settings,
)
from tfp_videoflow import precision as precision_lib
from tfp_videoflow import videos as videos_lib


@settings.documented
@keras.saving.register_keras_serializable(package="tfp_videoflow")
class VideoFlowModel(keras_model.Model):
    """Keras model of VideoFlow; `model(context)` returns the distribution.

    The defaults are the paper's BAIR setting; every argument is checked
    and saved by settings.py, which documents them (listed below).
    """

    @precision_lib.builds_under_own_policy
    def __init__(self, frame_shape=(64, 64, 3), num_context_frames=3,
                 num_target_frames=10, num_levels=3, steps_per_level=24, *,
                 coupling="affine", coupling_width=512, gated_coupling=False,
                 dynamics="conv3d", num_cond_frames=3, prior_width=256,
                 prior_depth=5, prior_dilations=(1, 2, 4), latent_skip=True,
                 top_components=1, discrete_history=True, num_bits=8,
                 train_target_frames=None, temperature=1.0,
                 sampling_temperature=0.6, num_samples=1,
                 gradient_clip_norm=None, seed=0, precision="float32",
                 memory_saving=False, **kwargs):
        super().__init__(**kwargs)
        self._config = config = settings.checked(dict(
            frame_shape=frame_shape, num_context_frames=num_context_frames,
            num_target_frames=num_target_frames, num_levels=num_levels,
            steps_per_level=steps_per_level, coupling=coupling,
            coupling_width=coupling_width, gated_coupling=gated_coupling,
            dynamics=dynamics, num_cond_frames=num_cond_frames,
            prior_width=prior_width, prior_depth=prior_depth,
            prior_dilations=prior_dilations, latent_skip=latent_skip,
            top_components=top_components,
            discrete_history=discrete_history, num_bits=num_bits,
            train_target_frames=train_target_frames, temperature=temperature,
            sampling_temperature=sampling_temperature,
            num_samples=num_samples, gradient_clip_norm=gradient_clip_norm,
            seed=seed, precision=precision, memory_saving=memory_saving))
        for name in ("frame_shape", "num_context_frames",
                     "train_target_frames", "num_bits",
                     "sampling_temperature", "num_samples",
                     "gradient_clip_norm", "seed", "discrete_history"):
            setattr(self, name, config[name])
        self.network = network.VideoFlowNetwork(config, dtype=self.dtype,
                                                name="network")
        self.random_draws = self.add_weight(
            name="random_draws", shape=(), dtype="int32", initializer="zeros",
            trainable=False)
        self.bits_per_pixel_tracker = keras.metrics.Mean(name="bits_per_pixel")
        self.built = True

    # The network's layers, under the names saved models hold them by, and
    # what `model(context)` gives unless told otherwise.
    flow_layer = property(lambda self: self.network.flow_layer)
    flow = property(lambda self: self.network.flow,
                    doc="The per-frame TFP bijector (latents -> frame).")
    dynamics = property(lambda self: self.network.dynamics)
    num_target_frames = property(lambda self: self.network.num_target_frames)
    temperature = property(lambda self: self.network.temperature)

    @classmethod
    def from_preset(cls, name, **overrides):
        """A model of preset `name` ("bair", "shapes", "small"), see presets."""
        return cls(**presets.preset(name, **overrides))

    def compile(self, optimizer="rmsprop", **kwargs):
        super().compile(optimizer=precision_lib.scaled_optimizer(
            optimizer, self._config["precision"]), **kwargs)
        # Built now, a step function creates no variables when traced, so one
        # whose first trace failed (bad data) traces again cleanly.
        if not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {**super().get_config(), **self._config}

    @classmethod
    def from_config(cls, config):
        return cls(**settings.without_retired(config))

    # ------------------------------------------------------------ the model
    def check_call_arguments(self, context, *args, **kwargs):
        """Raises `ValueError` if `self(context, ...)` would refuse them."""
        self.network.check_arguments(context, *args, **kwargs)

    def call(self, context, num_target_frames=None, temperature=None,
             check_range=True, validate_args=False):
        """The `VideoFlow` distribution of the frames after `context`.

        See `VideoFlowNetwork.call` for the arguments (T and the temperature
        default to the model's `num_target_frames` and `temperature`).
        """
        return self.network(context, num_target_frames=num_target_frames,
                            temperature=temperature, check_range=check_range,
                            validate_args=validate_args)

    def _next_seed(self):
        """A new stateless seed `(seed, draws so far)`; counts the draw."""
        draws = tf.identity(self.random_draws.value)
        self.random_draws.assign_add(1)
        return tf.stack([tf.constant(self.seed, tf.int32), draws])

    def initialize(self, videos):
        """Data-dependent initialisation from `videos`.

        Every ActNorm is set from the statistics of its input. Without it
        the first training batch initialises them; call it with a larger
        batch (the paper used 128 frames) for better statistics.

        Args:
          videos: uint8 `[B, frames, H, W, C]`.
        """
        videos = videos_lib.check_videos(videos, self.frame_shape, 1,
                                         "initialize")
        if videos.shape[0] == 0:  # Before any draw or weight changes.
            raise ValueError("initialize: needs at least one video, got "
                             f"shape {videos.shape}.")
        values = dequantization.dequantize(
            videos, self.num_bits, tf.random.stateless_uniform(
                tf.shape(videos), self._next_seed()))
        self.network.initialize(values)

    # ------------------------------------------------------------- training
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
            videos, self.num_target_frames, "bits_per_pixel", seed=seed)

    def _window_bits_per_pixel(self, videos, num_target, where,
                               random_start=False, seed=None):
        """Bits per pixel of the target frames of a window of each video."""
        length = self.num_context_frames + num_target
        videos = videos_lib.check_videos(videos, self.frame_shape, length,
                                         where)
        videos = videos_lib.windows(
            videos, length, self._next_seed() if random_start else None)
        # The whole window is dequantized with one draw (the context's noise
        # matters only without `discrete_history`); its pixels lie in the
        # bins, so no range check is needed.
        noise = distribute.stateless_uniform_rows(
            tf.shape(videos), self._next_seed() if seed is None else seed)
        values = dequantization.dequantize(videos, self.num_bits, noise)
        if values.shape[0] == 0:
            return tf.zeros([0], values.dtype)
        context, target = tf.split(
            values, [self.num_context_frames, num_target], axis=1)
        return dequantization.bits_per_pixel(
            self.network.window_log_prob(context, target),
            num_target * math.prod(self.frame_shape))

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
                videos, self.train_target_frames, "fit", random_start=True)
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
            self._videos(data), self.num_target_frames, "evaluate")
        return self._update_metrics(bits)

    def _update_metrics(self, bits):
        self.bits_per_pixel_tracker.update_state(bits)
        value = self.bits_per_pixel_tracker.result()
        return distribute.with_worker_axis(
            {"loss": value, "bits_per_pixel": value})

    @property
    def metrics(self):
        return [self.bits_per_pixel_tracker]

    # ------------------------------------------------------------- sampling
    def sample_future(self, context, num_samples=None, num_frames=None,
                      temperature=None, seed=None):
        """Sampled future frames as uint8 pixels.

        Args:
          context: `[B, K, H, W, C]` uint8 (or floats in bin units).
          num_samples: futures per context (default: the model's).
          num_frames: frames per future (default: `num_target_frames`).
          temperature: prior temperature (default: `sampling_temperature`).
          seed: stateless seed; default: the model's next seed.

        Returns:
          uint8 `[num_samples, B, T, H, W, C]`.

        Called eagerly, each frame runs as one compiled step, traced on the
        first call for a context shape and reused by every later call (and
        by `sample_stream`): the first call costs about what sampling ten
        frames op by op does, later ones a tenth of that (BENCHMARKS.md,
        section 8, sixteenth session). `tf.config.run_functions_eagerly(True)`
        runs the step op by op.
        """
        dist, num_samples, seed = self._sampler(context, num_samples,
                                                num_frames, temperature, seed)
        return dequantization.quantize(dist.sample(num_samples, seed=seed),
                                       self.num_bits)

    def sample_stream(self, context, num_samples=None, num_frames=None,
                      temperature=None, seed=None):
        """`sample_future`'s frames one at a time: a generator of uint8
        `[num_samples, B, H, W, C]`, frame t `sample_future(...)[:, :, t]`.
        Memory does not grow with `num_frames` (only a window is kept).
        """
        # Checked and seeded at the call; frames are made as they are asked for.
        dist, num_samples, seed = self._sampler(context, num_samples,
                                                num_frames, temperature, seed)
        shape = tf.concat([[num_samples], tf.shape(context)[:1],
                           tf.shape(context)[2:]], 0)
        return (tf.reshape(dequantization.quantize(f, self.num_bits), shape)
                for f in dist.distribution.sample_stream(num_samples, seed=seed))

    def _sampler(self, context, num_samples, num_frames, temperature, seed):
        """The distribution to sample, the number of samples and the seed."""
        dist = self(context, num_target_frames=num_frames,
                    temperature=self.sampling_temperature
                    if temperature is None else temperature)
        return (dist, self.num_samples if num_samples is None else num_samples,
                self._next_seed() if seed is None else seed)

    def export_serving(self, path):
        """Writes a TensorFlow SavedModel for serving; see `export.py`."""
        return export.export_saved_model(self, path)

    def predict_step(self, data):
        """`predict`: `[B, T, H, W, C]`, or `[B, S, T, H, W, C]` if S > 1."""
        frames = self.sample_future(self._videos(data))
        if self.num_samples == 1:
            return frames[0]
        return tf.transpose(frames, [1, 0, 2, 3, 4, 5])
