"""Training helpers: the paper's optimiser, a warm-up schedule, checkpoints.

`RunDirectory` is one training run on disk:

    run.json                 the run's settings (written once)
    checkpoints/latest.keras model, optimizer (with its step counter) and
                             random state, replaced atomically every N steps
    logs/                    TensorBoard event files
    model.keras              the final model

Every file is written to a temporary name in the same directory and then
renamed over the old one (files.py), so an interruption at any moment leaves either the
old or the new version, never half a file. Resuming loads the checkpoint
(weights, optimizer moments, the model's seed-generator state) and skips the
data already seen, so an interrupted and resumed run ends where an
uninterrupted one does.
"""

import hashlib
import json
import pathlib

import keras
import numpy as np

from tfp_videoflow import files


@keras.saving.register_keras_serializable(package="tfp_videoflow")
class LinearWarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly from 0 to `peak` over `warmup_steps`."""

    def __init__(self, peak, warmup_steps):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        if self.warmup_steps <= 0:
            return keras.ops.convert_to_tensor(self.peak, "float32")
        return self.peak * keras.ops.minimum(
            1.0, (step + 1.0) / float(self.warmup_steps))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


def paper_optimizer(learning_rate=3e-4, warmup_steps=10000):
    """Adam as the reference trains VideoFlow (β1 0.85, β2 0.997, ε 1e-6)."""
    return keras.optimizers.Adam(
        learning_rate=LinearWarmUp(learning_rate, warmup_steps),
        beta_1=0.85, beta_2=0.997, epsilon=1e-6)


def fingerprint(model):
    """A short hash of every weight: equal on all workers of a healthy run."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:16]


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
    def create(cls, path, settings):
        """Starts a new run in `path`, which must not hold anything yet."""
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise RunError(f"{run.path} exists and is not a directory.")
        if run.path.is_dir() and any(run.path.iterdir()):
            what = ("another run" if run.settings_path.exists()
                    else "other files")
            raise RunError(
                f"{run.path} already holds {what}; choose a new --out, or "
                "pass --resume to continue the run there.")
        (run.path / "checkpoints").mkdir(parents=True, exist_ok=True)
        files.atomic_write_text(run.settings_path, json.dumps(settings, indent=2))
        return run

    @classmethod
    def open(cls, path):
        """Opens an existing run for resuming."""
        run = cls(path)
        if not run.settings_path.exists():
            raise RunError(f"{run.path} holds no run to resume (no run.json).")
        return run

    def settings(self):
        return json.loads(self.settings_path.read_text(encoding="utf-8"))

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
        model = keras.models.load_model(self.checkpoint_path)
        return model, int(model.optimizer.iterations.numpy())

    def save_final(self, model):
        files.atomic_save_model(model, self.final_model_path)
