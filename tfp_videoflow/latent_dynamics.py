"""The latent-dynamics prior: a TFP distribution over future frames' latents.

For target frames t = 1..T following K context frames, with per-level latents
z_t = (z_t^1, ..., z_t^L) (finest first, as `bijectors.MultiScaleFlow` gives
them), the prior is autoregressive in time and coarse to fine within a frame:

    p(z_{1:T} | context) = prod_t prod_l p_l(z_t^l | h_{t-k..t-1}^l, x1_t^l)

where p_l is one of `priors.PRIORS` (a Gaussian, or a mixture on the top
level), k = `num_cond_frames`, and

* x1_t^l is Glow's split condition: what stays at level l of frame t when
  z_t^l splits off, a function of z_t^{>l} (`MultiScaleFlow.decode_level`),
  so the finest level sees everything the coarser ones decided, spatially
  aligned with it. The top level has none.
* h_s^l is the level-l latent of past frame s *as the model conditions on
  it*: with `discrete_history` (the default) the latent of the frame's bin
  centres, i.e. of the discrete frame, whether the frame is a context frame,
  a real target frame (teacher forcing) or a sampled one; otherwise the
  latent of the frame's continuous values. Frames before the first context
  frame do not exist: zeros flagged by a "missing" indicator.

`LatentDynamicsNetwork` (a Keras layer) owns the weights and knows how to
score and to sample; `LatentDynamics` is the `tfp.distributions.Distribution`
view of it for one batch of context latents: its event is the tuple of
per-level target latents, each `[T, h, w, c]`; its batch shape is that of the
context. Training scores all T frames in parallel (teacher forcing); sampling
goes frame by frame and, within a frame, top-down, decoding each level to
the next one's x1 (the decode doubles as the frame's generation), so
generating T frames costs T prior steps and T flow decodes (and, with
`discrete_history`, T encodes of the sampled frames' bin centres).
"""

import typing

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_videoflow import dequantization, priors

tfb = tfp.bijectors
tfd = tfp.distributions


