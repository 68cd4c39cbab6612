"""The `videoflow` launcher hides TensorFlow's start-up lines."""

import subprocess
import sys


def test_an_error_is_the_only_line_on_stderr(tmp_path):
    # Without the launcher, importing TensorFlow alone prints several
    # oneDNN / CUDA / CPU-feature lines on this kind of machine.
    result = subprocess.run(
        [sys.executable, "-m", "videoflow", "export", "--model",
         str(tmp_path / "missing"), "--out", str(tmp_path / "saved")],
        capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"videoflow export: error: --model {tmp_path / 'missing'}: no such "
        "file or directory."], result.stderr
    assert not (tmp_path / "saved").exists()
