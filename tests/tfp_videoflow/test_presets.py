"""Presets: every one builds a model of its settings; overrides."""

import pytest

import tfp_videoflow as vf
from tfp_videoflow import presets


@pytest.mark.parametrize("name", ["small", "real", "tiny"])
def test_cpu_presets_build_models_of_their_settings(name):
    model = vf.VideoFlowModel.from_preset(name, seed=4)
    config = model.get_config()
    for key, value in presets.PRESETS[name].items():
        assert config[key] == (tuple(value) if isinstance(value, list)
                               else value), key
    assert config["seed"] == 4


def test_overrides_win_and_unknown_names_are_errors():
    assert presets.preset("small", num_bits=8)["num_bits"] == 8
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        presets.preset("huge")