class LatentDynamicsNetwork(keras.layers.Layer):
    """Owns the per-level priors; scores and samples latent sequences."""

    def __init__(self, latent_shapes, dynamics="conv3d", num_cond_frames=3,
                 width=256, depth=5, dilations=(1, 2, 4), latent_skip=True,
                 top_components=1, seed=0, memory_saving=False, **kwargs):
        """Creates the network.

        Args:
          latent_shapes: `(h, w, c)` per level, finest first.
          dynamics: "conv3d", "pointwise" or "none" (see `priors.py`).
          num_cond_frames: k, how many past frames each prior sees.
          width, depth, dilations, latent_skip: of the "conv3d" prior.
          top_components: mixture components of the top level's prior
            (1: the paper's Gaussian); a prior that `mixes` ("conv3d") only.
          seed: integer seed of the initial weights.
          memory_saving: training's backward pass recomputes each residual
            block of a "conv3d" prior instead of keeping its activations.
          **kwargs: for `keras.layers.Layer`.
        """
        super().__init__(**kwargs)
        if dynamics not in priors.PRIORS:
            raise ValueError(f"dynamics must be one of {sorted(priors.PRIORS)},"
                             f" got {dynamics!r}.")
        prior = priors.PRIORS[dynamics]
        if num_cond_frames < 1:
            raise ValueError(f"num_cond_frames must be >= 1, got "
                             f"{num_cond_frames}.")
        if top_components < 1 or (top_components > 1 and not prior.mixes):
            mixing = sorted(k for k, p in priors.PRIORS.items() if p.mixes)
            raise ValueError(f"top_components must be 1, or > 1 with dynamics "
                             f"{mixing}; got {top_components} with "
                             f"{dynamics!r}.")
        self.latent_shapes = tuple(tuple(int(d) for d in s)
                                   for s in latent_shapes)
        self.dynamics = dynamics
        self.num_cond_frames = int(num_cond_frames)
        settings = dict(num_cond_frames=num_cond_frames, width=width,
                        depth=depth, dilations=dilations,
                        latent_skip=latent_skip, top_components=top_components,
                        memory_saving=memory_saving)
        self.level_priors = [
            prior.for_level(shape, level == len(self.latent_shapes) - 1,
                            {**settings, "seed": seed + 1000 * level},
                            dtype=self.dtype_policy, name=f"level{level}_prior")
            for level, shape in enumerate(self.latent_shapes)]
        self._compiled = _CompiledStep(self.sample_step)
        self.built = True

    @property
    def num_levels(self):
        return len(self.latent_shapes)

    def level_distribution(self, level, history, missing, condition=None,
                           temperature=1.0):
        """p(z^level | history, x1): batch `[N]`, event `[h, w, c]`.

        Args:
          level: 0 (finest) .. num_levels - 1.
          history: `[N, k, h, w, c]` past latents of this level.
          missing: `[N, k]`, 1.0 where a history frame is padding.
          condition: x1 of this level `[N, h, w, c]` (None on the top level).
          temperature: multiplies the scales.
        """
        return self.level_priors[level](history, missing, condition=condition,
                                        temperature=temperature)

    # --------------------------------------------------------------- scoring
    def log_prob(self, past, target, conditions, temperature=1.0):
        """log p(target | past), per example and target frame.

        Args:
          past: tuple over levels of `[N, K + T - 1, h, w, c]`: the history
            latents of the context frames and of every target frame but the
            last, as the model conditions on them.
          target: tuple over levels of `[N, T, h, w, c]`.
          conditions: tuple over levels of the targets' x1, `[N, T, h, w, c]`
            (None on the top level).
          temperature: multiplies every scale.

        Returns:
          `[N, T]` log densities, one per target frame.
        """
        total = 0.0
        dists = self.level_distributions(past, target, conditions, temperature)
        for level, dist in enumerate(dists):
            log_density = dist.log_prob(fold_time(target[level]))
            total += tf.reshape(log_density, tf.shape(target[level])[:2])
        return total

    def level_distributions(self, past, target, conditions, temperature=1.0):
        """Each level's prior for every target frame (teacher forcing).

        Arguments as in `log_prob`. Returns a list over levels of
        distributions with batch `[N * T]` (frames folded into the batch,
        frame-minor) and event `[h, w, c]`.
        """
        k = self.num_cond_frames
        dists = []
        for level in range(self.num_levels):
            num_target = tf.shape(target[level])[1]
            history, missing = _teacher_forcing_windows(past[level],
                                                        num_target, k)
            condition = (None if conditions[level] is None
                         else fold_time(conditions[level]))
            dists.append(self.level_distribution(
                level, fold_time(history), tf.reshape(missing, [-1, k]),
                condition, temperature))
        return dists

    # -------------------------------------------------------------- sampling
    def sample(self, flow, context, num_frames, temperature=1.0, seed=None,
               history_bits=None, given=None):
        """Samples `num_frames` future frames after `context`.

        Args:
          flow: the `bijectors.MultiScaleFlow` whose latents this models.
          context: tuple over levels of `[N, K, h, w, c]` history latents.
          num_frames: T, a Python int.
          temperature: multiplies every scale.
          seed: a stateless seed (shape [2] int tensor), an int (the
            stateless seed `(0, seed)`: the same int gives the same draw), or
            None (fresh randomness).
          history_bits: with discrete history, the frames' bit depth: later
            frames condition on the latents of each sampled frame's bin
            centres (`history_latents`); None: on its own latents.
          given: optional tuple over levels of `[N, T, h, w, c]` or None:
            levels whose latents are given rather than sampled (the others
            are sampled conditioned on them, e.g. finer levels given real
            top-level latents; a diagnostic).

        Returns:
          `(latents, frames)`: a tuple over levels of `[N, T, h, w, c]` and
          the frames `[N, T, H, W, C]`.
        """
        seed = stateless_seed(seed)
        temperature = tf.convert_to_tensor(temperature, context[0].dtype)
        sample_step = self._step_function()
        windows = self.start_windows(context)
        latents = tuple(tf.TensorArray(c.dtype, size=num_frames)
                        for c in context)
        frames = tf.TensorArray(context[0].dtype, size=num_frames)

        def step(t, windows, latents, frames):
            frame_given = [None if given is None or g is None else g[:, t]
                           for g in (given or [None] * self.num_levels)]
            windows, frame_latents, frame = sample_step(
                flow, windows, t, seed, temperature, history_bits,
                frame_given)
            latents = tuple(array.write(t, z)
                            for array, z in zip(latents, frame_latents))
            return t + 1, windows, latents, frames.write(t, frame)

        # A while loop: inside a tf.function the graph does not grow with T.
        _, _, latents, frames = tf.while_loop(
            lambda t, *_: t < num_frames, step,
            (tf.constant(0), windows, latents, frames))
        return (tuple(_time_second(z.stack()) for z in latents),
                _time_second(frames.stack()))

    def sample_stream(self, flow, context, num_frames, temperature=1.0,
                      seed=None, history_bits=None):
        """The frames of `sample`, one at a time (a Python generator).

        Only the window of the last k frames' latents is kept between
        frames, so the memory does not grow with `num_frames` (neither the
        frames nor their latents are kept). Arguments as in `sample`; the
        same arguments give the same frames, each `[N, H, W, C]`.
        """
        seed = stateless_seed(seed)
        temperature = tf.convert_to_tensor(temperature, context[0].dtype)
        sample_step = self._step_function()
        windows = self.start_windows(context)
        for t in range(num_frames):
            # The arguments as `sample` passes them (t a tensor, `given`
            # a list), so that both reuse one trace of the compiled step.
            windows, _, frame = sample_step(
                flow, windows, tf.constant(t), seed, temperature,
                history_bits, [None] * self.num_levels)
            yield frame

    @property
    def compiled_sample_step(self):
        """`sample_step` as a `tf.function`: what eager sampling runs.

        Eagerly, a frame is thousands of small ops each dispatched from
        Python, which costs about ten times their arithmetic; compiled, it
        is one graph, traced once per shape of the context and reused by
        every later call (of `sample` and `sample_stream` alike, so the two
        give the same frames).
        """
        return self._compiled.function

    def _step_function(self):
        # Inside a graph the plain step is inlined into it.
        return (self.compiled_sample_step if tf.executing_eagerly()
                else self.sample_step)

    def start_windows(self, context):
        """Each level's window of the last k context latents and its mask."""
        return tuple(_last_window(c, self.num_cond_frames) for c in context)

    def sample_step(self, flow, windows, t, seed, temperature=1.0,
                    history_bits=None, given=None):
        """Frame t of a future: `(windows, frame_latents, frame)`.

        Args:
          flow, temperature, history_bits: as in `sample`.
          windows: each level's `(history, missing)` window before frame t
            (`start_windows` of the context, then what the last step gave).
          t: the frame's index (int or int32 scalar): its draws use `seed`
            folded with t.
          seed: a stateless seed (`stateless_seed`).
          given: optional list over levels of `[N, h, w, c]` or None.

        Returns:
          The windows with frame t appended, frame t's latents (a tuple
          over levels of `[N, h, w, c]`) and the frame `[N, H, W, C]`.
        """
        seeds = tfp.random.split_seed(
            tf.random.experimental.stateless_fold_in(seed, t),
            n=self.num_levels)
        frame_latents, frame = self._sample_frame(
            flow, windows, seeds, temperature,
            given or [None] * self.num_levels)
        windows = tuple(_advance_window(*window, z) for window, z in zip(
            windows, history_latents(flow, frame, frame_latents,
                                     history_bits)))
        return windows, frame_latents, frame

    def _sample_frame(self, flow, windows, seeds, temperature, given):
        """One frame: every level top-down, each decoded to the next level's
        x1; the finest decode is the frame.

        Returns the frame's latents (a tuple over levels of `[N, h, w, c]`;
        a level whose `given` entry is not None takes it) and the frame.
        """
        condition, frame_latents = None, [None] * self.num_levels
        for level in reversed(range(self.num_levels)):
            history, missing = windows[level]
            z = given[level]
            if z is None:
                z = self.level_distribution(
                    level, history, missing, condition,
                    temperature).sample(seed=seeds[level])
            frame_latents[level] = z
            condition = flow.decode_level(level, z, condition)
        return tuple(frame_latents), condition


