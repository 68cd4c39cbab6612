"""The latent-dynamics prior: a TFP distribution over future frames' latents.

For target frames t = 1..T following K context frames, with per-level latents
z_t = (z_t^1, ..., z_t^L) (finest first, as `bijectors.MultiScaleFlow` gives
them), the prior is autoregressive in time and coarse to fine within a frame:

    p(z_{1:T} | context) = prod_t prod_l N(z_t^l ; mean, temperature * scale)
    (mean, log scale) = prior_l(z_{t-k..t-1}^l, z_t^{l+1})

where prior_l is one of `priors.PRIORS` and k = `num_cond_frames`. History
frames before the first context frame do not exist; they are zeros flagged by
a "missing" indicator.

`LatentDynamicsNetwork` (a Keras layer) owns the weights and knows how to
score and to sample; `LatentDynamics` is the `tfp.distributions.Distribution`
view of it for one batch of context latents: its event is the tuple of
per-level target latents, each `[T, h, w, c]`; its batch shape is that of the
context. Training scores all T frames in parallel (teacher forcing); sampling
carries a window of the last k latents per level forward, so generating T
frames costs T prior steps.
"""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_videoflow import priors

tfd = tfp.distributions

_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


class LatentDynamicsNetwork(keras.layers.Layer):
    """Owns the per-level priors; scores and samples latent sequences."""

    def __init__(self, latent_shapes, dynamics="conv3d", num_cond_frames=3,
                 width=256, depth=5, dilations=(1, 2, 4), latent_skip=True,
                 seed=0, **kwargs):
        """Creates the network.

        Args:
          latent_shapes: `(h, w, c)` per level, finest first.
          dynamics: "conv3d", "pointwise" or "none" (see `priors.py`).
          num_cond_frames: k, how many past frames each prior sees.
          width, depth, dilations, latent_skip: of the "conv3d" prior.
          seed: integer seed of the initial weights.
          **kwargs: for `keras.layers.Layer`.
        """
        super().__init__(**kwargs)
        if dynamics not in priors.PRIORS:
            raise ValueError(f"dynamics must be one of {sorted(priors.PRIORS)},"
                             f" got {dynamics!r}.")
        if num_cond_frames < 1:
            raise ValueError(f"num_cond_frames must be >= 1, got "
                             f"{num_cond_frames}.")
        self.latent_shapes = tuple(tuple(int(d) for d in s)
                                   for s in latent_shapes)
        self.dynamics = dynamics
        self.num_cond_frames = int(num_cond_frames)
        self.level_priors = []
        for level, shape in enumerate(self.latent_shapes):
            coarser = (None if level == len(self.latent_shapes) - 1
                       else self.latent_shapes[level + 1][-1] // 4)
            options = {}
            if dynamics == "conv3d":
                options = dict(width=width, depth=depth, dilations=dilations,
                               latent_skip=latent_skip,
                               seed=seed + 1000 * level)
            self.level_priors.append(priors.PRIORS[dynamics](
                shape, coarser, dtype=self.dtype_policy,
                name=f"level{level}_prior", **options))
        self.built = True

    @property
    def num_levels(self):
        return len(self.latent_shapes)

    def _params(self, level, history, missing, coarser_latent):
        """(mean, log_scale) of `level` given its history and coarser latent."""
        coarser = (None if coarser_latent is None
                   else tf.nn.depth_to_space(coarser_latent, 2))
        mean, log_scale = self.level_priors[level](history, missing, coarser)
        # Under mixed precision the network computes in 16 bits; the
        # density and the samples are float32.
        return tf.cast(mean, history.dtype), tf.cast(log_scale, history.dtype)

    # --------------------------------------------------------------- scoring
    def log_prob(self, context, target, temperature=1.0):
        """log p(target | context), summed over frames, per example.

        Args:
          context: tuple over levels of `[N, K, h, w, c]`.
          target: tuple over levels of `[N, T, h, w, c]`.
          temperature: multiplies every scale.

        Returns:
          `[N, T]` log densities, one per target frame.
        """
        k = self.num_cond_frames
        total = 0.0
        for level in range(self.num_levels):
            sequence = tf.concat([context[level], target[level]], axis=1)
            num_context = tf.shape(context[level])[1]
            num_target = tf.shape(target[level])[1]
            history, missing = _teacher_forcing_windows(
                sequence, num_context, k)
            # Fold frames into the batch: every target frame is scored at once.
            fold = _fold_time(history)
            coarser = (None if level == self.num_levels - 1
                       else _fold_time(target[level + 1]))
            mean, log_scale = self._params(
                level, fold, tf.reshape(missing, [-1, k]), coarser)
            z = _fold_time(target[level])
            log_density = _normal_log_prob(z, mean, log_scale, temperature)
            total += tf.reshape(log_density, tf.stack(
                [tf.shape(target[level])[0], num_target]))
        return total

    # -------------------------------------------------------------- sampling
    def sample(self, context, num_frames, temperature=1.0, seed=None):
        """Samples `num_frames` future latents after `context`.

        Args:
          context: tuple over levels of `[N, K, h, w, c]`.
          num_frames: T, a Python int.
          temperature: multiplies every scale.
          seed: a stateless seed (shape [2] int tensor), an int (the
            stateless seed `(0, seed)`: the same int gives the same draw), or
            None (fresh randomness).

        Returns:
          tuple over levels of `[N, T, h, w, c]`.
        """
        seed = stateless_seed(seed)
        num_levels = self.num_levels
        windows = tuple(_last_window(c, self.num_cond_frames) for c in context)
        frames = tuple(tf.TensorArray(c.dtype, size=num_frames)
                       for c in context)

        def step(t, windows, frames):
            # One frame: every level, coarse to fine, from its own window.
            seeds = tfp.random.split_seed(
                tf.random.experimental.stateless_fold_in(seed, t),
                n=num_levels)
            windows, frames = list(windows), list(frames)
            coarser = None
            for level in reversed(range(num_levels)):
                history, missing = windows[level]
                mean, log_scale = self._params(level, history, missing,
                                               coarser)
                noise = tf.random.stateless_normal(
                    tf.shape(mean), seed=seeds[level], dtype=mean.dtype)
                z = mean + temperature * tf.exp(log_scale) * noise
                frames[level] = frames[level].write(t, z)
                windows[level] = _advance_window(history, missing, z)
                coarser = z
            return t + 1, tuple(windows), tuple(frames)

        # A while loop: inside a tf.function the graph does not grow with T.
        _, _, frames = tf.while_loop(
            lambda t, *_: t < num_frames, step, (0, windows, frames))
        return tuple(tf.transpose(f.stack(), [1, 0, 2, 3, 4]) for f in frames)


def stateless_seed(seed):
    """An int32[2] stateless seed; an int n is read as (0, n).

    TFP would treat an int as a stateful seed, whose draws change from call to
    call; here the same int always gives the same futures.
    """
    if isinstance(seed, int) and not isinstance(seed, bool):
        seed = (0, seed)
    return tfp.random.sanitize_seed(seed)


def _normal_log_prob(z, mean, log_scale, temperature):
    """Sum over [h, w, c] of log N(z; mean, temperature * exp(log_scale))."""
    log_scale = log_scale + tf.math.log(tf.cast(temperature, z.dtype))
    standardized = (z - mean) * tf.exp(-log_scale)
    return tf.reduce_sum(-0.5 * tf.square(standardized) - log_scale
                         - _HALF_LOG_TWO_PI, axis=[1, 2, 3])


def _fold_time(x):
    """[N, T, ...] -> [N * T, ...]."""
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))


