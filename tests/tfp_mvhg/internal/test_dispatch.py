# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`dispatch`: which tables (windowed or full) the distribution takes, statically and at run
time."""

import numpy as np
import tensorflow as tf
from scipy import special

import tfp_mvhg
from tfp_mvhg.internal import dispatch


def test_the_distribution_takes_the_windowed_path_only_where_it_pays():
    assert not dispatch.use_windows(181, 181, 3)         # (3, 200, 180): full tables
    assert not dispatch.use_windows(5001, 11, 1000)      # small m: full tables are cheap
    assert dispatch.use_windows(10001, 10001, 3)
    assert dispatch.use_windows(tf.constant(10001), 10001, 3) is None  # decided at run time
    assert not dispatch.use_windows(10001, 10001, None)  # classes unknown when tracing

    @tf.function(jit_compile=True)
    def under_xla():
        return tf.constant(dispatch.use_windows(10001, 10001, 3))

    assert not under_xla()


def test_dynamic_counts_choose_at_run_time():
    """Counts unknown when tracing: `tf.cond` on the actual widths; both branches agree."""
    @tf.function(input_signature=[tf.TensorSpec([3], tf.float64),
                                  tf.TensorSpec([], tf.float64)])
    def log_normalizer(m, n):
        dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=tf.zeros_like(m))
        return dist.log_normalizer()

    for m, n in (([3000., 3000., 3000.], 3000.), ([20., 20., 20.], 20.)):
        total = sum(m)  # all weights 1: P0 = C(sum m, n) (Vandermonde)
        reference = (special.gammaln(total + 1) - special.gammaln(n + 1)
                     - special.gammaln(total - n + 1))
        np.testing.assert_allclose(log_normalizer(tf.constant(m, tf.float64),
                                                  tf.constant(n, tf.float64)), reference,
                                   rtol=1e-12)


def test_draws_under_xla_after_eager_draws_search_as_xla_needs():
    """The draws' tf.function, traced eagerly with `searchsorted`, is not reused under XLA (where
    `searchsorted` over 10^5 queries compiles to a comparison of terabytes)."""
    dist = tfp_mvhg.MultivariateHypergeometric([200.] * 3, 180., weights=[1., 5., 1.])
    seed = tf.constant([1, 2])
    eager = dist.sample(100000, seed=seed)
    compiled = tf.function(lambda: dist.sample(100000, seed=seed), jit_compile=True)()
    np.testing.assert_array_equal(compiled, eager)