class _CompiledStep:
    """Holds a layer's compiled sampling step outside of what TensorFlow
    tracks, so that saving or exporting the layer does not try to save the
    step's traces (they take Python objects as arguments)."""

    def __init__(self, step):
        self.function = tf.function(step, reduce_retracing=True,
                                    autograph=False)


def history_latents(flow, frames, latents, history_bits):
    """The latents later frames condition on, for frames `[N, H, W, C]`.

    With `history_bits` (discrete history: the frames' bit depth), those of
    the frames' bin centres; with None, `latents` (the frames' own).
    """
    if history_bits is None:
        return latents
    # Bin centres of checked or sampled frames: no check needed.
    centred = dequantization.centre_values(frames, history_bits)
    return flow.layer.encode_with_conditions(centred)[0]


def stateless_seed(seed):
    """An int32[2] stateless seed; an int n is read as (0, n).

    TFP would treat an int as a stateful seed, whose draws change from call to
    call; here the same int always gives the same futures.
    """
    if isinstance(seed, int) and not isinstance(seed, bool):
        seed = (0, seed)
    return tfp.random.sanitize_seed(seed)


def _time_second(x):
    """[T, N, ...] -> [N, T, ...]."""
    return tf.transpose(x, tf.concat([[1, 0], tf.range(2, tf.rank(x))], 0))


