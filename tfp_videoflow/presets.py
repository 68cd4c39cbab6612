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
* "small": a CPU-sized model for 32x32x3 Stochastic Movement, trainable in
  minutes: the structure of "shapes" with far fewer and narrower layers,
  and, like "shapes", no latent skip; beyond the paper, its top level is a
  mixture of 8 Gaussians (one per kind of future, chosen once per frame).
  After 10 CPU minutes a single Gaussian gave 6.6 % valid sampled motions
  with shapes at 0.45 of their brightness: its one mode lies between the 8
  places the shape can go (BENCHMARKS.md, section 7). With the latent
  skip (mean += z_{t-1}) the prior starts at "nothing moves" and, after 30
  minutes on one CPU core (before the split prior of section 7),
  had learnt that the shape leaves its place but not where it goes: 6
  directions in all and 0.4 % valid sampled motions. Without it, the same
  budget gave all 8 directions, 4.9 % valid motions, and lower test bits
  per pixel (0.296 against 0.317; BENCHMARKS.md, section 5). Its coupling is
  affine, not additive as in "shapes": with volume-preserving couplings
  only ActNorm and the 1x1 convolutions can scale, one factor per channel
  for the whole frame, while this data wants a tight density on its black
  background and a wide one where the shape is (after 12 minutes on one CPU
  core: 0.418 bits per pixel affine, 0.457 additive). Its gradients are
  clipped to global norm 1: at learning rate 1e-3 an unclipped run diverged
  after 1400 steps (bits per pixel 0.51 -> 1e7).
* "tiny": 16x16x3, for smoke tests and trying the commands out in seconds;
  it learns little.
"""

PRESETS = {
    "bair": dict(
        frame_shape=(64, 64, 3), num_context_frames=3, num_target_frames=10,
        train_target_frames=1, num_levels=3, steps_per_level=24,
        coupling="affine", coupling_width=512, gated_coupling=True,
        dynamics="conv3d", num_cond_frames=3, prior_width=256, prior_depth=5,
        latent_skip=True, num_bits=8),
    "shapes": dict(
        frame_shape=(64, 64, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=3, steps_per_level=24,
        coupling="additive", coupling_width=512, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=256,
        prior_depth=10, latent_skip=False, num_bits=8),
    "small": dict(
        frame_shape=(32, 32, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=3, steps_per_level=4,
        coupling="affine", coupling_width=64, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=64, prior_depth=2,
        latent_skip=False, top_components=8, num_bits=5,
        gradient_clip_norm=1.0),
    "tiny": dict(
        frame_shape=(16, 16, 3), num_context_frames=1, num_target_frames=2,
        train_target_frames=1, num_levels=2, steps_per_level=2,
        coupling="additive", coupling_width=16, gated_coupling=False,
        dynamics="conv3d", num_cond_frames=1, prior_width=16, prior_depth=1,
        latent_skip=False, num_bits=5),
}


def preset(name, **overrides):
    """The keyword arguments of preset `name`, updated with `overrides`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of "
                         f"{sorted(PRESETS)}.")
    return {**PRESETS[name], **overrides}
