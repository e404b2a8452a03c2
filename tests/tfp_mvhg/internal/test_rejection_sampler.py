# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`rejection_sampler` against enumeration (chi-square), at the edges of the parameter space, per
row, and where the distribution takes it (`dispatch.use_rejection`)."""

import numpy as np
import pytest
import tensorflow as tf

import mvhg_reference as ref
import tfp_mvhg
from tfp_mvhg.internal import dispatch
from tfp_mvhg.internal import rejection_sampler

# Each chi-square test is one fixed-seed draw; a correct sampler fails it with probability 1e-4.
P_VALUE_FLOOR = 1e-4

CASES = [
    # (m, n, logits): moderate, skewed, a weight-0 class, p near 1 (reflected binomials), an
    # empty class, one class, n = 0 and n = all drawable items.
    ([200, 200, 200], 180, [0., np.log(5.), 0.]),
    ([5, 8, 3, 6], 9, np.log([0.2, 3., 1., 7.])),
    ([10, 2, 7, 1], 9, [2., -3., 0.5, 0.]),
    ([6, 5, 4], 5, [-np.inf, 0., 1.]),
    ([6, 6, 6], 12, [30., -30., 0.]),
    ([10, 0, 7], 10, np.log([2., 1., 0.5])),
    ([9], 4, [0.3]),
    ([4, 4, 4], 0, [0., 1., 2.]),
    ([4, 3, 5], 7, [0., 1., -np.inf]),
]


def _draw(m, n, logits, num_samples, seed=(3, 4)):
    return rejection_sampler.sample_by_rejection(
        tf.constant([m], tf.float64), tf.constant([logits], tf.float64),
        tf.constant([float(n)], tf.float64), num_samples, tf.constant(seed)).numpy()[:, 0]


@pytest.mark.parametrize("m,n,logits", CASES)
def test_draws_fit_the_enumerated_pmf(m, n, logits):
    draws = _draw(m, n, logits, 20000)
    np.testing.assert_array_equal(draws.sum(axis=-1), n)
    x, log_pmf = ref.enumerate_pmf(m, n, np.asarray(logits, np.float64))
    statistic, dof, p_value = ref.pooled_chi_square(draws, x, log_pmf)
    if dof == 0:  # one possible outcome, every draw on it
        assert np.isfinite(statistic) and np.sum(np.isfinite(log_pmf)) == 1
    else:
        assert p_value > P_VALUE_FLOOR, p_value


def test_the_test_rejects_a_wrong_law():
    """Power: the draws of one parameter set fail against a neighbouring set's pmf."""
    m, n = [200, 200, 200], 180
    draws = _draw(m, n, [0., np.log(5.), 0.], 20000)
    x, log_pmf = ref.enumerate_pmf(m, n, [0., np.log(4.5), 0.])
    assert ref.pooled_chi_square(draws, x, log_pmf)[2] < 1e-6


def test_distinct_parameters_per_row_each_fit_their_own_pmf():
    """One batch of four parameter sets, 5000 rows each, one draw per row, interleaved."""
    params = [([5, 8, 3, 6], 9, [0.2, 3., 1., 7.]), ([5, 8, 3, 6], 9, [7., 1., 3., 0.2]),
              ([5, 8, 3, 6], 12, [1., 1., 1., 1.]), ([5, 8, 3, 6], 3, [0.5, 0.5, 4., 4.])]
    copies = 5000
    num = np.tile([p[0] for p in params], [copies, 1]).astype(np.float64)
    logits = np.log(np.tile([p[2] for p in params], [copies, 1]))
    total = np.tile([float(p[1]) for p in params], copies)
    draws = rejection_sampler.sample_by_rejection(num, logits, total, 1, tf.constant([9, 9]))
    draws = draws.numpy()[0]
    for index, (m, n, weights) in enumerate(params):
        x, log_pmf = ref.enumerate_pmf(m, n, np.log(weights))
        p_value = ref.pooled_chi_square(draws[index::len(params)], x, log_pmf)[2]
        assert p_value > P_VALUE_FLOOR, (index, p_value)


