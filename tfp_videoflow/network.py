"""VideoFlowNetwork: the layer that maps context frames to their VideoFlow.

    network = VideoFlowNetwork(settings.checked(config))
    dist = network(context, num_target_frames=T)   # a VideoFlow
    log_prob = network.window_log_prob(context, target)  # one flow pass

It owns the weights of the model: the per-frame flow (`flow_layer`, a
`bijectors.MultiScaleFlowLayer`, and `flow`, its TFP bijector) and the
latent dynamics (`dynamics`, a `LatentDynamicsNetwork`), and builds the
distribution from them, as zuko's modules build theirs from a context.
`VideoFlowModel` adds what training needs around it: settings, seeds,
windows of videos and the Keras steps.
"""

import keras
import tensorflow as tf

from bijectors import multiscale_flow
from tfp_videoflow import dequantization, latent_dynamics, video_flow


class VideoFlowNetwork(keras.layers.Layer):
    """Context frames -> `VideoFlow` distribution of the frames after them."""

    def __init__(self, config, **kwargs):
        """Creates the flow and the latent dynamics.

        Args:
          config: the model's settings, checked (`settings.checked`); see
            `VideoFlowModel` for each.
          **kwargs: for `keras.layers.Layer` (e.g. `name`, `dtype`).
        """
        super().__init__(**kwargs)
        self.frame_shape = config["frame_shape"]
        self.num_bits = config["num_bits"]
        self.discrete_history = config["discrete_history"]
        # What `self(context)` gives unless told otherwise.
        self.num_target_frames = config["num_target_frames"]
        self.temperature = config["temperature"]
        self.flow_layer = multiscale_flow.MultiScaleFlowLayer(
            self.frame_shape, num_levels=config["num_levels"],
            steps_per_level=config["steps_per_level"],
            coupling=config["coupling"],
            coupling_width=config["coupling_width"],
            gated=config["gated_coupling"], seed=config["seed"],
            memory_saving=config["memory_saving"], name="flow")
        self.flow = multiscale_flow.MultiScaleFlow(layer=self.flow_layer)
        self.dynamics = latent_dynamics.LatentDynamicsNetwork(
            self.flow.latent_shapes, dynamics=config["dynamics"],
            num_cond_frames=config["num_cond_frames"],
            width=config["prior_width"], depth=config["prior_depth"],
            dilations=config["prior_dilations"],
            latent_skip=config["latent_skip"],
            top_components=config["top_components"],
            seed=config["seed"] + 1, memory_saving=config["memory_saving"],
            name="dynamics")
        self.built = True

    def context_values(self, context):
        """uint8 pixels at their bin centres, or floats (bin units) as given."""
        context = tf.convert_to_tensor(context)
        if context.dtype == tf.uint8:
            return dequantization.bin_centres(context, self.num_bits)
        if not context.dtype.is_floating:
            raise ValueError(f"context must be uint8 pixels or floats in bin "
                             f"units, got {context.dtype.name}.")
        return tf.cast(context, tf.float32)

    def check_arguments(self, context, num_target_frames=None,
                        temperature=None, check_range=True,
                        validate_args=False):
        """Raises `ValueError` if `self(context, ...)` would refuse them."""
        del validate_args  # any bool
        latent_dynamics.check_settings(
            self.num_target_frames if num_target_frames is None
            else num_target_frames,
            self.temperature if temperature is None else temperature)
        video_flow.check_context(
            self.context_values(context), self.frame_shape,
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
        return video_flow.VideoFlow(
            self.flow, self.dynamics, self.context_values(context),
            self.num_target_frames if num_target_frames is None
            else num_target_frames,
            temperature=self.temperature if temperature is None
            else temperature, discrete_history=self.discrete_history,
            num_bits=self.num_bits, check_range=check_range,
            validate_args=validate_args)

    def window_log_prob(self, context, target):
        """`[N]` log-density of dequantized `target` frames after `context`.

        The same number as `self(context, T).log_prob(target)` (tested), in
        one flow pass over context and targets (`encode_window`); the first
        pass initialises the ActNorms if nothing did before.

        Args:
          context: float `[N, K, H, W, C]` in bin units.
          target: float `[N, T, H, W, C]` in bin units, T known statically.
        """
        window = latent_dynamics.encode_window(
            self.flow, context, target,
            discrete_history=self.discrete_history, num_bits=self.num_bits)
        return tf.reduce_sum(
            latent_dynamics.window_log_prob(self.dynamics, window), axis=-1)

    def initialize(self, values):
        """Sets every ActNorm from the statistics of `values` (dequantized
        `[B, frames, H, W, C]`; see `VideoFlowModel.initialize`)."""
        self.flow.initialize(values)
