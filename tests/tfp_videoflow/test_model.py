"""VideoFlowModel: Keras fit / evaluate / predict / save, and bad input."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import TINY, bin_values, moving_squares, perturb_weights
from tfp_videoflow import training

SEED = (4, 2)


def test_bits_per_pixel_is_the_distributions(tiny_model, tiny_videos):
    k, t = tiny_model.num_context_frames, tiny_model.num_target_frames
    bits = tiny_model.bits_per_pixel(tiny_videos, seed=SEED)
    # The whole window, context included, is dequantized with one draw.
    window = tiny_videos[:, :k + t]
    values = vf.dequantization.dequantize(
        window, 5, tf.random.stateless_uniform(window.shape, SEED))
    log_prob = tiny_model(values[:, :k]).log_prob(values[:, k:])
    np.testing.assert_allclose(
        bits, -log_prob / (np.log(2.0) * t * 8 * 8 * 3), rtol=1e-5)
    assert bits.shape == (len(tiny_videos),)
    # The model conditions on the discrete past: the context's bins.
    at_bin_centres = tiny_model(window[:, :k]).log_prob(values[:, k:])
    np.testing.assert_allclose(log_prob, at_bin_centres, rtol=1e-5)


def test_continuous_history_conditions_on_the_values(tiny_videos):
    model = vf.VideoFlowModel(**TINY, discrete_history=False)
    model.initialize(tiny_videos[:4])
    k = model.num_context_frames
    values = bin_values(tiny_videos[:, :k + 3], 5, seed=4)
    log_prob = model(values[:, :k]).log_prob(values[:, k:])
    at_bin_centres = model(tiny_videos[:, :k]).log_prob(values[:, k:])
    assert np.all(np.abs(log_prob - at_bin_centres) > 1e-3)


def test_fit_lowers_bits_per_pixel(tiny_videos):
    model = vf.VideoFlowModel(**TINY)
    videos = moving_squares(32, 6, 8, seed=5)
    model.initialize(videos[:16])
    before = float(np.mean(model.bits_per_pixel(tiny_videos, seed=SEED)))
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(videos, batch_size=8, epochs=6, verbose=0)
    after = float(np.mean(model.bits_per_pixel(tiny_videos, seed=SEED)))
    assert set(history.history) == {"loss", "bits_per_pixel"}
    assert after < before - 0.3, (before, after)
    result = model.evaluate(tf.data.Dataset.from_tensor_slices(
        tiny_videos).batch(3), return_dict=True, verbose=0)
    assert result["bits_per_pixel"] == pytest.approx(result["loss"])
    assert abs(result["bits_per_pixel"] - after) < 0.2


def test_fit_takes_random_windows_of_long_videos(monkeypatch):
    model = vf.VideoFlowModel(**{**TINY, "train_target_frames": 1})
    model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
    # Frame t of every video is t * 32 everywhere, so the first frame of a
    # window tells where it starts.
    videos = np.broadcast_to(
        (np.arange(8) * 32).astype(np.uint8)[None, :, None, None, None],
        (8, 8, 8, 8, 3)).copy()
    starts, dequantize = [], vf.dequantization.dequantize

    def spy(windows, *args, **kwargs):
        starts.extend(np.asarray(windows)[:, 0, 0, 0, 0] // 32)
        return dequantize(windows, *args, **kwargs)

    monkeypatch.setattr(vf.dequantization, "dequantize", spy)
    history = model.fit(videos, batch_size=4, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    # 6 possible starts (8 frames, windows of K + T_train = 3); 24 windows.
    assert len(starts) == 24 and set(starts) <= set(range(6))
    assert len(set(starts)) >= 4
    # Evaluation needs K + T frames; a 3-frame video is too short.
    with pytest.raises(ValueError, match="frames"):
        model.evaluate(moving_squares(2, 3, 8, seed=6), verbose=0)


def test_initialization_is_deterministic_under_a_seed(tiny_videos):
    def initialized(seed):
        model = vf.VideoFlowModel(**{**TINY, "seed": seed})
        model.initialize(tiny_videos)
        return [v.numpy() for v in model.weights]

    first, again, other = initialized(1), initialized(1), initialized(2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(a.shape == c.shape and not np.array_equal(a, c)
               for a, c in zip(first, other))


def test_the_first_score_initialises_an_uninitialised_model(tiny_videos):
    model = vf.VideoFlowModel(**TINY)
    flags = [layer.initialized for layer in model.flow_layer.actnorm_layers()]
    assert flags and not any(bool(f.numpy()) for f in flags)
    bits = model.bits_per_pixel(tiny_videos, seed=SEED)
    assert all(bool(f.numpy()) for f in flags)
    assert np.all(np.isfinite(bits))


def test_save_and_load_restore_the_same_log_prob(tiny_model, tiny_videos,
                                                 tmp_path):
    tiny_model.compile(optimizer=keras.optimizers.Adam(1e-3))
    tiny_model.fit(tiny_videos, batch_size=3, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    tiny_model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, vf.VideoFlowModel)
    assert loaded.get_config() == tiny_model.get_config()
    np.testing.assert_array_equal(loaded.bits_per_pixel(tiny_videos, SEED),
                                  tiny_model.bits_per_pixel(tiny_videos, SEED))
    assert int(loaded.optimizer.iterations) == 2
    # Weight checkpoints too.
    weights = tmp_path / "model.weights.h5"
    tiny_model.save_weights(weights)
    fresh = vf.VideoFlowModel(**TINY)
    fresh.load_weights(weights)
    np.testing.assert_array_equal(fresh.bits_per_pixel(tiny_videos, SEED),
                                  tiny_model.bits_per_pixel(tiny_videos, SEED))


def test_mixture_model_trains_and_reloads(
        tiny_videos, tmp_path):
    model = vf.VideoFlowModel(**TINY, top_components=3)
    model.initialize(tiny_videos[:4])
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(tiny_videos, batch_size=3, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "mixture.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.bits_per_pixel(tiny_videos, SEED),
                                  model.bits_per_pixel(tiny_videos, SEED))
    np.testing.assert_array_equal(
        loaded.sample_future(tiny_videos[:, :2], 2, seed=4),
        model.sample_future(tiny_videos[:, :2], 2, seed=4))


def test_a_model_with_the_paper_optimizer_loads_after_a_plain_import(
        tiny_model, tiny_videos, tmp_path):
    # The warm-up schedule is a registered custom class: a fresh process that
    # only runs `import tfp_videoflow` must still be able to load the model.
    tiny_model.compile(optimizer=training.paper_optimizer(1e-3, 10))
    tiny_model.fit(tiny_videos, batch_size=3, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    tiny_model.save(path)
    script = ("import sys, keras, tfp_videoflow\n"
              "m = keras.models.load_model(sys.argv[1])\n"
              "schedule = m.optimizer.get_config()['learning_rate']\n"
              "print(schedule['class_name'], int(m.optimizer.iterations))\n")
    result = subprocess.run([sys.executable, "-c", script, str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["LinearWarmUp", "2"]


def test_get_config_round_trips():
    model = vf.VideoFlowModel.from_preset("small", steps_per_level=1,
                                          coupling_width=8, prior_width=8)
    clone = vf.VideoFlowModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert len(clone.weights) == len(model.weights)


def test_predict_returns_uint8_futures(tiny_model, tiny_videos):
    context = tiny_videos[:3, :2]
    frames = tiny_model.predict(context, verbose=0)
    assert frames.dtype == np.uint8 and frames.shape == (3, 3, 8, 8, 3)
    # At 5 bits every value is a multiple of 8.
    assert np.all(frames % 8 == 0)
    futures = tiny_model.sample_future(context, num_samples=4, num_frames=5,
                                       temperature=0.7, seed=SEED)
    assert futures.shape == (4, 3, 5, 8, 8, 3)
    again = tiny_model.sample_future(context, num_samples=4, num_frames=5,
                                     temperature=0.7, seed=SEED)
    np.testing.assert_array_equal(futures, again)
    many = vf.VideoFlowModel(**{**TINY, "num_samples": 2})
    assert many.predict(context, verbose=0).shape == (3, 2, 3, 8, 8, 3)


@pytest.mark.parametrize("discrete_history", [True, False])
def test_sample_stream_gives_sample_futures_frames(discrete_history,
                                                   tiny_videos):
    model = vf.VideoFlowModel(**TINY, discrete_history=discrete_history,
                              top_components=3)
    model.initialize(tiny_videos[:4])
    perturb_weights(model.trainable_variables, seed=1, scale=0.02)
    context = tiny_videos[:3, :2]
    # More frames than the model's T (3): the window moves past the context.
    futures = model.sample_future(context, num_samples=2, num_frames=5,
                                  temperature=0.7, seed=SEED)
    stream = list(model.sample_stream(context, num_samples=2, num_frames=5,
                                      temperature=0.7, seed=SEED))
    assert len(stream) == 5
    for t, frame in enumerate(stream):
        assert frame.dtype == tf.uint8 and frame.shape == (2, 3, 8, 8, 3)
        np.testing.assert_array_equal(frame, futures[:, :, t])


def test_sample_stream_makes_frames_only_when_asked(tiny_model, tiny_videos):
    # A future of a billion frames: the first comes at once, and nothing is
    # made for the rest (an eager sample would never return).
    stream = tiny_model.sample_stream(tiny_videos[:2, :2], num_frames=10**9,
                                      seed=SEED)
    first = next(stream)
    np.testing.assert_array_equal(first, tiny_model.sample_future(
        tiny_videos[:2, :2], num_frames=1, seed=SEED)[:, :, 0])
    assert first.shape == (1, 2, 8, 8, 3)


def test_sample_stream_refuses_bad_arguments_when_called(tiny_model,
                                                         tiny_videos):
    # At the call, as sample_future does, not at the first frame asked for.
    with pytest.raises(ValueError, match="num_target_frames"):
        tiny_model.sample_stream(tiny_videos[:2, :2], num_frames=0)
    with pytest.raises(ValueError, match="temperature"):
        tiny_model.sample_stream(tiny_videos[:2, :2], temperature=-1.0)
    with pytest.raises(ValueError):
        tiny_model.sample_stream(tiny_videos[:2, :2, :4])  # 4x8 frames


def test_eager_sampling_traces_its_step_once_and_reuses_it(tiny_model,
                                                         tiny_videos):
    # Eagerly, each frame would dispatch thousands of ops from Python; the
    # frame step is compiled instead, and neither another temperature, seed
    # or number of frames nor a stream of the same shape traces it again.
    step = tiny_model.network.dynamics.compiled_sample_step
    context = tiny_videos[:3, :2]
    tiny_model.sample_future(context, num_samples=2, num_frames=3,
                             temperature=0.5, seed=SEED)
    traces = step.experimental_get_tracing_count()
    assert traces >= 1
    tiny_model.sample_future(context, num_samples=2, num_frames=4,
                             temperature=0.9, seed=(1, 1))
    list(tiny_model.sample_stream(context, num_samples=2, num_frames=2,
                                  seed=(2, 2)))
    assert step.experimental_get_tracing_count() == traces


@pytest.mark.parametrize("discrete_history", [True, False])
def test_the_compiled_frame_step_is_the_plain_one(discrete_history,
                                                  tiny_videos):
    model = vf.VideoFlowModel(**TINY, discrete_history=discrete_history)
    model.initialize(tiny_videos[:4])
    perturb_weights(model.trainable_variables, seed=1, scale=0.02)
    dist = model(tiny_videos[:3, :2])
    network = dist.distribution.network
    arguments = (
        model.flow, network.start_windows(dist.distribution.context_latents),
        tf.constant(1), tf.constant(SEED), tf.constant(0.8),
        model.num_bits if discrete_history else None,
        [None] * network.num_levels)
    plain = network.sample_step(*arguments)
    compiled = network.compiled_sample_step(*arguments)
    for got, want in zip(tf.nest.flatten(compiled), tf.nest.flatten(plain)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_xla_gives_the_eager_numbers(tiny_model, tiny_videos):
    # The target is fixed outside: stateless random ops may pick another
    # algorithm under XLA, so noise drawn inside would differ.
    context = tiny_videos[:, :2]
    target = bin_values(tiny_videos[:, 2:5], 5, seed=3)

    def densities(context, target):
        dist = tiny_model(context)
        return dist.log_prob(target), dist.distribution.log_prob(
            dist.bijector.inverse(target))

    eager = densities(context, target)
    compiled = tf.function(densities, jit_compile=True)(context,
                                                                  target)
    for a, b in zip(compiled, eager):
        np.testing.assert_allclose(a, b, rtol=1e-4)


def test_fit_with_jit_compile(tiny_videos):
    model = vf.VideoFlowModel(**{**TINY, "gradient_clip_norm": 1.0})
    model.initialize(tiny_videos)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    history = model.fit(tiny_videos, batch_size=3, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("videos, message", [
    (np.zeros((2, 6, 8, 8, 3), np.float32), "uint8"),
    (np.zeros((2, 6, 8, 8), np.uint8), "shape"),
    (np.zeros((2, 6, 16, 16, 3), np.uint8), "frames of shape"),
    (np.zeros((2, 4, 8, 8, 3), np.uint8), "frames"),
])
def test_bad_videos(tiny_model, videos, message):
    with pytest.raises(ValueError, match=message):
        tiny_model.bits_per_pixel(videos)
    tiny_model.compile(optimizer=keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match=message):
        tiny_model.fit(videos, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_context_frames=0), "num_context_frames"),
    (dict(num_bits=9), "num_bits"),
    (dict(temperature=0.0), "temperature"),
    (dict(dynamics="lstm"), "dynamics"),
    (dict(frame_shape=(10, 10, 3)), "divisible"),
])
def test_bad_model_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vf.VideoFlowModel(**{**TINY, **kwargs})


def test_conv3d_dynamics_beat_independent_frames():
    # Still textured backgrounds with a moving square: the past predicts
    # most of every frame, so the 3-D conv prior (which copies it through
    # the latent skip) must end clearly below per-frame Glow.
    videos = moving_squares(256, 5, 8, seed=11, textured=True)
    test = moving_squares(32, 5, 8, seed=12, textured=True)
    bits = {}
    for dynamics in ("conv3d", "none"):
        model = vf.VideoFlowModel(**{
            **TINY, "dynamics": dynamics, "train_target_frames": 1,
            "coupling_width": 16, "prior_width": 16, "latent_skip": True})
        model.initialize(videos[:32])
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(tf.data.Dataset.from_tensor_slices(videos).repeat().batch(
            16), steps_per_epoch=120, epochs=1, verbose=0)
        bits[dynamics] = float(np.mean(model.bits_per_pixel(test, SEED)))
    assert bits["conv3d"] < bits["none"] - 0.5, bits


@pytest.mark.parametrize("dynamics", ["conv3d", "pointwise", "none"])
def test_weight_paths_are_unique(dynamics):
    # Checkpoint readers and TensorBoard identify weights by their paths.
    model = vf.VideoFlowModel(**{**TINY, "dynamics": dynamics})
    paths = [v.path for v in model.weights]
    assert len(set(paths)) == len(paths)
