"""The settings of a `VideoFlowModel`: checked once, then its Keras config.

`checked(config)` takes the constructor's arguments as a dict and returns
them normalised (tuples, ints, floats, bools; `train_target_frames`
resolved), or raises `ValueError` naming the first setting that cannot
work, before any weight is made. What it returns is what `get_config`
saves, so a loaded model is built from the same values.
"""

import numbers
import textwrap

from tfp_videoflow import dequantization

# What each setting means (the constructor's Args, shown by help()).
ARGS = textwrap.dedent("""
    Args:
      frame_shape: `(H, W, C)`; H and W divisible by 2**num_levels.
      num_context_frames: K, frames conditioned on (>= 1).
      num_target_frames: T, frames predicted at evaluation / sampling.
      num_levels, steps_per_level: the multi-scale flow's L levels of S
        flow steps each (Glow's K; here K counts context frames).
      coupling: "affine" or "additive".
      coupling_width: hidden channels of the coupling networks.
      gated_coupling: gated activations in the coupling networks.
      dynamics: "conv3d", "pointwise" or "none" (frames independent).
      num_cond_frames: past frames each prior step sees.
      prior_width, prior_depth, prior_dilations, latent_skip: of the
        "conv3d" prior.
      top_components: mixture components of the top level's prior (1: the
        paper's Gaussian; > 1: one categorical choice of future per frame,
        each component decoded by one shared head from the prior's features
        plus its learned code; "conv3d" only).
      discrete_history: condition on the discrete past (the bin centres of
        context, earlier target and sampled frames), as the data is; False
        conditions on the continuous values.
      num_bits: bit depth the pixels are reduced to (1..8).
      train_target_frames: T_train, target frames per training window
        (default T).
      temperature: prior temperature of the distribution `model(context)`
        (1: the model's density).
      sampling_temperature: prior temperature of the futures that
        `sample_future`, `predict` and the command line draw unless told
        otherwise: the one that gives this model's best futures (the paper
        shows 0.6; `benchmarks/ship_model.py` stores the measured best in
        the shipped model).
      num_samples: futures drawn per context by `predict`.
      gradient_clip_norm: clip gradients to this global norm, or None.
      seed: integer seed of every initial weight and random draw.
      precision: "float32", or "mixed_bfloat16" / "mixed_float16": the
        networks compute in 16 bits, the densities in float32; "auto":
        "mixed_bfloat16" where the machine has native bfloat16, else
        "float32" (see precision.py).
      memory_saving: training's backward pass recomputes each flow step and
        each residual block of the prior from its input instead of keeping
        its activations: the same gradients in a fraction of the memory, for
        about one more forward pass (bijectors/memory_saving.py).
      **kwargs: for `keras.Model` (e.g. `name`).
""")


def documented(model_class):
    """Appends `ARGS` to the docstring of `model_class`."""
    model_class.__doc__ = (model_class.__doc__.rstrip() + "\n"
                           + textwrap.indent(ARGS, "    "))
    return model_class


def _check(config):
    """Raises `ValueError` naming the first setting that cannot work."""
    if config["num_context_frames"] < 1 or config["num_target_frames"] < 1:
        raise ValueError(
            "num_context_frames and num_target_frames must be >= 1, got "
            f"{config['num_context_frames']} and "
            f"{config['num_target_frames']}.")
    seed = config["seed"]
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) \
            or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}.")
    if config["train_target_frames"] is not None \
            and not config["train_target_frames"] >= 1:
        raise ValueError(f"train_target_frames must be >= 1 (or None: "
                         f"num_target_frames), got "
                         f"{config['train_target_frames']}.")
    clip_norm = config["gradient_clip_norm"]
    if clip_norm is not None and not 0 < clip_norm < float("inf"):
        raise ValueError(f"gradient_clip_norm must be finite and > 0 (or "
                         f"None: no clipping), got {clip_norm}.")
    for name in ("coupling_width", "prior_width"):
        if not config[name] >= 1:
            raise ValueError(f"{name} must be >= 1, got {config[name]}.")
    if (not 0 < config["temperature"] < float("inf")
            or not 0 < config["sampling_temperature"] < float("inf")
            or config["num_samples"] < 1):
        raise ValueError(
            f"temperature and sampling_temperature must be finite and > 0"
            f" and num_samples >= 1, got {config['temperature']}, "
            f"{config['sampling_temperature']} and {config['num_samples']}.")


# Settings that models saved by earlier versions hold, with the one value
# this version builds: since then every mixture is coded (BENCHMARKS.md,
# section 9: 31 % valid futures after 5 CPU minutes against 3 %).
RETIRED = {"component_codes": True, "shared_component_scales": False}


def without_retired(config):
    """A saved model's `config` without `RETIRED` settings.

    Raises `ValueError` for a model saved with a retired setting at a value
    this version cannot build (a mixture with a head per component).
    """
    config = dict(config)
    for name, built in RETIRED.items():
        value = config.pop(name, built)
        if value != built and config.get("top_components", 1) > 1:
            raise ValueError(
                f"this model was saved with {name}={value}: a mixture that "
                f"this version no longer builds (every mixture is now "
                f"coded); retrain it, or load it with the version that "
                f"saved it.")
    return config


def checked(config):
    """The model's settings `config` (a dict), checked and normalised."""
    _check(config)
    config = dict(config)
    if config["train_target_frames"] is None:
        config["train_target_frames"] = config["num_target_frames"]
    config["num_bits"] = dequantization.check_bits(config["num_bits"])
    config["frame_shape"] = tuple(int(d) for d in config["frame_shape"])
    config["prior_dilations"] = tuple(config["prior_dilations"])
    for name in ("num_context_frames", "num_target_frames",
                 "train_target_frames", "num_samples", "seed"):
        config[name] = int(config[name])
    for name in ("temperature", "sampling_temperature"):
        config[name] = float(config[name])
    for name in ("discrete_history", "memory_saving"):
        config[name] = bool(config[name])
    return config
