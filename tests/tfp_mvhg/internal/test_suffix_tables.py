# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`suffix_tables.tilted_suffix_log_tables` (linear-space class steps) against a numpy reference
of the suffix tables, with its stated underflow bound and, in float32, its stated rounding bound;
the law of the hard draws through them against enumeration (exactly, as the product of the
conditionals, and by one chi-square test of samples, its false-fail rate stated)."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import special

import mvhg_reference as ref
import tfp_mvhg
from tfp_mvhg.internal import conditionals
from tfp_mvhg.internal import suffix_tables


def _log_threshold(num, window):
    """log t of the docstring: t = 2^-60 / (2 c (c + W) (sum m + 1))."""
    c = len(num)
    return -60. * np.log(2.) - np.log(2. * c * (c + window)) - np.log(np.sum(num) + 1.)


def _reference_tables(num, logits, table_size):
    """q_1..q_{c-1} of one member by log-space convolutions in numpy: `[c - 1, K]`."""
    num, logits = np.asarray(num, np.float64), np.asarray(logits, np.float64)
    k = np.arange(table_size, dtype=np.float64)

    def term(i):
        valid = k <= num[i]
        safe = np.where(valid, k, 0.)
        log_binom = (special.gammaln(num[i] + 1) - special.gammaln(safe + 1)
                     - special.gammaln(num[i] - safe + 1))
        power = np.where(k > 0, safe * np.where(k > 0, logits[i], 0.), 0.)
        return np.where(valid, log_binom + np.nan_to_num(power, neginf=-np.inf), -np.inf)

    tables = [term(len(num) - 1)]
    for i in range(len(num) - 2, 0, -1):
        coefficient, following = term(i), tables[0]
        tables.insert(0, np.array([special.logsumexp(coefficient[:j + 1] + following[j::-1])
                                   for j in range(table_size)]))
    return np.stack(tables)


def _tilted(tables, num, logits, total):
    """log P_lam(S_i = k) of the reference tables at the mean-field tilt (by bisection here)."""
    num, logits = np.asarray(num, np.float64), np.asarray(logits, np.float64)
    low, high = -2000., 2000.
    for _ in range(200):
        middle = 0.5 * (low + high)
        if np.sum(num * special.expit(logits + middle)) < total:
            low = middle
        else:
            high = middle
    tilt = 0.5 * (low + high)
    log_norms = num * np.logaddexp(0., logits + tilt)
    suffix = np.cumsum(log_norms[::-1])[::-1][1:]
    k = np.arange(tables.shape[1])
    return tables + tilt * k[None] - suffix[:, None]


CASES = [  # (m, theta, n)
    ([200, 200, 200], [0.0, 0.4, -0.3], 180),
    ([10] * 10, np.linspace(-1., 1., 10), 10),
    ([30, 5, 0, 40, 12], [2., -3., 0.5, 0., 1.], 40),
    ([25, 25, 25, 25], [-40., 0., 0., 40.], 30),       # weights 1e17 apart
    ([25, 25, 25, 25], [-np.inf, 0.3, -0.1, 0.2], 30),  # a class of weight 0
    ([20, 30, 10], [0.1, 0.2, 0.3], 0),                 # n = 0
    ([20, 30, 10], [0.1, 0.2, 0.3], 60),                # n = sum m
    ([60, 3, 60, 2], [5., -5., 3., 0.], 64),
]


def _one_member_tables(num, logits, total, convolution_dtype=tf.float64):
    """`tilted_suffix_log_tables` of one member: `[c, K]` (q_1..q_c), and W."""
    window = int(min(max(num), total)) + 1
    tables = suffix_tables.tilted_suffix_log_tables(
        tf.constant([num], tf.float64), tf.constant([logits], tf.float64),
        tf.constant([float(total)], tf.float64), total + 1, window,
        convolution_dtype=convolution_dtype)
    return tables.numpy()[..., 0], window


