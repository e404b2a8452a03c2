# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Generic checks of every public distribution, driven by one table: shapes (static and dynamic),
slicing, `copy`, eager / `tf.function` / XLA, parameter properties, validation, and the TFP
conventions (reparameterization type, discreteness)."""

import collections

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_mvhg

tfd = tfp.distributions

M, N, LOGITS, TEMPERATURE = [4., 3., 5.], 6., [[0., 1., -1.], [0.5, -0.5, 0.]], 0.5

Case = collections.namedtuple("Case", [
    "cls",                 # the distribution
    "parameters",          # constructor arguments: batch shape [2], from `batched` alone
    "batched",             # the parameter that carries the batch dimension
    "event_shape",
    "reparameterization",
    "discrete",            # a pmf (DiscreteDistributionMixin)
    "too_many_draws",      # constructor arguments with more draws than items
])

CASES = {
    "multivariate": Case(
        tfp_mvhg.MultivariateHypergeometric, dict(num_per_class=M, total_count=N, logits=LOGITS),
        "logits", [3], tfd.NOT_REPARAMETERIZED, True, dict(total_count=13.)),
    "fisher": Case(
        tfp_mvhg.FisherNoncentralHypergeometric,
        dict(num_successes=7., num_failures=5., total_count=N, log_odds=[0.5, -1.]),
        "log_odds", [], tfd.NOT_REPARAMETERIZED, True, dict(total_count=13.)),
    "relaxed": Case(
        tfp_mvhg.RelaxedMultivariateHypergeometric,
        dict(num_per_class=M, total_count=N, temperature=TEMPERATURE, logits=LOGITS),
        "logits", [3], tfd.NOT_REPARAMETERIZED, False, dict(total_count=13.)),
    "exp_relaxed": Case(
        tfp_mvhg.ExpRelaxedMultivariateHypergeometric,
        dict(num_per_class=M, total_count=N, temperature=TEMPERATURE, logits=LOGITS),
        "logits", [3, 6], tfd.NOT_REPARAMETERIZED, False, dict(total_count=13.)),
    "relaxed_one_hot": Case(
        tfp_mvhg.RelaxedOneHotMultivariateHypergeometric,
        dict(num_per_class=M, total_count=N, temperature=TEMPERATURE, logits=LOGITS),
        "logits", [3, 6], tfd.NOT_REPARAMETERIZED, False, dict(total_count=13.)),
}
NON_TENSOR_ARGUMENTS = {"validate_args", "allow_nan_stats", "name", "hard", "method",
                        "shuffle_classes", "table_dtype"}


@pytest.fixture(params=list(CASES.values()), ids=list(CASES))
def case(request):
    return request.param


def make(case, **overrides):
    return case.cls(**dict(case.parameters, **overrides))


def assert_close(actual, expected):
    """Equal, up to float32 round-off where finite (log one-hots are -inf off the support)."""
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-4, atol=1e-5)


def test_static_shapes(case):
    dist = make(case)
    assert dist.batch_shape == [2] and dist.event_shape == case.event_shape
    np.testing.assert_array_equal(dist.batch_shape_tensor(), [2])
    np.testing.assert_array_equal(dist.event_shape_tensor(), case.event_shape)
    samples = dist.sample([4, 5], seed=(1, 2))
    assert samples.shape == [4, 5, 2] + case.event_shape
    assert dist.log_prob(samples).shape == [4, 5, 2]


def test_dynamic_shapes(case):
    """The batch dimension unknown when tracing: shapes come out at run time."""
    batched = np.asarray(case.parameters[case.batched], np.float32)
    spec = tf.TensorSpec([None] + list(batched.shape[1:]), tf.float32)

    @tf.function(input_signature=[spec])
    def shapes(value):
        dist = make(case, **{case.batched: value})
        assert dist.batch_shape.as_list() == [None]
        samples = dist.sample(4, seed=(1, 2))
        return (dist.batch_shape_tensor(), dist.event_shape_tensor(), tf.shape(samples),
                tf.shape(dist.log_prob(samples)))

    batch, event, sample_shape, log_prob_shape = shapes(batched)
    np.testing.assert_array_equal(batch, [2])
    np.testing.assert_array_equal(event, case.event_shape)
    np.testing.assert_array_equal(sample_shape, [4, 2] + case.event_shape)
    np.testing.assert_array_equal(log_prob_shape, [4, 2])


@pytest.mark.parametrize("index", [0, slice(1, None)], ids=["member", "slice"])
def test_slicing_keeps_parameters(case, index):
    dist = make(case)
    samples = dist.sample(5, seed=(3, 4))
    sliced = dist[index]
    assert type(sliced) is type(dist)
    assert sliced.batch_shape == np.zeros(2)[index].shape
    assert_close(sliced.log_prob(samples[:, index]), dist.log_prob(samples)[:, index])


def test_copy_keeps_parameters_and_overrides(case):
    dist = make(case)
    copy = dist.copy()
    assert type(copy) is type(dist) and copy.parameters.keys() == dist.parameters.keys()
    samples = dist.sample(5, seed=(3, 4))
    assert_close(copy.log_prob(samples), dist.log_prob(samples))
    assert dist.copy(validate_args=True).validate_args and not dist.validate_args


@pytest.mark.parametrize("jit_compile", [False, True], ids=["function", "xla"])
def test_compiled_samples_and_log_prob_equal_eager(case, jit_compile):
    dist = make(case)

    def sample_and_log_prob(seed):
        samples = dist.sample(20, seed=seed)
        return samples, dist.log_prob(samples)

    eager = sample_and_log_prob(tf.constant([5, 6]))
    compiled = tf.function(sample_and_log_prob, jit_compile=jit_compile)(tf.constant([5, 6]))
    for actual, expected in zip(compiled, eager, strict=True):
        assert_close(actual, expected)


def test_distribution_as_a_tf_function_argument(case):
    """The CompositeTensor round trip."""
    dist = make(case)
    samples = dist.sample(5, seed=(3, 4))
    assert_close(tf.function(lambda d: d.log_prob(samples))(dist), dist.log_prob(samples))


def test_parameter_properties_cover_the_parameters_and_give_their_shapes(case):
    dist = make(case)
    tensor_parameters = {name for name, value in dist.parameters.items()
                         if name not in NON_TENSOR_ARGUMENTS}
    properties = dist.parameter_properties()
    assert set(properties) == tensor_parameters
    shapes = case.cls.param_shapes([2] + case.event_shape)
    for name, value in dist.parameters.items():
        if name in properties and value is not None:
            expected = shapes[name].numpy().tolist()
            assert list(np.broadcast_shapes(np.shape(value), expected)) == expected, name


def test_constraining_bijectors_give_valid_parameters(case):
    """Each parameter with a default constraining bijector, set from unconstrained values, makes
    a distribution that passes validation."""
    dist = make(case)
    for name, properties in dist.parameter_properties(tf.float32).items():
        value = dist.parameters[name]
        if value is None or not properties.is_tensor:
            continue
        try:
            bijector = properties.default_constraining_bijector_fn()
        except NotImplementedError:  # the counts: integers
            continue
        unconstrained = tf.fill(np.shape(value), -20.)
        constrained = make(case, **{name: bijector.forward(unconstrained)}, validate_args=True)
        assert not np.any(np.isnan(constrained.sample(seed=(1, 2)).numpy()))


def test_validate_args_errors_at_construction_and_for_variables_at_use(case):
    with pytest.raises(tf.errors.InvalidArgumentError, match="`total_count`"):
        make(case, validate_args=True, **case.too_many_draws)
    total_count = tf.Variable(N)
    dist = make(case, total_count=total_count, validate_args=True)
    total_count.assign(case.too_many_draws["total_count"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`total_count`"):
        dist.sample(seed=(1, 2))


def test_reparameterization_type(case):
    assert make(case).reparameterization_type == case.reparameterization


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.discrete])
def test_discrete_distributions_keep_their_probabilities_under_a_bijector(name):
    """`DiscreteDistributionMixin`: a pmf pushed through a bijector gets no Jacobian term."""
    dist = make(CASES[name])
    samples = dist.sample(5, seed=(3, 4))
    transformed = tfp.bijectors.Scale(2.)(dist)
    assert_close(transformed.log_prob(2. * samples), dist.log_prob(samples))
    assert np.all(np.isfinite(dist.log_prob(samples)))


# Errors shared by several distributions ----------------------------------------------------------

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


@pytest.mark.parametrize("make", [
    lambda: tfp_mvhg.MultivariateHypergeometric(M, 6., logits=np.array([0, 1, 2])),
    lambda: tfp_mvhg.MultivariateHypergeometric(M, 6., weights=np.array([1, 1, 2])),
    lambda: tfp_mvhg.FisherNoncentralHypergeometric(7., 5., 6., odds=np.array(2)),
    lambda: tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=np.array([0, 1, 2])),
])
def test_integer_class_parameters_raise_a_type_error(make):
    with pytest.raises(TypeError, match="floating"):
        make()


RELAXED_CLASSES = [tfp_mvhg.RelaxedMultivariateHypergeometric,
                   tfp_mvhg.ExpRelaxedMultivariateHypergeometric,
                   tfp_mvhg.RelaxedOneHotMultivariateHypergeometric]


BAD_TEMPERATURES = [0., -1., np.inf, np.nan]


@pytest.mark.parametrize("make", RELAXED_CLASSES)
@pytest.mark.parametrize("temperature", BAD_TEMPERATURES + [[1., 0.]])
def test_a_temperature_that_is_not_positive_and_finite_raises_a_value_error(make, temperature):
    """It gave NaN or plausible-looking counts (-1: counts outside [0, m]; inf: means)."""
    for validate_args in (False, True):
        with pytest.raises(ValueError, match="`temperature` must be positive and finite, got"):
            make([3., 4., 2.], 5., temperature, logits=[0.1, 0.2, 0.3],
                 validate_args=validate_args)


@pytest.mark.parametrize("make", RELAXED_CLASSES)
def test_a_temperature_not_known_statically_is_checked_at_run_time_with_validation(make):
    @tf.function(input_signature=[tf.TensorSpec([])])
    def draw(temperature):
        return make([3., 4., 2.], 5., temperature, logits=[0.1, 0.2, 0.3],
                    validate_args=True).sample(seed=(1, 2))

    variable = tf.Variable(1.)
    dist = make([3., 4., 2.], 5., variable, logits=[0.1, 0.2, 0.3], validate_args=True)
    for sample in (draw(tf.constant(1.)), dist.sample(seed=(1, 2))):
        assert not np.any(np.isnan(sample))  # (log one-hots are -inf off the support)
    for temperature in BAD_TEMPERATURES:
        with pytest.raises(tf.errors.InvalidArgumentError, match="`temperature`"):
            draw(tf.constant(temperature))
        variable.assign(temperature)
        with pytest.raises(tf.errors.InvalidArgumentError, match="`temperature`"):
            dist.sample(seed=(1, 2))


@pytest.mark.parametrize("make", RELAXED_CLASSES)
def test_temperature_is_constrained_positive_by_softplus(make):
    """As in `tfd.RelaxedOneHotCategorical`: Softplus with a floor of eps, so any real number
    maps to a temperature the distribution accepts."""
    bijector = make.parameter_properties(tf.float64)["temperature"] \
        .default_constraining_bijector_fn()
    temperature = bijector.forward(tf.constant([-100., 0., 5.], tf.float64))
    assert np.all(temperature.numpy() > 0)
    dist = make([3., 4., 2.], 5., temperature, logits=np.zeros(3), validate_args=True)
    assert not np.any(np.isnan(dist.sample(seed=(1, 2)).numpy()))  # log one-hots: -inf pads
