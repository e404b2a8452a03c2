# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""FisherNoncentralHypergeometric: its parameters, and its law against scipy."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfp_mvhg

FISHER = tfp_mvhg.FisherNoncentralHypergeometric


@pytest.mark.parametrize("class_parameter", ["log_odds", "odds"])
def test_parameter_properties_return_the_inputs(class_parameter):
    value = tf.constant([0.5, 2.], tf.float64)
    dist = FISHER(7., [5., 4.], 6., **{class_parameter: value})
    np.testing.assert_array_equal(dist.num_successes, 7.)
    np.testing.assert_array_equal(dist.num_failures, [5., 4.])
    np.testing.assert_array_equal(dist.total_count, 6.)
    assert getattr(dist, class_parameter) is value
    other = "odds" if class_parameter == "log_odds" else "log_odds"
    assert getattr(dist, other) is None
    expected = np.log(value) if class_parameter == "odds" else value
    np.testing.assert_allclose(dist.log_odds_parameter(), expected, rtol=1e-15)
    assert set(dist.parameter_properties()) == {
        "num_successes", "num_failures", "total_count", "log_odds", "odds"}
    assert dist.num_successes.dtype == dist.num_failures.dtype == tf.float64


def test_variable_counts_stay_variables_and_are_read_at_use():
    successes = tf.Variable(7.)
    dist = FISHER(successes, 5., 6., odds=2.5, validate_args=True)
    assert dist.num_successes is successes
    successes.assign(3.)  # now at most 3 successes can be drawn
    np.testing.assert_array_equal(dist.log_prob(4.), -np.inf)
    successes.assign(-1.)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`num_successes`"):
        dist.mean()


# The law ----------------------------------------------------------------------------------------

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


def test_fisher_log_prob_broadcasts_the_value_against_the_batch():
    dist = tfp_mvhg.FisherNoncentralHypergeometric(7., 5., [6., 5.], odds=2.)
    expected = [stats.nchypergeom_fisher(12, 7, n, 2.).logpmf(3) for n in (6, 5)]
    np.testing.assert_allclose(dist.log_prob(3.).numpy(), expected, rtol=1e-5)


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


def test_entropy_and_mode_of_a_batch():
    fisher = tfp_mvhg.FisherNoncentralHypergeometric(7., 5., [6., 4.], odds=2.5)
    entropies, modes = fisher.entropy().numpy(), fisher.mode().numpy()
    for n, entropy, mode in zip((6, 4), entropies, modes, strict=True):
        reference = stats.nchypergeom_fisher(12, 7, n, 2.5)
        values = np.arange(13)
        pmf = reference.pmf(values)
        np.testing.assert_allclose(entropy, reference.entropy(), rtol=1e-5)
        assert mode == values[np.argmax(pmf)]
