"""The model's settings: checked, documented, and saved models' retired ones."""

import re

import pytest

import tfp_videoflow as vf
from tfp_videoflow import presets, settings


def test_every_setting_of_the_presets_is_documented():
    for name in set().union(*presets.PRESETS.values()):
        assert re.search(rf"^  (\w+, )*{name}\b", settings.ARGS,
                         re.MULTILINE), name
    assert settings.ARGS.strip() in vf.VideoFlowModel.__doc__.replace(
        "\n    ", "\n")


def test_a_saved_config_with_retired_settings_at_their_built_values_loads():
    config = vf.VideoFlowModel.from_preset("tiny", top_components=3).get_config()
    assert not set(settings.RETIRED) & set(config)
    again = vf.VideoFlowModel.from_config(
        {**config, "component_codes": True, "shared_component_scales": False})
    assert again.get_config() == config


@pytest.mark.parametrize("retired", [{"component_codes": False},
                                     {"shared_component_scales": True}])
def test_a_mixture_saved_with_a_retired_design_is_refused_by_name(retired):
    config = vf.VideoFlowModel.from_preset("tiny", top_components=3).get_config()
    (name, value), = retired.items()
    with pytest.raises(ValueError, match=f"saved with {name}={value}: a "
                                         "mixture that this version no "
                                         "longer builds"):
        vf.VideoFlowModel.from_config({**config, **retired})
    # Without a mixture the setting never mattered.
    single = {**config, "top_components": 1, **retired}
    assert vf.VideoFlowModel.from_config(single).get_config()[
        "top_components"] == 1


def test_the_top_level_prior_takes_its_own_width_and_depth():
    model = vf.VideoFlowModel.from_preset("tiny", top_components=3,
                                          top_prior_width=24,
                                          top_prior_depth=3)
    *finer, top = model.dynamics.level_priors
    assert (top.width, top.depth, len(top.blocks)) == (24, 3, 3)
    assert top.codes.shape == (3, 24)
    assert all((p.width, p.depth) == (16, 1) for p in finer)
    config = model.get_config()
    assert (config["top_prior_width"], config["top_prior_depth"]) == (24, 3)
    again = vf.VideoFlowModel.from_config(config)
    assert again.dynamics.level_priors[-1].width == 24
    # None (the default, and what models saved before hold): as the others.
    plain = vf.VideoFlowModel.from_preset("tiny")
    assert {(p.width, p.depth) for p in plain.dynamics.level_priors} == {
        (16, 1)}
