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
import tensorflow as tf

from tests.helpers import write_lock
from tfp_videoflow import cli, commands, data, evaluation, run_lock, training

TRAIN = ["train", "--preset", "tiny", "--batch-size", "2",
         "--checkpoint-every", "2", "--learning-rate", "3e-3",
         "--warmup-steps", "2", "--validation-data", "none"]
# Validated every step on 2 batches of Stochastic Movement's validation
# split (the default for --data stochastic_movement), with two settings
# changed from the preset. At this learning rate the validation bits of the
# trained weights are lowest at step 2 and higher by step 6 (the best is
# not the last; weight averages would smooth that away).
VALIDATED = ["train", "--preset", "tiny", "--batch-size", "2",
             "--checkpoint-every", "2", "--learning-rate", "1e-2",
             "--warmup-steps", "2", "--sample-every", "0",
             "--validate-every", "1", "--validation-batches", "2",
             "--ema-momentum", "0",
             "--set", "latent_skip=True", "num_context_frames=2"]


def _weights(path):
    model = keras.models.load_model(path)
    return model, [v.numpy() for v in model.weights]


def _assert_same_models(run, other):
    """model.keras and the last checkpoint of two runs are bit-identical."""
    for name in ("model.keras", "checkpoints/latest.keras"):
        _, a = _weights(run / name)
        _, b = _weights(other / name)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


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
    # Without validation data model.keras is the last model.
    assert settings["validation_data"] == "none" and "best" not in settings
    assert not (trained_run / "logs" / "validation").exists()
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


def test_model_keras_holds_the_averaged_weights(trained_run):
    assert json.loads((trained_run / "run.json").read_text())[
        "ema_momentum"] == commands.DEFAULT_EMA_MOMENTUM
    model = keras.models.load_model(trained_run / "model.keras")
    last = keras.models.load_model(trained_run / "checkpoints" / "latest.keras")
    trained = [w.numpy() for w in last.trainable_weights]
    with training.averaged_weights(last):
        averaged = [w.numpy() for w in last.trainable_weights]
    moved = 0.0
    for saved, a, t in zip(model.trainable_weights, averaged, trained,
                           strict=True):
        np.testing.assert_allclose(saved.numpy(), a, rtol=1e-6, atol=1e-7)
        moved = max(moved, float(np.abs(a - t).max()))
    assert moved > 0  # the checkpoint keeps the trained weights


def test_resumed_across_uneven_intervals_equals_one_run(tmp_path):
    # 5 steps every 2 are two fits (4 steps, then 1); stopped at 3 and
    # resumed, they are four (2, 1, then 1 and 1): each fit must go on from
    # the trained weights, not the averages Keras puts in at its end.
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert cli.main(TRAIN + ["--steps", "5", "--out", str(whole)]) == 0
    assert cli.main(TRAIN + ["--steps", "3", "--out", str(parts)]) == 0
    assert cli.main(["train", "--steps", "5", "--resume", "--out",
                     str(parts)]) == 0
    _assert_same_models(whole, parts)


def test_a_run_that_splits_components_resumes_exactly(tmp_path,
                                                     monkeypatch):
    made = []

    class Recorded(training.SplitCollapsedComponents):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(training, "SplitCollapsedComponents", Recorded)
    splitting = TRAIN + ["--set", "top_components=4", "--split-every", "1",
                         "--split-until", "6", "--sample-every", "0"]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert cli.main(splitting + ["--steps", "6", "--out", str(whole)]) == 0
    # (At this seed one component is dead by step 3 and is split then.)
    assert made[0].splits, "no component was split: the test needs one"
    settings = json.loads((whole / "run.json").read_text())
    assert (settings["split_every"], settings["split_until"]) == (1, 6)
    split_at = made[0].splits[0][0]
    assert cli.main(splitting + ["--steps", str(split_at),
                                 "--out", str(parts)]) == 0
    assert cli.main(["train", "--steps", "6", "--resume", "--out",
                     str(parts)]) == 0
    _assert_same_models(whole, parts)


