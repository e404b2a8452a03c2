"""FisherNoncentralHypergeometric: its parameters, and its law against scipy."""

import numpy as np
import pytest
import tensorflow as tf

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
