"""MultivariateHypergeometric against enumeration, scipy and chi-square goodness of fit.

Statistical tests use fixed seeds and reject at p < 1e-3: with a correct sampler, each fails for
a fraction 1e-3 of seeds; there are 6 such tests, so the family false-fail rate is below 0.6%.
"""

from math import lgamma

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import mvhg_reference as ref
import tfp_mvhg

P_VALUE_FLOOR = 1e-3


def random_configs(count, seed=0):
    """Small random configurations: (m, n, logits) with c = 2..5, m_i in 0..6, logits ~ N(0, 2)."""
    rng = np.random.default_rng(seed)
    configs = []
    for _ in range(count):
        c = int(rng.integers(2, 6))
        m = rng.integers(0, 7, size=c)
        n = int(rng.integers(0, m.sum() + 1))
        configs.append((m.astype(np.float64), n, rng.normal(0., 2., size=c)))
    return configs


CONFIGS = random_configs(40)


def relative_close(actual, expected, rtol=1e-9):
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.maximum(np.abs(expected), 1.0)
    np.testing.assert_array_less(np.abs(actual - expected), rtol * scale + 1e-300)


@pytest.mark.parametrize("m,n,logits", CONFIGS)
def test_log_prob_mean_covariance_match_enumeration(m, n, logits):
    dist = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=logits)
    x, log_pmf = ref.enumerate_pmf(m, n, logits)
    relative_close(dist.log_prob(x.astype(np.float64)).numpy(), log_pmf)
    mean, covariance = ref.moments(x, log_pmf)
    relative_close(dist.mean().numpy(), mean)
    relative_close(dist.covariance().numpy(), covariance)
    relative_close(dist.variance().numpy(), np.diag(covariance))
    np.testing.assert_allclose(np.exp(dist.log_prob(x.astype(np.float64)).numpy()).sum(), 1.0,
                               rtol=1e-12)


@pytest.mark.parametrize("m,n,logits", CONFIGS[:15])
def test_kl_matches_enumeration(m, n, logits):
    other_logits = logits + np.random.default_rng(int(n)).normal(0., 1.5, size=len(logits))
    p = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=logits)
    q = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=other_logits)
    x, log_p = ref.enumerate_pmf(m, n, logits)
    _, log_q = ref.enumerate_pmf(m, n, other_logits)
    expected = np.sum(np.exp(log_p) * (log_p - log_q))
    relative_close(tfp_mvhg.kl_divergence(p, q).numpy(), expected)


def test_two_classes_match_scipy():
    rng = np.random.default_rng(1)
    for _ in range(20):
        successes, failures = rng.integers(1, 40, size=2)
        draws = int(rng.integers(0, successes + failures + 1))
        odds = float(np.exp(rng.normal(0., 1.5)))
        law = stats.nchypergeom_fisher(successes + failures, successes, draws, odds)
        xs = np.arange(0, successes + 1, dtype=np.float64)
        fisher = tfp_mvhg.FisherNoncentralHypergeometric(
            float(successes), float(failures), float(draws), odds=tf.constant(odds, tf.float64))
        expected = law.logpmf(xs)
        actual = fisher.log_prob(xs).numpy()
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(np.isfinite(actual), finite)
        np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-6)
        np.testing.assert_allclose(fisher.mean().numpy(), law.mean(), rtol=1e-6)
        np.testing.assert_allclose(fisher.variance().numpy(), law.var(), rtol=1e-6, atol=1e-9)
        multivariate = tfp_mvhg.MultivariateHypergeometric(
            [successes, failures], float(draws), weights=tf.constant([odds, 1.], tf.float64))
        two_class = np.stack([xs, draws - xs], axis=-1)
        np.testing.assert_allclose(multivariate.log_prob(two_class).numpy()[finite],
                                   expected[finite], rtol=1e-6)


GOF_CASES = [
    # (m, n, weights, num_samples): the first is where the paper's merged scheme fails (TV 0.36).
    ([200, 200, 200], 180, [1., 5., 1.], 20000),
    ([200, 200, 200], 180, [1., 10., 1.], 20000),
    ([5, 8, 3, 6], 9, [0.2, 3., 1., 7.], 20000),
    ([10, 0, 7], 10, [2., 1., 0.5], 10000),
    ([30, 4, 12], 20, [1., 1., 1.], 10000),
]


