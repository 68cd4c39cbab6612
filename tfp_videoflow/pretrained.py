"""Trained models shipped with the package, loaded by name.

    model = vf.pretrained("small_stochastic_movement")
    futures = model.sample_future(context, num_samples=8, temperature=0.6)

Each is a `.keras` file in `tfp_videoflow/pretrained_models/`, installed with
the package (no download); `available_pretrained()` lists them. BENCHMARKS.md says how
each was trained and what it does.
"""

import importlib.resources

import keras

_FOLDER = "pretrained_models"


def available_pretrained():
    """Names of the shipped models, sorted."""
    folder = importlib.resources.files("tfp_videoflow") / _FOLDER
    if not folder.is_dir():
        return []
    return sorted(entry.name[:-len(".keras")] for entry in folder.iterdir()
                  if entry.name.endswith(".keras"))


def path(name):
    """The file of shipped model `name` (a `pathlib`-like traversable)."""
    names = available_pretrained()
    if name not in names:
        raise ValueError(f"no pretrained model {name!r}; available: "
                         f"{names or 'none'}.")
    return importlib.resources.files("tfp_videoflow") / _FOLDER / f"{name}.keras"


def pretrained(name):
    """Loads shipped model `name` as a `VideoFlowModel`."""
    with importlib.resources.as_file(path(name)) as file:
        return keras.models.load_model(file)
