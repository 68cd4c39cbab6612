"""The warm-up schedule and run helpers of `tfp_videoflow.training`."""

import numpy as np

from tfp_videoflow import training


def test_linear_warm_up_rises_to_its_peak_and_stays():
    schedule = training.LinearWarmUp(peak=1e-3, warmup_steps=10)
    # Step n is the (n+1)-th update: the first one already moves the weights,
    # the 10th reaches the peak.
    rates = [float(schedule(step)) for step in (0, 4, 9, 100)]
    np.testing.assert_allclose(rates, [1e-4, 5e-4, 1e-3, 1e-3], rtol=1e-6)
