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