@pytest.mark.parametrize("m,n,weights,num_samples", GOF_CASES)
def test_samples_fit_enumerated_pmf(m, n, weights, num_samples):
    dist = tfp_mvhg.MultivariateHypergeometric(
        m, float(n), weights=tf.constant(weights, tf.float64))
    samples = dist.sample(num_samples, seed=(7, n)).numpy()
    x, log_pmf = ref.enumerate_pmf(m, n, np.log(weights))
    _, _, p_value = ref.pooled_chi_square(samples, x, log_pmf)
    assert p_value > P_VALUE_FLOOR, p_value


def test_goodness_of_fit_rejects_the_merged_scheme():
    """The chi-square test has power: our exact samples are rejected against the paper's scheme."""
    m, n, weights = [200, 200, 200], 180, [1., 5., 1.]
    dist = tfp_mvhg.MultivariateHypergeometric(m, float(n), weights=weights)
    samples = dist.sample(20000, seed=(7, 180)).numpy()
    x, log_merged = ref.merged_scheme_pmf(m, n, weights)
    _, log_exact = ref.enumerate_pmf(m, n, np.log(weights))
    total_variation = 0.5 * np.abs(np.exp(log_merged) - np.exp(log_exact)).sum()
    assert total_variation > 0.3
    _, _, p_value = ref.pooled_chi_square(samples, x, log_merged)
    assert p_value < 1e-12


def test_edge_cases_against_enumeration():
    cases = [
        ([3., 0., 4.], 5., [0.3, 1.2, -0.7]),    # a class with m_i = 0
        ([3., 2., 4.], 0., [0.3, 1.2, -0.7]),    # n = 0
        ([3., 2., 4.], 9., [0.3, 1.2, -0.7]),    # n = N
        ([6.], 4., [2.0]),                       # c = 1
        ([4., 5., 3.], 6., [-30., 0., 30.]),     # very unequal weights
        ([4., 5., 3.], 6., [30., 29.5, -30.]),
    ]
    for m, n, logits in cases:
        dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=tf.constant(logits, tf.float64))
        x, log_pmf = ref.enumerate_pmf(m, int(n), logits)
        relative_close(dist.log_prob(x.astype(np.float64)).numpy(), log_pmf)
        mean, covariance = ref.moments(x, log_pmf)
        np.testing.assert_allclose(dist.mean().numpy(), mean, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(dist.covariance().numpy(), covariance, rtol=1e-7, atol=1e-9)
        samples = dist.sample(200, seed=(1, 2)).numpy()
        assert np.all(np.isfinite(dist.log_prob(samples).numpy()))
        np.testing.assert_array_equal(samples.sum(-1), n)
        assert np.all((samples >= 0) & (samples <= np.array(m)))


def test_large_counts_central_closed_form_and_finite():
    """m_i ~ 1e4, n = 5000: with equal logits, log P0 = log C(N, n) + n theta (Vandermonde)."""
    m = np.array([10000., 12000., 8000.])
    n = 5000.
    theta = 0.7
    dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=tf.constant([theta] * 3, tf.float64))
    total = m.sum()
    log_p0 = lgamma(total + 1) - lgamma(n + 1) - lgamma(total - n + 1) + n * theta
    np.testing.assert_allclose(dist.log_normalizer().numpy(), log_p0, rtol=1e-12)
    samples = dist.sample(200, seed=(3, 4)).numpy()
    np.testing.assert_array_equal(samples.sum(-1), n)
    # Central multivariate hypergeometric: E[X] = n m / N, checked within 5 standard errors.
    std_error = np.sqrt(n * (m / total) * (1 - m / total) * (total - n) / (total - 1) / 200)
    assert np.all(np.abs(samples.mean(0) - n * m / total) < 5 * std_error)
    spread = tfp_mvhg.MultivariateHypergeometric(
        m, n, logits=tf.constant([-30., 0., 30.], tf.float64))
    x = spread.sample(20, seed=(5, 6))
    assert np.all(np.isfinite(spread.log_prob(x).numpy()))
    np.testing.assert_array_equal(x.numpy()[:, 2], 5000.)  # omega_3 / omega_2 = e^30 wins all
