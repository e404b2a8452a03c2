# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The relaxed (reparameterized) multivariate hypergeometric distribution."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import assert_util
from tensorflow_probability.python.internal import prefer_static as ps
from tensorflow_probability.python.internal import tensor_util

from tfp_mvhg.internal import conditionals
from tfp_mvhg.internal import gumbel_softmax
from tfp_mvhg.internal.distribution_base import MultivariateHypergeometricBase
from tfp_mvhg.internal.distribution_base import family_parameter_properties
from tfp_mvhg.internal.distribution_base import float_dtype
from tfp_mvhg.internal.distribution_base import kl_divergence
from tfp_mvhg.internal.distribution_base import static_num_classes
from tfp_mvhg.multivariate_hypergeometric import MultivariateHypergeometric
from tfp_mvhg.relaxed_sampling import RelaxedSample

__all__ = ["RelaxedMultivariateHypergeometric"]


class RelaxedMultivariateHypergeometric(MultivariateHypergeometricBase):
    """Differentiable MVHG samples: sequential per-class Gumbel-softmax, straight-through counts.

    Each class `i` in turn is a categorical over `x = 0..min(m_i, n)` given the remaining count
    `r_i = n - sum_{j<i} x_j`; it is sampled with the Gumbel-softmax trick at temperature `tau`,
    `y_i = softmax((alpha_i + g_i) / tau)`, and counted as `x_i = sum_k k y_i[k]`.

    #### Mathematical Details

    ```none
    exact:  alpha_i[x] = log C(m_i, x) + x theta_i + q_{i+1}[r_i - x] - q_i[r_i]
    merged: alpha_i[x] = log Fisher(x; m_i, M_i = sum_{j>i} m_j, r_i, omega_i / w_i),
            w_i = sum_{j>i} m_j omega_j / M_i
    ```

    `method="exact"` uses the true conditionals (`q` are the suffix tables of
    `MultivariateHypergeometric`): with `hard=True` the forward counts are exact MVHG draws at any
    temperature (Gumbel-max), and `log_prob`, `mean` and `covariance` are the MVHG's.
    `method="merged"` is the paper's approximation (classes after `i` merged into one with the
    m-weighted mean weight); it is exact only when the merged weights are equal, and is kept to
    reproduce the paper; its `log_prob` is the exact pmf of that scheme in the given class order.

    `hard=True` gives integer counts in the forward pass, `hard=False` soft counts. Either way the
    last class takes the remainder, so counts sum to `total_count`. `sample_with_details` also
    returns the per-class one-hots and logits. Soft samples have no tractable density, so
    `log_prob` is only defined with `hard=True`.

    #### Gradients

    Samples carry a surrogate gradient: through `alpha_i` within a draw, through the remaining
    count `r_i` as the slope of the tables' linear interpolation in `r` (the tables are read at
    integer `r`), and, with `hard=True`, through the soft count `sum_k k y_i[k]` in place of the
    integer (straight-through). It is biased for the gradient of an expectation `E[f(X)]`: the
    remaining counts, and hard counts, are piecewise constant in the logits, so the sample jumps
    where a draw changes, and the jumps carry the whole gradient of the expectation, which the
    surrogate ignores (at `tau = 1` the straight-through Jacobian of the mean matches the
    covariance within Monte-Carlo error; at `tau = 10` it is 5% off). So the
    `reparameterization_type` is `NOT_REPARAMETERIZED` (score-function estimators are the
    unbiased choice), except where the sample is a continuous function of the logits for fixed
    noise: soft counts of at most two classes (the first class's draw is the only one, the second
    takes the rest), or a single class.
    """

    def __init__(self, num_per_class, total_count, temperature, logits=None, weights=None,
                 hard=True, method="exact", shuffle_classes=False, table_dtype=tf.float64,
                 validate_args=False, allow_nan_stats=True,
                 name="RelaxedMultivariateHypergeometric"):
        """Builds the distribution.

        Args:
          num_per_class: `[..., c]` non-negative integer-valued counts `m` (c known statically).
          total_count: `[...]` integer-valued number of draws `n <= sum(m)`.
          temperature: `[...]` positive, finite Gumbel-softmax temperature `tau` (a
            `ValueError` if a constant is not; an `InvalidArgumentError` with `validate_args`).
          logits: `[..., c]` log class weights (exactly one of `logits`/`weights`).
          weights: `[..., c]` positive class weights.
          hard: straight-through integer counts (True) or soft counts (False).
          method: "exact" (true conditionals) or "merged" (the paper's approximation).
          shuffle_classes: visit the classes in a new random order on every call, one order
            shared by all samples of the call (as the paper's code does); over calls (seeds),
            hard samples then follow the uniform mixture over class orders.
          table_dtype: `tf.float64` (default) or `tf.float32`, the dtype of the exact
            conditionals' convolutions where they run in linear space (c >= 3, (max n + 1)
            W >= 1024, not under XLA). float32 is several times faster on CPUs and GPUs; each
            table entry is then off by a relative error of at most (c - 1)(W + 1) 2^-24, so
            the hard draws' law is within c times that of the MVHG's in total variation
            (measured: `benchmarks/accuracy_float32_tables.py`). Sampling only: `log_prob`
            and the moments stay float64.
          validate_args, allow_nan_stats, name: as for `tfd.Distribution`.
        """
        parameters = dict(locals())
        if method not in conditionals.METHODS:
            raise ValueError(f"`method` must be one of {conditionals.METHODS}, got {method!r}.")
        self._hard = bool(hard)
        self._method = method
        self._shuffle_classes = bool(shuffle_classes)
        self._table_dtype = conditionals.check_table_dtype(table_dtype)
        with tf.name_scope(name) as name:
            dtype = float_dtype([logits, weights], "logits" if logits is not None else "weights")
            self._temperature = tensor_util.convert_nonref_to_tensor(
                temperature, dtype=dtype, name="temperature")
            static = (None if tensor_util.is_ref(self._temperature)
                      else tf.get_static_value(self._temperature))
            if static is not None and not np.all((static > 0.) & np.isfinite(static)):
                raise ValueError(
                    f"`temperature` must be positive and finite, got {static.tolist()}.")
            num_classes = static_num_classes(num_per_class,
                                             logits if weights is None else weights)
            super().__init__(num_per_class, total_count, logits, weights,
                             reparameterization_type=gumbel_softmax.reparameterization_type(
                                 num_classes, self._hard),
                             validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                             parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return family_parameter_properties(dtype, relaxed=True)

    @property
    def temperature(self):
        """Input argument `temperature` (`[...]`)."""
        return self._temperature

    @property
    def hard(self):
        """Straight-through integer counts (True) or soft counts (False)."""
        return self._hard

    @property
    def method(self):
        """"exact" (true conditionals) or "merged" (the paper's approximation)."""
        return self._method

    @property
    def shuffle_classes(self):
        """Whether each call visits the classes in a new random order."""
        return self._shuffle_classes

    @property
    def table_dtype(self):
        """The dtype of the exact conditionals' linear-space convolutions."""
        return self._table_dtype

    def _flat_temperature(self, batch_shape):
        temperature = tf.broadcast_to(tf.convert_to_tensor(self._temperature), batch_shape)
        return tf.reshape(temperature, [-1])

    def _relaxed(self, num_samples, seed, **sampler_options):
        """Flat samples `RelaxedSample` (`[S, B, ...]`) and the batch shape.

        `sampler_options` go to `gumbel_softmax.relaxed_sample` (`return_log_one_hots`)."""
        seed = tfp.random.sanitize_seed(seed, salt="RelaxedMultivariateHypergeometric")
        num_per_class, _, total_count, batch_shape = self._flat_params()
        if tf.compat.dimension_value(self.event_shape[0]) is None:
            raise ValueError("The number of classes (last axis of `num_per_class`/`logits`) "
                             "must be known statically for relaxed sampling.")
        num_classes = self.event_shape[0]
        logits = tf.reshape(tf.broadcast_to(self._logits_parameter_no_checks(),
                                            ps.concat([batch_shape, [num_classes]], 0)),
                            [-1, num_classes])
        table_size, window = self._table_sizes(num_per_class, total_count)
        output = gumbel_softmax.relaxed_sample(
            num_per_class, logits, total_count, self._flat_temperature(batch_shape),
            table_size, window, num_samples, seed, hard=self._hard, method=self._method,
            shuffle_classes=self._shuffle_classes, table_dtype=self._table_dtype,
            **sampler_options)
        undefined = self._flat_undefined(num_per_class, tf.cast(logits, tf.float64), total_count)

        def nan_counts_where_undefined(sample):
            return sample._replace(counts=tf.where(
                undefined[None, :, None], tf.constant(np.nan, sample.counts.dtype), sample.counts))

        if sampler_options.get("return_log_one_hots"):
            return (nan_counts_where_undefined(output[0]), output[1]), batch_shape
        return nan_counts_where_undefined(output), batch_shape

    def _sample_n(self, n, seed=None):
        sample, batch_shape = self._relaxed(n, seed)
        return tf.reshape(sample.counts,
                          ps.concat([[n], batch_shape, self.event_shape_tensor()], 0))

    def sample_with_details(self, sample_shape=(), seed=None, name="sample_with_details"):
        """Everything Algorithm 1 returns: a `RelaxedSample` of counts, one-hots, logits, mask.

        Shapes (with `[...] = sample_shape + batch_shape`, W = min(max m, max n) + 1):
        counts `[..., c]`; one_hots and logits `[..., c, W]`; mask `[..., c, W]` (x <= m_i, n).
        """
        with self._name_and_control_scope(name):
            sample_shape = ps.reshape(ps.convert_to_shape_tensor(sample_shape, tf.int32), [-1])
            num_samples = ps.reduce_prod(sample_shape)
            sample, batch_shape = self._relaxed(num_samples, seed)
            lead = ps.concat([sample_shape, batch_shape], 0)
            event = self.event_shape_tensor()

            def reshape(x, tail):
                return tf.reshape(x, ps.concat([lead, tail], 0))

            window = ps.shape(sample.one_hots)[-1]
            mask = tf.broadcast_to(sample.mask[None], ps.concat(
                [[num_samples], ps.shape(sample.mask)], 0))
            return RelaxedSample(
                counts=reshape(sample.counts, event),
                one_hots=reshape(sample.one_hots, ps.concat([event, [window]], 0)),
                logits=reshape(sample.logits, ps.concat([event, [window]], 0)),
                mask=reshape(mask, ps.concat([event, [window]], 0)))

    def _log_prob(self, x):
        if not self._hard:
            raise NotImplementedError(
                "Soft relaxed MVHG samples have no tractable density; use hard=True.")
        if self._method == "exact":
            return super()._log_prob(x)
        if self._shuffle_classes:
            raise NotImplementedError(
                "With shuffle_classes=True the merged scheme is a mixture over class orders.")
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        num_classes = self.event_shape[0]  # static: the per-class loop is unrolled
        num_per_class = tf.reshape(num_per_class, [-1, num_classes])
        logits = tf.reshape(logits, [-1, num_classes])
        event = self.event_shape_tensor()
        sample_shape = ps.shape(x)[:ps.maximum(ps.rank(x) - ps.size(batch_shape) - 1, 0)]
        x = tf.broadcast_to(tf.cast(x, tf.float64),
                            ps.concat([sample_shape, batch_shape, event], 0))
        flat_x = tf.reshape(x, [-1, ps.shape(logits)[0], event[0]])
        table_size, window = self._table_sizes(num_per_class, total_count)
        log_prob = conditionals.chain_log_prob(
            num_per_class, logits, total_count, flat_x, table_size, window, self._method)
        return tf.cast(tf.reshape(log_prob, ps.concat([sample_shape, batch_shape], 0)), self.dtype)

    def _exact_moments_only(self):
        if self._method != "exact" or not self._hard:
            raise NotImplementedError(
                "Moments, entropy and mode are the MVHG's only for method='exact' with hard=True.")

    def _mean(self):
        self._exact_moments_only()
        return super()._mean()

    def _entropy(self):
        self._exact_moments_only()
        return super()._entropy()

    def _mode(self):
        self._exact_moments_only()
        return super()._mode()

    def _covariance(self):
        self._exact_moments_only()
        return super()._covariance()

    def _parameter_control_dependencies(self, is_init):
        assertions = super()._parameter_control_dependencies(is_init)
        if not self.validate_args:
            return assertions
        if is_init != tensor_util.is_ref(self._temperature):
            temperature = tf.convert_to_tensor(self._temperature)
            assertions += [
                assert_util.assert_positive(
                    temperature, message="`temperature` must be positive."),
                assert_util.assert_equal(tf.reduce_all(tf.math.is_finite(temperature)), True,
                                         message="`temperature` must be finite.")]
        return assertions


def _kl_with_relaxed(p, q, name=None):
    """KL of the hard samples' laws: the MVHG's, for `method="exact"` with `hard=True` only."""
    for dist in (p, q):
        if isinstance(dist, RelaxedMultivariateHypergeometric) and (
                dist.method != "exact" or not dist.hard):
            raise NotImplementedError(
                "KL divergence is available for RelaxedMultivariateHypergeometric only with "
                "method='exact' and hard=True, where the samples follow the MVHG; got "
                f"method={dist.method!r}, hard={dist.hard}.")
    return kl_divergence(p, q, name=name)


for _pair in ((RelaxedMultivariateHypergeometric, MultivariateHypergeometric),
              (MultivariateHypergeometric, RelaxedMultivariateHypergeometric),
              (RelaxedMultivariateHypergeometric, RelaxedMultivariateHypergeometric)):
    tfp.distributions.RegisterKL(*_pair)(_kl_with_relaxed)
