"""Mixed precision: the networks compute in 16 bits, the densities in 32.

    model = VideoFlowModel(..., precision="mixed_bfloat16")  # or "mixed_float16"

`precision` names a Keras dtype policy. The model's `__init__` runs with
it as Keras' default policy (see `builds_under_own_policy`), so the
networks it creates take it:

* the coupling networks and the prior networks compute in the policy's
  compute dtype (bfloat16 or float16) with float32 weights;
* their outputs are cast to float32 before use, and the flow's own
  bijectors (ActNorm, invertible 1x1 convolutions, the coupling transforms)
  stay float32, so log-determinants, the prior's log-density and the loss
  are float32;
* with "mixed_float16", `compile` wraps the optimizer in Keras'
  `LossScaleOptimizer` and the train step scales the loss with it.

`precision` is part of the model's config, so saved models load with it.
"""

import contextlib
import functools
import inspect

import keras

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


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
        with policy_scope(check(kwargs.get("precision", "float32"))):
            return init(self, *args, **kwargs)
    # Keras reads a layer's __init__ arguments from its signature.
    wrapper.__signature__ = inspect.signature(init)
    return wrapper
