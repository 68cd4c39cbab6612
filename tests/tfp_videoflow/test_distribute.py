"""Training on 2 replicas (MirroredStrategy over 2 logical CPU devices).

The devices must be configured before TensorFlow runs an op, so the
training happens in a fresh process (two_replicas.py) that reports back.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tfp_videoflow import distribute

SCRIPT = pathlib.Path(__file__).with_name("two_replicas.py")


@pytest.fixture(scope="module")
def report():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(SCRIPT)], env=env,
                            capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(out for out in result.stdout.splitlines()
                if out.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


def test_two_replicas_take_the_one_device_step(report):
    # Global batch 4 as 2 x 2 gives the weights of batch 4 on one device:
    # the loss is scaled per replica, the windows and noise are the global
    # batch's rows, and the gradient is clipped after the replicas' sum.
    clipped = report["clipped"]
    assert clipped["max_weight_difference"] < 1e-6, clipped
    one, two = clipped["moved"]
    assert two == pytest.approx(one, rel=1e-5)
    # The clip binds: SGD at 0.05 with norm 0.5 moves the weights 0.025.
    assert one == pytest.approx(0.025, rel=1e-3)
    assert clipped["loss"][0] == pytest.approx(clipped["loss"][1], rel=1e-6)
    assert clipped["draws"] == [3, 3]  # initialize, then windows and noise


def test_first_step_initializes_actnorm_from_the_global_batch(report):
    lazy = report["lazy_init"]
    # Same weights on both replicas, and the same as initialising on one
    # device from the global batch, after two (unclipped) steps.
    assert lazy["diverged"] == []
    assert lazy["max_weight_difference"] < 1e-6, lazy
    assert lazy["draws"] == [5, 5]


def test_memory_saving_takes_the_plain_step_on_two_replicas(report):
    saving = report["memory_saving"]
    assert saving["diverged"] == []
    assert saving["max_weight_difference"] < 1e-6, saving
    assert saving["moved"][1] == pytest.approx(saving["moved"][0], rel=1e-5)
    assert saving["loss"][1] == pytest.approx(saving["loss"][0], rel=1e-6)


@pytest.mark.parametrize("config, message", [
    (None, "needs the TF_CONFIG"),
    ("{not json", "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', '"cluster"'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", '
     '"index": 0}}', "host:port"),
    ('{"cluster": {"worker": ["a:1"]}}', '"task"'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
     "not in the cluster"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", '
     '"index": 1}}', "out of range"),
])
def test_malformed_tf_config(config, message):
    environ = {} if config is None else {"TF_CONFIG": config}
    with pytest.raises(distribute.DistributeError, match=message):
        distribute.strategy("multi-worker", environ)


def test_unknown_strategy():
    with pytest.raises(distribute.DistributeError, match="choose one of"):
        distribute.strategy("horovod")
    assert distribute.strategy("none") is None
