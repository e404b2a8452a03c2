"""Fisher's noncentral hypergeometric distribution: the two-class case of the MVHG."""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.distributions import distribution
from tensorflow_probability.python.internal import assert_util
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import reparameterization
from tensorflow_probability.python.internal import tensor_util

from tfp_mvhg.internal.distribution_base import (assert_integer_form, assert_log_weights,
                                                 float_dtype)
from tfp_mvhg.multivariate_hypergeometric import MultivariateHypergeometric

tfd = tfp.distributions

__all__ = ["FisherNoncentralHypergeometric"]


class FisherNoncentralHypergeometric(distribution.DiscreteDistributionMixin,
                                     tfd.AutoCompositeTensorDistribution):
    """Number of successes X in `total_count` draws from an urn of successes and failures.

    #### Mathematical Details

    ```none
    pmf(x) ∝ C(s, x) C(f, n - x) odds^x,    max(0, n - f) <= x <= min(s, n),
    ```

    with `s = num_successes`, `f = num_failures`, `n = total_count`. This is the
    `MultivariateHypergeometric` with `num_per_class = [s, f]` and `logits = [log_odds, 0]`, and
    the same law as `scipy.stats.nchypergeom_fisher(M=s + f, n=s, N=n, odds=odds)`.
    """

    def __init__(self, num_successes, num_failures, total_count, log_odds=None, odds=None,
                 validate_args=False, allow_nan_stats=True,
                 name="FisherNoncentralHypergeometric"):
        """Builds the distribution.

        Args:
          num_successes: `[...]` integer-valued number of success items `s`.
          num_failures: `[...]` integer-valued number of failure items `f`.
          total_count: `[...]` integer-valued number of draws `n <= s + f`.
          log_odds: `[...]` log odds ratio (exactly one of `log_odds`/`odds`).
          odds: `[...]` non-negative odds ratio (0: no success is ever drawn).
          validate_args, allow_nan_stats, name: as in `tfd.Distribution`.
        """
        parameters = dict(locals())
        if (log_odds is None) == (odds is None):
            raise ValueError("Pass exactly one of `log_odds` or `odds`.")
        with tf.name_scope(name) as name:
            dtype = float_dtype([log_odds, odds], "log_odds" if log_odds is not None else "odds")
            self._log_odds = tensor_util.convert_nonref_to_tensor(log_odds, dtype=dtype)
            self._odds = tensor_util.convert_nonref_to_tensor(odds, dtype=dtype)
            self._num_successes = tf.cast(num_successes, dtype)
            self._num_failures = tf.cast(num_failures, dtype)
            self._total_count = tf.cast(total_count, dtype)
            super().__init__(dtype=dtype,
                             reparameterization_type=reparameterization.NOT_REPARAMETERIZED,
                             validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                             parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        count = parameter_properties.ParameterProperties(
            default_constraining_bijector_fn=parameter_properties.BIJECTOR_NOT_IMPLEMENTED)
        return dict(
            num_successes=count, num_failures=count, total_count=count,
            log_odds=parameter_properties.ParameterProperties(),
            odds=parameter_properties.ParameterProperties(
                default_constraining_bijector_fn=tfp.bijectors.Softplus, is_preferred=False))

    def _multivariate(self):
        """The equivalent two-class `MultivariateHypergeometric`."""
        log_odds = (tf.math.log(tf.convert_to_tensor(self._odds)) if self._log_odds is None
                    else tf.convert_to_tensor(self._log_odds))
        successes, failures, log_odds = (
            tf.broadcast_to(t, tf.broadcast_dynamic_shape(
                tf.broadcast_dynamic_shape(tf.shape(self._num_successes),
                                           tf.shape(self._num_failures)), tf.shape(log_odds)))
            for t in (self._num_successes, self._num_failures, log_odds))
        return MultivariateHypergeometric(
            num_per_class=tf.stack([successes, failures], axis=-1),
            total_count=self._total_count,
            logits=tf.stack([log_odds, tf.zeros_like(log_odds)], axis=-1),
            allow_nan_stats=self.allow_nan_stats)

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], tf.int32)

    def _log_prob(self, x):
        failures = self._total_count - x
        x = tf.broadcast_to(x, tf.shape(failures))
        return self._multivariate().log_prob(tf.stack([x, failures], axis=-1))

    def _sample_n(self, n, seed=None):
        return self._multivariate().sample(n, seed=seed)[..., 0]

    def _mean(self):
        return self._multivariate().mean()[..., 0]

    def _variance(self):
        return self._multivariate().variance()[..., 0]

    def _entropy(self):
        return self._multivariate().entropy()

    def _mode(self):
        return self._multivariate().mode()[..., 0]

    def _default_event_space_bijector(self):
        return None

    def _parameter_control_dependencies(self, is_init):
        """Checks in the Fisher parameters' own names (the two-class MVHG is built unchecked)."""
        if not self.validate_args:
            return []
        assertions = []
        if is_init:  # the counts are plain tensors, fixed at construction
            for name, count in (("num_successes", self._num_successes),
                                ("num_failures", self._num_failures),
                                ("total_count", self._total_count)):
                assertions += [
                    assert_util.assert_non_negative(
                        count, message=f"`{name}` must be non-negative."),
                    assert_integer_form(count, message=f"`{name}` must be integer-valued.")]
            assertions.append(assert_util.assert_less_equal(
                self._total_count, self._num_successes + self._num_failures,
                message="`total_count` must be at most `num_successes + num_failures`."))
        if self._odds is not None and is_init != tensor_util.is_ref(self._odds):
            odds = tf.convert_to_tensor(self._odds)
            assertions += [
                assert_util.assert_non_negative(odds, message="`odds` must be non-negative."),
                assert_util.assert_equal(tf.reduce_all(tf.math.is_finite(odds)), True,
                                         message="`odds` must be finite.")]
        if self._log_odds is not None and is_init != tensor_util.is_ref(self._log_odds):
            assertions.append(assert_log_weights(tf.convert_to_tensor(self._log_odds),
                                                  message="`log_odds` must not be NaN or +inf."))
        return assertions
