"""MultivariateHypergeometric as a TFP distribution: shapes, seeds, compilation, gradients, errors."""

import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import mvhg_reference as ref
import tfp_mvhg

tfd = tfp.distributions


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
    for expected, actual in zip(eager, compiled):
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


WRONG_EVENT_SHAPES = [([[1.]], "got 1"), ([1., 2.], "got 2"), ([[1., 2., 1., 1.]], "got 4"),
                      (5., "got a value of shape")]
COUNT_DISTRIBUTIONS = {
    "exact": lambda **kwargs: tfp_mvhg.MultivariateHypergeometric(
        [3., 4., 2.], 5., logits=[0.1, 0.2, 0.3], **kwargs),
    "relaxed": lambda **kwargs: tfp_mvhg.RelaxedMultivariateHypergeometric(
        [3., 4., 2.], 5., 0.5, logits=[0.1, 0.2, 0.3], **kwargs),
    "merged": lambda **kwargs: tfp_mvhg.RelaxedMultivariateHypergeometric(
        [3., 4., 2.], 5., 0.5, logits=[0.1, 0.2, 0.3], method="merged", **kwargs),
}


@pytest.mark.parametrize("make", COUNT_DISTRIBUTIONS.values(), ids=COUNT_DISTRIBUTIONS.keys())
@pytest.mark.parametrize("value,got", WRONG_EVENT_SHAPES)
def test_log_prob_of_counts_with_the_wrong_number_of_classes_raises_a_value_error(make, value, got):
    """Not a broadcasting error from deep inside, nor -inf for a last dimension of 1."""
    for validate_args in (False, True):
        with pytest.raises(ValueError, match=(
                r"`value`'s last dimension must be the number of classes, 3, " + got)):
            make(validate_args=validate_args).log_prob(value)


@pytest.mark.parametrize("make", COUNT_DISTRIBUTIONS.values(), ids=COUNT_DISTRIBUTIONS.keys())
def test_log_prob_of_counts_of_unknown_shape_is_checked_at_run_time_with_validation(make):
    dist = make(validate_args=True)
    log_prob = tf.function(dist.log_prob, input_signature=[tf.TensorSpec(None, tf.float32)])
    np.testing.assert_allclose(log_prob(tf.constant([[1., 2., 2.]])),
                               dist.log_prob([[1., 2., 2.]]), rtol=1e-6)
    for value, _ in WRONG_EVENT_SHAPES:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="last dimension must be the number of classes"):
            log_prob(tf.constant(value))


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
