"""The warm-up schedule, weight averages and run helpers of
`tfp_videoflow.training`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_videoflow as vf
from tests.helpers import TINY, moving_squares
from tfp_videoflow import training


def test_linear_warm_up_rises_to_its_peak_and_stays():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10)
    # Step n is the (n+1)-th update: the first one already moves the weights,
    # the 10th reaches the peak.
    rates = [float(schedule(step)) for step in (0, 4, 9, 100)]
    np.testing.assert_allclose(rates, [1e-4, 5e-4, 1e-3, 1e-3], rtol=1e-6)


def test_cosine_decay_falls_from_the_peak_to_zero_at_decay_steps():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10,
                                     decay_steps=110)
    rates = [float(schedule(step)) for step in (0, 9, 10, 60, 110, 500)]
    # Rising as before, then half of the peak half-way, 0 at the end.
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-3, 5e-4, 0.0, 0.0],
                               rtol=1e-6, atol=1e-12)
    assert training.LinearWarmUp.from_config(
        schedule.get_config()).decay_steps == 110


def test_cosine_decay_must_end_after_the_warm_up():
    with pytest.raises(ValueError, match="decay_steps"):
        training.LinearWarmUp(peak=1e-3, warmup_steps=10, decay_steps=10)


def _trained(ema_momentum, fits, steps, videos):
    """A tiny model after `fits` fits of `steps` steps each, and the trained
    weights after every step."""
    model = vf.VideoFlowModel(**TINY)
    model.initialize(videos)
    model.compile(optimizer=training.paper_optimizer(
        1e-2, 1, ema_momentum=ema_momentum))
    after_each_step = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: after_each_step.append(
            [w.numpy() for w in model.trainable_weights]))
    data = tf.data.Dataset.from_tensors(videos).repeat()
    for _ in range(fits):
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0,
                  callbacks=[record, training.KeepTrainedWeights()])
    return model, after_each_step


def test_weight_averages_follow_the_trained_weights_and_change_none():
    videos = moving_squares(4, 5, 8, seed=0)
    plain, _ = _trained(None, fits=2, steps=2, videos=videos)
    averaging, after_each_step = _trained(0.5, fits=2, steps=2, videos=videos)
    # The averages are only read: both train the same weights, also across
    # fits (KeepTrainedWeights), and measuring the averages changes nothing.
    state = [v.numpy() for v in averaging.optimizer.variables]
    with training.averaged_weights(averaging):
        averaged = [w.numpy() for w in averaging.trainable_weights]
    for a, b in zip(averaging.trainable_weights, plain.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Nor the averages themselves, to the last bit (Keras' in-place swap
    # alone would round them).
    for v, before in zip(averaging.optimizer.variables, state, strict=True):
        np.testing.assert_array_equal(v.numpy(), before)
    # average_1 = weights_1, average_k = m average_(k-1) + (1 - m) weights_k.
    expected = after_each_step[0]
    for weights in after_each_step[1:]:
        expected = [0.5 * e + 0.5 * w for e, w in zip(expected, weights)]
    moved = 0.0
    for e, a, w in zip(expected, averaged, after_each_step[-1]):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
        moved = max(moved, float(np.abs(a - w).max()))
    assert moved > 1e-4  # the averages are not the last weights


def test_without_averages_averaged_weights_are_the_weights():
    videos = moving_squares(4, 5, 8, seed=0)
    model, after_each_step = _trained(None, fits=1, steps=1, videos=videos)
    assert not training.has_weight_averages(model)
    with training.averaged_weights(model):
        for w, trained in zip(model.trainable_weights, after_each_step[-1]):
            np.testing.assert_array_equal(w.numpy(), trained)


def test_dead_components_are_split_off_the_busiest_during_fit():
    model = vf.VideoFlowModel(**{**TINY, "top_components": 4})
    videos = moving_squares(8, 5, 8, seed=4)
    model.initialize(videos)
    model.compile(optimizer=training.paper_optimizer(1e-3, 1))
    prior = model.dynamics.level_priors[-1]
    # Two components dead: their logits far below the others'.
    prior.logits_out.bias.assign([0.0, 1.0, -30.0, -30.0])
    shares = np.mean(vf.diagnostics.component_shares(model, videos), axis=0)
    np.testing.assert_allclose(shares.sum(), 1.0, rtol=1e-5)
    assert shares[2] < 1e-6 and shares[3] < 1e-6
    splits = training.SplitCollapsedComponents(videos, every=2, until=2,
                                               seed=5)
    model.fit(tf.data.Dataset.from_tensor_slices(videos).batch(4).repeat(),
              steps_per_epoch=3, epochs=1, verbose=0, callbacks=[splits])
    # At step 2 (only), each dead one became a copy of the busiest then.
    assert [step for step, _, _ in splits.splits] == [2, 2]
    assert sorted(target for _, _, target in splits.splits) == [2, 3]
    after = np.mean(vf.diagnostics.component_shares(model, videos), axis=0)
    assert after.min() > 0.05, after
    assert np.isfinite(model.evaluate(videos, verbose=0, return_dict=True)[
        "bits_per_pixel"])


@pytest.mark.parametrize("setting", [dict(every=0), dict(until=-1),
                                     dict(noise=-0.1), dict(min_share=1.0),
                                     dict(every=float("nan"))])
def test_component_splits_refuse_settings_that_cannot_work(setting):
    with pytest.raises(ValueError, match="SplitCollapsedComponents: needs "
                                         "every >= 1"):
        training.SplitCollapsedComponents(moving_squares(2, 5, 8, seed=0),
                                          **setting)


class _Clock:
    """A clock that advances one second each time it is read."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_time_limit_stops_fit_and_counts_over_fits():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((64, 1), np.float32)
    limit = training.TimeLimit(4.0, clock=_Clock())
    history = model.fit(x, x, batch_size=1, epochs=1, verbose=0,
                        callbacks=[limit])
    # Read at the fit's start, then after each step (1 s, 2 s, 3 s, 4 s:
    # stopped), and at its end (5 s).
    assert limit.stopped and int(model.optimizer.iterations) == 4
    assert limit.elapsed == 5.0 and len(history.history["loss"]) == 1
    # A second fit goes on counting from 5 s: raised to 10, 5 steps more.
    limit.seconds = 10.0
    model.fit(x, x, batch_size=1, epochs=1, verbose=0, callbacks=[limit])
    assert limit.stopped and int(model.optimizer.iterations) == 9
    # Without reaching it, fit runs to its end.
    limit.seconds = 1000.0
    model.fit(x[:8], x[:8], batch_size=1, epochs=1, verbose=0,
              callbacks=[limit])
    assert not limit.stopped and int(model.optimizer.iterations) == 17


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan")])
def test_time_limit_must_be_positive(seconds):
    with pytest.raises(ValueError, match="seconds must be positive"):
        training.TimeLimit(seconds)