@pytest.mark.parametrize("num,logits,total", CASES)
def test_tilted_tables_are_the_suffix_tables_down_to_the_stated_underflow(num, logits, total):
    table_size = total + 1
    got, window = _one_member_tables(num, logits, total)
    reference = _reference_tables(num, logits, table_size)
    assert got.shape == (len(num), table_size)
    np.testing.assert_array_equal(got[-1], [0.] + [-np.inf] * total)  # the boundary q_c
    got = got[:-1]
    tilted = _tilted(reference, num, logits, total)
    log_threshold = _log_threshold(num, window)
    # Entries far above t (each entry is off by at most c t) are the log-space values.
    exact = tilted > log_threshold + 30.
    np.testing.assert_allclose(got[exact], reference[exact], rtol=1e-11, atol=1e-9)
    # What is dropped (-inf) is only what the docstring says: probabilities below (c + 1) t.
    dropped = np.isneginf(got) & np.isfinite(reference)
    assert np.all(tilted[dropped] < log_threshold + np.log(len(num) + 1.))
    # Every entry, kept or not, is within c t of the tilted probability.
    error = np.abs(np.exp(_tilted(got, num, logits, total)) - np.exp(tilted))
    assert np.all(error <= len(num) * np.exp(log_threshold) + 1e-12 * np.exp(tilted))


def _float32_bound(num, window):
    """delta of the docstring: the float32 tables' relative error bound (c - 1)(W + 1) 2^-24."""
    return (len(num) - 1) * (window + 1) * 2.**-24


@pytest.mark.parametrize("num,logits,total", CASES)
def test_float32_tables_are_within_the_stated_rounding_bound(num, logits, total):
    got, window = _one_member_tables(num, logits, total, tf.float32)
    got = got[:-1]
    reference = _reference_tables(num, logits, total + 1)
    tilted = _tilted(reference, num, logits, total)
    kept = tilted > _log_threshold(num, window) + 30.
    assert np.all(np.isfinite(got[kept]))
    relative = np.abs(np.expm1(got[kept] - reference[kept]))
    assert np.max(relative, initial=0.) <= _float32_bound(num, window)


def _chain_log_pmf(num, logits, total, support, table_dtype):
    """log of the product of the sampler's conditionals at every point of `support` `[S, c]`."""
    num = tf.constant([num], tf.float64)
    logits = tf.constant([logits], tf.float64)
    window = int(min(np.max(num), total)) + 1
    tables = conditionals.conditional_tables(num, logits, total + 1, window, "exact",
                                             tf.constant([float(total)], tf.float64),
                                             table_dtype)
    counts = tf.constant(support[:, None, :], tf.int32)

    def visit(i, alpha, _, remaining):
        return counts[..., i], tf.gather(alpha, counts[..., i], batch_dims=2)

    remaining = tf.fill([len(support), 1], total)
    return tf.add_n(conditionals.class_by_class(num, logits, tables, remaining, window,
                                                visit)).numpy()[:, 0]


@pytest.mark.parametrize("num,logits,total", [
    ([40., 30., 35., 25.], np.log([1., 3., 0.5, 2.]), 40),
    ([30., 30., 30., 30., 30.], [2., -1., 0., 0.5, -2.], 45),
])
def test_float32_tables_give_hard_draws_within_the_stated_total_variation(num, logits, total):
    """The exact law of the hard draws (the product of the conditionals over the enumerated
    support) against the MVHG's pmf: within c delta / (1 - delta) in total variation (float32),
    within 1e-12 (float64)."""
    window = int(min(max(num), total)) + 1
    assert (total + 1) * window >= conditionals.LINEAR_TABLES_MIN_TERMS
    support, log_pmf = ref.enumerate_pmf(num, total, logits)
    delta = _float32_bound(num, window)
    for table_dtype, bound in ((tf.float64, 1e-12),
                               (tf.float32, len(num) * delta / (1. - delta))):
        chain = np.exp(_chain_log_pmf(num, logits, total, support, table_dtype))
        total_variation = 0.5 * np.sum(np.abs(chain - np.exp(log_pmf)))
        assert total_variation <= bound, (table_dtype, total_variation, bound)


