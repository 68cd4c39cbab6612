"""Training on several replicas with `tf.distribute`.

TensorFlow's strategies do the work: build the model under
`strategy.scope()` and `fit` runs `VideoFlowModel.train_step` once per
replica, each on its share of the global batch. This module holds what the
train step needs to behave like one device with the global batch:

* `num_replicas()`: R. Each replica's mean loss is divided by R, because the
  optimizer sums the replicas' gradients.
* `stateless_uniform_rows`: random draws per batch row (training windows,
  dequantization noise). Every replica draws for the whole global batch with
  the shared seed and keeps its own rows, so replicas draw different numbers,
  the run is reproducible, and the draws are exactly those of one device with
  the global batch (when the batch splits evenly, as with fixed-size batches).
* `sum_and_clip`: the sum of the replicas' gradients, clipped to a global
  norm as one device clips its gradient.
* `initialize_from_global_batch`: the ActNorms' data-dependent
  initialisation on the first step, from the global batch on every replica,
  so that all replicas hold the same weights.

and what the command line needs: `strategy(name)` (with a checked
TF_CONFIG for "multi-worker") and `is_chief`.
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("none", "mirrored", "multi-worker")


class DistributeError(ValueError):
    """The requested strategy or its cluster configuration is unusable."""


def _replica():
    """(index of this replica, R); (0, 1) outside a multi-replica step."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    # In cross-replica context (e.g. an eager `model.initialize` under a
    # strategy's scope) the code runs once for the whole batch.
    if replicas == 1 or context is None:
        return 0, 1
    return context.replica_id_in_sync_group, replicas


def num_replicas():
    """R of the current replica context (1 outside a multi-replica step)."""
    return _replica()[1]


def stateless_uniform_rows(shape, seed, **kwargs):
    """`tf.random.stateless_uniform(shape, seed, **kwargs)` for this replica.

    `shape[0]` is this replica's batch size b. With R replicas the draw is
    made for R * b rows and replica r keeps rows r*b .. (r+1)*b - 1: the
    global batch's draw, split as `tf.distribute` splits the batch.
    """
    index, replicas = _replica()
    if replicas == 1:
        return tf.random.stateless_uniform(shape, seed, **kwargs)
    shape = tf.convert_to_tensor(shape, tf.int32)
    rows = shape[0]
    draw = tf.random.stateless_uniform(
        tf.concat([[rows * replicas], shape[1:]], 0), seed, **kwargs)
    return draw[index * rows:(index + 1) * rows]


def sum_and_clip(gradients, clip_norm=None):
    """Gradients for `apply_gradients` that sum to the clipped global one.

    The replicas' gradients are summed here (the global batch's gradient),
    then clipped to `clip_norm` (if given). `apply_gradients` sums over the
    replicas again, so replica 0 passes the result and the others pass it
    times 0: zeros, or NaN where the sum is not finite, so that every
    replica sees the same finiteness (a float16 loss-scale optimizer then
    skips the step on all of them alike).
    """
    index, replicas = _replica()
    present = [i for i, g in enumerate(gradients) if g is not None]
    values = [gradients[i] for i in present]
    if replicas > 1:
        values = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, values)
    if clip_norm is not None:  # (may be a tensor: norm times loss scale)
        values, _ = tf.clip_by_global_norm(values, clip_norm)
    if replicas > 1:
        first = tf.equal(index, 0)
        values = [g * tf.cast(first, g.dtype) for g in values]
    result = list(gradients)
    for i, g in zip(present, values):
        result[i] = g
    return result


def with_worker_axis(logs):
    """`logs` (scalars) as a train / test step returns them to Keras.

    Keras averages a step's logs over several workers with
    `strategy.reduce(MEAN, value, axis=0)`, which needs an axis 0: under a
    multi-worker strategy each scalar gets one (the mean over it is the
    scalar).
    """
    if _num_workers() > 1:
        return {name: value[tf.newaxis] for name, value in logs.items()}
    return logs


def _num_workers():
    """Workers of the current strategy's cluster (1 without a cluster).

    From the strategy's public `cluster_resolver` (multi-worker strategies
    have one): the chief and the workers of its cluster spec.
    """
    resolver = getattr(tf.distribute.get_strategy(), "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, sum(len(spec.get(job, ())) for job in ("chief", "worker")))


def initialize_from_global_batch(model, videos):
    """On the first multi-replica step, `model.initialize` on the global batch.

    Each replica would otherwise initialise its ActNorms from its own share
    and the replicas would drift apart. The batch is gathered from all
    replicas, so every replica computes (and assigns) the same statistics.
    Adds nothing to the step if the ActNorms are initialised when it is
    traced (e.g. by an explicit `model.initialize`, as the command line does).
    """
    if num_replicas() == 1 or model.flow_layer.is_initialized():
        return
    layers = model.flow_layer.actnorm_layers()
    # Gathered outside the condition: a collective may not sit in a branch.
    # (int32: the collective has no uint8 kernel.)
    global_videos = tf.cast(tf.distribute.get_replica_context().all_gather(
        tf.cast(videos, tf.int32), axis=0), videos.dtype)

    def initialize():
        model.initialize(global_videos)
        return tf.constant(True)

    initialized = tf.reduce_all(tf.stack([layer.initialized.value
                                          for layer in layers]))
    tf.cond(initialized, lambda: tf.constant(False), initialize)


# ------------------------------------------------------------ command line
def _check_tf_config(text):
    """The parsed TF_CONFIG, or a DistributeError naming what is wrong."""
    if not text:
        raise DistributeError(
            "--distribute multi-worker needs the TF_CONFIG environment "
            "variable (a JSON cluster and task, as TensorFlow defines it).")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise DistributeError(f"TF_CONFIG is not valid JSON ({error}).") from error
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise DistributeError('TF_CONFIG needs a "cluster" object, e.g. '
                              '{"worker": ["host1:port", "host2:port"]}.')
    for job, addresses in cluster.items():
        if not (isinstance(addresses, list) and addresses and all(
                isinstance(a, str) and ":" in a for a in addresses)):
            raise DistributeError(f'TF_CONFIG cluster "{job}" must be a '
                                  'non-empty list of "host:port" strings.')
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise DistributeError('TF_CONFIG needs a "task" object with "type" '
                              'and "index", e.g. {"type": "worker", "index": 0}.')
    job, index = task["type"], task["index"]
    if job not in cluster:
        raise DistributeError(f'TF_CONFIG task type "{job}" is not in the '
                              f"cluster ({', '.join(cluster)}).")
    if not isinstance(index, int) or not 0 <= index < len(cluster[job]):
        raise DistributeError(
            f'TF_CONFIG task index {index!r} is out of range: the cluster '
            f'has {len(cluster[job])} "{job}" task(s).')
    return config


def strategy(name, environ=None):
    """The `tf.distribute.Strategy` for `--distribute name` (None for "none").

    Create it before any other TensorFlow op: the multi-worker strategy
    configures the process's collective runtime from TF_CONFIG.
    """
    if name not in STRATEGIES:
        raise DistributeError(f"--distribute {name!r}: choose one of "
                              f"{', '.join(STRATEGIES)}.")
    if name == "none":
        return None
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    _check_tf_config((os.environ if environ is None else environ)
                     .get("TF_CONFIG"))
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(strategy_):
    """Whether this process writes the run's files (always, without workers)."""
    resolver = getattr(strategy_, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    # Without a "chief" job, worker 0 is the chief (TensorFlow's convention).
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return (not has_chief and resolver.task_type == "worker"
            and resolver.task_id == 0)
