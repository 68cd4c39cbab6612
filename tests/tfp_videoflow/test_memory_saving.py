"""VideoFlowModel(memory_saving=True): the plain training step, saved too."""

import keras
import numpy as np
import pytest

import tfp_videoflow as vf
from tests.helpers import TINY


def _fit_one_step(model, videos):
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(videos, batch_size=len(videos), epochs=1,
                        shuffle=False, verbose=0)
    return history.history["loss"][-1], [w.numpy() for w in model.weights]


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_fit_step_equals_the_plain_one(tiny_model, tiny_videos, precision):
    results = []
    for memory_saving in (False, True):
        model = vf.VideoFlowModel(**TINY, precision=precision,
                                  memory_saving=memory_saving)
        model.set_weights(tiny_model.get_weights())  # initialised, moved
        assert model.flow_layer.memory_saving is memory_saving
        results.append(_fit_one_step(model, tiny_videos[:4]))
    (loss_plain, plain), (loss_saving, saving) = results
    assert loss_saving == pytest.approx(loss_plain, rel=1e-6)
    moved = max(np.max(np.abs(a - b)) for a, b in zip(
        plain, tiny_model.get_weights()) if a.dtype.kind == "f")
    assert moved > 1e-4  # the step changed the weights
    for a, b in zip(plain, saving):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_saved_and_loaded(tiny_model, tmp_path):
    model = vf.VideoFlowModel(**TINY, memory_saving=True)
    model.set_weights(tiny_model.get_weights())
    path = tmp_path / "saving.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config()["memory_saving"] is True
    assert loaded.flow_layer.memory_saving is True
