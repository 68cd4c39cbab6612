"""Fixtures of the VideoFlow tests (helpers live in tests/helpers.py)."""

import pytest

import tfp_videoflow as vf
from tests.helpers import TINY, moving_squares, perturb_weights


@pytest.fixture
def tiny_model():
    """A tiny VideoFlowModel, ActNorm-initialised, weights off identity."""
    model = vf.VideoFlowModel(**TINY)
    model.initialize(moving_squares(4, 5, 8, seed=0))
    perturb_weights(model.trainable_variables, seed=1, scale=0.02)
    return model


@pytest.fixture
def tiny_videos():
    return moving_squares(6, 6, 8, seed=2)