def fold_time(x):
    """[N, T, ...] -> [N * T, ...]."""
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))


def _unfold_time(x, num_frames):
    """[N * T, ...] -> [N, T, ...]."""
    return tf.reshape(x, tf.concat([[-1, num_frames], tf.shape(x)[1:]], 0))


def _teacher_forcing_windows(past, num_target, k):
    """The k frames before each target frame, and which of them are missing.

    Args:
      past: `[N, K + T - 1, h, w, c]`, the history latents of the context
        frames and of the target frames but the last.
      num_target: T.
      k: window length.

    Returns:
      history `[N, T, k, h, w, c]` (frame j of window t is past frame
      K + t - k + j, zero where that is < 0) and missing `[N, T, k]`.
    """
    zeros = tf.zeros_like(past[:, :1])
    padded = tf.concat([tf.repeat(zeros, k, axis=1), past], axis=1)
    num_past = tf.shape(past)[1]
    num_context = num_past - num_target + 1
    # Window t (target frame t) ends with past frame K + t - 1: padded
    # index K + t + k - 1.
    history = tf.signal.frame(padded, k, 1, axis=1)[:, num_context:]
    present = tf.concat([tf.zeros([k]), tf.ones([num_past])], axis=0)
    missing = 1.0 - tf.signal.frame(present, k, 1)[num_context:]
    missing = tf.broadcast_to(missing[tf.newaxis],
                              tf.stack([tf.shape(past)[0], num_target, k]))
    return history, tf.cast(missing, past.dtype)


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


def encode_frames(flow, frames):
    """Frames `[N, T, H, W, C]` -> (latents, conditions, log_det) per frame.

    Latents and conditions are tuples over levels of `[N, T, h, w, c]` (the
    top level's condition None); log_det is `[N, T]`. The frames were
    checked by the caller, so the flow's layer encodes them directly.
    """
    num_frames = tf.shape(frames)[1]
    latents, conditions, log_det = flow.layer.encode_with_conditions(
        fold_time(frames))
    unfold = lambda x: None if x is None else _unfold_time(x, num_frames)  # noqa: E731
    return (tuple(unfold(z) for z in latents),
            tuple(unfold(c) for c in conditions),
            tf.reshape(log_det, tf.stack([-1, num_frames])))


class EncodedWindow(typing.NamedTuple):
    """A window of frames after one pass of the flow (tuples over levels).

    past: `[N, K + T - 1, h, w, c]`, the history latents the target frames'
      priors condition on (context, then every target frame but the last).
    target: `[N, T, h, w, c]`, the target frames' latents.
    conditions: their x1 `[N, T, h, w, c]` (None on the top level).
    log_det: `[N, T]`, log|det d f^-1(y_t) / d y_t| of each target frame.
    """
    past: tuple
    target: tuple
    conditions: tuple
    log_det: tf.Tensor


def encode_window(flow, context, target, discrete_history=True, num_bits=8):
    """Encodes context `[N, K, H, W, C]` and target `[N, T, H, W, C]` frames.

    The frames the priors condition on (the context and, with
    `discrete_history`, the bin centres of the targets but the last) go
    through the flow together with the targets, as one batch: one pass,
    larger convolutions. Both are floats in bin units, already checked.

    Returns:
      An `EncodedWindow`.
    """
    num_target = target.shape[1]
    history = [context]
    if discrete_history:
        history = [dequantization.centre_values(context, num_bits)]
        if num_target > 1:
            history.append(dequantization.centre_values(target[:, :-1],
                                                        num_bits))
    frames = tf.concat(history + [target], axis=1)
    num_history = tf.shape(frames)[1] - num_target
    latents, conditions, log_det = encode_frames(flow, frames)
    split = lambda x: tf.split(x, [num_history, num_target], axis=1)  # noqa: E731
    past, target_latents = zip(*(split(z) for z in latents))
    if not discrete_history and num_target > 1:
        # The continuous past: the context's and the earlier targets' latents.
        past = tuple(tf.concat([p, z[:, :-1]], axis=1)
                     for p, z in zip(past, target_latents))
    return EncodedWindow(
        past=tuple(past), target=tuple(target_latents),
        conditions=tuple(None if c is None else split(c)[1]
                         for c in conditions),
        log_det=split(log_det)[1])


