"""The command line after a failure: one message, exit 2, nothing written or
overwritten; run folders stay resumable; training that diverges stops."""

import errno
import json
import os
import subprocess

import keras
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import write_lock
from tfp_videoflow import cli, training

TRAIN = ["train", "--preset", "tiny", "--batch-size", "2", "--steps", "1",
         "--sample-every", "0"]

SETTINGS = {"data": "stochastic_movement", "data_dir": None, "preset": "tiny",
            "batch_size": 2, "learning_rate": 1e-3, "warmup_steps": 2,
            "checkpoint_every": 1, "seed": 0, "jit_compile": "auto",
            "precision": "float32", "sample_every": 0, "deterministic": False}


def _snapshot(root):
    """Every file under root with its size and modification time, and every
    folder (not its time: a refused `--resume` takes and drops the run's lock
    file, which leaves nothing but a folder's time behind)."""
    return {str(p.relative_to(root)): "folder" if p.is_dir() else
            (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A damaged run, damaged model files and data no model can use."""
    root = tmp_path_factory.mktemp("failures")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save(root / "other.keras")  # a Keras model, not a VideoFlow one
    vf.VideoFlowModel.from_preset("tiny").save(root / "tiny.keras")
    whole = (root / "other.keras").read_bytes()
    (root / "truncated.keras").write_bytes(whole[:len(whole) // 2])
    for name, run_json, checkpoint in [
            ("damaged_checkpoint", json.dumps(SETTINGS), True),
            ("damaged_settings", json.dumps(SETTINGS)[:40], False)]:
        (root / name / "checkpoints").mkdir(parents=True)
        (root / name / "run.json").write_text(run_json)
        if checkpoint:
            (root / name / "checkpoints" / "latest.keras").write_bytes(
                whole[:len(whole) // 2])
    # A run stopped before its first checkpoint (resumable from step 0).
    (root / "stopped").mkdir()
    (root / "stopped" / "run.json").write_text(json.dumps(SETTINGS))
    (root / "no_videos").mkdir()
    (root / "bad_video").mkdir()
    (root / "bad_video" / "a.npy").write_bytes(b"not an array")
    # A run whose training still runs (before its first checkpoint): a live
    # process holds its lock.
    (root / "in_use" / "checkpoints").mkdir(parents=True)
    (root / "in_use" / "run.json").write_text(json.dumps(SETTINGS))
    with subprocess.Popen(["sleep", "600"]) as running:
        write_lock(root / "in_use", running.pid)
        yield root
        running.kill()


CASES = {
    "learning rate nan": (TRAIN + ["--learning-rate", "nan", "--out", "new"],
                          "--learning-rate must be finite and > 0"),
    "learning rate inf": (TRAIN + ["--learning-rate", "inf", "--out", "new"],
                          "--learning-rate must be finite and > 0"),
    "learning rate 0": (TRAIN + ["--learning-rate", "0", "--out", "new"],
                        "--learning-rate must be finite and > 0"),
    "warm-up -1": (TRAIN + ["--warmup-steps", "-1", "--out", "new"],
                   "--warmup-steps must be >= 0"),
    "train seed -1": (TRAIN + ["--seed", "-1", "--out", "new"],
                      "--seed must be >= 0"),
    "no videos": (TRAIN + ["--data", "{root}/no_videos", "--out", "new"],
                  "holds no video files"),
    "unreadable video": (TRAIN + ["--data", "{root}/bad_video", "--out",
                                  "new"], "a.npy: cannot decode this video"),
    "--set unknown key": (
        TRAIN + ["--set", "latent_skipp=True", "--out", "new"],
        "--set latent_skipp: not a model setting; valid keys: "
        "coupling, coupling_width, discrete_history,"),
    "--set bad value": (TRAIN + ["--set", "num_bits=9", "--out", "new"],
                        "--set num_bits=9: num_bits must be between 1 and 8"),
    "--set wrong type": (
        TRAIN + ["--set", "coupling=3", "--out", "new"],
        "--set coupling=3: flow: coupling must be one of"),
    "--set bare word": (
        TRAIN + ["--set", "coupling=sideways", "--out", "new"],
        "--set coupling='sideways': flow: coupling must be one of"),
    "--set without =": (TRAIN + ["--set", "latent_skip", "--out", "new"],
                        "--set latent_skip: expected key=value"),
    "--set twice": (
        TRAIN + ["--set", "num_bits=5", "--set", "num_bits=6", "--out",
                 "new"], "--set num_bits: given twice"),
    "--set seed": (TRAIN + ["--set", "seed=3", "--out", "new"],
                   "--set seed: use --seed instead"),
    "--set on resume that disagrees": (
        ["train", "--steps", "2", "--resume", "--set", "latent_skip=True",
         "--out", "{root}/stopped"],
        "--set latent_skip=True: this run's model has latent_skip=False"),
    "validate every 0": (TRAIN + ["--validate-every", "0", "--out", "new"],
                         "--validate-every must be >= 1"),
    "validation batches 0": (
        TRAIN + ["--validation-batches", "0", "--out", "new"],
        "--validation-batches must be >= 1"),
    "validation data missing": (
        TRAIN + ["--validation-data", "{root}/missing", "--out", "new"],
        "--validation-data {root}/missing: data "),
    "validation data without videos": (
        TRAIN + ["--validation-data", "{root}/no_videos", "--out", "new"],
        "holds no video files"),
    "truncated checkpoint": (
        ["train", "--steps", "2", "--resume", "--out",
         "{root}/damaged_checkpoint"],
        "latest.keras cannot be read: not a complete .keras file"),
    "resume with learning rate -1": (
        ["train", "--steps", "2", "--resume", "--learning-rate", "-1",
         "--out", "{root}/damaged_checkpoint"],
        "--learning-rate must be finite and > 0"),
    "resume into a run folder in use": (
        ["train", "--steps", "2", "--resume", "--out", "{root}/in_use"],
        "in_use is in use: training by process "),
    "new run into a run folder in use": (
        TRAIN + ["--out", "{root}/in_use"],
        "in_use is in use: training by process "),
    "truncated run.json": (
        ["train", "--steps", "2", "--resume", "--out",
         "{root}/damaged_settings"], "run.json is damaged"),
    "evaluate truncated model": (
        ["evaluate", "--model", "{root}/truncated.keras"],
        "truncated.keras cannot be read: not a complete .keras file"),
    "evaluate another kind of model": (
        ["evaluate", "--model", "{root}/other.keras"],
        "holds a Sequential, not a VideoFlow model"),
    "evaluate temperature inf": (
        ["evaluate", "--model", "{root}/tiny.keras", "--temperature", "inf"],
        "--temperature must be finite and > 0"),
    "evaluate temperature nan": (
        ["evaluate", "--model", "{root}/tiny.keras", "--temperature", "nan"],
        "--temperature must be finite and > 0"),
    "evaluate --json in a missing folder": (
        ["evaluate", "--model", "{root}/tiny.keras", "--json",
         "{root}/missing/results.json"], "must name a file in an existing"),
    "evaluate --json a folder": (
        ["evaluate", "--model", "{root}/tiny.keras", "--json", "{root}"],
        "must name a file in an existing"),
    "evaluate seed -1": (
        ["evaluate", "--model", "{root}/tiny.keras", "--seed", "-1"],
        "--seed must be >= 0"),
    "sample temperature inf": (
        ["sample", "--model", "{root}/tiny.keras", "--temperature", "inf",
         "--out", "new"], "--temperature must be finite and > 0"),
    "sample temperature nan": (
        ["sample", "--model", "{root}/tiny.keras", "--temperature", "nan",
         "--out", "new"], "--temperature must be finite and > 0"),
    "sample video index -1": (
        ["sample", "--model", "{root}/tiny.keras", "--video-index", "-1",
         "--out", "new"], "--video-index must be >= 0"),
    "sample truncated model": (
        ["sample", "--model", "{root}/truncated.keras", "--out", "new"],
        "cannot be read: not a complete .keras file"),
    "export truncated model": (
        ["export", "--model", "{root}/truncated.keras", "--out", "new"],
        "cannot be read: not a complete .keras file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
        case, files, capsys, monkeypatch):
    argv, message = CASES[case]
    monkeypatch.chdir(files)
    before = _snapshot(files)
    assert cli.main([a.format(root=files) for a in argv]) == 2
    error = capsys.readouterr().err
    assert message.format(root=files) in error, error
    assert error.count("\n") == 1, error
    assert _snapshot(files) == before


def test_a_run_stopped_before_its_first_checkpoint_goes_on(tmp_path):
    # What Ctrl-C (or a crash) before the first checkpoint leaves behind.
    stopped = tmp_path / "stopped"
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "logs").mkdir()
    (stopped / "run.json").write_text(json.dumps(SETTINGS))
    # `train` may start a new run there (nothing in it is worth keeping) ...
    assert training.RunDirectory.check_new(stopped).path == stopped
    (stopped / "model.keras").write_bytes(b"")
    with pytest.raises(training.RunError, match="already holds another run"):
        training.RunDirectory.check_new(stopped)
    (stopped / "model.keras").unlink()
    # ... and `--resume` starts it from step 0.
    assert cli.main(["train", "--steps", "1", "--resume", "--out",
                     str(stopped)]) == 0
    model = keras.models.load_model(stopped / "checkpoints" / "latest.keras")
    assert int(model.optimizer.iterations) == 1


def test_training_that_diverges_stops_and_keeps_the_last_checkpoint(
        tmp_path, capsys):
    # Adam moves every weight by about the learning rate: step 1 is finite,
    # its update is not survivable.
    out = tmp_path / "diverges"
    argv = ["train", "--preset", "tiny", "--batch-size", "2", "--steps", "4",
            "--checkpoint-every", "1", "--learning-rate", "1e30",
            "--warmup-steps", "0", "--sample-every", "0",
            "--validation-data", "none", "--out", str(out)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert "training diverged at step 2" in error, error
    assert "step 1) is kept" in error
    assert not (out / "model.keras").exists()
    checkpoint = out / "checkpoints" / "latest.keras"
    model = keras.models.load_model(checkpoint)
    assert int(model.optimizer.iterations) == 1
    assert all(np.all(np.isfinite(w.numpy())) for w in model.weights
               if w.dtype.startswith("float"))
    # --resume continues from that checkpoint (and diverges again there) ...
    assert cli.main(["train", "--steps", "4", "--resume", "--out",
                     str(out)]) == 2
    error = capsys.readouterr().err
    assert "training diverged at step 2" in error
    assert "lower --learning-rate with --resume" in error
    assert int(keras.models.load_model(checkpoint).optimizer.iterations) == 1


def test_a_diverged_run_goes_on_at_a_lower_learning_rate(tmp_path, capsys):
    out = tmp_path / "run"
    resume = ["train", "--steps", "4", "--resume", "--out", str(out)]
    assert cli.main(["train", "--preset", "tiny", "--batch-size", "2",
                     "--steps", "2", "--checkpoint-every", "2",
                     "--warmup-steps", "0", "--sample-every", "0", "--out",
                     str(out)]) == 0
    # Step 3 at this rate is not survivable: diverged, step 2 kept ...
    assert cli.main(resume + ["--learning-rate", "1e30"]) == 2
    error = capsys.readouterr().err
    assert "training diverged at step 4" in error, error
    assert "step 2) is kept" in error
    # ... and a lower rate continues from there.
    assert cli.main(resume + ["--learning-rate", "1e-4"]) == 0
    assert "learning rate 0.0001 from step 2 on (was 1e+30)" in (
        capsys.readouterr().out)
    model = keras.models.load_model(out / "model.keras")
    assert int(model.optimizer.iterations) == 4
    assert all(np.all(np.isfinite(w.numpy())) for w in model.weights
               if w.dtype.startswith("float"))
    settings = json.loads((out / "run.json").read_text())
    assert settings["learning_rate"] == 1e-3
    assert settings["learning_rate_changes"] == [
        {"step": 2, "learning_rate": 1e-4}]


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(
        tmp_path, capsys, monkeypatch):
    out = tmp_path / "full"
    checkpoint = out / "checkpoints" / "latest.keras"
    save = vf.VideoFlowModel.save
    saves = []

    def save_until_full(model, path, *args, **kwargs):
        saves.append(path)
        if len(saves) == 1:
            return save(model, path, *args, **kwargs)
        with open(path, "wb") as f:  # the disk fills half way through
            f.write(b"PK half a file")
        _no_space()

    monkeypatch.setattr(vf.VideoFlowModel, "save", save_until_full)
    argv = ["train", "--preset", "tiny", "--batch-size", "2", "--steps", "3",
            "--checkpoint-every", "1", "--sample-every", "0",
            "--validation-data", "none", "--out", str(out)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert (f"error: cannot write {checkpoint}: No space left on device "
            "(an earlier version of it, if any, is kept unchanged).\n"
            in error), error
    assert error.count("\n") == 1
    monkeypatch.undo()
    # The step-1 checkpoint is intact, nothing half-written is left, the
    # lock is gone, and --resume goes on once there is space again.
    assert int(keras.models.load_model(checkpoint).optimizer.iterations) == 1
    assert sorted(p.name for p in out.rglob("*") if p.is_file()
                  and "logs" not in p.parts) == ["latest.keras", "run.json"]
    assert cli.main(["train", "--steps", "3", "--resume", "--out",
                     str(out)]) == 0
    assert int(keras.models.load_model(
        out / "model.keras").optimizer.iterations) == 3


def _fail_saved_model(*args, **kwargs):
    raise tf.errors.ResourceExhaustedError(
        None, None, "saved_model.pb: No space left on device")


WRITE_FAILURES = {
    "evaluate --json": (
        ["evaluate", "--model", "{root}/tiny.keras", "--num-samples", "0",
         "--max-videos", "2", "--json", "{tmp}/results.json"],
        (os, "fsync"), "{tmp}/results.json: No space left on device"),
    "sample": (
        ["sample", "--model", "{root}/tiny.keras", "--num-samples", "1",
         "--out", "{tmp}/samples"],
        (PIL.Image.Image, "save"), "{tmp}/samples/grid.png: No space left"),
    "export": (
        ["export", "--model", "{root}/tiny.keras", "--out", "{tmp}/served"],
        (tf.saved_model, "save"),
        "{tmp}/served: saved_model.pb: No space left on device"),
}


@pytest.mark.parametrize("case", sorted(WRITE_FAILURES))
def test_a_full_disk_gives_one_line_naming_the_file(
        case, files, tmp_path, capsys, monkeypatch):
    argv, (owner, name), message = WRITE_FAILURES[case]
    monkeypatch.setattr(owner, name, _fail_saved_model if case == "export"
                        else _no_space)
    assert cli.main([a.format(root=files, tmp=tmp_path) for a in argv]) == 2
    error = capsys.readouterr().err
    assert f"cannot write {message.format(tmp=tmp_path)}" in error, error
    assert error.count("\n") == 1, error
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only folders")
def test_a_read_only_folder_gives_one_line_naming_the_file(
        files, tmp_path, capsys):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        assert cli.main(["evaluate", "--model", str(files / "tiny.keras"),
                         "--num-samples", "0", "--max-videos", "2", "--json",
                         str(read_only / "results.json")]) == 2
        error = capsys.readouterr().err
        assert (f"cannot write {read_only / 'results.json'}: Permission "
                "denied") in error, error
        assert cli.main(["sample", "--model", str(files / "tiny.keras"),
                         "--out", str(read_only / "samples")]) == 2
        error = capsys.readouterr().err
        assert f"cannot write {read_only / 'samples'}: Permission" in error
    finally:
        read_only.chmod(0o700)
