"""The `videoflow` command line, end to end with the tiny preset."""

import json
import shutil
import signal
import socket
import subprocess
import sys
import time

import imageio.v3 as iio
import keras
import numpy as np
import pytest

from tests.helpers import write_lock
from tfp_videoflow import cli, run_lock

TRAIN = ["train", "--preset", "tiny", "--batch-size", "2",
         "--checkpoint-every", "2", "--learning-rate", "3e-3",
         "--warmup-steps", "2"]


def _weights(path):
    model = keras.models.load_model(path)
    return model, [v.numpy() for v in model.weights]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished 4-step run, trained without interruption."""
    out = tmp_path_factory.mktemp("runs") / "whole"
    assert cli.main(TRAIN + ["--steps", "4", "--out", str(out)]) == 0
    return out


def test_train_writes_the_run_directory(trained_run):
    assert (trained_run / "model.keras").is_file()
    assert (trained_run / "checkpoints" / "latest.keras").is_file()
    assert any((trained_run / "logs").iterdir())
    settings = json.loads((trained_run / "run.json").read_text())
    assert settings["preset"] == "tiny" and settings["batch_size"] == 2
    model = keras.models.load_model(trained_run / "model.keras")
    assert int(model.optimizer.iterations) == 4
    # No temporary files left behind.
    assert not [p for p in trained_run.rglob(".*") if p.is_file()]


def test_interrupted_and_resumed_equals_uninterrupted(trained_run, tmp_path):
    out = tmp_path / "resumed"
    assert cli.main(TRAIN + ["--steps", "2", "--out", str(out)]) == 0
    assert cli.main(["train", "--steps", "4", "--resume", "--out",
                     str(out)]) == 0
    resumed, resumed_weights = _weights(out / "model.keras")
    whole, whole_weights = _weights(trained_run / "model.keras")
    assert len(resumed_weights) == len(whole_weights)
    for a, b in zip(resumed_weights, whole_weights):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(resumed.optimizer.variables, whole.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_resume_with_a_new_learning_rate_records_and_keeps_it(trained_run,
                                                             tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli.main(TRAIN + ["--steps", "2", "--out", str(first)]) == 0
    shutil.copytree(first, second)
    # The new rate from step 2 on, in one resume ...
    assert cli.main(["train", "--steps", "4", "--resume", "--learning-rate",
                     "1e-4", "--out", str(first)]) == 0
    # ... or recorded at step 2 (nothing to train) and kept by a resume
    # without the flag, although the checkpoint of step 2 holds the old rate.
    assert cli.main(["train", "--steps", "2", "--resume", "--learning-rate",
                     "1e-4", "--out", str(second)]) == 0
    assert cli.main(["train", "--steps", "4", "--resume", "--out",
                     str(second)]) == 0
    for out in (first, second):
        settings = json.loads((out / "run.json").read_text())
        assert settings["learning_rate"] == 3e-3
        assert settings["learning_rate_changes"] == [
            {"step": 2, "learning_rate": 1e-4}]
    model, weights = _weights(first / "model.keras")
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    _, same = _weights(second / "model.keras")
    _, whole = _weights(trained_run / "model.keras")  # 3e-3 throughout
    for a, b in zip(weights, same, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(weights, whole))


def test_one_replica_strategy_and_resume_equal_the_plain_run(trained_run,
                                                              tmp_path):
    # Under a strategy Keras builds the model from a batch it takes off the
    # data; the model opts out, so the data stream, the seed counter and the
    # weights are those of the plain run, resumed or not.
    out = tmp_path / "mirrored"
    assert cli.main(TRAIN + ["--steps", "2", "--distribute", "mirrored",
                             "--out", str(out)]) == 0
    assert cli.main(["train", "--steps", "4", "--resume", "--distribute",
                     "mirrored", "--out", str(out)]) == 0
    mirrored, mirrored_weights = _weights(out / "model.keras")
    _, whole_weights = _weights(trained_run / "model.keras")
    for a, b in zip(mirrored_weights, whole_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert int(mirrored.random_draws.numpy()) == 1 + 2 * 4


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    # A process killed at an arbitrary moment (here usually in the middle of
    # writing a checkpoint, which it does every 2 steps) loses only the steps
    # since its last complete checkpoint: resuming it ends exactly where an
    # uninterrupted run of the same length ends.
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "tfp_videoflow", *TRAIN, "--steps", "100000",
         "--out", str(killed)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    checkpoint = killed / "checkpoints" / "latest.keras"
    try:
        deadline = time.monotonic() + 180
        while not checkpoint.exists() and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint after 180 s"
            time.sleep(0.05)
        time.sleep(0.3)  # a few more checkpoints: kill in the middle of one
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    reached = int(keras.models.load_model(checkpoint).optimizer.iterations)
    assert reached >= 2 and reached % 2 == 0
    total = reached + 3  # ends inside a checkpoint interval
    assert cli.main(["train", "--steps", str(total), "--resume", "--out",
                     str(killed)]) == 0
    whole = tmp_path / "whole"
    assert cli.main(TRAIN + ["--steps", str(total), "--out", str(whole)]) == 0
    resumed, resumed_weights = _weights(killed / "model.keras")
    _, whole_weights = _weights(whole / "model.keras")
    assert int(resumed.optimizer.iterations) == total
    for a, b in zip(resumed_weights, whole_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # The temporary file of a checkpoint cut short does not survive.
    assert not [p for p in killed.rglob(".*") if p.is_file()]


def test_a_run_in_use_is_refused_its_models_read_a_stale_lock_taken_over(
        trained_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(trained_run, out)
    lock = out / run_lock.NAME
    with subprocess.Popen(["sleep", "600"]) as running:
        write_lock(out, running.pid)
        try:
            assert cli.main(["train", "--steps", "5", "--resume", "--out",
                             str(out)]) == 2
            error = capsys.readouterr().err
            assert f"is in use: training by process {running.pid} on " \
                   f"{socket.gethostname()}" in error, error
            assert error.count("\n") == 1
            # Readers of the running run still work.
            assert cli.main(["evaluate", "--model", str(out), "--num-samples",
                             "0", "--max-videos", "2"]) == 0
            assert cli.main(["sample", "--model", str(out), "--num-samples",
                             "1", "--out", str(tmp_path / "samples")]) == 0
        finally:
            running.kill()
    # Its process has gone (a kill -9 leaves the lock): the next training
    # says so and takes the folder over; the lock goes when it ends.
    assert lock.exists()
    assert cli.main(["train", "--steps", "5", "--resume", "--out",
                     str(out)]) == 0
    assert f"took over the stale lock of process {running.pid}" in (
        capsys.readouterr().out)
    assert not lock.exists()
    model = keras.models.load_model(out / "model.keras")
    assert int(model.optimizer.iterations) == 5


def test_the_lock_is_released_when_training_fails(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(TRAIN + ["--steps", "1", "--out", str(out)]) == 0
    (out / "checkpoints" / "latest.keras").write_bytes(b"damaged")
    assert cli.main(["train", "--steps", "2", "--resume", "--out",
                     str(out)]) == 2
    assert "latest.keras cannot be read" in capsys.readouterr().err
    assert not (out / run_lock.NAME).exists()


def test_evaluate_prints_bits_and_baseline(trained_run, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert cli.main(["evaluate", "--model", str(trained_run),
                     "--num-samples", "2", "--max-videos", "4",
                     "--batch-size", "2", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "bits per pixel" in printed and "copy-last-frame" in printed
    results = json.loads(report.read_text())
    assert 0 < results["bits_per_pixel"]["mean"] < 8
    assert results["psnr"]["mean"] > 0


def test_sample_writes_gifs_and_a_grid(trained_run, tmp_path):
    out = tmp_path / "samples"
    assert cli.main(["sample", "--model", str(trained_run), "--data",
                     "stochastic_movement", "--num-samples", "3",
                     "--frames", "4", "--out", str(out)]) == 0
    gifs = sorted(out.glob("*.gif"))
    pngs = sorted(out.glob("*.png"))
    assert gifs and pngs
    frames = iio.imread(gifs[0], index=None)
    assert frames.ndim == 4 and len(frames) >= 5  # context + 4 futures


def test_sample_from_a_context_file(trained_run, tmp_path):
    video = np.zeros((3, 16, 16, 3), np.uint8)
    np.save(tmp_path / "context.npy", video)
    out = tmp_path / "from_file"
    assert cli.main(["sample", "--model", str(trained_run), "--context",
                     str(tmp_path / "context.npy"), "--out", str(out)]) == 0
    assert list(out.glob("*.gif"))
    # Wrong resolution: a clear message, exit status 2, nothing written.
    np.save(tmp_path / "big.npy", np.zeros((3, 32, 32, 3), np.uint8))
    assert cli.main(["sample", "--model", str(trained_run), "--context",
                     str(tmp_path / "big.npy"), "--out",
                     str(tmp_path / "never")]) == 2
    assert not (tmp_path / "never").exists()


def test_bad_input_gives_one_message_and_exit_2(trained_run, tmp_path,
                                                capsys):
    cases = [
        (["train", "--preset", "tiny", "--steps", "1", "--out",
          str(trained_run)], "already holds another run"),
        (["train", "--steps", "1", "--resume", "--out",
          str(tmp_path / "none")], "no run to resume"),
        (["train", "--preset", "tiny", "--steps", "0", "--out",
          str(tmp_path / "zero")], "--steps must be >= 1"),
        (["train", "--preset", "tiny", "--steps", "1", "--data",
          str(tmp_path / "missing"), "--out", str(tmp_path / "x")],
         "no such folder"),
        (["evaluate", "--model", str(tmp_path / "missing")],
         "no such file"),
        (["evaluate", "--model", str(trained_run), "--data", "bair",
          "--data-dir", str(tmp_path)], "tfds build"),
        (["sample", "--model", str(trained_run), "--context",
          str(tmp_path / "missing.npy"), "--out", str(tmp_path / "s")],
         "no such file"),
        (["sample", "--model", str(trained_run), "--data",
          "stochastic_movement", "--out", str(trained_run)],
         "not an empty directory"),
    ]
    (tmp_path / "notes.txt").write_text("not a model")
    cases.append((["evaluate", "--model", str(tmp_path / "notes.txt")],
                  "cannot be read"))
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        error = capsys.readouterr().err
        assert message in error, (argv, error)
        assert error.count("\n") == 1
    # The existing run is untouched.
    assert int(keras.models.load_model(
        trained_run / "model.keras").optimizer.iterations) == 4
