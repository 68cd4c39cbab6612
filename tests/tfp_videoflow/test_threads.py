"""One model used from several Python threads at once (a server's pool)."""

from concurrent import futures as concurrent

import numpy as np
import tensorflow as tf

from tests.helpers import bin_values


def test_threads_give_per_seed_the_results_of_sequential_calls(
        tiny_model, tiny_videos):
    k = tiny_model.num_context_frames
    context = tiny_videos[:2, :k]

    def call(seed):
        # Explicit seeds: the model's own counter is shared by the threads.
        # One frame each keeps 64 eager calls quick.
        sampled = tiny_model.sample_future(
            context, num_samples=1, num_frames=1,
            seed=tf.constant([seed, 1], tf.int32))
        target = bin_values(tiny_videos[:2, k:k + 1], 5, seed)
        log_prob = tiny_model(context, num_target_frames=1).log_prob(target)
        return sampled.numpy(), log_prob.numpy()

    seeds = list(range(32))  # 4 threads x 8 calls
    sequential = [call(seed) for seed in seeds]
    with concurrent.ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(call, seeds))
    for (samples, log_prob), (again, log_prob_again) in zip(
            sequential, threaded, strict=True):
        np.testing.assert_array_equal(samples, again)
        np.testing.assert_array_equal(log_prob, log_prob_again)
    # The seeds matter: different seeds, different futures.
    assert not np.array_equal(sequential[0][0], sequential[1][0])