def test_undefined_members_get_zeros_and_the_others_are_drawn():
    """n above the drawable items (here a weight-0 class holds the rest) has no proposal that
    could be accepted: it must not keep the loop running."""
    draws = rejection_sampler.sample_by_rejection(
        tf.constant([[3., 3.], [3., 3.], [2.5, 3.]], tf.float64),
        tf.constant([[0., -np.inf], [0., 0.], [0., 0.]], tf.float64),
        tf.constant([5., 5., 2.], tf.float64), 50, tf.constant([1, 1])).numpy()
    np.testing.assert_array_equal(draws[:, 0], 0)
    np.testing.assert_array_equal(draws[:, 2], 0)
    np.testing.assert_array_equal(draws[:, 1].sum(-1), 5)


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    first = _draw([200, 200, 200], 180, [0., 1., 0.], 100, seed=(5, 6))
    np.testing.assert_array_equal(first, _draw([200, 200, 200], 180, [0., 1., 0.], 100, (5, 6)))
    assert np.any(first != _draw([200, 200, 200], 180, [0., 1., 0.], 100, seed=(5, 7)))


def test_rejection_for_distinct_rows_tables_for_many_samples_of_one_set():
    assert dispatch.use_rejection(181, 181, 3, 1)            # (3, 200, 180), a draw per row
    assert dispatch.use_rejection(257, 257, 10, 1)
    assert not dispatch.use_rejection(181, 181, 3, 100000)   # many samples of one set
    assert dispatch.use_rejection(181, 181, 3, tf.constant(1))
    assert dispatch.use_rejection(tf.constant(181), 181, 3, 1)  # sizes known at run time only
    assert dispatch.use_rejection(181, 181, 3, 1, xla=True)
    assert not dispatch.use_rejection(11, 11, 10, 1, xla=True)  # small tables: XLA keeps them
    assert dispatch.use_rejection(11, 11, 10, 1)


def test_the_distribution_draws_per_row_parameters_by_rejection_and_they_fit():
    """`sample()` of a batch of distinct parameter sets (the Keras-layer case) goes through the
    rejection sampler, and each set's draws fit its pmf."""
    m, copies = [5., 8., 3., 6.], 4000
    weights = np.array([[0.2, 3., 1., 7.], [7., 1., 3., 0.2]])
    dist = tfp_mvhg.MultivariateHypergeometric(
        m, 9., weights=np.tile(weights, [copies, 1]))
    assert dispatch.use_rejection(10, 9, 4, 1)
    draws = dist.sample(seed=(2, 3)).numpy().astype(np.int64)
    for index in range(2):
        x, log_pmf = ref.enumerate_pmf(m, 9, np.log(weights[index]))
        assert ref.pooled_chi_square(draws[index::2], x, log_pmf)[2] > P_VALUE_FLOOR


def test_draws_under_xla_fit_the_enumerated_pmf():
    """Under XLA (static shapes: every draw gets candidates each round) the draws are exact too."""
    m, n, logits = [5, 8, 3, 6], 9, np.log([0.2, 3., 1., 7.])
    num = tf.constant([m], tf.float64)
    theta, total = tf.constant([logits], tf.float64), tf.constant([float(n)], tf.float64)
    draws = tf.function(lambda: rejection_sampler.sample_by_rejection(
        num, theta, total, 20000, tf.constant([3, 4]), xla=True), jit_compile=True)()
    x, log_pmf = ref.enumerate_pmf(m, n, logits)
    assert ref.pooled_chi_square(draws.numpy()[:, 0], x, log_pmf)[2] > P_VALUE_FLOOR


def test_a_draw_left_pending_at_the_round_cap_raises(monkeypatch):
    monkeypatch.setattr(rejection_sampler, "MAX_ROUNDS", 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="did not finish within 0 rounds"):
        _draw([5, 8, 3, 6], 9, [0., 1., 2., 3.], 10)


def test_under_xla_draws_left_at_the_cap_become_nan_not_zeros(monkeypatch):
    """XLA compiles the assertion away; the distribution's sample must not pass off the
    unfinished draws as counts."""
    monkeypatch.setattr(rejection_sampler, "MAX_ROUNDS", 0)
    dist = tfp_mvhg.MultivariateHypergeometric([50., 50., 50.], 40., logits=np.zeros([50, 3]))
    assert dispatch.use_rejection(41, 41, 3, 1, xla=True)
    draws = tf.function(lambda: dist.sample(seed=(1, 2)), jit_compile=True)()
    assert np.all(np.isnan(draws))