def window_log_prob(network, window, temperature=1.0):
    """log p of each target frame of an `EncodedWindow`, `[N, T]`.

    The prior's density of its latents given its past plus the flow's
    log-determinant: `VideoFlow.log_prob`, the model's training and
    evaluation and the diagnostics all score windows here.
    """
    return network.log_prob(window.past, window.target, window.conditions,
                            temperature) + window.log_det


def check_settings(num_target_frames, temperature):
    """Raises `ValueError` unless T >= 1 is an integer and T > 0 finite.

    A scalar tensor temperature is allowed (the exported `sample` signature
    takes it as an input); a known value is checked.

    Returns:
      The temperature's static value, or None if it is not known.
    """
    if isinstance(num_target_frames, bool) or not float(
            num_target_frames).is_integer() or num_target_frames < 1:
        raise ValueError(f"num_target_frames must be an integer >= 1, "
                         f"got {num_target_frames}.")
    static = tf.get_static_value(temperature)
    if static is not None and not 0 < float(static) < float("inf"):
        raise ValueError(f"temperature must be finite and > 0, got "
                         f"{temperature}.")
    return static


class LatentDynamics(tfd.Distribution):
    """p(target latents | context latents) as a TFP distribution.

    Event: tuple over levels of `[T, h, w, c]`; batch shape: the leading
    dimensions of the context latents (each `[*batch, K, h, w, c]`).
    The flow is needed because each level is conditioned on the x1 of its
    split and, with `discrete_history`, later frames on the latents of the
    earlier frames' bin centres.
    """

    def __init__(self, network, flow, context_latents, num_target_frames,
                 temperature=1.0, discrete_history=True, num_bits=8,
                 validate_args=False, name="LatentDynamics"):
        """Creates the distribution.

        Args:
          network: a `LatentDynamicsNetwork` (owns the weights).
          flow: the `bijectors.MultiScaleFlow` of the latents.
          context_latents: tuple over levels of `[*batch, K, h, w, c]`, the
            history latents of the context frames.
          num_target_frames: T, a positive Python int.
          temperature: positive float (or scalar float tensor); multiplies
            every scale (of log_prob and sample alike, so the two stay
            consistent).
          discrete_history: condition later frames on the latents of the
            earlier frames' bin centres (see the module docstring).
          num_bits: bit depth of the bins (for `discrete_history`).
          validate_args: as in TFP.
          name: distribution name.
        """
        parameters = dict(locals())
        static = check_settings(num_target_frames, temperature)
        if len(context_latents) != network.num_levels:
            raise ValueError(f"expected {network.num_levels} levels of context "
                             f"latents, got {len(context_latents)}.")
        self._network = network
        self._flow = flow
        self._context = tuple(tf.convert_to_tensor(c) for c in context_latents)
        self._num_target_frames = int(num_target_frames)
        self._temperature = (float(static) if static is not None
                             else tf.convert_to_tensor(temperature))
        self._discrete_history = bool(discrete_history)
        self._num_bits = dequantization.check_bits(num_bits)
        dtype = self._context[0].dtype
        super().__init__(
            dtype=(dtype,) * network.num_levels,
            reparameterization_type=tfd.FULLY_REPARAMETERIZED,
            validate_args=validate_args, allow_nan_stats=True,
            parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        # The batch is that of the context latents (each [*batch, K, h, w,
        # c]): slicing and `copy` slice them and keep the same network.
        del dtype, num_classes
        return dict(context_latents=tfp.util.ParameterProperties(
            event_ndims=lambda self: (4,) * self.network.num_levels))

    def _default_event_space_bijector(self):
        # Latents are unconstrained reals.
        return tfb.JointMap((tfb.Identity(),) * self._network.num_levels,
                            validate_args=self.validate_args)

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

    # ------------------------------------------------------- history latents
    def history_latents(self, frames, latents):
        """The latents later frames condition on, for frames `[N, H, W, C]`
        (the module's `history_latents` with this distribution's flow and
        discrete history)."""
        return history_latents(self._flow, frames, latents,
                               self._history_bits)

    @property
    def _history_bits(self):
        """`history_bits` of the network's sampling."""
        return self._num_bits if self._discrete_history else None

    def _folded_context(self, repeats=1):
        """Context latents `[repeats * Nb, K, h, w, c]` (batch dims folded)."""
        return tuple(
            tf.reshape(tf.broadcast_to(c[tf.newaxis], tf.concat(
                [[repeats], tf.shape(c)], 0)), tf.concat(
                    [[-1], tf.shape(c)[-4:]], 0))
            for c in self._context)

    # --------------------------------------------------------- log_prob, sample
    def _decode_frames(self, latents):
        """Folded target latents -> (x1 per level, frames `[N, T, ...]`)."""
        num_frames = self._num_target_frames
        folded = tuple(fold_time(z) for z in latents)
        conditions, condition = [None] * len(folded), None
        for level in reversed(range(len(folded))):
            conditions[level] = (None if condition is None
                                 else _unfold_time(condition, num_frames))
            condition = self._flow.decode_level(level, folded[level], condition)
        return tuple(conditions), _unfold_time(condition, num_frames)

    def _log_prob(self, latents):
        batch_shape = self._batch_shape_tensor()
        sample_shape = tf.shape(latents[0])[
            :tf.rank(latents[0]) - 4 - tf.size(batch_shape)]
        target = tuple(
            tf.reshape(z, tf.concat([[-1], tf.shape(z)[-4:]], 0))
            for z in latents)
        conditions, frames = self._decode_frames(target)
        per_frame = self._network.log_prob(
            self._past_latents(target, frames), target, conditions,
            self._temperature)
        return tf.reshape(tf.reduce_sum(per_frame, axis=1),
                          tf.concat([sample_shape, batch_shape], 0))

    def sample_latents_and_frames(self, n, seed=None, given=None):
        """`n` futures per batch member: (latents, frames), batch dims folded.

        Returns latents as a tuple over levels of `[n * Nb, T, h, w, c]` and
        frames `[n * Nb, T, H, W, C]` (sample index major). `given`: levels
        not to sample, as in `LatentDynamicsNetwork.sample` (folded shapes).
        """
        return self._network.sample(
            self._flow, self._folded_context(n), self._num_target_frames,
            self._temperature, seed=seed, history_bits=self._history_bits,
            given=given)

    def sample_stream(self, n, num_frames=None, seed=None):
        """The frames of `sample_latents_and_frames`, one at a time.

        A Python generator of `num_frames` (default: the event's T) frames,
        each `[n * Nb, H, W, C]`; memory does not grow with their number
        (`LatentDynamicsNetwork.sample_stream`). The same `n` and `seed`
        give the same frames as `sample_latents_and_frames`.
        """
        return self._network.sample_stream(
            self._flow, self._folded_context(n),
            self._num_target_frames if num_frames is None else num_frames,
            self._temperature, seed=seed, history_bits=self._history_bits)

    def _past_latents(self, target, target_frames):
        """The history latents of every target frame, from folded inputs.

        Context latents (repeated over samples) then, for T > 1, those of the
        target frames but the last: `[N, K + T - 1, h, w, c]` per level.
        """
        num_batch = tf.reduce_prod(self._batch_shape_tensor())
        repeats = tf.shape(target[0])[0] // num_batch
        context = self._folded_context(repeats)
        num_target = self._num_target_frames
        if num_target == 1:
            return context
        if self._discrete_history:
            earlier = target_frames[:, :-1]
            history = tuple(
                _unfold_time(z, num_target - 1) for z in
                self.history_latents(fold_time(earlier), None))
        else:
            history = tuple(z[:, :-1] for z in target)
        return tuple(tf.concat([c, h], axis=1)
                     for c, h in zip(context, history))

    def _sample_n(self, n, seed=None):
        batch_shape = self._batch_shape_tensor()
        samples, _ = self.sample_latents_and_frames(n, seed)
        return tuple(
            tf.reshape(z, tf.concat([[n], batch_shape, tf.shape(z)[1:]], 0))
            for z in samples)
