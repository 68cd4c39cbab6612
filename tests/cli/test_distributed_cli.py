"""`videoflow train --distribute multi-worker` with two local workers,
and the command line's answers to bad distribution settings."""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys

import keras
import pytest

from tfp_videoflow import cli, training

TRAIN = ["train", "--preset", "tiny", "--batch-size", "2", "--steps", "3",
         "--checkpoint-every", "2", "--learning-rate", "3e-3",
         "--warmup-steps", "2", "--sample-every", "2",
         "--validation-data", "none"]


def _free_ports(count):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def test_two_workers_end_with_the_same_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    try:
        for index in range(2):
            env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1",
                   "TF_NUM_INTEROP_THREADS": "1", "TF_CONFIG": json.dumps(
                       {"cluster": {"worker": workers},
                        "task": {"type": "worker", "index": index}})}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "videoflow", *TRAIN, "--distribute",
                 "multi-worker", "--out", str(tmp_path / f"worker{index}")],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True))
        outputs = [p.communicate(timeout=150) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    fingerprints = [re.findall(r"final weights fingerprint (\w+)", out)
                    for out, _ in outputs]
    assert fingerprints[0] and fingerprints[0] == fingerprints[1]
    assert "2 replica(s)" in outputs[0][0]
    # Only the chief (worker 0) wrote anything: run.json, a checkpoint,
    # TensorBoard logs (curves and sample grids) and the final model.
    chief = tmp_path / "worker0"
    assert (chief / "checkpoints" / "latest.keras").is_file()
    assert any((chief / "logs").iterdir())
    assert not (tmp_path / "worker1").exists()
    model = keras.models.load_model(chief / "model.keras")
    assert training.fingerprint(model) == fingerprints[0][0]
    # The seed counter counts the global steps: initialize, then windows
    # and noise per step.
    assert int(model.random_draws.numpy()) == 1 + 2 * 3
    assert int(model.optimizer.iterations) == 3


@pytest.mark.parametrize("argv, tf_config, message", [
    (TRAIN + ["--distribute", "horovod"], None, "choose one of none"),
    (TRAIN + ["--distribute", "multi-worker"], "{'cluster': []}",
     "TF_CONFIG is not valid JSON"),
    (TRAIN + ["--distribute", "multi-worker"],
     '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", '
     '"index": 3}}', "out of range"),
])
def test_bad_distribution_settings(argv, tf_config, message, tmp_path,
                                   monkeypatch, capsys):
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    out = tmp_path / "run"
    assert cli.main(argv + ["--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1, error
    assert not out.exists()
