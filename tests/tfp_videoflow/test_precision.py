"""Mixed precision: 16-bit networks, float32 densities."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import TINY, bin_values, sublayers
from tfp_videoflow import cli
from tfp_videoflow import precision as precision_lib

SEED = (4, 2)


def _mixed_copy(model, precision):
    mixed = vf.VideoFlowModel(**{**TINY, "precision": precision})
    mixed.set_weights(model.get_weights())
    return mixed


def _compute_dtypes(model):
    return {layer.compute_dtype for layer in sublayers(model)
            if isinstance(layer, keras.layers.Conv2D | keras.layers.Conv3D)}


def test_bfloat16_bits_per_pixel_within_one_percent(tiny_model, tiny_videos):
    mixed = _mixed_copy(tiny_model, "mixed_bfloat16")
    # Every convolution (coupling and prior networks) computes in bfloat16.
    assert _compute_dtypes(mixed) == {"bfloat16"}
    assert _compute_dtypes(tiny_model) == {"float32"}
    exact = tiny_model.bits_per_pixel(tiny_videos, seed=SEED).numpy()
    approx = mixed.bits_per_pixel(tiny_videos, seed=SEED).numpy()
    assert approx.dtype == np.float32
    np.testing.assert_allclose(approx, exact, rtol=0.01)
    assert not np.array_equal(approx, exact)  # bfloat16 did compute


def test_bfloat16_flow_round_trip(tiny_model, tiny_videos):
    # frame -> latents -> frame stays within 1e-3 bins under bfloat16
    # (measured: ~5e-5 bins; float32: ~5e-6), because the coupling inverts
    # with the same 16-bit network output it was computed with.
    frames = bin_values(tiny_videos[:, 0], 5, seed=7)
    errors = {}
    for name, model in (("float32", tiny_model),
                        ("bfloat16", _mixed_copy(tiny_model,
                                                 "mixed_bfloat16"))):
        latents, _ = model.flow.inverse_and_log_det(frames)
        assert all(z.dtype == tf.float32 for z in latents)
        errors[name] = float(tf.reduce_max(tf.abs(
            model.flow.forward(latents) - frames)))
    assert errors["bfloat16"] < 1e-3, errors
    assert errors["float32"] < 1e-4, errors


def test_float16_step_unscales_and_reloads(tiny_model, tiny_videos, tmp_path):
    # One clipped SGD step in float16 with loss scaling moves the weights as
    # the float32 step does: the loss is scaled, the gradients unscaled, and
    # the clip norm applies to the unscaled gradient.
    settings = {**TINY, "gradient_clip_norm": 0.5}
    moved = {}
    for precision in ("float32", "mixed_float16"):
        model = vf.VideoFlowModel(**settings, precision=precision)
        model.set_weights(tiny_model.get_weights())
        optimizer = keras.optimizers.SGD(0.05)
        if precision == "mixed_float16":
            # A modest scale: 2**15 (the default) overflows on the first step.
            optimizer = keras.optimizers.LossScaleOptimizer(
                optimizer, initial_scale=2.0 ** 8)
        model.compile(optimizer=optimizer)
        before = [v.numpy() for v in model.trainable_variables]
        # (One step: float16 convolutions are slow on CPUs.)
        model.fit(tiny_videos[:3], batch_size=3, epochs=1, shuffle=False,
                  verbose=0)
        moved[precision] = np.concatenate([
            (v.numpy() - b).ravel()
            for v, b in zip(model.trainable_variables, before)])
    assert int(model.optimizer.iterations) == 1  # the step was not skipped
    exact, approx = moved["float32"], moved["mixed_float16"]
    assert np.linalg.norm(exact) == pytest.approx(0.05 * 0.5, rel=1e-3)
    assert np.linalg.norm(approx - exact) < 0.05 * np.linalg.norm(exact)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.get_config()["precision"] == "mixed_float16"
    assert _compute_dtypes(loaded) == {"float16"}
    assert isinstance(loaded.optimizer, keras.optimizers.LossScaleOptimizer)
    assert float(loaded.optimizer.dynamic_scale.numpy()) == 2.0 ** 8


def test_float16_compile_adds_loss_scaling():
    model = vf.VideoFlowModel(**{**TINY, "precision": "mixed_float16"})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_unknown_precision():
    with pytest.raises(ValueError, match="precision must be one of"):
        vf.VideoFlowModel(**{**TINY, "precision": "int8"})


def test_train_command_precision_progress_and_sample_grid(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--preset", "tiny", "--batch-size", "2",
                     "--steps", "2", "--sample-every", "2", "--precision",
                     "mixed_bfloat16", "--validation-data", "none",
                     "--out", str(out)]) == 0
    model = keras.models.load_model(out / "model.keras")
    assert model.get_config()["precision"] == "mixed_bfloat16"
    assert _compute_dtypes(model) == {"bfloat16"}
    printed = capsys.readouterr().out
    assert "step 2/2" in printed and "steps/s" in printed
    assert "time left 0:00:00" in printed
    # TensorBoard: the bits-per-pixel curve and, at step 2, a sample grid.
    tags = {}
    for path in (out / "logs").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    assert tags["bits_per_pixel"] == [1, 2]
    assert tags["sampled_futures"] == [2]


@pytest.mark.parametrize("flags, native", [
    ("fpu sse avx512f avx512_bf16", True),
    ("fpu sse amx_tile amx_bf16", True),
    ("fpu sse avx2 avx512f", False)])
def test_auto_precision_is_bfloat16_where_the_cpu_has_it(tmp_path, flags,
                                                         native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\n")
    assert precision_lib.native_bfloat16(cpuinfo) == native
    assert not precision_lib.native_bfloat16(tmp_path / "missing")


def test_auto_precision_builds_the_resolved_policy_and_keeps_auto():
    model = vf.VideoFlowModel(**{**TINY, "precision": "auto"})
    expected = precision_lib.resolve("auto")
    assert expected in ("mixed_bfloat16", "float32")
    assert _compute_dtypes(model) == {
        "bfloat16" if expected == "mixed_bfloat16" else "float32"}
    # The config keeps "auto": a machine that loads the model chooses anew.
    assert model.get_config()["precision"] == "auto"
    assert vf.presets.PRESETS["small"]["precision"] == "auto"
