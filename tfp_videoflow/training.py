"""Training helpers: the paper's optimiser, a warm-up schedule, weight
averages, checkpoints.

`RunDirectory` is one training run on disk:

    run.json                 the run's settings (written at the start, and
                             again when --resume changes the learning rate);
                             with validation the best step so far ("best")
    checkpoints/latest.keras model, optimizer (with its step counter and
                             weight averages) and random state, replaced
                             atomically every N steps
    logs/                    TensorBoard event files (logs/validation: the
                             validation curve)
    model.keras              the model (its averaged weights, when the run
                             averages): with validation the best one (the
                             lowest validation bits per pixel), else the last
    train.lock               while `train` runs: its pid, host and start
                             time (one writer per folder, see run_lock.py)

The directory is created only when training can start (settings, model and
data checked). A run stopped before its first checkpoint holds only run.json
(and logs): `train` may start a new run there and `--resume` starts it from
step 0. A damaged run.json or checkpoint raises `RunError` naming the file.

Every file is written to a temporary name in the same directory and then
renamed over the old one (files.py), so an interruption at any moment
leaves either the old or the new version, never half a file. Resuming loads
the checkpoint (weights, optimizer moments, the model's seed-generator
state) and skips the data already seen, so an interrupted and resumed run
ends where an
uninterrupted one does.
"""

import contextlib
import hashlib
import json
import math
import pathlib
import time
import zipfile

import keras
import numpy as np
import tensorflow as tf

from tfp_videoflow import diagnostics, files, run_lock


