# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`conditionals`: the chain of conditionals, visited class by class, gives the pmf."""

import numpy as np
import pytest
import tensorflow as tf

import mvhg_reference as ref
from tfp_mvhg.internal import conditionals


@pytest.mark.parametrize("method", ["exact", "merged"])
def test_chain_log_prob_is_the_pmf_and_minus_infinity_off_the_support(method):
    m, n, logits = [3., 2., 4.], 5, [0.3, -0.2, 0.5]
    if method == "exact":
        support, log_pmf = ref.enumerate_pmf(m, n, logits)
    else:
        support, log_pmf = ref.merged_scheme_pmf(m, n, np.exp(logits))
    # above m_0; x_2 >= W; x_1 above m_1 and x_2 < 0; more draws than n (r_2 = 1 < x_2)
    outside = [[4., 1., 0.], [0., 0., 6.], [3., 3., -1.], [2., 2., 2.]]
    counts = np.concatenate([support, outside])[:, None, :]                    # [N, B = 1, c]
    log_prob = conditionals.chain_log_prob(
        tf.constant([m], tf.float64), tf.constant([logits], tf.float64),
        tf.constant([float(n)], tf.float64), tf.constant(counts, tf.float64), n + 1,
        int(min(max(m), n)) + 1, method).numpy()[:, 0]
    np.testing.assert_allclose(log_prob[:len(support)], log_pmf, rtol=1e-12)
    np.testing.assert_array_equal(log_prob[len(support):], -np.inf)
