"""What the `videoflow` commands do (the argument parsing is in `cli.py`)."""

import contextlib
import inspect
import json
import math
import pathlib
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from tfp_videoflow import (
    data,
    distribute,
    evaluation,
    files,
    presets,
    run_lock,
    training,
    visualization,
)
from tfp_videoflow import export as export_lib
from tfp_videoflow.errors import UsageError, first_line
from tfp_videoflow.model import VideoFlowModel


# --------------------------------------------------------------------- data
def _dataset(source, split, frame_shape, num_frames, batch_size, seed,
             data_dir=None, repeat=False, augment="none"):
    """uint8 `[B, num_frames, H, W, C]` batches from a named or folder source."""
    try:
        videos = data.load(source, split, frame_shape, num_frames, seed=seed,
                           data_dir=data_dir)
        videos = data.augment(videos, augment, seed)
    except (ValueError, OSError) as error:  # bad settings, missing files
        raise UsageError(str(error)) from error
    if repeat:
        videos = videos.repeat()
    return videos.batch(batch_size, drop_remainder=repeat).prefetch(
        tf.data.AUTOTUNE)


# -------------------------------------------------------------------- train
def _duration(seconds):
    if not seconds == seconds or seconds == float("inf"):  # NaN or unknown
        return "?"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


class _Progress(keras.callbacks.Callback):
    """One status line (step, bits per pixel, speed, time left); TensorBoard."""

    def __init__(self, total_steps, frames_per_step, writer, start_step):
        super().__init__()
        self.total_steps = total_steps
        self.frames_per_step = frames_per_step
        self.writer = writer
        self.step = start_step
        self.last_print = 0.0
        self.window_start = time.perf_counter()
        self.window_steps = 0
        self.steps_per_second = float("nan")
        self.interactive = sys.stdout.isatty()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self.window_steps += 1
        bits = float(logs["bits_per_pixel"])
        with self.writer.as_default(step=self.step):
            tf.summary.scalar("bits_per_pixel", bits)
        now = time.perf_counter()
        # Speed over the last >= 2 s, so the first (tracing) step is
        # forgotten quickly.
        if now - self.window_start > 2.0:
            self.steps_per_second = (self.window_steps
                                     / (now - self.window_start))
            self.window_start, self.window_steps = now, 0
        if now - self.last_print > (0.5 if self.interactive else 15.0) or \
                self.step == self.total_steps:
            self.last_print = now
            left = (self.total_steps - self.step) / self.steps_per_second
            line = (f"step {self.step}/{self.total_steps}  bits/pixel "
                    f"{bits:.4f}  {self.steps_per_second:.2f} steps/s "
                    f"({self.steps_per_second * self.frames_per_step:.1f} "
                    f"frames/s)  time left {_duration(left)}")
            end = "\r" if self.interactive and self.step < self.total_steps \
                else "\n"
            print(line.ljust(79), end=end, flush=True)

    def on_train_end(self, logs=None):
        self.writer.flush()


class _Samples(keras.callbacks.Callback):
    """A grid of sampled futures in TensorBoard every `every` steps.

    Rows: the context frames followed by one sampled future each, for the
    same context and seed every time, so the images show training progress.
    """

    def __init__(self, context, every, writer, start_step, num_samples=4,
                 temperature=None, seed=(0, 0)):
        super().__init__()
        self.context = context
        self.every = every
        self.writer = writer
        self.step = start_step
        self.num_samples = num_samples
        self.temperature = temperature
        self.seed = tf.constant(seed, tf.int32)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self.write()

    def write(self):
        with training.averaged_weights(self.model):
            futures = self.model.sample_future(
                self.context, num_samples=self.num_samples,
                temperature=self.temperature, seed=self.seed).numpy()[:, 0]
        context = np.broadcast_to(self.context[0], (len(futures),)
                                  + self.context.shape[1:])
        image = visualization.grid(np.concatenate([context, futures], 1))
        with self.writer.as_default(step=self.step):
            tf.summary.image("sampled_futures", image[np.newaxis])


