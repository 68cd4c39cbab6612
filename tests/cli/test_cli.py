"""The parser: help, choices from the tables, usage errors as one line."""

import subprocess
import sys

import pytest

from tfp_videoflow import cli, presets


def test_the_command_line_offers_every_preset(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--preset", "huge"])
    error = capsys.readouterr().err
    for name in presets.PRESETS:
        assert repr(name) in error


def test_a_usage_error_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["train", "--preset", "tiny", "--steps", "0", "--out",
                     str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("videoflow train: error: ")
    assert error.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_console_script_help():
    for module_args in (["-m", "tfp_videoflow", "--help"],
                        ["-m", "tfp_videoflow", "train", "--help"]):
        result = subprocess.run([sys.executable, *module_args],
                                capture_output=True, text=True, check=True)
        assert "usage: videoflow" in result.stdout
    assert "--resume" in result.stdout and "--checkpoint-every" in result.stdout
    # --set, with an example, and validation.
    assert "--set latent_skip=True num_context_frames=2" in " ".join(
        result.stdout.split())
    assert "--validation-data" in result.stdout
    assert "--validate-every" in result.stdout
