# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`moments.moments_by_sweeps`: the mean and covariance by sweeps over the exact conditionals."""

import numpy as np
import tensorflow as tf

import mvhg_reference as ref
import tfp_mvhg
from tfp_mvhg.internal import moments


def test_covariance_sweeps_match_enumeration_and_the_hessian_at_twenty_classes():
    """`moments_by_sweeps` (no derivatives, one pass) against enumeration on small cases (with a
    weight-0 class, an empty class, n = 0 and n = N), and against autodiff's Hessian of log P0 at
    c = 20 (where rows must also sum to 0: sum X = n is constant); dynamic c as well."""
    cases = [([3., 0., 4.], 5., [0.3, 1.2, -0.7]), ([2., 5., 1.], 3., [0.5, -np.inf, 1.]),
             ([3., 2., 4.], 0., [0.3, 1.2, -0.7]), ([3., 2., 4.], 9., [2., -1., 0.]),
             ([4., 3., 5., 2.], 6., [1., -0.5, 0.2, 2.5])]
    for m, n, logits in cases:
        x, log_pmf = ref.enumerate_pmf(np.array(m), int(n), np.array(logits))
        mean, covariance = ref.moments(x, log_pmf)[:2]
        got_mean, got_cov = moments.moments_by_sweeps(
            tf.constant([m], tf.float64), tf.constant([logits], tf.float64),
            tf.constant([n], tf.float64), int(n) + 1, int(min(max(m), n)) + 1)
        np.testing.assert_allclose(got_mean[0], mean, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got_cov[0], covariance, rtol=1e-11, atol=1e-13)

    c, m, n = 20, 6., 40
    logits = tf.constant(np.log(np.linspace(0.5, 3., c)), tf.float64)
    dist = tfp_mvhg.MultivariateHypergeometric([m] * c, float(n), logits=logits)
    covariance = dist.covariance().numpy()
    with tf.GradientTape(persistent=True) as outer:
        outer.watch(logits)
        with tf.GradientTape() as inner:
            inner.watch(logits)
            log_norm = tfp_mvhg.MultivariateHypergeometric([m] * c, float(n),
                                                           logits=logits).log_normalizer()
        gradient = inner.gradient(log_norm, logits)
    hessian = outer.jacobian(gradient, logits, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(covariance, hessian, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(covariance.sum(axis=1), 0., atol=1e-10)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
    def dynamic_classes(m_dynamic):
        return tfp_mvhg.MultivariateHypergeometric(
            m_dynamic, 10., logits=tf.zeros_like(m_dynamic)).covariance()

    central = dynamic_classes(tf.constant([6.] * 4, tf.float64)).numpy()
    # the central MVHG: Var X_i = n (m / N)(1 - m / N)(N - n) / (N - 1), N = 24, n = 10
    np.testing.assert_allclose(np.diag(central), 10 * 0.25 * 0.75 * 14 / 23, rtol=1e-12)
