# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Large-n configurations on which the windowed tables are tested, as flat `[1, c]` tensors."""

import numpy as np
import tensorflow as tf

# (m, n, theta): skewed weights, a weight-0 class, n near 0 and near sum(m), unequal m.
CASES = [
    ([3000, 3000, 3000], 3000, [0., 1., 2.]),
    ([3000, 1000, 5000, 200], 2500, [0., -3., 1., 4.]),
    ([3000, 3000], 5900, [0., 5.]),
    ([3000, 3000, 3000], 10, [0., 1., 2.]),
    ([2000, 2000, 2000], 1500, [0., -np.inf, 0.5]),
    ([1, 4000, 2, 3000], 3500, [8., -1., -8., 0.]),
    ([1500] * 6, 4000, [0., 0.2, 0.4, 0.6, 0.8, 1.]),
]


def flat(m, n, theta):
    """`(num_per_class [1, c], logits [1, c], total_count [1])`, float64."""
    return (tf.constant([m], tf.float64), tf.constant([theta], tf.float64),
            tf.constant([float(n)], tf.float64))