@keras.saving.register_keras_serializable(package="tfp_videoflow")
class LinearWarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly from 0 to `peak` over `warmup_steps`.

    With `decay_steps`, it then falls along a half cosine from `peak` at the
    end of the warm-up to 0 at step `decay_steps` and stays at 0 after it:

        rate(s) = peak * min(1, (s + 1) / W)                   s < W
        rate(s) = peak * (1 + cos(pi * (s - W) / (D - W))) / 2   W <= s < D

    so a run of a known length ends with small, averaging steps.
    """

    def __init__(self, peak, warmup_steps, decay_steps=None):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = None if decay_steps is None else int(decay_steps)
        if self.decay_steps is not None and (
                self.decay_steps <= self.warmup_steps):
            raise ValueError(
                f"decay_steps ({self.decay_steps}) must exceed warmup_steps "
                f"({self.warmup_steps}).")

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        rate = keras.ops.convert_to_tensor(self.peak, "float32")
        if self.warmup_steps > 0:
            rate = rate * keras.ops.minimum(
                1.0, (step + 1.0) / float(self.warmup_steps))
        if self.decay_steps is not None:
            progress = keras.ops.clip(
                (step - self.warmup_steps)
                / float(self.decay_steps - self.warmup_steps), 0.0, 1.0)
            rate = rate * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        return rate

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "decay_steps": self.decay_steps}


def paper_optimizer(learning_rate=3e-4, warmup_steps=10000, decay_steps=None,
                    ema_momentum=None):
    """Adam as the reference trains VideoFlow (β1 0.85, β2 0.997, ε 1e-6).

    `decay_steps`: optionally a cosine decay to 0 at that step
    (`LinearWarmUp`); the reference keeps the rate constant.
    `ema_momentum`: optionally also an exponential moving average of the
    weights, `average = m * average + (1 - m) * weights` after every step
    (Keras' `use_ema`; the reference has none). The averages are only read,
    never trained: `averaged_weights` puts them in the model. Keras' `fit`
    also puts them in when it returns, unless `KeepTrainedWeights` is
    among its callbacks.
    """
    averages = ({"use_ema": True, "ema_momentum": ema_momentum}
                if ema_momentum else {})
    return keras.optimizers.Adam(
        learning_rate=LinearWarmUp(learning_rate, warmup_steps, decay_steps),
        beta_1=0.85, beta_2=0.997, epsilon=1e-6, **averages)


def has_weight_averages(model):
    """Whether `model`'s optimizer keeps weight averages (built, `use_ema`)."""
    optimizer = getattr(model, "optimizer", None)
    return bool(getattr(optimizer, "use_ema", False)) and optimizer.built


@contextlib.contextmanager
def averaged_weights(model):
    """Within the block, `model` holds its optimizer's weight averages.

    For measuring and saving the averaged model. On exit the trained
    weights and the optimizer's state (the averages among it) come back
    exactly, so measuring changes neither how training goes on nor the
    averages. (Keras' `SwapEMAWeights`, which puts the averages in, swaps
    in place by sums and differences, which can change the last bit of
    either.) Within the block the optimizer's averages hold the trained
    weights, so a model saved there (model.keras) keeps both. Without
    averages it changes nothing.
    """
    if not has_weight_averages(model):
        yield model
        return
    variables = list(model.trainable_weights) + list(
        model.optimizer.variables)
    kept = [v.numpy() for v in variables]
    swap = keras.callbacks.SwapEMAWeights()
    swap.set_model(model)
    swap.on_test_begin()
    try:
        yield model
    finally:
        for variable, value in zip(variables, kept):
            variable.assign(value)


class KeepTrainedWeights(keras.callbacks.Callback):
    """Leaves the trained weights, not their averages, in the model after `fit`.

    With weight averages Keras' `fit` ends by overwriting the weights with
    them. A run trained by several `fit` calls (checkpoint intervals, a
    resumed run) must go on from the trained weights to end where one
    `fit` would; the averages stay in the optimizer (`averaged_weights`).
    """

    def on_train_begin(self, logs=None):
        self.trained = None

    def on_epoch_end(self, epoch, logs=None):
        # The last callback before fit's overwrite (it runs after a stop too).
        if has_weight_averages(self.model):
            self.trained = [w.numpy() for w in self.model.trainable_weights]

    def on_train_end(self, logs=None):
        if self.trained is not None:
            for weight, value in zip(self.model.trainable_weights,
                                     self.trained):
                weight.assign(value)


class SplitCollapsedComponents(keras.callbacks.Callback):
    """Every `every` steps up to `until`, dead mixture components are reborn.

    A top-level mixture trained from scratch gives its futures to the few
    components that win them early: after 30 CPU minutes the `small` model
    puts the 8 directions of Stochastic Movement in 3 components, each
    holding 2-3 neighbouring directions and sampling between them (a short
    diagonal), while the other 5 have weight 0 and never win any back
    (BENCHMARKS.md section 9). So, on `videos` (the posterior shares of
    their first futures, `diagnostics.component_shares`), each component
    whose share is below `min_share` becomes a copy of the component with
    the largest share, splitting its weight (`Conv3DPrior.split_component`:
    the density is unchanged but for the copy's code noise, `noise` times
    the source code's root mean square), and training pulls the two apart.
    A no-op for a model without a mixture.

    Args:
      videos: uint8 `[B, >= K + T, H, W, C]`, e.g. the initialisation batch.
      every, until: split at steps every, 2 every, ... up to `until`.
      min_share: dead below this share (default: 1 / (4 M)).
      noise: relative size of the copy's code noise.
      seed: seed of the noise.
    """

    def __init__(self, videos, every=250, until=5000, min_share=None,
                 noise=0.1, seed=0):
        super().__init__()
        if not (every >= 1 and until >= 0 and noise >= 0
                and (min_share is None or 0 < min_share < 1)):
            raise ValueError(
                f"SplitCollapsedComponents: needs every >= 1, until >= 0, "
                f"noise >= 0 and min_share in (0, 1) or None; got every="
                f"{every}, until={until}, noise={noise}, min_share="
                f"{min_share}.")
        self.videos = videos
        self.every, self.until = int(every), int(until)
        self.min_share, self.noise, self.seed = min_share, noise, int(seed)
        self.splits = []  # (step, source, target) of every split made

    def on_train_batch_end(self, batch, logs=None):
        prior = self.model.dynamics.level_priors[-1]
        if getattr(prior, "num_components", 1) == 1:
            return
        step = int(self.model.optimizer.iterations.numpy())
        if step % self.every or step > self.until:
            return
        shares = np.mean(diagnostics.component_shares(
            self.model, self.videos, seed=(self.seed, step)), axis=0)
        min_share = self.min_share or 1.0 / (4 * len(shares))
        rng = np.random.default_rng((self.seed, step))
        for target in np.flatnonzero(shares < min_share):
            source = int(np.argmax(shares))
            code = prior.codes[source].numpy()
            scale = self.noise * np.sqrt(np.mean(code ** 2))
            prior.split_component(source, int(target),
                                  rng.normal(scale=scale, size=code.shape))
            shares[source] = shares[target] = shares[source] / 2
            self.splits.append((step, source, int(target)))


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` at the end of the first step after `seconds` of training.

    Training time is counted by `clock` over every `fit` this callback is
    given to, so `seconds` may be raised between fits to train in segments:
    wall time by default, or `time.process_time` (this process's CPU time,
    all its threads) to give runs that share a machine equal work.
    `stopped` tells whether it stopped the last `fit`.
    """

    def __init__(self, seconds, clock=time.monotonic):
        super().__init__()
        if not seconds > 0:
            raise ValueError(
                f"TimeLimit: seconds must be positive, got {seconds}.")
        self.seconds = seconds
        self.clock = clock
        self.stopped = False
        self._past = 0.0
        self._start = None

    @property
    def elapsed(self):
        """Seconds of training so far (by `clock`), the running fit's too."""
        running = 0.0 if self._start is None else self.clock() - self._start
        return self._past + running

    def on_train_begin(self, logs=None):
        self.stopped = False
        self._start = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        if self.elapsed >= self.seconds:
            self.stopped = self.model.stop_training = True

    def on_train_end(self, logs=None):
        self._past, self._start = self.elapsed, None


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first step whose loss or weights are not finite.

    `failure` then says at which step and what; `last_good_step` is the step
    of the last good checkpoint (the command line's checkpoint callback sets
    it). `VideoFlowModel.fit` adds one unless its callbacks hold one.
    """

    def __init__(self):
        super().__init__()
        self.failure = None
        self.last_good_step = None

    def on_train_begin(self, logs=None):
        if self.last_good_step is None:
            self.last_good_step = int(self.model.optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        bits = float((logs or {}).get("bits_per_pixel", 0.0))
        if not math.isfinite(bits):
            self.stop(f"{int(self.model.optimizer.iterations.numpy())} "
                      f"(bits per pixel {bits})")

    def weights_finite(self):
        """Whether every weight is finite; stops training if not."""
        if all(bool(tf.reduce_all(tf.math.is_finite(w)))
               for w in self.model.weights
               if tf.as_dtype(w.dtype).is_floating):
            return True
        self.stop(f"{int(self.model.optimizer.iterations.numpy())} "
                  "(the weights hold NaN or inf)")
        return False

    def stop(self, failure):
        if self.failure is None:
            self.failure = failure
        self.model.stop_training = True


def fingerprint(model):
    """A short hash of every weight: equal on all workers of a healthy run."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:16]


# What `train --resume` reads from run.json.
_REQUIRED_SETTINGS = ("data", "preset", "batch_size", "learning_rate",
                      "warmup_steps", "checkpoint_every", "seed",
                      "jit_compile", "precision", "deterministic")


def learning_rate_at(settings, step):
    """The peak learning rate of a run at `step`.

    `settings["learning_rate"]`, or the last of `settings[
    "learning_rate_changes"]` (`{"step": s, "learning_rate": r}`, ordered by
    step, written by `RunDirectory.record_learning_rate`) made at or before
    `step`.
    """
    rate = settings["learning_rate"]
    for change in settings.get("learning_rate_changes", []):
        if change["step"] <= step:
            rate = change["learning_rate"]
    return rate


def load_model_file(path):
    """`keras.models.load_model(path)`; a clear `ValueError` if it fails.

    Keras reports a truncated or damaged .keras file as "File not found";
    this says what is wrong with the file.
    """
    path = pathlib.Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} cannot be read: not a complete .keras "
                         "file (truncated, damaged, or another kind of "
                         "file).")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        bad = str(error)
    if bad is not None:
        raise ValueError(f"{path} cannot be read: the file is damaged "
                         f"({bad} is corrupt).")
    try:
        return keras.models.load_model(path)
    except Exception as error:  # pylint: disable=broad-except
        first_line = (str(error).splitlines() or [""])[0]
        raise ValueError(f"{path} cannot be read as a VideoFlow model "
                         f"({type(error).__name__}: {first_line}).") from error


class RunError(ValueError):
    """The run directory cannot be used as asked."""


class RunDirectory:
    """A training run's files (see the module docstring)."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    settings_path = property(lambda self: self.path / "run.json")
    checkpoint_path = property(
        lambda self: self.path / "checkpoints" / "latest.keras")
    logs_path = property(lambda self: self.path / "logs")
    final_model_path = property(lambda self: self.path / "model.keras")

    @classmethod
    def check_new(cls, path):
        """Raises `RunError` unless a new run can start in `path`.

        `path` may be missing, an empty directory, or a run that never wrote
        a checkpoint nor a final model (stopped before its first
        checkpoint): nothing of it is worth keeping.
        """
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise RunError(f"{run.path} exists and is not a directory.")
        if run.path.is_dir() and any(
                p.name != run_lock.NAME for p in run.path.iterdir()) and \
                not run.never_checkpointed():
            what = ("another run" if run.settings_path.exists()
                    else "other files")
            raise RunError(
                f"{run.path} already holds {what}; choose a new --out, or "
                "pass --resume to continue the run there.")
        return run

    def never_checkpointed(self):
        """Whether this is a run that stopped before its first checkpoint.

        Only run.json, logs and an empty checkpoints folder (temporary files
        of an interrupted write aside): nothing else to keep.
        """
        if not self.path.is_dir():
            return False
        names = {p.name for p in self.path.iterdir()} - {run_lock.NAME}
        if not names <= {"run.json", "checkpoints", "logs"} or \
                "run.json" not in names:
            return False
        checkpoints = self.path / "checkpoints"
        return not checkpoints.exists() or all(
            p.name.startswith(".") for p in checkpoints.iterdir())

    @classmethod
    def create(cls, path, settings, lock=None):
        """Starts a new run in `path` (see `check_new`).

        `lock(folder)`, if given, is called once the folder exists and
        before anything is written in it (so two runs started into one
        folder at once cannot both write run.json).
        """
        run = cls.check_new(path)
        if lock is not None:
            lock(files.make_dirs(run.path))
            run = cls.check_new(path)  # as it is now that nobody else writes
        files.make_dirs(run.path / "checkpoints")
        run.write_settings(settings)
        return run

    @classmethod
    def open(cls, path):
        """Opens an existing run for resuming."""
        run = cls(path)
        if not run.settings_path.exists():
            raise RunError(f"{run.path} holds no run to resume (no run.json).")
        return run

    def settings(self):
        """The run's settings; `RunError` if run.json is damaged."""
        try:
            settings = json.loads(
                self.settings_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:  # JSON, UTF-8, unreadable
            raise RunError(
                f"{self.settings_path} is damaged and cannot be read "
                f"({type(error).__name__}: {error}); this run cannot be "
                "resumed: start a new one with another --out.") from error
        missing = [k for k in _REQUIRED_SETTINGS
                   if not isinstance(settings, dict) or k not in settings]
        if missing:
            raise RunError(f"{self.settings_path} is damaged: it lacks "
                           f"{', '.join(missing)}; this run cannot be "
                           "resumed: start a new one with another --out.")
        return settings

    def write_settings(self, settings):
        """Replaces run.json by `settings` (atomically)."""
        files.atomic_write_text(self.settings_path,
                                json.dumps(settings, indent=2))

    def record_learning_rate(self, settings, step, rate):
        """Records in run.json that the learning rate is `rate` from `step`.

        Changes recorded after `step` belonged to training that no
        checkpoint kept (the run resumes from `step`): they are dropped.
        Returns the updated settings.
        """
        changes = [c for c in settings.get("learning_rate_changes", [])
                   if c["step"] < step]
        settings = {**settings, "learning_rate_changes": changes + [
            {"step": int(step), "learning_rate": float(rate)}]}
        self.write_settings(settings)
        return settings

    def has_checkpoint(self):
        return self.checkpoint_path.exists()

    def save_checkpoint(self, model):
        files.atomic_save_model(model, self.checkpoint_path)

    def load_checkpoint(self):
        """The model of the last checkpoint and the number of steps it took.

        The step count is the optimizer's iteration counter, saved inside the
        same (atomically written) file as the weights, so the two can never
        disagree.
        """
        if not self.checkpoint_path.exists():
            raise RunError(f"{self.path} has no checkpoint to resume from "
                           f"({self.checkpoint_path} is missing).")
        try:
            model = load_model_file(self.checkpoint_path)
        except ValueError as error:
            raise RunError(
                f"{error} Delete it to restart the run from step 0 with "
                "--resume.") from error
        return model, int(model.optimizer.iterations.numpy())

    def save_final(self, model):
        files.atomic_save_model(model, self.final_model_path)

    def best(self):
        """`{"step", "validation_bits_per_pixel"}` of the best model, or None."""
        return self.settings().get("best")

    def save_best(self, model, step, bits_per_pixel):
        """Makes `model` the run's model.keras, the best so far at `step`.

        The model is written before run.json records it: an interruption
        in between leaves a record no newer than model.keras. A resumed
        run validates that step again with the same data and noise and
        finds the same value: it writes both again if run.json lacked it,
        and nothing if run.json held it.
        """
        self.save_final(model)
        best = {"step": int(step),
                "validation_bits_per_pixel": float(bits_per_pixel)}
        settings = {**self.settings(), "best": best}
        self.write_settings(settings)
        return best
