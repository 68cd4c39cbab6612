"""Every failure leaves the model usable and says what is wrong; sizes of
zero, non-finite settings, values outside the bins; TFP slicing and copy."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import TINY, bin_values


def _weights(model):
    return [v.numpy().copy() for v in model.weights]


def test_a_failed_call_leaves_the_model_as_it_was(tiny_videos):
    # (One flow step per level: this test traces the training step twice.)
    model = vf.VideoFlowModel(**{**TINY, "steps_per_level": 1})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match="uint8"):
        model.fit(tiny_videos / 255.0, batch_size=3, verbose=0)
    # The next valid call works.
    history = model.fit(tiny_videos, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    before = _weights(model)
    with pytest.raises(ValueError, match="initialize: needs at least one"):
        model.initialize(tiny_videos[:0])
    for a, b in zip(before, _weights(model), strict=True):
        np.testing.assert_array_equal(a, b)
    # Shapes Keras has not seen: checked at run time, then fine again.
    with pytest.raises(tf.errors.InvalidArgumentError, match="frames needed"):
        model.fit(tiny_videos[:, :3], batch_size=3, verbose=0)
    assert np.isfinite(model.fit(tiny_videos, batch_size=3,
                                 verbose=0).history["loss"][0])


def test_empty_inputs_and_zero_samples(tiny_model, tiny_videos):
    k = tiny_model.num_context_frames
    dist = tiny_model(tiny_videos[:2, :k])
    assert dist.sample(0, seed=1).shape == (0, 2, 3, 8, 8, 3)
    assert dist.log_prob(np.zeros((0, 2, 3, 8, 8, 3), np.float32)).shape == (
        0, 2)
    empty = tiny_model(tiny_videos[:0, :k])
    assert empty.batch_shape == (0,)
    assert empty.sample(2, seed=1).shape == (2, 0, 3, 8, 8, 3)
    assert empty.log_prob(np.zeros((0, 3, 8, 8, 3), np.float32)).shape == (0,)
    assert tiny_model.bits_per_pixel(tiny_videos[:0]).shape == (0,)
    futures = tiny_model.sample_future(tiny_videos[:2, :k], num_samples=0)
    assert futures.shape == (0, 2, 3, 8, 8, 3)
    for data, call in ((tiny_videos[:0], tiny_model.fit),
                       (tiny_videos[:0], tiny_model.evaluate),
                       (tiny_videos[:0, :k], tiny_model.predict)):
        with pytest.raises(ValueError, match="no (videos|contexts)"):
            call(data, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_frames=0), "num_target_frames must be an integer >= 1, got 0"),
    (dict(num_frames=2.5), "num_target_frames must be an integer >= 1"),
    (dict(num_samples=-1), "must not be negative"),
    (dict(temperature=float("inf")), "temperature must be finite"),
    (dict(temperature=float("nan")), "temperature must be finite"),
    (dict(temperature=0.0), "temperature must be finite and > 0"),
])
def test_bad_sampling_settings(tiny_model, tiny_videos, kwargs, message):
    context = tiny_videos[:1, :tiny_model.num_context_frames]
    with pytest.raises(ValueError, match=message):
        tiny_model.sample_future(context, **kwargs)


@pytest.mark.parametrize("setting, message", [
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(num_bits=5.5), "num_bits must be between 1 and 8"),
    (dict(num_bits=float("nan")), "num_bits must be between 1 and 8"),
    (dict(train_target_frames=0), "train_target_frames must be >= 1"),
    (dict(gradient_clip_norm=float("nan")), "gradient_clip_norm must be"),
    (dict(gradient_clip_norm=-1.0), "gradient_clip_norm must be"),
    (dict(temperature=float("inf")), "temperature must be finite"),
    (dict(coupling_width=0), "coupling_width must be >= 1"),
])
def test_bad_model_settings(setting, message):
    with pytest.raises(ValueError, match=message):
        vf.VideoFlowModel(**{**TINY, **setting})


def test_float_values_outside_the_bins_are_refused(tiny_model, tiny_videos):
    k = tiny_model.num_context_frames
    pixels = tiny_videos[:2, :k + 3].astype(np.float32)  # 0..255, 5 bits
    # The context comes from the user: always checked.
    with pytest.raises(ValueError, match=r"in \[0, 32\] for a 5-bit model"
                                         r".*; got values in \[0, 255\]"):
        tiny_model(pixels[:, :k])
    # Frames given to log_prob: checked under validate_args=True, from the
    # model's argument or from copy(validate_args=True).
    dist = tiny_model(tiny_videos[:2, :k])
    strict = tiny_model(tiny_videos[:2, :k], validate_args=True)
    for checked in (strict, dist.copy(validate_args=True), strict[0:2]):
        assert checked.validate_args
        with pytest.raises(ValueError, match=r"log_prob: .*\[0, 32\].*255"):
            checked.log_prob(pixels[:, k:])
    with pytest.raises(ValueError, match=r"got values in \[-0\.4"):
        strict.log_prob(bin_values(tiny_videos[:2, k:k + 3], 5, 0) - 0.5)
    # Inside a graph the same check runs when the graph does.
    log_prob = tf.function(lambda x: strict.log_prob(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="above 32"):
        log_prob(pixels[:, k:])
    # By default (TFP's convention) any finite values are scored: the
    # density is defined everywhere.
    assert not dist.validate_args
    assert np.all(np.isfinite(dist.log_prob(pixels[:, k:])))
    np.testing.assert_array_equal(dist.log_prob(pixels[:, k:]),
                                  dist.copy().log_prob(pixels[:, k:]))
    # The context's opt-out.
    unchecked = tiny_model(pixels[:, :k] / 8.0 + 40.0, check_range=False)
    assert np.all(np.isfinite(unchecked.log_prob(pixels[:, k:])))


def test_batch_slicing_copy_and_event_space(tiny_model, tiny_videos):
    k = tiny_model.num_context_frames
    dist = tiny_model(tiny_videos[:4, :k])
    target = bin_values(tiny_videos[:4, k:k + 3], 5, seed=0)
    log_prob = dist.log_prob(target)
    sliced = dist[1:3]
    assert sliced.batch_shape == (2,)
    np.testing.assert_allclose(sliced.log_prob(target[1:3]), log_prob[1:3],
                               rtol=1e-6)
    assert dist[2].batch_shape == ()
    np.testing.assert_allclose(dist[2].log_prob(target[2]), log_prob[2],
                               rtol=1e-6)
    copy = dist.copy()
    assert copy.bijector is dist.bijector
    np.testing.assert_allclose(copy.log_prob(target), log_prob, rtol=1e-6)
    assert dist.distribution[1:3].batch_shape == (2,)
    bijector = dist.experimental_default_event_space_bijector()
    np.testing.assert_array_equal(bijector.forward(target), target)
    assert dist.distribution.experimental_default_event_space_bijector() \
        is not None


def test_a_fit_that_diverges_stops_at_once_and_names_the_step(tiny_videos):
    model = vf.VideoFlowModel(**TINY)
    model.compile(optimizer=keras.optimizers.Adam(1e30))
    with pytest.raises(FloatingPointError, match=r"diverged at step \d+"):
        model.fit(tiny_videos, batch_size=2, epochs=5, verbose=0)
    # Stopped at the first non-finite step, not after 5 epochs of 3 steps.
    assert int(model.optimizer.iterations) < 6
    # With a guard of their own, callers decide what to do.
    model = vf.VideoFlowModel(**TINY)
    model.compile(optimizer=keras.optimizers.Adam(1e30))
    guard = vf.training.NonFiniteGuard()
    model.fit(tiny_videos, batch_size=2, epochs=5, verbose=0,
              callbacks=[guard])
    assert guard.failure and int(model.optimizer.iterations) < 6


@pytest.mark.parametrize("arguments, reason", [
    (dict(channels=1), r"VideoFlow context: expected event shape \(H, W, C\) "
                       r"= \(8, 8, 3\), got \(8, 8, 1\)"),
    (dict(temperature=-1.0), r"temperature must be finite and > 0, got -1"),
    (dict(num_target_frames=0), r"num_target_frames must be an integer >= 1"),
    (dict(dtype=np.int32), r"context must be uint8 pixels or floats"),
    (dict(dtype=np.float32, scale=255.0), r"VideoFlow context: expected "
                                         r"values in bin units, in \[0, 32\]"),
    (dict(frames=0), r"at least one context frame is needed"),
])
def test_a_bad_argument_to_the_model_is_the_first_line(
        tiny_model, tiny_videos, arguments, reason):
    # Keras rewraps what `call` raises under its own first line; the model
    # checks its arguments before that.
    arguments = dict(arguments)
    context = tiny_videos[:2, :arguments.pop("frames", 2),
                          ..., :arguments.pop("channels", 3)]
    if "dtype" in arguments:
        context = (context * arguments.pop("scale", 1 / 8)).astype(
            arguments.pop("dtype"))
    with pytest.raises(ValueError) as raised:
        tiny_model(context, **arguments)
    first_line = str(raised.value).splitlines()[0]
    assert re.search(reason, first_line), first_line
    if "temperature" in arguments:
        with pytest.raises(ValueError) as raised:
            tiny_model.sample_future(context, **arguments)
        assert re.search(reason, str(raised.value).splitlines()[0])
