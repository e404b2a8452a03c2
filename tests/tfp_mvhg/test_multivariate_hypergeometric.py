# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""MultivariateHypergeometric against enumeration, scipy and chi-square goodness of fit; its
shapes, seeds, dtypes, compilation, gradients, errors and KL; and everyday use, where each test
reproduces a defect a new user hit (expected values from enumeration or scipy).

Statistical tests use fixed seeds and reject at p < 1e-3: with a correct sampler, each fails for
a fraction 1e-3 of seeds; there are 6 such tests, so the family false-fail rate is below 0.6%.
"""

import re
from math import lgamma

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import stats

import mvhg_reference as ref
import tfp_mvhg

tfd = tfp.distributions

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


# Shapes, seeds, dtypes, compilation, gradients, errors ------------------------------------

def batch_distribution(dtype=tf.float32):
    """Batch shape [2, 3]: num_per_class [2, 1, 3], total_count [2, 1], logits [3, 3]."""
    num_per_class = np.array([[[4., 3., 5.]], [[2., 6., 1.]]])
    total_count = np.array([[6.], [5.]])
    logits = np.array([[0., 1., -1.], [2., 0., 0.5], [-0.5, -0.5, 3.]])
    return tfp_mvhg.MultivariateHypergeometric(
        num_per_class, total_count, logits=tf.constant(logits, dtype)), \
        (num_per_class, total_count, logits)


def test_batch_shapes_broadcast_and_match_single_distributions():
    dist, (m, n, logits) = batch_distribution(tf.float64)
    assert dist.batch_shape == [2, 3] and dist.event_shape == [3]
    np.testing.assert_array_equal(dist.batch_shape_tensor(), [2, 3])
    x = np.array([2., 2., 2.])
    log_prob = dist.log_prob(x).numpy()
    mean = dist.mean().numpy()
    covariance = dist.covariance().numpy()
    assert log_prob.shape == (2, 3) and mean.shape == (2, 3, 3) and covariance.shape == (2, 3, 3, 3)
    for a in range(2):
        for b in range(3):
            support, log_pmf = ref.enumerate_pmf(m[a, 0], int(n[a, 0]), logits[b])
            cell = np.flatnonzero((support == x).all(-1))
            expected = log_pmf[cell[0]] if len(cell) else -np.inf
            np.testing.assert_allclose(log_prob[a, b], expected, rtol=1e-10)
            expected_mean, expected_cov = ref.moments(support, log_pmf)
            np.testing.assert_allclose(mean[a, b], expected_mean, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(covariance[a, b], expected_cov, rtol=1e-8, atol=1e-12)


def test_sample_shapes_and_constraints():
    dist, (m, n, _) = batch_distribution()
    samples = dist.sample([4, 5], seed=(0, 1))
    assert samples.shape == (4, 5, 2, 3, 3) and samples.dtype == tf.float32
    samples = samples.numpy()
    np.testing.assert_array_equal(samples.sum(-1), np.broadcast_to(n, (4, 5, 2, 3)))
    assert np.all(samples >= 0) and np.all(samples <= m)
    assert dist.log_prob(samples).shape == (4, 5, 2, 3)


def test_slicing_keeps_parameters():
    dist, (m, n, logits) = batch_distribution(tf.float64)
    sliced = dist[1, 1:]
    assert sliced.batch_shape == [2]
    x = np.array([1., 3., 1.])
    np.testing.assert_allclose(sliced.log_prob(x).numpy(), dist.log_prob(x).numpy()[1, 1:])


def test_stateless_seeds_reproduce_and_differ():
    dist = tfp_mvhg.MultivariateHypergeometric([20., 30., 10.], 25., logits=[0.5, -0.2, 1.])
    first = dist.sample(50, seed=(3, 9)).numpy()
    np.testing.assert_array_equal(first, dist.sample(50, seed=(3, 9)).numpy())
    assert not np.array_equal(first, dist.sample(50, seed=(3, 10)).numpy())


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_dtypes(dtype):
    dist = tfp_mvhg.MultivariateHypergeometric([5, 7], 6, logits=tf.constant([0.3, -0.3], dtype))
    assert dist.dtype == dtype
    for value in (dist.sample(3, seed=(1, 1)), dist.log_prob([3., 3.]), dist.mean(),
                  dist.covariance(), dist.log_normalizer()):
        assert value.dtype == dtype


@pytest.mark.parametrize("jit_compile", [False, True])
def test_tf_function_and_xla_agree_with_eager(jit_compile):
    logits = tf.Variable([0.4, 1.2, -0.3, 0.0], dtype=tf.float64)
    num_per_class = [6., 3., 5., 4.]
    x = tf.constant([[2., 1., 3., 1.], [0., 3., 2., 2.]], tf.float64)

    def compute(logits):
        dist = tfp_mvhg.MultivariateHypergeometric(num_per_class, 7., logits=logits)
        return (dist.log_prob(x), dist.mean(), dist.covariance(),
                dist.sample(300, seed=(4, 2)))

    eager = compute(logits)
    compiled = tf.function(compute, jit_compile=jit_compile)(logits)
    for expected, actual in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-9, atol=1e-12)


def test_log_prob_gradient_is_sufficient_statistic_minus_mean():
    """d log p(x) / d theta = x - E[X] (exponential family), with E[X] from enumeration."""
    m, n, logits_value = [4., 0., 5., 3.], 6, [0.2, 0.9, -1.0, 30.]
    logits = tf.Variable(logits_value, dtype=tf.float64)
    x = tf.constant([2., 0., 1., 3.], tf.float64)
    with tf.GradientTape() as tape:
        log_prob = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=logits).log_prob(x)
    gradient = tape.gradient(log_prob, logits).numpy()
    support, log_pmf = ref.enumerate_pmf(m, n, logits_value)
    expected_mean, _ = ref.moments(support, log_pmf)
    np.testing.assert_allclose(gradient, x.numpy() - expected_mean, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("m,n", [([3., 0., 4.], 5.), ([3., 2., 4.], 0.), ([3., 2., 4.], 9.),
                                 ([6.], 4.), ([200., 200., 200.], 180.)])
def test_gradients_finite_at_edges(m, n):
    logits = tf.Variable(np.linspace(-30., 30., len(m)))
    with tf.GradientTape(persistent=True) as tape:
        dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=logits)
        x = dist.sample(3, seed=(2, 2))
        log_prob = tf.reduce_sum(dist.log_prob(x))
        mean = tf.reduce_sum(dist.mean() * tf.range(1., len(m) + 1., dtype=tf.float64))
        off_support = dist.log_prob(tf.fill([len(m)], tf.constant(-1., tf.float64)))
    for target in (log_prob, mean, off_support):
        gradient = tape.gradient(target, logits)
        assert gradient is None or np.all(np.isfinite(gradient.numpy()))
    assert off_support.numpy() == -np.inf


def test_off_support_is_minus_infinity_without_validation():
    dist = tfp_mvhg.MultivariateHypergeometric([3., 4., 2.], 5., logits=[0.1, 0.2, 0.3])
    points = [[1., 2., 1.], [6., -1., 0.], [4., 1., 0.], [1.5, 2.5, 1.], [1., 1., 1.]]
    log_prob = dist.log_prob(points).numpy()
    np.testing.assert_array_equal(log_prob, -np.inf)
    assert not np.any(np.isnan(log_prob))


BAD_PARAMETERS = [
    (dict(num_per_class=[3., -1.], total_count=1., logits=[0., 0.]), "`num_per_class`"),
    (dict(num_per_class=[3., 1.5], total_count=1., logits=[0., 0.]), "`num_per_class`"),
    (dict(num_per_class=[3., 1.], total_count=-1., logits=[0., 0.]), "`total_count`"),
    (dict(num_per_class=[3., 1.], total_count=2.5, logits=[0., 0.]), "`total_count`"),
    (dict(num_per_class=[3., 1.], total_count=5., logits=[0., 0.]), "`total_count`"),
    (dict(num_per_class=[3., 1.], total_count=2., logits=[np.inf, 0.]), "`logits`"),
    (dict(num_per_class=[3., 1.], total_count=2., logits=[np.nan, 0.]), "`logits`"),
    (dict(num_per_class=[3., 1.], total_count=2., weights=[-1., 1.]), "`weights`"),
    (dict(num_per_class=[3., 1.], total_count=2., weights=[0., 1.]), "items of positive weight"),
    (dict(num_per_class=[3., 1.], total_count=2., logits=[-np.inf, 0.]),
     "items of positive weight"),
]


@pytest.mark.parametrize("kwargs,name", BAD_PARAMETERS)
def test_bad_parameters_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(tf.errors.InvalidArgumentError, match=name):
        tfp_mvhg.MultivariateHypergeometric(validate_args=True, **kwargs)


def test_bad_variable_parameters_raise_at_use():
    logits = tf.Variable([0., 0.])
    dist = tfp_mvhg.MultivariateHypergeometric([3., 1.], 2., logits=logits, validate_args=True)
    logits.assign([0., np.inf])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`logits`"):
        dist.mean()


@pytest.mark.parametrize("value,message", [
    ([1., 2., 1.], "sum to `total_count`"),
    ([4., 0., 1.], "at most `num_per_class`"),
    ([-1., 4., 2.], "non-negative"),
    ([1.5, 2.5, 1.], "integer-valued"),
])
def test_log_prob_argument_off_support_raises_with_validation(value, message):
    dist = tfp_mvhg.MultivariateHypergeometric([3., 4., 2.], 5., logits=[0.1, 0.2, 0.3],
                                               validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        dist.log_prob(value)


def test_construction_errors():
    with pytest.raises(ValueError, match="exactly one of `logits` or `weights`"):
        tfp_mvhg.MultivariateHypergeometric([3., 4.], 2.)
    with pytest.raises(ValueError, match="`num_per_class` has 3 classes but `logits` has 2"):
        tfp_mvhg.MultivariateHypergeometric([3., 4., 1.], 2., logits=[0., 1.])


def test_kl_registered_and_validated():
    p = tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 1.], validate_args=True)
    q = tfp_mvhg.MultivariateHypergeometric([3., 5.], 2., logits=[0., 0.], validate_args=True)
    with pytest.raises(ValueError, match="equal `num_per_class`"):  # known statically
        tfd.kl_divergence(p, q)
    same = tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[5., 6.])
    np.testing.assert_allclose(tfd.kl_divergence(p, same).numpy(), 0., atol=1e-6)


@pytest.mark.parametrize("m,p_params,q_params", [
    ([3., 4., 2.], dict(weights=[0., 1., 2.]), dict(weights=[1., 1., 1.])),
    ([3., 4., 2.], dict(logits=[-np.inf, 0., 0.5]), dict(logits=[-np.inf, 1., 0.])),
    ([0., 4., 2.], dict(logits=[0., 0., 0.5]), dict(logits=[-np.inf, 1., 0.])),  # m_0 = 0
])
def test_kl_with_a_class_that_p_never_draws_is_finite(m, p_params, q_params):
    """It was NaN: (theta_q - theta_p) E_p[X] with an infinite logit and a zero mean."""
    def logits(params):
        return np.log(params["weights"]) if "weights" in params else params["logits"]

    with np.errstate(divide="ignore"):
        _, log_p = ref.enumerate_pmf(m, 4, logits(p_params))
        _, log_q = ref.enumerate_pmf(m, 4, logits(q_params))
    p = tfp_mvhg.MultivariateHypergeometric(m, 4., **{k: tf.constant(v, tf.float64)
                                                      for k, v in p_params.items()})
    q = tfp_mvhg.MultivariateHypergeometric(m, 4., **{k: tf.constant(v, tf.float64)
                                                      for k, v in q_params.items()})
    drawn = np.isfinite(log_p)  # the support under p
    expected = np.sum(np.exp(log_p[drawn]) * (log_p[drawn] - log_q[drawn]))
    assert np.isfinite(expected)
    np.testing.assert_allclose(tfd.kl_divergence(p, q), expected, rtol=1e-9)


@pytest.mark.parametrize("counts,name", [(([3., 5.], 2.), "num_per_class"),
                                         (([3., 4., 1.], 2.), "num_per_class"),
                                         (([3., 4.], 3.), "total_count")])
def test_kl_of_different_urns_raises_a_value_error_without_validation(counts, name):
    """It returned a number: the KL formula needs the same m and n."""
    p = tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 1.])
    q = tfp_mvhg.MultivariateHypergeometric(*counts, logits=tf.zeros([len(counts[0])]))
    for first, second in ((p, q), (q, p)):
        message = (f"KL needs equal `{name}`, got {getattr(first, name).numpy().tolist()} and "
                   f"{getattr(second, name).numpy().tolist()}.")
        with pytest.raises(ValueError, match=re.escape(message)):
            tfd.kl_divergence(first, second)


@pytest.mark.parametrize("validating", ["p", "q"])
def test_kl_of_different_urns_raises_at_run_time_with_validation(validating):
    @tf.function(input_signature=[tf.TensorSpec([2]), tf.TensorSpec([])])
    def kl(num_per_class, total_count):
        p = tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 1.],
                                                validate_args=validating == "p")
        q = tfp_mvhg.MultivariateHypergeometric(num_per_class, total_count, logits=[0., 0.],
                                                validate_args=validating == "q")
        return tfd.kl_divergence(p, q)

    expected = tfd.kl_divergence(
        tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 1.]),
        tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 0.]))
    np.testing.assert_allclose(kl(tf.constant([3., 4.]), tf.constant(2.)), expected, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="equal `num_per_class`"):
        kl(tf.constant([3., 5.]), tf.constant(2.))
    with pytest.raises(tf.errors.InvalidArgumentError, match="equal `total_count`"):
        kl(tf.constant([3., 4.]), tf.constant(1.))
    variable = tf.Variable([3., 4.])  # eagerly, a variable is not known statically
    p = tfp_mvhg.MultivariateHypergeometric(variable, 2., logits=[0., 1.],
                                            validate_args=validating == "p")
    q = tfp_mvhg.MultivariateHypergeometric([3., 4.], 2., logits=[0., 0.],
                                            validate_args=validating == "q")
    np.testing.assert_allclose(tfd.kl_divergence(p, q), expected, rtol=1e-6)
    variable.assign([4., 3.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="equal `num_per_class`"):
        tfd.kl_divergence(p, q)


def test_weights_and_shifted_logits_give_the_same_law():
    by_weights = tfp_mvhg.MultivariateHypergeometric([4., 6., 3.], 5., weights=[1., 4., 0.5])
    by_logits = tfp_mvhg.MultivariateHypergeometric(
        [4., 6., 3.], 5., logits=np.log([1., 4., 0.5]) + 11.)
    x = [[1., 3., 1.], [0., 5., 0.]]
    np.testing.assert_allclose(by_weights.log_prob(x), by_logits.log_prob(x), rtol=1e-5)
    np.testing.assert_allclose(by_weights.mean(), by_logits.mean(), rtol=1e-5)




# Everyday use: each test reproduces a defect a new user hit -------------------------------

MV = tfp_mvhg.MultivariateHypergeometric


M, N, LOGITS = [4., 3., 5.], 6, [0., 1., -1.]


def reference_mean_and_log_pmf(m, n, logits, x):
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    mean, _ = ref.moments(support, log_pmf)
    cell = np.flatnonzero((support == np.asarray(x)).all(-1))
    return mean, (log_pmf[cell[0]] if len(cell) else -np.inf)


def check_against_reference(dist, m=M, n=N, logits=LOGITS, x=(2., 2., 2.), samples=None):
    mean, log_p = reference_mean_and_log_pmf(m, n, logits, x)
    np.testing.assert_allclose(np.reshape(dist[0], -1), mean, rtol=1e-5)
    np.testing.assert_allclose(np.reshape(dist[1], -1), log_p, rtol=1e-5)
    if samples is not None:
        samples = np.asarray(samples)
        np.testing.assert_array_equal(samples.sum(-1), n)
        assert np.all((samples >= 0) & (samples <= m))


def test_distribution_passed_into_a_tf_function():
    """The CompositeTensor round trip: batch shape [] and counts that become graph tensors."""
    dist = MV(M, float(N), logits=LOGITS)
    results = tf.function(lambda d: (d.mean(), d.log_prob([2., 2., 2.]),
                                     d.sample(20, seed=(1, 2))))(dist)
    check_against_reference(results, samples=results[2])


def test_total_count_as_a_tf_function_argument():
    @tf.function
    def compute(n):
        dist = MV(M, n, logits=LOGITS)
        return dist.mean(), dist.log_prob([2., 2., 2.]), dist.sample(20, seed=(1, 2))

    results = compute(tf.constant(float(N)))
    check_against_reference(results, samples=results[2])


def test_variable_counts_eagerly_and_table_size_from_the_largest_count_at_run_time():
    num_per_class, total_count = tf.Variable(M), tf.Variable(2.)
    dist = MV(num_per_class, total_count, logits=LOGITS)
    total_count.assign(float(N))  # larger than at construction: the tables must grow
    results = dist.mean(), dist.log_prob([2., 2., 2.]), dist.sample(20, seed=(1, 2))
    check_against_reference(results, samples=results[2])


def test_total_count_drawn_from_a_binomial_in_a_joint_distribution():
    @tfd.JointDistributionCoroutineAutoBatched
    def model():
        n = yield tfd.Binomial(10., probs=0.5, name="n")
        yield MV(M, n, logits=LOGITS, name="x")

    draw = model.sample(seed=(1, 2))
    n = int(draw.n.numpy())
    _, log_p = reference_mean_and_log_pmf(M, n, LOGITS, draw.x.numpy())
    expected = stats.binom(10, 0.5).logpmf(n) + log_p
    np.testing.assert_allclose(model.log_prob(draw).numpy(), expected, rtol=1e-5)


def test_variance_is_never_negative_for_very_unequal_weights():
    dist = MV([30., 40.], 35., logits=[20., -20.])
    assert np.all(dist.variance().numpy() >= 0.)
    assert np.all(np.isfinite(dist.stddev().numpy()))


@pytest.mark.parametrize("params", [dict(weights=[0., 1., 2.]), dict(logits=[-np.inf, 0., 0.7])])
def test_a_class_of_weight_zero_is_never_drawn(params):
    dist = MV(M, float(N), **params)
    rest_logits = np.log([1., 2.]) if "weights" in params else [0., 0.7]
    support, log_pmf = ref.enumerate_pmf(M[1:], N, rest_logits)
    mean, _ = ref.moments(support, log_pmf)
    np.testing.assert_allclose(dist.mean().numpy(), [0., *mean], rtol=1e-5, atol=1e-6)
    x = np.concatenate([np.zeros([len(support), 1]), support], axis=1)
    np.testing.assert_allclose(dist.log_prob(x).numpy(), log_pmf, rtol=1e-5)
    assert dist.log_prob([1., 2., 3.]).numpy() == -np.inf
    samples = dist.sample(200, seed=(5, 6)).numpy()
    assert np.all(samples[:, 0] == 0) and np.all(samples.sum(-1) == N)
    relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(M, float(N), 0.5, **params)
    assert np.all(relaxed.sample(200, seed=(5, 6)).numpy()[:, 0] == 0)


def test_gradients_stay_finite_with_a_weight_zero_class():
    logits = tf.Variable([-np.inf, 0., 0.7], dtype=tf.float64)
    with tf.GradientTape() as tape:
        dist = MV(M, float(N), logits=logits)
        loss = dist.log_prob([0., 2., 4.]) + tf.reduce_sum(dist.mean())
    assert np.all(np.isfinite(tape.gradient(loss, logits).numpy()))


def reference_weight_gradients(m, n, weights, x):
    """d log p(x) / d omega and d log P0 / d omega by enumeration, P0 as a polynomial in omega.

    `P0 = sum_{x' in support} prod_j C(m_j, x'_j) omega_j^{x'_j}` is differentiated term by term
    (`0^0 = 1`), so a weight of 0 needs no limit.
    """
    support = ref.support(m, n).astype(np.float64)
    weights = np.asarray(weights, np.float64)
    terms = np.exp(ref.log_unnormalized(m, np.zeros(len(m)), support)) * np.prod(
        weights ** support, axis=-1)                                         # C(m, x') omega^x'
    derivatives = np.stack([
        np.exp(ref.log_unnormalized(m, np.zeros(len(m)), support))
        * support[:, i] * weights[i] ** np.maximum(support[:, i] - 1., 0.)
        * np.prod(np.delete(weights ** support, i, axis=-1), axis=-1)
        for i in range(len(m))], axis=-1)
    log_normalizer_gradient = derivatives.sum(0) / terms.sum()
    x = np.asarray(x, np.float64)
    direct = np.divide(x, weights, out=np.zeros_like(x), where=x > 0)
    return direct - log_normalizer_gradient, log_normalizer_gradient


@pytest.mark.parametrize("make", [
    lambda m, n, weights: MV(m, n, weights=weights),
    lambda m, n, weights: tfp_mvhg.RelaxedMultivariateHypergeometric(m, n, 0.5, weights=weights),
], ids=["exact", "relaxed"])
@pytest.mark.parametrize("m,n,weights,x", [
    ([2., 3., 4., 1.], 5, [0., 1.5, 0.7, 0.], [0., 2., 3., 0.]),
    ([2., 3., 4.], 7, [0., 1., 2.], [0., 3., 4.]),       # n = all the items of positive weight
    ([2., 3.], 0, [0., 1.], [0., 0.]),                   # n = 0: the normalizer is constant
    ([3., 2., 4.], 4, [2., 0.5, 1.], [1., 1., 2.]),      # no weight of 0
])
def test_log_prob_gradient_with_respect_to_a_weight_of_zero_is_exact(make, m, n, weights, x):
    """Finite (it was NaN: 0 * inf through log(omega)) and equal to enumeration's."""
    variable = tf.Variable(weights, dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        dist = make(m, float(n), variable)
        log_prob = dist.log_prob(x)
        log_normalizer = dist.log_normalizer()
    expected, expected_normalizer = reference_weight_gradients(m, n, weights, x)
    np.testing.assert_allclose(tape.gradient(log_prob, variable), expected, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(tape.gradient(log_normalizer, variable), expected_normalizer,
                               rtol=1e-9, atol=1e-12)


def test_a_nan_logit_gives_nan_not_plausible_numbers():
    dist = MV(M, float(N), logits=[np.nan, 0., 0.])
    assert np.isnan(dist.log_prob([2., 2., 2.]).numpy())
    assert np.all(np.isnan(dist.mean().numpy()))
    assert np.all(np.isnan(dist.sample(3, seed=(1, 2)).numpy()))
    relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(M, float(N), 1., logits=[np.nan, 0., 0.])
    assert np.all(np.isnan(relaxed.sample(3, seed=(1, 2)).numpy()))


@pytest.mark.parametrize("total_count", [-1., 13., 2.5])
def test_undefined_parameters_give_nan_or_raise_with_allow_nan_stats_false(total_count):
    dist = MV(M, total_count, logits=LOGITS)
    assert np.isnan(dist.log_prob([2., 2., 2.]).numpy())
    assert np.all(np.isnan(dist.sample(2, seed=(1, 2)).numpy()))
    for statistic in (dist.mean, dist.variance, dist.covariance):
        assert np.all(np.isnan(statistic().numpy()))
    strict = MV(M, total_count, logits=LOGITS, allow_nan_stats=False)
    for statistic in (strict.mean, strict.variance, strict.covariance):
        with pytest.raises(tf.errors.InvalidArgumentError, match="allow_nan_stats"):
            statistic()


def test_nan_statistics_only_for_the_undefined_batch_members():
    dist = MV(M, [6., 13.], logits=LOGITS)
    mean = dist.mean().numpy()
    assert np.all(np.isnan(mean[1]))
    np.testing.assert_allclose(mean[0], reference_mean_and_log_pmf(M, N, LOGITS, M)[0], rtol=1e-5)


ENTROPY_MODE_CASES = [
    ([4., 3., 5.], 6, [0., 1., -1.]),
    ([10., 1., 7., 4.], 9, [2., -1., 0.3, 0.]),
    ([6., 6.], 6, [0., 0.]),                      # ties: several modes
    ([3., 0., 5.], 0, [0.5, 1., 2.]),             # n = 0 and an empty class
    ([5., 2., 4.], 11, [1., 0., -2.]),            # n = N: a single point
    ([30., 40., 20.], 35, [8., -8., 0.]),         # very unequal weights
    ([5., 4., 3.], 5, [-np.inf, 0., 1.]),         # a class of weight zero
]


@pytest.mark.parametrize("m,n,logits", ENTROPY_MODE_CASES)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_entropy_and_mode_match_enumeration(m, n, logits, dtype):
    dist = MV(m, float(n), logits=tf.constant(logits, dtype))
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    finite = np.isfinite(log_pmf)
    expected_entropy = -np.sum(np.exp(log_pmf[finite]) * log_pmf[finite])
    tolerance = 1e-10 if dtype == tf.float64 else 1e-5
    np.testing.assert_allclose(dist.entropy().numpy(), expected_entropy, rtol=tolerance,
                               atol=tolerance)
    mode = dist.mode().numpy()
    assert mode.sum() == n
    cell = np.flatnonzero((support == mode).all(-1))
    assert len(cell) == 1 and np.isclose(log_pmf[cell[0]], log_pmf.max(), rtol=1e-9, atol=1e-12)


def test_entropy_and_mode_of_a_batch():
    dist = MV([[4., 3., 5.], [2., 6., 1.]], [6., 13.], logits=LOGITS)
    entropy, mode = dist.entropy().numpy(), dist.mode().numpy()
    support, log_pmf = ref.enumerate_pmf(M, N, LOGITS)
    np.testing.assert_allclose(entropy[0], -np.sum(np.exp(log_pmf) * log_pmf), rtol=1e-5)
    assert np.isnan(entropy[1]) and np.all(np.isnan(mode[1]))        # n = 13 > N = 9
    np.testing.assert_array_equal(mode[0], support[np.argmax(log_pmf)])
