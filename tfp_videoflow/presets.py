"""Named model configurations (keyword arguments of `VideoFlowModel`).

* "bair": the paper's BAIR robot pushing setting for likelihood (64x64x3,
  3 context frames, 10 target frames at evaluation, random 4-frame windows in
  training, L=3, K=24, affine gated coupling of width 512, a 3-D conv prior
  of width 256 and depth 5 over 3 past frames with latent skip, 8 bits).
  A GPU model.
* "shapes": the paper's Stochastic Movement setting (64x64x3, 1 context
  frame, 2 target frames at evaluation, 2-frame windows in training,
  additive coupling of width 512, prior depth 10 over 1 past frame without
  latent skip).
  Both train with `memory_saving` (the backward pass recomputes each flow
  step and prior block): at batch 5 `bair` needs 6.0 GiB instead of 11.5
  (BENCHMARKS.md, section 11); `small` fits either way and keeps the
  plain, faster step.
* "small": a CPU-sized model for 32x32x3 Stochastic Movement, trainable in
  minutes: the structure of "shapes" with far fewer and narrower layers and,
  like "shapes", no latent skip. Beyond the paper, its top level is a
  mixture of 8 Gaussians (one per kind of future, chosen once per frame)
  whose components one shared head decodes from learned codes
  (31 % valid futures after 5 CPU minutes against 3 %
  with a head per component), its coupling is affine (the data wants a
  tight density on the black background and a wide one where the shape
  is, which volume-preserving couplings cannot give) and its gradients
  are clipped to global norm 1 (an unclipped run diverged at learning
  rate 1e-3). Its networks compute
  in bfloat16 where the machine does so natively (`precision="auto"`: 1.5x
  the steps per CPU minute on an Intel Xeon with AMX, and more learnt per
  step's worth of time). BENCHMARKS.md, sections 5, 7 and 9, has the
  ablations behind each choice.
* "real": a CPU-sized model for a user's own footage at 32x32: the
  structure of "small" with half its flow steps and half its widths
  (0.30 M weights against 1.2 M: a few clips' windows are too few for
  more), the latent skip (a camera's next frame is mostly its last one),
  two past frames (a pan or a walk has a direction, which one frame
  cannot show once windows are mirrored, reversed and rotated; two
  can), one Gaussian at the top level, and 8 bits (the footage as it
  is). With the command line's default augmentation of a folder it codes
  held-out frames of real clips below lossless H.264 (BENCHMARKS.md,
  section 10). It samples at temperature 0.1: on validation windows of
  two clips the best of 8 futures is closest to the truth there (at 0.6
  futures turn to speckle by the second frame).
* "tiny": 16x16x3, for smoke tests and trying the commands out in seconds;
  it learns little.
"""

import ast

PRESETS = {
    "bair": dict(
        frame_shape=(64, 64, 3), num_context_frames=3, num_target_frames=10,
        train_target_frames=1, num_levels=3, steps_per_level=24,
        coupling="affine", coupling_width=512, gated_coupling=True,
        dynamics="conv3d", num_cond_frames=3, prior_width=256, prior_depth=5,
        latent_skip=True, num_bits=8, memory_saving=True),
    "shapes": dict(
        frame_shape=(64, 64, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=3, steps_per_level=24,
        coupling="additive", coupling_width=512, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=256,
        prior_depth=10, latent_skip=False, num_bits=8, memory_saving=True),
    "small": dict(
        frame_shape=(32, 32, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=3, steps_per_level=4,
        coupling="affine", coupling_width=64, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=64, prior_depth=2,
        latent_skip=False, top_components=8, num_bits=5,
        gradient_clip_norm=1.0, precision="auto"),
    "real": dict(
        frame_shape=(32, 32, 3), num_context_frames=2, num_target_frames=2,
        train_target_frames=1, num_levels=3, steps_per_level=2,
        coupling="affine", coupling_width=32, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=2, prior_width=32, prior_depth=2,
        latent_skip=True, top_components=1, num_bits=8,
        gradient_clip_norm=1.0, sampling_temperature=0.1),
    "tiny": dict(
        frame_shape=(16, 16, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=2, steps_per_level=2,
        coupling="additive", coupling_width=16, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=16, prior_depth=1,
        latent_skip=False, num_bits=5),
}


# One line each, for the command line's help.
SUMMARIES = {
    "small": "32x32, CPU minutes",
    "real": "32x32 real footage, CPU minutes",
    "tiny": "16x16 smoke test, seconds",
    "shapes": "paper's Stochastic Movement model",
    "bair": "paper's BAIR model; GPU",
}
assert set(SUMMARIES) == set(PRESETS)


def preset(name, **overrides):
    """The keyword arguments of preset `name`, updated with `overrides`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of "
                         f"{sorted(PRESETS)}.")
    return {**PRESETS[name], **overrides}


def parse_overrides(pairs):
    """`["key=value", ...]` from the command line -> `{key: value}`.

    Values are Python literals (`True`, `2`, `(32, 32, 3)`, `None`); a value
    that is not one, such as a bare word, is kept as a string
    (`coupling=additive`). Raises `ValueError` for a pair without "=" or a
    key given twice.
    """
    overrides = {}
    for pair in pairs or ():
        key, equals, text = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ValueError(f"--set {pair}: expected key=value.")
        if key in overrides:
            raise ValueError(f"--set {key}: given twice.")
        try:
            overrides[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            overrides[key] = text.strip()
    return overrides
