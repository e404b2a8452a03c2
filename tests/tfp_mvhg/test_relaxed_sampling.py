# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`counts_from_one_hots`: the straight-through count of relaxed one-hots."""

import numpy as np
import tensorflow as tf

import tfp_mvhg


def test_counts_from_one_hots_straight_through():
    soft = tf.Variable([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    with tf.GradientTape(persistent=True) as tape:
        hard_counts = tfp_mvhg.counts_from_one_hots(soft, hard=True)
        soft_counts = tfp_mvhg.counts_from_one_hots(soft, hard=False)
    np.testing.assert_array_equal(hard_counts.numpy(), [1., 0.])
    np.testing.assert_allclose(soft_counts.numpy(), [1.1, 0.8])
    np.testing.assert_allclose(tape.gradient(hard_counts, soft), tape.gradient(soft_counts, soft))
