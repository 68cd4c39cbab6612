"""Trains tiny models on one device and on 2 replicas; prints a JSON report.

Run as a script by test_distribute.py: the 2 logical CPU devices must be
configured before TensorFlow runs any op, so this needs a fresh process.
"""

import json
import os
import sys

import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
import tfp_videoflow as vf  # noqa: E402
from tests.helpers import TINY, moving_squares  # noqa: E402

# Global batch 4 of 7-frame videos: training windows start at random places.
VIDEOS = moving_squares(4, 7, 8, seed=0)
SETTINGS = {**TINY, "train_target_frames": 1}


def train(strategy, initialize, clip=None, steps=1, memory_saving=False):
    with strategy.scope():
        model = vf.VideoFlowModel(**SETTINGS, gradient_clip_norm=clip,
                                  memory_saving=memory_saving)
        if initialize:
            model.initialize(VIDEOS)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    before = [v.numpy() for v in model.trainable_variables]
    history = model.fit(VIDEOS, batch_size=4, epochs=steps, shuffle=False,
                        verbose=0)
    after = [v.numpy() for v in model.trainable_variables]
    # Weights whose copies on the replicas differ.
    diverged = [v.path for v in model.weights
                if len(getattr(v.value, "values", ())) > 1
                and not all(np.array_equal(v.value.values[0].numpy(),
                                           c.numpy())
                            for c in v.value.values[1:])]
    return dict(
        weights=[v.numpy() for v in model.weights],
        moved=float(np.sqrt(sum(np.sum((a - b) ** 2)
                                for a, b in zip(before, after)))),
        loss=history.history["loss"][-1],
        draws=int(model.random_draws.numpy()), diverged=diverged)


def compare(a, b):
    return dict(
        max_weight_difference=max(float(np.max(np.abs(
            x.astype(np.float64) - y.astype(np.float64))))
                                  for x, y in zip(a["weights"], b["weights"])),
        moved=(a["moved"], b["moved"]), loss=(a["loss"], b["loss"]),
        draws=(a["draws"], b["draws"]), diverged=b["diverged"])


def main():
    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    report = {
        # Clip norm 0.5 binds (unclipped, this step's gradient norm is > 1).
        "clipped": compare(train(one, True, clip=0.5),
                           train(two, True, clip=0.5)),
        # Not initialised beforehand: one device initialises explicitly from
        # the global batch, 2 replicas do it inside their first step.
        "lazy_init": compare(train(one, True, steps=2),
                             train(two, False, steps=2)),
        # Memory-saving backpropagation on 2 replicas: the plain step.
        "memory_saving": compare(train(two, True, clip=0.5),
                                 train(two, True, clip=0.5,
                                       memory_saving=True)),
    }
    print("REPORT " + json.dumps(report))


if __name__ == "__main__":
    main()