def _teacher_forcing_windows(sequence, num_context, k):
    """The k frames before each target frame, and which of them are missing.

    Args:
      sequence: `[N, K + T, h, w, c]`, context then target latents.
      num_context: K.
      k: window length.

    Returns:
      history `[N, T, k, h, w, c]` (frame j of window t is sequence frame
      K + t - k + j, zero where that is < 0) and missing `[N, T, k]`.
    """
    zeros = tf.zeros_like(sequence[:, :1])
    padded = tf.concat([tf.repeat(zeros, k, axis=1), sequence[:, :-1]], axis=1)
    # Window t (target frame t) ends with frame K + t - 1: padded index K+t+k-1.
    history = tf.signal.frame(padded, k, 1, axis=1)[:, num_context:]
    batch = tf.shape(sequence)[0]
    total = tf.shape(sequence)[1]
    present = tf.concat([tf.zeros([k]), tf.ones([total - 1])], axis=0)
    missing = 1.0 - tf.signal.frame(present, k, 1)[num_context:]
    missing = tf.broadcast_to(missing[tf.newaxis],
                              tf.stack([batch, total - num_context, k]))
    return history, tf.cast(missing, sequence.dtype)


def _last_window(context, k):
    """The last k context frames (zero-padded in front) and their mask."""
    num_context = tf.shape(context)[1]
    pad = tf.maximum(k - num_context, 0)
    zeros = tf.zeros_like(context[:, :1])
    history = tf.concat([tf.repeat(zeros, pad, axis=1), context], axis=1)[:, -k:]
    missing = tf.concat([tf.ones([pad]), tf.zeros([num_context])], 0)[-k:]
    missing = tf.broadcast_to(missing[tf.newaxis],
                              tf.stack([tf.shape(context)[0], k]))
    return history, tf.cast(missing, context.dtype)


def _advance_window(history, missing, z):
    """Drops the oldest frame of the window and appends z."""
    history = tf.concat([history[:, 1:], z[:, tf.newaxis]], axis=1)
    missing = tf.concat([missing[:, 1:], tf.zeros_like(missing[:, :1])], 1)
    return history, missing