def test_float32_tables_have_the_float64_tables_gradients():
    num = tf.constant([[40., 30., 35., 20.], [12., 12., 12., 12.]], tf.float64)
    logits = tf.Variable([[0.3, -0.5, 1.2, 0.], [2., -2., 0.5, -1.]], dtype=tf.float64)
    total = tf.constant([50., 20.], tf.float64)
    weights = tf.constant(np.random.default_rng(0).uniform(size=(4, 51, 2)))
    gradients = []
    for dtype in (tf.float64, tf.float32):
        with tf.GradientTape() as tape:
            tables = suffix_tables.tilted_suffix_log_tables(num, logits, total, 51, 41,
                                                            convolution_dtype=dtype)
            loss = tf.reduce_sum(tf.where(tf.math.is_finite(tables), tables, 0.) * weights)
        gradients.append(tape.gradient(loss, logits).numpy())
    np.testing.assert_allclose(gradients[1], gradients[0], rtol=1e-4, atol=1e-4)


def test_tilted_tables_have_the_log_space_tables_gradients():
    num = tf.constant([[40., 30., 35., 20.], [12., 12., 12., 12.]], tf.float64)
    logits = tf.Variable([[0.3, -0.5, 1.2, 0.], [2., -2., 0.5, -np.inf]], dtype=tf.float64)
    total = tf.constant([50., 20.], tf.float64)
    weights = tf.constant(np.random.default_rng(0).uniform(size=(4, 51, 2)))
    gradients = []
    for tilted in (True, False):
        with tf.GradientTape() as tape:
            tables = (suffix_tables.tilted_suffix_log_tables(num, logits, total, 51, 41)
                      if tilted else suffix_tables.suffix_log_tables(num, logits, 51, 41, first=1))
            finite = tf.math.is_finite(tables)
            loss = tf.reduce_sum(tf.where(finite, tables, 0.) * weights)
        gradients.append(tape.gradient(loss, logits).numpy())
        assert np.all(np.isfinite(gradients[-1]))
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-10, atol=1e-8)


def test_conditional_tables_take_the_log_space_steps_under_xla_and_agree():
    """The batch windows have data-dependent shapes, which XLA cannot compile: under XLA the
    exact tables are the log-space ones (the linear-space ones drop what is below t)."""
    num = tf.constant([[60., 60., 60., 60.], [5., 40., 12., 30.]], tf.float64)
    logits = tf.constant([[3., -3., 0., 1.], [1., -1., 0., 0.5]], tf.float64)
    total = tf.constant([100., 33.], tf.float64)

    def tables():
        return conditionals.conditional_tables(num, logits, 101, 61, "exact", total)

    compiled = tf.function(tables, jit_compile=True)().numpy()
    linear = tf.function(tables)().numpy()
    log_space = suffix_tables.suffix_log_tables(num, logits, 101, 61, first=1).numpy()
    np.testing.assert_allclose(compiled, log_space, rtol=1e-12, atol=1e-12)
    assert np.any(np.isneginf(linear) & np.isfinite(log_space))  # linear drops what is below t


def test_hard_relaxed_samples_through_the_linear_tables_follow_the_mvhg():
    """Chi-square against enumeration (fixed seed; a p-value below 1e-3 fails, the false-fail
    rate of a correct sampler over seeds) at a size that takes the linear-space tables."""
    m, n, logits = [40., 30., 35., 25.], 40, np.log([1., 3., 0.5, 2.])
    assert (n + 1) * (n + 1) >= conditionals.LINEAR_TABLES_MIN_TERMS
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(m, float(n), 0.5, logits=logits)
    samples = tf.function(lambda: dist.sample(20000, seed=(7, 8)))().numpy()
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    _, _, p_value = ref.pooled_chi_square(np.rint(samples).astype(np.int64), support, log_pmf)
    assert p_value > 1e-3
