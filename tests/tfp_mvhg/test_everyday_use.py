"""Everyday TFP use: counts that are not constants, broadcasting, edge parameters, dtypes, KL.

Each test reproduces a defect a new user hit; expected values come from enumeration or scipy
(`mvhg_reference`), never from tfp_mvhg itself.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import stats

import mvhg_reference as ref
import tfp_mvhg

tfd = tfp.distributions
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


# Counts that are not Python constants --------------------------------------------------------

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


def test_fisher_with_variable_and_traced_counts():
    def compute(dist):
        return dist.mean(), dist.log_prob(3.), dist.sample(5, seed=(1, 2))

    reference = stats.nchypergeom_fisher(12, 7, 6, 2.5)
    for dist in (tfp_mvhg.FisherNoncentralHypergeometric(tf.Variable(7.), 5., tf.Variable(6.),
                                                          odds=2.5),
                 tfp_mvhg.FisherNoncentralHypergeometric(7., 5., 6., odds=2.5)):
        for mean, log_p, samples in (compute(dist), tf.function(compute)(dist)):
            np.testing.assert_allclose(mean, reference.mean(), rtol=1e-5)
            np.testing.assert_allclose(log_p, reference.logpmf(3), rtol=1e-5)
            assert np.all((samples.numpy() >= 1) & (samples.numpy() <= 6))


def test_relaxed_distribution_passed_into_a_tf_function():
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(M, float(N), 0.5, logits=LOGITS)
    samples = tf.function(lambda d: d.sample(20, seed=(1, 2)))(dist)
    np.testing.assert_array_equal(samples.numpy().sum(-1), N)


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


# Wrong or crashing results ---------------------------------------------------------------------

def test_merged_log_prob_with_a_batch_of_parameters():
    m = np.array([[4., 3., 5.], [2., 6., 1.]])
    weights = np.array([[1., 2., .5], [3., 1., 1.]])
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(m, 5., 1., weights=weights, method="merged")
    x = np.array([[2., 2., 1.], [1., 3., 1.]])
    expected = []
    for b in range(2):
        support, log_p = ref.merged_scheme_pmf(m[b], 5, weights[b])
        expected.append([log_p[(support == row).all(-1)][0] for row in x])
    expected = np.array(expected)                                       # [batch, point]
    np.testing.assert_allclose(dist.log_prob(x[0]).numpy(), expected[:, 0], rtol=1e-10)
    np.testing.assert_allclose(dist.log_prob(x).numpy(), np.diag(expected), rtol=1e-10)
    np.testing.assert_allclose(dist.log_prob(x[:, None]).numpy(), expected.T, rtol=1e-10)


def test_fisher_log_prob_broadcasts_the_value_against_the_batch():
    dist = tfp_mvhg.FisherNoncentralHypergeometric(7., 5., [6., 5.], odds=2.)
    expected = [stats.nchypergeom_fisher(12, 7, n, 2.).logpmf(3) for n in (6, 5)]
    np.testing.assert_allclose(dist.log_prob(3.).numpy(), expected, rtol=1e-5)


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


@pytest.mark.parametrize("make", [
    lambda: MV(M, 6., logits=np.array([0, 1, 2])),
    lambda: MV(M, 6., weights=np.array([1, 1, 2])),
    lambda: tfp_mvhg.FisherNoncentralHypergeometric(7., 5., 6., odds=np.array(2)),
    lambda: tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=np.array([0, 1, 2])),
])
def test_integer_class_parameters_raise_a_type_error(make):
    with pytest.raises(TypeError, match="floating"):
        make()


def test_kl_of_relaxed_distributions():
    exact = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS)
    central = MV(M, 6., logits=[0., 0., 0.])
    support, log_p = ref.enumerate_pmf(M, 6, LOGITS)
    _, log_q = ref.enumerate_pmf(M, 6, [0., 0., 0.])
    expected = np.sum(np.exp(log_p) * (log_p - log_q))
    np.testing.assert_allclose(tfd.kl_divergence(exact, central).numpy(), expected, rtol=1e-5)
    for method, hard in (("merged", True), ("exact", False)):
        relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(
            M, 6., 1., logits=LOGITS, method=method, hard=hard)
        for p, q in ((relaxed, central), (central, relaxed), (relaxed, exact)):
            with pytest.raises(NotImplementedError, match="method='exact' and hard=True"):
                tfd.kl_divergence(p, q)


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


@pytest.mark.parametrize("kwargs,message", [
    (dict(num_successes=-1., num_failures=5., total_count=3., odds=1.), "`num_successes`"),
    (dict(num_successes=7., num_failures=1.5, total_count=3., odds=1.), "`num_failures`"),
    (dict(num_successes=7., num_failures=5., total_count=13., odds=1.), "`total_count`"),
    (dict(num_successes=7., num_failures=5., total_count=3., odds=-1.), "`odds`"),
    (dict(num_successes=7., num_failures=5., total_count=3., odds=np.inf), "`odds`"),
    (dict(num_successes=7., num_failures=5., total_count=3., log_odds=np.nan), "`log_odds`"),
])
def test_fisher_errors_name_the_fisher_parameters(kwargs, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        tfp_mvhg.FisherNoncentralHypergeometric(validate_args=True, **kwargs)


def test_fisher_with_odds_zero_never_draws_a_success():
    dist = tfp_mvhg.FisherNoncentralHypergeometric(7., 5., 3., odds=0., validate_args=True)
    assert dist.mean().numpy() == 0. and dist.log_prob(0.).numpy() == 0.


# Entropy and mode ------------------------------------------------------------------------------

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


def test_entropy_and_mode_of_a_batch_and_of_fisher():
    dist, _ = MV([[4., 3., 5.], [2., 6., 1.]], [6., 13.], logits=LOGITS), None
    entropy, mode = dist.entropy().numpy(), dist.mode().numpy()
    support, log_pmf = ref.enumerate_pmf(M, N, LOGITS)
    np.testing.assert_allclose(entropy[0], -np.sum(np.exp(log_pmf) * log_pmf), rtol=1e-5)
    assert np.isnan(entropy[1]) and np.all(np.isnan(mode[1]))        # n = 13 > N = 9
    np.testing.assert_array_equal(mode[0], support[np.argmax(log_pmf)])
    fisher = tfp_mvhg.FisherNoncentralHypergeometric(7., 5., [6., 4.], odds=2.5)
    for n, entropy, mode in zip((6, 4), fisher.entropy().numpy(), fisher.mode().numpy()):
        reference = stats.nchypergeom_fisher(12, 7, n, 2.5)
        values = np.arange(13)
        pmf = reference.pmf(values)
        np.testing.assert_allclose(entropy, reference.entropy(), rtol=1e-5)
        assert mode == values[np.argmax(pmf)]


def test_relaxed_entropy_and_mode_only_for_exact_hard_samples():
    exact = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS)
    np.testing.assert_allclose(exact.entropy().numpy(), MV(M, 6., logits=LOGITS).entropy().numpy())
    merged = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS, method="merged")
    for statistic in (merged.entropy, merged.mode):
        with pytest.raises(NotImplementedError, match="method='exact' with hard=True"):
            statistic()