class _Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint at the end of every epoch, if the model is finite."""

    def __init__(self, run, guard):
        super().__init__()
        self.run = run
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.failure is None and self.guard.weights_finite():
            self.run.save_checkpoint(self.model)
            self.guard.last_good_step = int(
                self.model.optimizer.iterations.numpy())


class _TimeLimit(training.TimeLimit):
    """--time-limit: wall-clock minutes of training; says where it stopped."""

    def __init__(self, minutes):
        super().__init__(60 * minutes)
        self.minutes = minutes

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.stopped:
            print(f"step {int(self.model.optimizer.iterations.numpy())}: "
                  f"--time-limit of {self.minutes:g} minutes reached: "
                  "stopped", flush=True)


class _Validation(keras.callbacks.Callback):
    """Validation bits per pixel every `every` steps; keeps the best model.

    The same batches with the same dequantization noise every time, so the
    values compare; the averaged weights when the run averages them. A
    value below the best so far makes the model the run's model.keras (as
    Keras' `ModelCheckpoint(save_best_only=True)` does) and is recorded in
    run.json, where a resumed run finds it.
    """

    def __init__(self, run, batches, every, writer, start_step, guard, seed,
                 patience=None):
        super().__init__()
        self.run = run
        self.batches = batches
        self.every = every
        self.patience = patience
        self.stopped = False
        self.writer = writer
        self.step = start_step
        self.guard = guard
        self.seed = seed
        self.best = run.best()
        self.bits_per_pixel = None  # the model's, traced once

    def value(self):
        """Mean bits per pixel over the validation videos.

        As `evaluation.evaluate_model` computes it (noise seed `(seed, b)`
        for batch b), in a `tf.function`: 5x faster than eager.
        """
        if self.bits_per_pixel is None:
            self.bits_per_pixel = tf.function(self.model.bits_per_pixel)
        bits = [self.bits_per_pixel(videos, seed=tf.constant(
            [self.seed, index], tf.int32)).numpy()
                for index, videos in enumerate(self.batches)]
        return float(np.concatenate(bits).astype(np.float64).mean())

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0 and self.guard.failure is None:
            self.validate()

    def validate(self):
        with training.averaged_weights(self.model):
            bits = self.value()
            if math.isfinite(bits) and (
                    self.best is None
                    or bits < self.best["validation_bits_per_pixel"]):
                self.best = self.run.save_best(self.model, self.step, bits)
        with self.writer.as_default(step=self.step):
            tf.summary.scalar("bits_per_pixel", bits)
        self.writer.flush()
        line = f"step {self.step}  validation bits/pixel {bits:.4f}"
        if self.best:
            line += (f"  (best {self.best['validation_bits_per_pixel']:.4f} "
                     f"at step {self.best['step']})")
        print(line.ljust(79), flush=True)
        # From the recorded best step, so a resumed run stops where the
        # uninterrupted one would.
        if self.patience and self.best and (
                self.step - self.best["step"] >= self.patience * self.every):
            self.stopped = self.model.stop_training = True
            print(f"step {self.step}: {self.patience} validations without a "
                  "new best: stopped (--patience)", flush=True)


def _default_augmentation(source, frame_shape):
    """--augment's default: every symmetry for a folder of real footage.

    A few clips' windows are too few for even a small model (0.2-1.2 M
    weights): mirrored, reversed and rotated windows code held-out frames
    of a real clip in 1.48 bits per pixel against 1.79 with mirroring alone
    (BENCHMARKS.md, section 10). The generated and TFDS sets are large (and
    BAIR's camera has a fixed view), so they train as they are.
    """
    if source in data.NAMED_SOURCES:
        return "none"
    height, width = frame_shape[:2]
    return "mirror+reverse+rotate" if height == width else "mirror+reverse"


def _validation_source(args):
    """What `--validation-data` means for a new run: a source or "none"."""
    if args.validation_data is not None:
        return args.validation_data
    # By default --data's own validation split, where it has one (TFDS'
    # BAIR has none).
    if args.data == "stochastic_movement" or pathlib.Path(args.data).is_dir():
        return args.data
    return "none"


def _validation_batches(settings, model):
    """The run's fixed validation batches (a list), or None without any."""
    source = settings.get("validation_data", "none")
    if source == "none":
        return None
    num_frames = model.num_context_frames + model.num_target_frames
    try:
        videos = _dataset(source, "validation", model.frame_shape,
                          num_frames, settings["batch_size"],
                          settings["seed"], settings.get("data_dir"))
        batches = [b for _, b in zip(range(settings["validation_batches"]),
                                     videos)]
    except (UsageError, tf.errors.OpError, ValueError) as error:
        raise UsageError(f"--validation-data {source}: {first_line(error)} "
                         "(--validation-data none trains without).") from error
    if not batches:
        raise UsageError(f"--validation-data {source}: holds no validation "
                         "videos (--validation-data none trains without).")
    return batches


# ------------------------------------------------------- model settings
# Model arguments with a flag of their own.
_OWN_FLAGS = {"seed": "--seed", "precision": "--precision"}


def _model_setting_names():
    """The `VideoFlowModel` arguments that `--set` may change."""
    parameters = inspect.signature(VideoFlowModel.__init__).parameters
    return sorted(name for name, p in parameters.items()
                  if name != "self" and name not in _OWN_FLAGS
                  and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _overrides(pairs):
    """The `--set` pairs as a dict of JSON values (as run.json holds them).

    UsageError for a malformed pair or a key that is no model argument.
    """
    try:
        overrides = presets.parse_overrides(pairs)
    except ValueError as error:
        raise UsageError(str(error)) from error
    valid = _model_setting_names()
    for key, value in overrides.items():
        if key in _OWN_FLAGS:
            raise UsageError(f"--set {key}: use {_OWN_FLAGS[key]} instead.")
        if key not in valid:
            raise UsageError(f"--set {key}: not a model setting; valid keys: "
                             f"{', '.join(valid)}.")
        try:
            overrides[key] = json.loads(json.dumps(value))
        except (TypeError, ValueError) as error:
            raise UsageError(f"--set {key}={value!r}: not a value run.json "
                             "can record.") from error
    return overrides


def _check_resumed_overrides(pairs, settings, model):
    """UsageError if `--set` on `--resume` disagrees with the run's model."""
    recorded = settings.get("set") or {}
    config = model.get_config()
    for key, value in _overrides(pairs).items():
        current = recorded.get(key, config.get(key))
        if json.loads(json.dumps(current)) != value:
            raise UsageError(
                f"--set {key}={value!r}: this run's model has {key}="
                f"{current!r} (see {settings.get('preset')} and run.json); "
                "--resume keeps the run's settings: start a new run (another "
                "--out) to change them.")


# --learning-rate of a new run when not given.
DEFAULT_LEARNING_RATE = 1e-3
# --ema-momentum of a new run when not given: the averaged weights code test
# videos in fewer bits and give more valid futures than the trained ones
# (BENCHMARKS.md, section 9). Runs from before the flag have none.
DEFAULT_EMA_MOMENTUM = 0.99
# --split-every / --split-until of a new run when not given: components that
# die early come back as copies of the busiest one, so that the mixture ends
# with one component per kind of future (BENCHMARKS.md, section 9: 69 % valid
# futures after 10 CPU minutes against 40 %). Runs from before have none.
DEFAULT_SPLIT_EVERY, DEFAULT_SPLIT_UNTIL = 250, 5000


def _new_model(settings):
    """A new compiled model of the run's settings."""
    overrides = settings.get("set") or {}
    try:
        model = VideoFlowModel.from_preset(
            settings["preset"], seed=settings["seed"],
            precision=settings["precision"], **overrides)
    except (ValueError, TypeError) as error:
        shown = " ".join(f"{k}={v!r}" for k, v in overrides.items())
        raise UsageError(f"--set {shown}: {first_line(error)}") from error
    model.compile(
        optimizer=training.paper_optimizer(
            settings["learning_rate"], settings["warmup_steps"],
            ema_momentum=settings.get("ema_momentum")),
        jit_compile={"on": True, "off": False}.get(
            settings["jit_compile"], "auto"))
    return model


def _resume_learning_rate(run, settings, model, step, new_rate, chief):
    """Gives the resumed optimizer the run's learning rate at `step`.

    A new `--learning-rate` is recorded in run.json as a change at `step`
    (the chief writes it), so that a diverged run can go on at a lower rate
    and a later `--resume` keeps it. Returns the settings.
    """
    rate = training.learning_rate_at(settings, step)
    if new_rate is not None:
        if chief:
            settings = run.record_learning_rate(settings, step, new_rate)
        print(f"learning rate {new_rate:g} from step {step} on (was "
              f"{rate:g})")
        rate = new_rate
    # The checkpoint's schedule holds the rate it was saved with; the rate
    # in run.json is the one to continue with (it can be newer).
    model.optimizer.learning_rate = training.LinearWarmUp(
        rate, settings["warmup_steps"])
    return settings


def _first_batch(videos, source, at_least=1):
    """The first batches, joined, with >= `at_least` videos (or all there are).

    A data error there is the user's.
    """
    batches, count = [], 0
    try:
        for batch in videos:
            batches.append(batch)
            count += int(batch.shape[0])
            if count >= at_least:
                break
    except (tf.errors.OpError, ValueError) as error:
        raise UsageError(f"--data {source}: cannot read the first batch "
                         f"({first_line(error)}).") from error
    if not count:
        raise UsageError(f"--data {source}: holds no videos.")
    return batches[0] if len(batches) == 1 else tf.concat(batches, axis=0)


# The ActNorm statistics come from at least this many of the frames the prior
# models (the paper used 128 frames): started from one batch of 16 videos (32
# frames), results swung between seeds (BENCHMARKS.md, section 9).
INITIALIZATION_FRAMES = 256


def _initialization_videos(videos, source, model):
    """Enough first training videos for `model.initialize`."""
    modelled = max(1, model.num_target_frames)
    return _first_batch(videos, source,
                        at_least=-(-INITIALIZATION_FRAMES // modelled))


def _check_numbers(args, at_least_one=(), non_negative=(), positive=()):
    """UsageError naming the first numeric flag out of its range.

    `at_least_one` and `non_negative` name integer flags, `positive` float
    flags (finite and > 0); a flag that is None (not given) is not checked.
    """
    rules = ([(n, lambda v: v >= 1, ">= 1") for n in at_least_one]
             + [(n, lambda v: v >= 0, ">= 0") for n in non_negative]
             + [(n, lambda v: 0 < v < math.inf, "finite and > 0")
                for n in positive])
    for name, ok, wanted in rules:
        value = getattr(args, name)
        if value is not None and not ok(value):
            raise UsageError(f"--{name.replace('_', '-')} must be {wanted}, "
                             f"got {value}.")


def train(args):
    # The run folder's lock (run_lock.py) is held from when training takes
    # the folder until it returns or raises.
    with contextlib.ExitStack() as held:
        return _train(args, held)


def _lock_run(held, folder):
    """Holds `folder`'s lock until `held` closes; UsageError if in use."""
    lock = run_lock.RunLock(folder)
    try:
        held.enter_context(lock)
    except run_lock.LockError as error:
        raise UsageError(str(error)) from error
    if lock.took_over is not None:
        print(f"{lock.path}: took over the stale lock of "
              f"{run_lock.describe(lock.took_over)}, which no longer runs")


def _check_unlocked(folder):
    """UsageError if a running training holds `folder` (a new run there)."""
    try:
        run_lock.check_free(folder)
    except run_lock.LockError as error:
        raise UsageError(str(error)) from error


def _train(args, held):
    _check_train_numbers(args)
    strategy = _strategy(args)
    chief = distribute.is_chief(strategy)
    run, settings, model, step = _open_run(args, held, strategy, chief)
    if step >= args.steps:
        print(f"{run.path}: already trained for {step} steps (--steps "
              f"{args.steps}); nothing to do.")
    if settings["deterministic"]:
        # CPU kernels already are; GPU ones need this for bit-exact resume.
        tf.config.experimental.enable_op_determinism()
    if settings.get("augment") is None:
        # A new run without --augment; runs from before the flag had none.
        settings["augment"] = "none" if args.resume else \
            _default_augmentation(settings["data"], model.frame_shape)
    videos = _training_videos(settings, model, strategy)
    splits = _initialize(settings, model, videos, step, strategy)
    sample_context = (_sample_context(settings, model)
                      if chief and settings.get("sample_every") else None)
    validation = _validation_batches(settings, model) if chief else None
    if settings.get("patience") and validation is None:
        raise UsageError("--patience: there is no validation data to watch "
                         "(--validation-data).")
    if not args.resume and chief:
        # Only now, with the model and the data ready, does the run
        # directory appear (a failure before leaves nothing behind). Only
        # the chief writes; the other workers use its settings.
        try:
            run = training.RunDirectory.create(
                args.out, settings, lock=lambda path: _lock_run(held, path))
        except training.RunError as error:
            raise UsageError(str(error)) from error
    guard = training.NonFiniteGuard()
    # KeepTrainedWeights: with weight averages, the next fit (and a resumed
    # run) goes on from the trained weights (without, it does nothing).
    limit = _TimeLimit(args.time_limit) if args.time_limit else None
    callbacks, validator = [guard, training.KeepTrainedWeights(), *splits,
                            *([limit] if limit else [])], None
    if chief:
        chief_callbacks, validator = _chief_callbacks(
            run, settings, model, steps=args.steps, step=step, guard=guard,
            sample_context=sample_context, validation=validation)
        callbacks += chief_callbacks
    replicas = strategy.num_replicas_in_sync if strategy else 1
    print(f"training {settings['preset']}{_shown(settings.get('set'))} on "
          f"{settings['data']}{_validation_note(settings, validation)}: "
          f"{model.count_params():,} weights, steps {step}..{args.steps}, "
          f"{replicas} replica(s), {model.dtype_policy.name}, "
          + (f"run directory {run.path}" if chief else
             "not the chief: writes nothing"))
    _fit(model, videos, step=step, steps=args.steps,
         every=settings["checkpoint_every"], callbacks=callbacks, guard=guard,
         run=run, stoppers=[c for c in (validator, limit) if c])
    if replicas > 1:
        _print_fingerprint(model)
    if chief:
        _save_model(run, model, validator)
    return 0


def _sample_context(settings, model):
    """The contexts whose futures TensorBoard shows: the first test batch."""
    return _first_batch(_dataset(
        settings["data"], "test", model.frame_shape, model.num_context_frames,
        1, settings["seed"], settings.get("data_dir")),
        settings["data"]).numpy()


def _print_fingerprint(model):
    """For replicas to compare: of the weights model.keras gets."""
    with training.averaged_weights(model):
        print(f"final weights fingerprint {training.fingerprint(model)}")


def _check_train_numbers(args):
    _check_numbers(
        args, at_least_one=("steps", "batch_size", "checkpoint_every",
                            "validate_every", "validation_batches",
                            "patience"),
        non_negative=("sample_every", "warmup_steps", "seed", "split_every",
                      "split_until"),
        positive=("learning_rate", "time_limit"))
    if args.ema_momentum is not None and not 0 <= args.ema_momentum < 1:
        raise UsageError("--ema-momentum must be in [0, 1) (0: no weight "
                         f"averages), got {args.ema_momentum}.")
    if args.patience is not None and args.distribute == "multi-worker":
        # Only the chief validates: the other workers would not stop.
        raise UsageError("--patience needs one worker (--distribute none or "
                         "mirrored).")
    if args.time_limit is not None and args.distribute == "multi-worker":
        # Each worker's clock would stop it at another step.
        raise UsageError("--time-limit needs one worker (--distribute none "
                         "or mirrored).")


def _strategy(args):
    """--distribute's strategy (None for one device), batch checked."""
    try:
        # Before any other TensorFlow op (the multi-worker runtime needs it).
        strategy = distribute.strategy(args.distribute)
    except distribute.DistributeError as error:
        raise UsageError(str(error)) from error
    if strategy and args.batch_size % strategy.num_replicas_in_sync:
        raise UsageError(
            f"--batch-size {args.batch_size} does not split evenly over "
            f"{strategy.num_replicas_in_sync} replicas.")
    return strategy


def _scope(strategy):
    return strategy.scope() if strategy else contextlib.nullcontext()


def _open_run(args, held, strategy, chief):
    """`(run, settings, model, step)`: a resumed run's, or a new one's.

    A new run's directory is only checked here (it is written once the
    data is ready); a resumed one is locked.
    """
    try:
        with _scope(strategy):
            if args.resume:
                run = training.RunDirectory.open(args.out)
                if chief:
                    _lock_run(held, run.path)
                settings = run.settings()
                if run.has_checkpoint():
                    model, step = run.load_checkpoint()
                else:  # Stopped before its first checkpoint: from step 0.
                    model, step = _new_model(settings), 0
                _check_resumed_overrides(args.set, settings, model)
            else:
                settings = _new_settings(args)
                run = training.RunDirectory(args.out)
                if chief:
                    _check_unlocked(args.out)
                    training.RunDirectory.check_new(args.out)
                model, step = _new_model(settings), 0
        if args.resume:
            settings = _resume_learning_rate(run, settings, model, step,
                                             args.learning_rate, chief)
    except training.RunError as error:
        raise UsageError(str(error)) from error
    return run, settings, model, step


def _training_videos(settings, model, strategy):
    """The endless, batched training stream (sharded by rows if distributed)."""
    window = model.num_context_frames + model.train_target_frames
    num_frames = max(window, model.num_context_frames + model.num_target_frames)
    videos = _dataset(settings["data"], "train", model.frame_shape, num_frames,
                      settings["batch_size"], settings["seed"],
                      settings.get("data_dir"), repeat=True,
                      augment=settings["augment"])
    if strategy is not None:
        # Every worker reads the same stream and keeps its rows of each
        # global batch (not a file per worker): the run does not depend on
        # how the data is stored, and matches one device.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        videos = videos.with_options(options)
    return videos


def _splits_ahead(settings, model, step):
    """Whether the run may still split mixture components after `step`."""
    return (bool(settings.get("split_every"))  # (runs from before: no key)
            and step < settings["split_until"]
            and model.get_config()["top_components"] > 1)


def _initialize(settings, model, videos, step, strategy):
    """Initialises a new run's model from the first training videos.

    Returns the run's component splits (`[SplitCollapsedComponents]`, which
    judge the mixture on the same videos, or [] once the run no longer
    splits); a resumed run reads the videos only for them.
    """
    splits = _splits_ahead(settings, model, step)
    first = (_initialization_videos(videos, settings["data"], model)
             if step == 0 or splits else None)
    if step == 0:
        with _scope(strategy):
            model.initialize(first)
    if not splits:
        return []
    return [training.SplitCollapsedComponents(
        first, settings["split_every"], settings["split_until"],
        seed=settings["seed"])]


def _chief_callbacks(run, settings, model, *, steps, step, guard,
                     sample_context, validation):
    """`(callbacks, validator)`: the chief's progress, checkpoint, sample
    and validation callbacks (beside `guard`, which every worker has)."""
    window = model.num_context_frames + model.train_target_frames
    writer = tf.summary.create_file_writer(str(run.logs_path))
    callbacks = [_Progress(steps, settings["batch_size"] * window, writer,
                           step), _Checkpoint(run, guard)]
    if sample_context is not None:
        callbacks.append(_Samples(sample_context, settings["sample_every"],
                                  writer, step))
    validator = None
    if validation is not None:
        validator = _Validation(
            run, validation, settings["validate_every"],
            tf.summary.create_file_writer(str(run.logs_path / "validation")),
            step, guard, settings["seed"], settings.get("patience"))
        callbacks.append(validator)
    return callbacks, validator


def _fit(model, videos, *, step, steps, every, callbacks, guard, run,
         stoppers):
    """Trains from `step` to `steps`, or until one of `stoppers` (callbacks
    with a `stopped` flag) stops it; a non-finite step is a UsageError.

    Whole checkpoint intervals in one fit (its iterator carries over), then
    the rest; `skip` puts the data stream where the checkpoint left it.
    """
    while step < steps:
        chunk = every - step % every
        epochs = max(1, (steps - step) // chunk) if chunk == every else 1
        chunk = min(chunk, steps - step)
        model.fit(videos.skip(step), steps_per_epoch=chunk, epochs=epochs,
                  shuffle=False, verbose=0, callbacks=callbacks)
        if guard.failure:
            kept = (f"the last checkpoint ({run.checkpoint_path}, step "
                    f"{guard.last_good_step}) is kept, and --resume continues "
                    "from it" if guard.last_good_step else
                    "no checkpoint was written yet (--resume starts again "
                    "from step 0)")
            raise UsageError(
                f"training diverged at step {guard.failure}; stopped without "
                f"saving the non-finite model: {kept}. Try a lower "
                "--learning-rate with --resume (it continues from the "
                "last checkpoint), or a longer --warmup-steps in a new run.")
        step = int(model.optimizer.iterations.numpy())
        if any(stopper.stopped for stopper in stoppers):
            break


def _new_settings(args):
    """run.json of a new run: its flags, `--set` and validation resolved."""
    settings = {k: v for k, v in vars(args).items()
                if k not in ("resume", "steps", "time_limit", "command",
                             "verbose", "distribute")}
    if settings["learning_rate"] is None:
        settings["learning_rate"] = DEFAULT_LEARNING_RATE
    if settings["ema_momentum"] is None:
        settings["ema_momentum"] = DEFAULT_EMA_MOMENTUM
    for name, default in (("split_every", DEFAULT_SPLIT_EVERY),
                          ("split_until", DEFAULT_SPLIT_UNTIL)):
        if settings[name] is None:
            settings[name] = default
    if settings["precision"] is None:
        settings["precision"] = presets.preset(args.preset).get(
            "precision", "float32")
    settings["set"] = _overrides(args.set)
    settings["validation_data"] = _validation_source(args)
    settings["validate_every"] = args.validate_every or args.checkpoint_every
    return settings


def _shown(overrides):
    """` (key=value, ...)` of the `--set` settings, or nothing."""
    if not overrides:
        return ""
    return " (" + ", ".join(f"{k}={v!r}" for k, v in overrides.items()) + ")"


def _validation_note(settings, batches):
    if not batches:
        return ", no validation"
    return (f", validated on {settings['validation_data']} every "
            f"{settings['validate_every']} steps ({len(batches)} batches)")


def _save_model(run, model, validator):
    """model.keras: the best validated model, or the last one."""
    best = validator.best if validator else None
    if best is not None:
        print(f"kept {run.final_model_path}: the best model, step "
              f"{best['step']} (validation bits per pixel "
              f"{best['validation_bits_per_pixel']:.4f})")
        return
    with training.averaged_weights(model):
        run.save_final(model)
    print(f"wrote {run.final_model_path}"
          + (" (the last model: not validated yet)" if validator else ""))


# ----------------------------------------------------------------- evaluate
def _load_model(path):
    path = pathlib.Path(path)
    if path.is_dir():
        candidates = [path / "model.keras",
                      path / "checkpoints" / "latest.keras"]
        found = [c for c in candidates if c.exists()]
        if not found:
            raise UsageError(f"--model {path}: holds no model.keras (nor a "
                             "checkpoint).")
        path = found[0]
    elif not path.exists():
        raise UsageError(f"--model {path}: no such file or directory.")
    try:
        model = training.load_model_file(path)
    except ValueError as error:
        raise UsageError(f"--model {error}") from error
    if not isinstance(model, VideoFlowModel):
        raise UsageError(f"--model {path}: holds a {type(model).__name__}, "
                         "not a VideoFlow model.")
    return model


def evaluate(args):
    _check_numbers(args, at_least_one=("batch_size", "max_videos"),
                   non_negative=("num_samples", "seed"),
                   positive=("temperature",))
    if args.json is not None:
        json_path = pathlib.Path(args.json)
        if json_path.is_dir() or not json_path.parent.is_dir():
            raise UsageError(f"--json {args.json}: must name a file in an "
                             "existing folder.")
    model = _load_model(args.model)
    num_frames = model.num_context_frames + model.num_target_frames
    videos = _dataset(args.data, "test", model.frame_shape, num_frames,
                      args.batch_size, args.seed, args.data_dir)
    max_batches = -(-args.max_videos // args.batch_size)
    results = evaluation.evaluate_model(
        model, videos.unbatch().take(args.max_videos).batch(args.batch_size),
        num_samples=args.num_samples, temperature=args.temperature,
        seed=args.seed, max_batches=max_batches)
    print(f"test bits per pixel ({model.num_bits}-bit): "
          f"{results['bits_per_pixel']}")
    if args.num_samples:
        print(f"best-of-{args.num_samples} PSNR {results['psnr']} dB, "
              f"SSIM {results['ssim']}")
        print(f"copy-last-frame PSNR {results['copy_last_psnr']} dB, "
              f"SSIM {results['copy_last_ssim']}")
        print(f"best-of-{args.num_samples} PSNR minus copy-last-frame PSNR "
              f"(paired) {results['psnr_over_copy_last']} dB")
    if args.json:
        files.atomic_write_text(args.json, json.dumps(
            {k: vars(v) for k, v in results.items()}, indent=2))
    return 0


# ------------------------------------------------------------------- sample
def sample(args):
    _check_numbers(args, at_least_one=("num_samples", "frames"),
                   non_negative=("seed", "video_index"),
                   positive=("temperature",))
    out = _new_output(args.out)
    model = _load_model(args.model)
    k = model.num_context_frames
    if args.context:
        try:
            video = data.load_video_file(args.context)
        except (OSError, ValueError) as error:
            raise UsageError(f"--context {args.context}: {error}") from error
        if video.shape[0] < k:
            raise UsageError(f"--context {args.context}: has {video.shape[0]} "
                             f"frames; the model needs {k} context frames.")
        if tuple(video.shape[1:]) != tuple(model.frame_shape):
            raise UsageError(
                f"--context {args.context}: frames are {video.shape[1:]}, the "
                f"model expects {tuple(model.frame_shape)}.")
        context = video[np.newaxis, :k]
    else:
        videos = _dataset(args.data or "stochastic_movement", "test",
                          model.frame_shape, k, 1, args.seed, args.data_dir)
        for index, batch in enumerate(videos):
            if index == args.video_index:
                context = batch.numpy()
                break
        else:
            raise UsageError(f"--video-index {args.video_index}: the test data "
                             "has fewer videos.")
    futures = model.sample_future(
        context, num_samples=args.num_samples, num_frames=args.frames,
        temperature=args.temperature,
        seed=tf.constant([args.seed, 0], tf.int32)).numpy()[:, 0]
    written = visualization.write_samples(out, context[0], futures)
    for path in written:
        print(f"wrote {path}")
    return 0


def _new_output(path):
    try:
        return files.check_new_output(path)
    except FileExistsError as error:
        raise UsageError(f"--out {error}") from error


# ------------------------------------------------------------------- export
def export(args):
    out = _new_output(args.out)
    model = _load_model(args.model)
    try:
        path = model.export_serving(out)
    except export_lib.ExportError as error:
        raise UsageError(f"--out {out}: {error}") from error
    print(f"wrote {path} (signatures: sample, bits_per_pixel)")
    return 0
