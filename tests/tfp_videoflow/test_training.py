"""The warm-up schedule and run helpers of `tfp_videoflow.training`."""

import keras
import numpy as np
import pytest

import tfp_videoflow as vf
from tests.helpers import TINY, moving_squares
from tfp_videoflow import training


def test_linear_warm_up_rises_to_its_peak_and_stays():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10)
    # Step n is the (n+1)-th update: the first one already moves the weights,
    # the 10th reaches the peak.
    rates = [float(schedule(step)) for step in (0, 4, 9, 100)]
    np.testing.assert_allclose(rates, [1e-4, 5e-4, 1e-3, 1e-3], rtol=1e-6)


def test_component_restarts_during_fit():
    videos = moving_squares(8, 5, 8, seed=4)
    model = vf.VideoFlowModel(**TINY, top_components=4)
    model.initialize(videos)
    prior = model.dynamics.level_priors[-1]
    # One component takes every future, as after a collapse in training.
    prior.logits_out.bias.assign([8.0, 0.0, 0.0, 0.0])
    offsets = prior.component_offsets.numpy()
    model.compile(optimizer=keras.optimizers.SGD(1e-6))
    restarts = training.ComponentRestarts(videos, every=2)
    model.fit(videos, batch_size=4, epochs=1, shuffle=False, verbose=0,
              callbacks=[restarts])
    # Two steps: one restart, at step 2, of the starved components.
    assert [step for step, _ in restarts.restarts] == [2]
    restarted = restarts.restarts[0][1]
    assert 0 not in restarted and restarted
    moved = np.abs(prior.component_offsets.numpy() - offsets).max(
        axis=(1, 2, 3))
    assert all(moved[c] > 1e-3 for c in restarted)
    # The restarted components copy the mixture weight of a used one.
    bias = prior.logits_out.bias.numpy()
    kept = [c for c in range(4) if c not in restarted]
    assert all(np.isclose(bias[c], bias[kept]).any() for c in restarted)
    with pytest.raises(ValueError, match="every"):
        training.ComponentRestarts(videos, every=0)
