# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Fisher's noncentral hypergeometric distribution: the two-class case of the MVHG."""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.distributions import distribution
from tensorflow_probability.python.internal import assert_util
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import prefer_static as ps
from tensorflow_probability.python.internal import reparameterization
from tensorflow_probability.python.internal import tensor_util

from tfp_mvhg.internal.distribution_base import as_float
from tfp_mvhg.internal.distribution_base import assert_log_weights
from tfp_mvhg.internal.distribution_base import count_assertions
from tfp_mvhg.internal.distribution_base import float_dtype
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
            self._log_odds = tensor_util.convert_nonref_to_tensor(log_odds, dtype=dtype,
                                                                  name="log_odds")
            self._odds = tensor_util.convert_nonref_to_tensor(odds, dtype=dtype, name="odds")
            self._num_successes = as_float(num_successes, dtype, "num_successes")
            self._num_failures = as_float(num_failures, dtype, "num_failures")
            self._total_count = as_float(total_count, dtype, "total_count")
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

    @property
    def num_successes(self):
        """Input argument `num_successes` (`[...]`), as floats."""
        return self._num_successes

    @property
    def num_failures(self):
        """Input argument `num_failures` (`[...]`), as floats."""
        return self._num_failures

    @property
    def total_count(self):
        """Input argument `total_count` (`[...]`), as floats."""
        return self._total_count

    @property
    def log_odds(self):
        """Input argument `log_odds` (or None)."""
        return self._log_odds

    @property
    def odds(self):
        """Input argument `odds` (or None)."""
        return self._odds

    def log_odds_parameter(self, name=None):
        """The log odds ratio (`[...]`), derived from `odds` if needed."""
        with self._name_and_control_scope(name or "log_odds_parameter"):
            return self._log_odds_parameter_no_checks()

    def _log_odds_parameter_no_checks(self):
        if self._log_odds is None:
            return tf.math.log(tf.convert_to_tensor(self._odds))
        return tf.identity(self._log_odds)

    def _counts(self):
        """`num_successes`, `num_failures`, `total_count` as tensors of the distribution's dtype
        (variables are read now)."""
        return tuple(tf.cast(tf.convert_to_tensor(count), self.dtype) for count in (
            self._num_successes, self._num_failures, self._total_count))

    def _multivariate(self):
        """The equivalent two-class `MultivariateHypergeometric` (its counts static where these
        are, so that its tables have static sizes, as XLA needs)."""
        log_odds = self._log_odds_parameter_no_checks()
        num_successes, num_failures, total_count = self._counts()
        shape = ps.broadcast_shape(
            ps.broadcast_shape(ps.shape(num_successes), ps.shape(num_failures)),
            ps.shape(log_odds))
        log_odds = tf.broadcast_to(log_odds, shape)
        return MultivariateHypergeometric(
            num_per_class=ps.stack([ps.broadcast_to(num_successes, shape),
                                    ps.broadcast_to(num_failures, shape)], axis=-1),
            total_count=total_count,
            logits=tf.stack([log_odds, tf.zeros_like(log_odds)], axis=-1),
            allow_nan_stats=self.allow_nan_stats)

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], tf.int32)

    def _log_prob(self, x):
        failures = self._counts()[2] - x
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
        counts = (("num_successes", self._num_successes), ("num_failures", self._num_failures),
                  ("total_count", self._total_count))
        for name, count in counts:
            if is_init != tensor_util.is_ref(count):
                assertions += count_assertions(tf.convert_to_tensor(count), f"`{name}`")
        if is_init != any(tensor_util.is_ref(count) for _, count in counts):
            num_successes, num_failures, total_count = (tf.convert_to_tensor(count)
                                                        for _, count in counts)
            assertions.append(assert_util.assert_less_equal(
                total_count, num_successes + num_failures,
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
