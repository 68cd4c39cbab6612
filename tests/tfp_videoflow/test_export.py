"""The serving SavedModel, loaded in a process that has only TensorFlow."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tfp_videoflow import cli, export

# Runs in a fresh interpreter: plain TensorFlow, no tfp_videoflow.
SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
path, data = sys.argv[1], np.load(sys.argv[2])
loaded = tf.saved_model.load(path)
sample = loaded.signatures["sample"]
def draw(seed):
    return sample(context=tf.constant(data["context"]),
                  num_samples=tf.constant(3), temperature=tf.constant(0.7),
                  seed=tf.constant(seed, tf.int32))["frames"].numpy()
first, again, other = draw([1, 2]), draw([1, 2]), draw([5, 6])
bits = loaded.signatures["bits_per_pixel"](
    context=tf.constant(data["context"]),
    target=tf.constant(data["target"]))["bits_per_pixel"].numpy()
np.savez(sys.argv[3], first=first, bits=bits)
print(json.dumps({
    "dtype": str(first.dtype), "shape": list(first.shape),
    "same_seed_same_frames": bool(np.array_equal(first, again)),
    "other_seed_differs": bool(not np.array_equal(first, other)),
    "imported": sorted(m for m in ("tfp_videoflow", "bijectors",
                                   "tensorflow_probability")
                       if m in sys.modules)}))
"""


def test_saved_model_serves_without_the_package(tiny_model, tiny_videos,
                                                tmp_path):
    path = tiny_model.export_serving(tmp_path / "serving")
    context, target = tiny_videos[:, :2], tiny_videos[:, 2:5]
    np.savez(tmp_path / "inputs.npz", context=context, target=target)
    result = subprocess.run(
        [sys.executable, "-c", SERVE, str(path), str(tmp_path / "inputs.npz"),
         str(tmp_path / "outputs.npz")], capture_output=True, text=True,
        check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["imported"] == []
    assert report["dtype"] == "uint8"
    assert report["shape"] == [3, len(context), 3, 8, 8, 3]
    assert report["same_seed_same_frames"] and report["other_seed_differs"]
    outputs = np.load(tmp_path / "outputs.npz")
    # The Keras model gives the same numbers.
    expected_bits = tiny_model.bits_per_pixel(
        tiny_videos[:, :5], seed=export.BITS_PER_PIXEL_SEED).numpy()
    np.testing.assert_allclose(outputs["bits"], expected_bits, rtol=1e-5)
    expected_frames = tiny_model.sample_future(
        context, num_samples=3, temperature=0.7, seed=(1, 2)).numpy()
    # Quantized samples: a value on a bin edge may round the other way.
    assert np.mean(outputs["first"] == expected_frames) > 0.999


def test_export_command_and_bad_input(tiny_model, tmp_path, capsys):
    tiny_model.compile(optimizer="adam")
    tiny_model.save(tmp_path / "model.keras")
    out = tmp_path / "serving"
    assert cli.main(["export", "--model", str(tmp_path / "model.keras"),
                     "--out", str(out)]) == 0
    assert (out / "saved_model.pb").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    capsys.readouterr()
    for argv, message in [
            (["--model", str(tmp_path / "missing"), "--out",
              str(tmp_path / "new")], "no such file or directory"),
            (["--model", str(tmp_path / "model.keras"), "--out", str(out)],
             "not an empty directory")]:
        assert cli.main(["export", *argv]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error
    assert not (tmp_path / "new").exists()


def test_export_refuses_a_used_directory(tiny_model, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(export.ExportError, match="not an empty directory"):
        export.export_saved_model(tiny_model, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