class LatentDynamics(tfd.Distribution):
    """p(target latents | context latents) as a TFP distribution.

    Event: tuple over levels of `[T, h, w, c]`; batch shape: the leading
    dimensions of the context latents (each `[*batch, K, h, w, c]`).
    """

    def __init__(self, network, context_latents, num_target_frames,
                 temperature=1.0, validate_args=False, name="LatentDynamics"):
        """Creates the distribution.

        Args:
          network: a `LatentDynamicsNetwork` (owns the weights).
          context_latents: tuple over levels of `[*batch, K, h, w, c]`.
          num_target_frames: T, a positive Python int.
          temperature: positive float (or scalar float tensor); multiplies
            every scale (of log_prob and sample alike, so the two stay
            consistent).
          validate_args: as in TFP.
          name: distribution name.
        """
        parameters = dict(locals())
        if int(num_target_frames) < 1:
            raise ValueError(f"num_target_frames must be >= 1, got "
                             f"{num_target_frames}.")
        # A scalar tensor is allowed (the exported `sample` signature takes
        # the temperature as an input); known values are checked here.
        static = tf.get_static_value(temperature)
        if static is not None and not float(static) > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        if len(context_latents) != network.num_levels:
            raise ValueError(f"expected {network.num_levels} levels of context "
                             f"latents, got {len(context_latents)}.")
        self._network = network
        self._context = tuple(tf.convert_to_tensor(c) for c in context_latents)
        self._num_target_frames = int(num_target_frames)
        self._temperature = (float(static) if static is not None
                             else tf.convert_to_tensor(temperature))
        dtype = self._context[0].dtype
        super().__init__(
            dtype=(dtype,) * network.num_levels,
            reparameterization_type=tfd.FULLY_REPARAMETERIZED,
            validate_args=validate_args, allow_nan_stats=True,
            parameters=parameters, name=name)

    @property
    def network(self):
        return self._network

    @property
    def context_latents(self):
        return self._context

    @property
    def num_target_frames(self):
        return self._num_target_frames

    @property
    def temperature(self):
        return self._temperature

    @property
    def trainable_variables(self):
        return tuple(self._network.trainable_variables)

    @property
    def variables(self):
        return tuple(self._network.variables)

    # ------------------------------------------------------------- shapes
    def _batch_shape(self):
        return self._context[0].shape[:-4]

    def _batch_shape_tensor(self):
        return tf.shape(self._context[0])[:-4]

    def _event_shape(self):
        return tuple(tf.TensorShape([self._num_target_frames, *s])
                     for s in self._network.latent_shapes)

    def _event_shape_tensor(self):
        return tuple(tf.constant([self._num_target_frames, *s], tf.int32)
                     for s in self._network.latent_shapes)

    # --------------------------------------------------------- log_prob, sample
    def _folded_context(self):
        """Context latents with batch dims folded: `[Nb, K, h, w, c]`."""
        return tuple(tf.reshape(c, tf.concat([[-1], tf.shape(c)[-4:]], 0))
                     for c in self._context)

    def _log_prob(self, latents):
        batch_shape = self._batch_shape_tensor()
        num_batch = tf.reduce_prod(batch_shape)
        # latents: [*sample, *batch, T, h, w, c]; the context repeats over the
        # sample dimensions.
        sample_shape = tf.shape(latents[0])[
            :tf.rank(latents[0]) - 4 - tf.size(batch_shape)]
        num_sample = tf.reduce_prod(sample_shape)
        target = tuple(
            tf.reshape(z, tf.concat([[num_sample * num_batch], tf.shape(z)[-4:]],
                                    0)) for z in latents)
        context = tuple(
            tf.reshape(tf.broadcast_to(c[tf.newaxis], tf.concat(
                [[num_sample], tf.shape(c)], 0)), tf.concat(
                    [[-1], tf.shape(c)[1:]], 0))
            for c in self._folded_context())
        per_frame = self._network.log_prob(context, target, self._temperature)
        return tf.reshape(tf.reduce_sum(per_frame, axis=1),
                          tf.concat([sample_shape, batch_shape], 0))

    def _sample_n(self, n, seed=None):
        batch_shape = self._batch_shape_tensor()
        context = tuple(
            tf.reshape(tf.broadcast_to(c[tf.newaxis], tf.concat(
                [[n], tf.shape(c)], 0)), tf.concat([[-1], tf.shape(c)[1:]], 0))
            for c in self._folded_context())
        samples = self._network.sample(context, self._num_target_frames,
                                       self._temperature, seed=seed)
        return tuple(
            tf.reshape(z, tf.concat([[n], batch_shape, tf.shape(z)[1:]], 0))
            for z in samples)

    def log_prob_per_frame(self, latents):
        """log p of each target frame, `[*batch, T]` (no sample dims)."""
        target = tuple(tf.reshape(z, tf.concat([[-1], tf.shape(z)[-4:]], 0))
                       for z in latents)
        per_frame = self._network.log_prob(self._folded_context(), target,
                                           self._temperature)
        return tf.reshape(per_frame, tf.concat(
            [self._batch_shape_tensor(), [self._num_target_frames]], 0))
