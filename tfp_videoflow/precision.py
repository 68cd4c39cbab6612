"""Mixed precision: the networks compute in 16 bits, the densities in 32.

    model = VideoFlowModel(..., precision="mixed_bfloat16")  # or "mixed_float16"

`precision` names a Keras dtype policy, or "auto": "mixed_bfloat16" where
this machine computes bfloat16 natively (a GPU of compute capability 8.0 or
more; a CPU with AVX512-BF16 or AMX: on such an Intel Xeon the `small`
preset's step is 1.5x as fast and learns more per CPU minute, BENCHMARKS.md
section 9), else "float32" (where bfloat16 would be emulated, and slower).
The model's `__init__` runs with it as Keras' default policy (see
`builds_under_own_policy`), so the networks it creates take it:

* the coupling networks and the prior networks compute in the policy's
  compute dtype (bfloat16 or float16) with float32 weights;
* their outputs are cast to float32 before use, and the flow's own
  bijectors (ActNorm, invertible 1x1 convolutions, the coupling transforms)
  stay float32, so log-determinants, the prior's log-density and the loss
  are float32;
* with "mixed_float16", `compile` wraps the optimizer in Keras'
  `LossScaleOptimizer` and the train step scales the loss with it.

`precision` is part of the model's config, so saved models load with it
("auto" is resolved again on the machine that loads it).
"""

import contextlib
import functools
import inspect
import pathlib

import keras
import tensorflow as tf

POLICIES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# CPU flags (Linux /proc/cpuinfo) of native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@contextlib.contextmanager
def policy_scope(policy):
    """Keras' default dtype policy is `policy` inside the block only."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(keras.dtype_policies.get(policy))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def check(policy):
    """`policy` (a name) if it is one of POLICIES, else a ValueError."""
    if policy not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}, "
                         f"got {policy!r}.")
    return policy


def native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether this machine's accelerator, or else its CPU, has bfloat16."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
    try:
        text = pathlib.Path(cpuinfo).read_text(errors="replace")
    except OSError:  # Not Linux: no way to tell, so no.
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(BFLOAT16_CPU_FLAGS & set(line.split()))
    return False


def resolve(policy):
    """The Keras policy name `policy` (one of POLICIES) stands for here."""
    if check(policy) != "auto":
        return policy
    return "mixed_bfloat16" if native_bfloat16() else "float32"


def builds_under_own_policy(init):
    """Decorates a model's `__init__(..., precision=...)`.

    Keras layers created with `dtype=None` take the default policy, so
    running `__init__` inside `policy_scope(precision)` gives the networks
    the mixed policy. The model itself stays float32 (`dtype="float32"`
    unless given): a mixed model would cast its inputs to 16 bits and read
    every weight below it, the flow's bijectors included, in 16 bits.
    """
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        kwargs.setdefault("dtype", "float32")
        with policy_scope(resolve(kwargs.get("precision", "float32"))):
            return init(self, *args, **kwargs)
    # Keras reads a layer's __init__ arguments from its signature.
    wrapper.__signature__ = inspect.signature(init)
    return wrapper


def scaled_optimizer(optimizer, policy):
    """`optimizer`, in Keras' `LossScaleOptimizer` under "mixed_float16".

    float16 gradients underflow without loss scaling; Keras wraps the
    optimizer itself only when the model's own policy is float16, and a
    `VideoFlowModel` stays float32 (see `builds_under_own_policy`).
    """
    optimizer = keras.optimizers.get(optimizer)
    if resolve(policy) == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