def test_new_runs_split_components_by_default(trained_run):
    settings = json.loads((trained_run / "run.json").read_text())
    assert (settings["split_every"], settings["split_until"]) == (
        commands.DEFAULT_SPLIT_EVERY, commands.DEFAULT_SPLIT_UNTIL)


def test_validation_scores_the_averaged_model_it_keeps(tmp_path):
    out = tmp_path / "averaged"
    at = VALIDATED.index("--ema-momentum")
    averaged = VALIDATED[:at] + VALIDATED[at + 2:]
    assert cli.main(averaged + ["--steps", "3", "--out", str(out)]) == 0
    best = json.loads((out / "run.json").read_text())["best"]
    model = keras.models.load_model(out / "model.keras")
    videos = data.load("stochastic_movement", "validation", (16, 16, 3), 4)
    value = evaluation.evaluate_model(model, list(videos.batch(2).take(2)),
                                      num_samples=0)["bits_per_pixel"].mean
    np.testing.assert_allclose(value, best["validation_bits_per_pixel"],
                               rtol=1e-5)


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


def _kill_after_a_new_checkpoint(out, resume, delay):
    """Starts a long `train` into `out`, SIGKILLs it `delay` s after its next
    checkpoint begins to appear (so during steps or during a save)."""
    checkpoint = out / "checkpoints" / "latest.keras"
    before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
    flags = (["train", "--resume", "--steps", "100000", "--out", str(out)]
             if resume else TRAIN + ["--steps", "100000", "--out", str(out)])
    process = subprocess.Popen([sys.executable, "-m", "tfp_videoflow", *flags],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while process.poll() is None and (
                not checkpoint.exists()
                or checkpoint.stat().st_mtime_ns == before):
            assert time.monotonic() < deadline, "no new checkpoint in 180 s"
            time.sleep(0.02)
        time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_five_kills_then_resumed_equals_an_uninterrupted_run(tmp_path):
    # Issue 21's soak: SIGKILL at random moments (seeded: during steps and
    # during checkpoint writes, which come every 2 steps), five times, each
    # followed by --resume; the run loses only the steps since its last
    # complete checkpoint and ends bit-identical to one never killed.
    delays = np.random.default_rng(21).uniform(0.0, 0.6, size=5)
    out = tmp_path / "killed"
    for kill, delay in enumerate(delays):
        _kill_after_a_new_checkpoint(out, resume=kill > 0, delay=delay)
    reached = int(keras.models.load_model(
        out / "checkpoints" / "latest.keras").optimizer.iterations)
    total = reached + 3  # ends inside a checkpoint interval
    assert cli.main(["train", "--steps", str(total), "--resume", "--out",
                     str(out)]) == 0
    whole = tmp_path / "whole"
    assert cli.main(TRAIN + ["--steps", str(total), "--out", str(whole)]) == 0
    resumed, resumed_weights = _weights(out / "model.keras")
    whole_model, whole_weights = _weights(whole / "model.keras")
    assert int(resumed.optimizer.iterations) == total
    for a, b in zip(resumed_weights, whole_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(resumed.optimizer.variables, whole_model.optimizer.variables,
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not [p for p in out.rglob(".*") if p.is_file()]


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
    assert "(paired)" in printed
    np.testing.assert_allclose(
        results["psnr_over_copy_last"]["mean"],
        results["psnr"]["mean"] - results["copy_last_psnr"]["mean"],
        rtol=1e-6)


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


# ------------------------------------------------- --set and validation
@pytest.fixture(scope="module")
def validated_run(tmp_path_factory):
    """A finished 6-step run, validated after every step."""
    out = tmp_path_factory.mktemp("runs") / "validated"
    assert cli.main(VALIDATED + ["--steps", "6", "--out", str(out)]) == 0
    return out


def _validation_curve(run):
    """{step: validation bits per pixel} from the run's TensorBoard logs."""
    curve = {}
    for path in (run / "logs" / "validation").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "bits_per_pixel":
                    curve[event.step] = float(tf.make_ndarray(value.tensor))
    return curve


def test_set_is_recorded_in_run_json_and_applied(validated_run):
    settings = json.loads((validated_run / "run.json").read_text())
    assert settings["set"] == {"latent_skip": True, "num_context_frames": 2}
    config = keras.models.load_model(validated_run / "model.keras").get_config()
    assert config["latent_skip"] is True
    assert config["num_context_frames"] == 2
    # The preset's other settings are kept.
    assert config["frame_shape"] == (16, 16, 3) and config["num_bits"] == 5


def test_the_best_validated_model_is_kept(validated_run):
    curve = _validation_curve(validated_run)
    assert sorted(curve) == [1, 2, 3, 4, 5, 6]
    best_step = min(curve, key=curve.get)
    best = json.loads((validated_run / "run.json").read_text())["best"]
    assert best["step"] == best_step
    np.testing.assert_allclose(best["validation_bits_per_pixel"],
                               curve[best_step], rtol=1e-6)
    # This run's validation bits rise at the end: the best is not the last.
    assert best_step < 6
    model = keras.models.load_model(validated_run / "model.keras")
    last = keras.models.load_model(
        validated_run / "checkpoints" / "latest.keras")
    assert int(model.optimizer.iterations) == best_step
    assert int(last.optimizer.iterations) == 6
    # Scored again as `evaluate` scores (same videos, same noise seeds),
    # model.keras gives the recorded best value, the last model a higher one.
    videos = data.load("stochastic_movement", "validation", (16, 16, 3), 4)
    batches = list(videos.batch(2).take(2))
    values = [evaluation.evaluate_model(m, batches, num_samples=0)[
        "bits_per_pixel"].mean for m in (model, last)]
    np.testing.assert_allclose(values[0], best["validation_bits_per_pixel"],
                               rtol=1e-5)
    assert values[1] > values[0]


def test_resumed_run_keeps_the_best_so_far(validated_run, tmp_path, capsys):
    # Stopped after the best step; step 6 is worse, and only a resumed run
    # that remembers the best keeps the best step's model.
    best = json.loads((validated_run / "run.json").read_text())["best"]
    out = tmp_path / "resumed"
    assert cli.main(VALIDATED + ["--steps", "5", "--out", str(out)]) == 0
    assert cli.main(["train", "--steps", "6", "--resume", "--set",
                     "latent_skip=True", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "step 6  validation bits/pixel" in printed
    assert f"the best model, step {best['step']}" in printed
    assert json.loads((out / "run.json").read_text())["best"] == best
    _, resumed_weights = _weights(out / "model.keras")
    _, whole_weights = _weights(validated_run / "model.keras")
    for a, b in zip(resumed_weights, whole_weights, strict=True):
        np.testing.assert_array_equal(a, b)


def _patience_stop(curve, patience):
    """The step at which --patience stops on `curve` (validation every step)."""
    best = None
    for step in sorted(curve):
        if best is None or curve[step] < curve[best]:
            best = step
        if step - best >= patience:
            return step
    return None


def test_patience_stops_after_validations_without_a_new_best(
        validated_run, tmp_path, capsys):
    out = tmp_path / "patient"
    assert cli.main(VALIDATED + ["--steps", "30", "--patience", "2",
                                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    curve = _validation_curve(out)
    # The first 6 steps are the validated run's (same seeds).
    whole = _validation_curve(validated_run)
    common = [s for s in whole if s in curve]
    np.testing.assert_allclose([curve[s] for s in common],
                               [whole[s] for s in common], rtol=1e-6)
    stop = _patience_stop(curve, 2)
    assert stop is not None and stop < 30
    assert max(curve) == stop  # nothing trained or validated after it
    assert f"step {stop}: 2 validations without a new best" in printed
    best = json.loads((out / "run.json").read_text())["best"]
    assert best["step"] == stop - 2
    assert int(keras.models.load_model(
        out / "model.keras").optimizer.iterations) == stop - 2
    # A resumed run stops at once, where it stopped: nothing is lost.
    assert cli.main(["train", "--steps", "30", "--resume",
                     "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["best"] == best


def test_patience_needs_validation_and_a_positive_count(tmp_path, capsys):
    for extra, message in ((["--patience", "0"], "--patience must be >= 1"),
                           (["--patience", "2", "--validation-data", "none"],
                            "no validation data")):
        out = tmp_path / "run"
        assert cli.main(VALIDATED + ["--steps", "3", "--out", str(out)]
                        + extra) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
        assert not out.exists()


def test_time_limit_stops_writes_and_resumes_exactly(trained_run, tmp_path,
                                                    capsys):
    out = tmp_path / "limited"
    # 6 ms: the first step (which traces the step function) takes longer.
    assert cli.main(TRAIN + ["--steps", "4", "--time-limit", "1e-4",
                             "--out", str(out)]) == 0
    assert "step 1: --time-limit of 0.0001 minutes reached: stopped" in \
        capsys.readouterr().out
    for name in ("model.keras", "checkpoints/latest.keras"):
        assert int(keras.models.load_model(
            out / name).optimizer.iterations) == 1
    assert "time_limit" not in json.loads((out / "run.json").read_text())
    # The limit is this invocation's: --resume goes on, as if never stopped.
    assert cli.main(["train", "--steps", "4", "--resume",
                     "--out", str(out)]) == 0
    _assert_same_models(out, trained_run)


def test_time_limit_must_be_positive(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(TRAIN + ["--steps", "2", "--time-limit", "0",
                             "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--time-limit must be finite and > 0" in error and error.count("\n") == 1
    assert not out.exists()


def _write_videos(folder, count, num_frames, seed):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        np.save(folder / f"clip{index}.npy", rng.integers(
            0, 256, (num_frames, 16, 16, 3), dtype=np.uint8))


def test_a_folder_validates_on_its_validation_split(tmp_path, monkeypatch):
    # The split itself is the data loader's job (tests/data): train asks
    # the folder for its "validation" split, and validates only there.
    root = tmp_path / "clips"
    for split, seed in (("train", 0), ("validation", 1), ("test", 2)):
        _write_videos(root / split, 2, 6, seed)
    asked = []
    real_load = data.load

    def load(source, split, *args, **kwargs):
        asked.append(split)
        return real_load(source, split, *args, **kwargs)

    monkeypatch.setattr(commands.data, "load", load)
    out = tmp_path / "run"
    assert cli.main(TRAIN[:-2] + ["--data", str(root), "--steps", "2",
                                  "--validate-every", "1",
                                  "--validation-batches", "1",
                                  "--sample-every", "0",
                                  "--out", str(out)]) == 0
    assert sorted(set(asked)) == ["train", "validation"]
    settings = json.loads((out / "run.json").read_text())
    assert settings["validation_data"] == str(root)
    assert sorted(_validation_curve(out)) == [1, 2]
    assert settings["best"]["step"] in (1, 2)
    # Real footage trains on every symmetry of its windows by default
    # (square frames), and the choice is recorded.
    assert settings["augment"] == "mirror+reverse+rotate"


def test_generated_data_trains_unaugmented_by_default(trained_run):
    settings = json.loads((trained_run / "run.json").read_text())
    assert settings["data"] == "stochastic_movement"
    assert settings["augment"] == "none"


def test_a_batch_smaller_than_the_mixture_trains(tmp_path):
    # A top level of 8 components (as `small`'s); a batch of 1 video holds
    # 2 modelled frames, so the start gathers as many batches as it needs
    # (issue 21: a traceback from the components' start before).
    out = tmp_path / "batch1"
    assert cli.main(["train", "--preset", "tiny", "--set", "top_components=8",
                     "--batch-size", "1", "--steps", "1",
                     "--checkpoint-every", "1", "--sample-every", "0",
                     "--validation-data", "none", "--out", str(out)]) == 0
    model = keras.models.load_model(out / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 1
    top = model.dynamics.level_priors[-1]
    assert top.num_components == 8
    assert np.isfinite(model.bits_per_pixel(
        next(iter(data.stochastic_movement("test", resolution=16,
                                           num_frames=3, num_videos=2,
                                           batch_size=2)))).numpy()).all()
