"""What the generated data sets share: argument checks, the stream."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_videoflow.data import generated


@pytest.mark.parametrize("kwargs, message", [
    (dict(split="valid"), "split"),
    (dict(resolution=2), "resolution"),
    (dict(num_frames=0), "num_frames"),
    (dict(num_videos=0), "num_videos"),
    (dict(seed=-1), "seed"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_arguments(kwargs, message):
    arguments = dict(split="train", resolution=8, num_frames=2,
                     num_videos=None, seed=0, batch_size=None)
    generated.check_arguments(**arguments)
    with pytest.raises(ValueError, match=message):
        generated.check_arguments(**{**arguments, **kwargs})


def test_stream_is_ordered_sized_and_batched():
    def to_example(index):
        return tf.fill([2], index)

    test = list(generated.generated_dataset(to_example, "test", None, None)
                .as_numpy_iterator())
    assert len(test) == generated.DEFAULT_NUM_VIDEOS["test"]
    np.testing.assert_array_equal([t[0] for t in test], np.arange(len(test)))
    train = generated.generated_dataset(to_example, "train", None, 3)
    batches = list(train.take(50).as_numpy_iterator())  # endless
    assert len(batches) == 50 and batches[49].shape == (3, 2)
    assert batches[49][0, 0] == 147
    assert len(list(generated.generated_dataset(
        to_example, "test", 5, None))) == 5
