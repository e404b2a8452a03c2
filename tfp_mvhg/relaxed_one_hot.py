# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The density of the relaxed MVHG one-hots: a chain of Concrete (Gumbel-softmax) densities.

`ExpRelaxedMultivariateHypergeometric` is a distribution over the per-class log relaxed one-hots,
`RelaxedOneHotMultivariateHypergeometric` the same over the one-hots (the former pushed through
`PaddedExp`), as TFP builds `RelaxedOneHotCategorical` from `ExpRelaxedOneHotCategorical` and
`tfb.Exp`. Counts stay the straight-through map `counts_from_one_hots`, which is not a bijector.
"""
# pylint: disable=protected-access  (the wrapped RelaxedMultivariateHypergeometric's helpers)

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import assert_util
from tensorflow_probability.python.internal import dtype_util
from tensorflow_probability.python.internal import prefer_static as ps

from tfp_mvhg.bijectors import PaddedExp
from tfp_mvhg.internal import gumbel_softmax
from tfp_mvhg.internal.distribution_base import event_shape_assertions
from tfp_mvhg.internal.distribution_base import family_parameter_properties
from tfp_mvhg.relaxed import RelaxedMultivariateHypergeometric
from tfp_mvhg.relaxed_sampling import counts_from_one_hots

tfd = tfp.distributions

__all__ = ["ExpRelaxedMultivariateHypergeometric", "RelaxedOneHotMultivariateHypergeometric"]

_EVENT = "[the number of classes, W = min(max m, max n) + 1]"  # the one-hots' event dimensions


def _view(name, doc):
    return property(lambda self: getattr(self._parameter_source(), name), doc=doc)


class _ParameterViews:
    """The input arguments, read from the wrapped distribution `self._parameter_source()`."""

    num_per_class = _view("num_per_class", "Input argument `num_per_class` (`[..., c]`) as floats.")
    total_count = _view("total_count", "Input argument `total_count` (`[...]`), as floats.")
    temperature = _view("temperature", "Input argument `temperature` (`[...]`).")
    logits = _view("logits", "Input argument `logits` (or None).")
    weights = _view("weights", "Input argument `weights` (or None).")
    method = _view("method", "\"exact\" or \"merged\".")

    def logits_parameter(self, name=None):
        """Log class weights `theta` (`[..., c]`), derived from `weights` if needed."""
        return self._parameter_source().logits_parameter(name)


class ExpRelaxedMultivariateHypergeometric(_ParameterViews, tfd.AutoCompositeTensorDistribution):
    """Log relaxed one-hots of the sequential MVHG sampler, with their density.

    The relaxed sampler of `RelaxedMultivariateHypergeometric` draws class after class a Concrete
    (Gumbel-softmax) vector whose logits are the conditional of that class given the counts of the
    classes before it. Those counts are the argmax of the earlier vectors, so a function of them:
    the stacked vectors have a density, the product of the per-class Concrete densities. This
    distribution is over the log vectors (as `tfd.ExpRelaxedOneHotCategorical`, numerically safe at
    low temperatures); `RelaxedOneHotMultivariateHypergeometric` is over the vectors themselves.

    #### Mathematical Details

    ```none
    event:   y = [y_0, ..., y_{c-1}],  y_i in [-inf, 0]^W,  W = min(max m, max n) + 1  ([c, W])
    counts:  x_i = argmax_k y_i[k],  r_0 = n,  r_{i+1} = r_i - x_i
    logits:  alpha_i[k] = log P(X_i = k | r_i)        (exact: the MVHG conditional,
             F_i = {k : alpha_i[k] > -inf},  K_i = |F_i|     merged: the paper's approximation)
    sample:  y_i = log_softmax((alpha_i + g_i) / tau),  g_i[k] iid Gumbel(0, 1)
    density: log p(y) = sum_i [ lgamma(K_i) + (K_i - 1) log tau
                                + sum_{k in F_i} (alpha_i[k] - tau y_i[k])
                                - K_i logsumexp_{k in F_i} (alpha_i[k] - tau y_i[k]) ]
    ```

    Each term is `tfd.ExpRelaxedOneHotCategorical(tau, logits=alpha_i[F_i]).log_prob(y_i[F_i])`.
    Padding: entries off `F_i` (k > m_i, k > r_i, or r_i - k more than the later classes hold) are
    -inf in every sample; a value that is not -inf exactly off `F_i` (given its own argmaxes) has
    log_prob -inf. A row with `K_i = 1` is a point mass and adds 0: always the last class, which
    takes the remainder (`y_{c-1}` is the log one-hot of `r_{c-1}`), and any class with `m_i = 0`
    or whose count is forced. Reference measure: for each pattern of counts, Lebesgue measure on
    the `K_i - 1` differences `y_i[k] - y_i[k']` (k, k' in F_i) of every row with `K_i >= 2`, the
    measure of TFP's `ExpRelaxedOneHotCategorical` (its formula is invariant to shifting `y_i`);
    so the density integrates to 1 summed over count patterns. Like TFP, rows are not required
    to be normalised (`logsumexp y_i = 0`) except under `validate_args`.

    Samples use the Gumbel noise of `RelaxedMultivariateHypergeometric` (same seed, same draws),
    and the same gradient: through alpha_i and, straight-through, through the remaining counts.
    The argmaxes are piecewise constant, so the sample jumps where a draw changes (the last row,
    the one-hot of the remainder, always does): like the counts', the gradient is a biased
    surrogate, and the `reparameterization_type` is `NOT_REPARAMETERIZED` (for one class, whose
    sample is constant, `FULLY_REPARAMETERIZED`); the density makes score-function estimators
    available.
    `dist.counts_from_one_hots(y)` gives the sampler's straight-through counts. The event width
    `W` is the maximum over the whole batch, as in `sample_with_details` (slicing can change it).
    With `method="merged"` the density is that of the paper's scheme in the given class order.

    #### Examples

    ```python
    dist = tfp_mvhg.ExpRelaxedMultivariateHypergeometric(
        [4., 3., 5.], 6., temperature=0.5, logits=[0., 1., -1.])
    y = dist.sample(100, seed=(1, 2))      # [100, 3, 6] log one-hots, -inf off the support
    dist.log_prob(y)                       # [100]
    dist.counts_from_one_hots(y)           # [100, 3]: straight-through counts, sum to 6
    ```
    """

    def __init__(self, num_per_class, total_count, temperature, logits=None, weights=None,
                 method="exact", validate_args=False, allow_nan_stats=True,
                 name="ExpRelaxedMultivariateHypergeometric"):
        """Builds the distribution.

        Args:
          num_per_class: `[..., c]` non-negative integer-valued counts `m` (c known statically).
          total_count: `[...]` integer-valued number of draws `n <= sum(m)`.
          temperature: `[...]` positive, finite Concrete temperature `tau`.
          logits: `[..., c]` log class weights (exactly one of `logits`/`weights`).
          weights: `[..., c]` positive class weights.
          method: "exact" (true conditionals) or "merged" (the paper's approximation).
          validate_args, allow_nan_stats, name: as for `tfd.Distribution`.
        """
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            self._chain = RelaxedMultivariateHypergeometric(
                num_per_class, total_count, temperature, logits=logits, weights=weights,
                hard=True, method=method, validate_args=validate_args,
                allow_nan_stats=allow_nan_stats)
            super().__init__(
                dtype=self._chain.dtype,
                reparameterization_type=gumbel_softmax.reparameterization_type(
                    tf.compat.dimension_value(self._chain.event_shape[0]), hard=True,
                    one_hots=True),
                validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return family_parameter_properties(dtype, event_ndims=2, relaxed=True)

    def _parameter_source(self):
        return self._chain

    def _num_classes(self):
        num_classes = tf.compat.dimension_value(self._chain.event_shape[0])
        if num_classes is None:
            raise ValueError("The number of classes (last axis of `num_per_class`/`logits`) "
                             "must be known statically.")
        return num_classes

    def _window(self):
        """W: a Python int when the counts are static, else a scalar tensor."""
        return self._chain._table_sizes(
            tf.convert_to_tensor(self._chain.num_per_class),
            tf.convert_to_tensor(self._chain.total_count))[1]

    def _batch_shape(self):
        return self._chain.batch_shape

    def _batch_shape_tensor(self):
        return self._chain.batch_shape_tensor()

    def _event_shape(self):
        window = self._window()
        return tf.TensorShape([self._num_classes(), window if isinstance(window, int) else None])

    def _event_shape_tensor(self):
        return ps.stack([self._num_classes(), self._window()])

    def _sample_n(self, n, seed=None):
        (_, log_one_hots), batch_shape = self._chain._relaxed(
            n, seed, return_log_one_hots=True)
        shape = ps.concat([[n], batch_shape, ps.shape(log_one_hots)[-2:]], 0)
        return tf.reshape(log_one_hots, shape)

    def _log_prob(self, x):
        chain = self._chain
        num_per_class, logits, total_count, batch_shape = chain._flat_params()
        num_classes = self._num_classes()
        table_size, window = chain._table_sizes(num_per_class, total_count)
        event = ps.stack([num_classes, window])
        full_shape = ps.broadcast_shape(ps.shape(x), ps.concat([batch_shape, event], 0))
        sample_shape = full_shape[:ps.size(full_shape) - ps.size(batch_shape) - 2]
        x = tf.broadcast_to(tf.cast(x, tf.float64), full_shape)
        flat_x = tf.reshape(x, ps.concat([[-1, ps.shape(logits)[0]], event], 0))
        temperature = tf.cast(chain._flat_temperature(batch_shape), tf.float64)
        log_prob = gumbel_softmax.one_hots_log_prob(num_per_class, logits, total_count,
                                                    temperature, flat_x, table_size, window,
                                                    chain.method)
        return tf.cast(tf.reshape(log_prob, ps.concat([sample_shape, batch_shape], 0)), self.dtype)

    def counts_from_one_hots(self, log_one_hots, hard=True):
        """Straight-through counts `[..., c]` of log one-hots `[..., c, W]` (e.g. samples).

        Classes `0..c-2` are `tfp_mvhg.counts_from_one_hots(exp(y_i), hard)`; the last class takes
        `n - sum` of them, so the counts sum to n and, on samples, equal those (and gradients) of
        `RelaxedMultivariateHypergeometric(..., hard=hard)` drawn with the same seed.
        """
        return _counts_with_remainder(tf.exp(log_one_hots), self._chain.total_count, hard,
                                      self.dtype)

    def _parameter_control_dependencies(self, is_init):
        return self._chain._parameter_control_dependencies(is_init)

    def _sample_control_dependencies(self, x):
        x = tf.convert_to_tensor(x)
        shape_assertions = event_shape_assertions(
            x, self.event_shape, self.event_shape_tensor, _EVENT, self.validate_args)
        if not self.validate_args:
            return []
        tolerance = np.sqrt(dtype_util.eps(x.dtype))
        with tf.control_dependencies(shape_assertions):
            return shape_assertions + [
                assert_util.assert_equal(
                    tf.reduce_any(tf.math.is_nan(x)), False, message="`value` must not be NaN."),
                assert_util.assert_less_equal(
                    x, tf.constant(tolerance, x.dtype),
                    message="`value` (log one-hots) must be at most 0."),
                assert_util.assert_near(
                    tf.reduce_logsumexp(x, axis=-1), tf.zeros([], x.dtype), atol=tolerance,
                    message="`value` (log one-hots): each row must have logsumexp 0."),
            ]

    def _default_event_space_bijector(self):
        return None


def _counts_with_remainder(one_hots, total_count, hard, dtype):
    """counts_from_one_hots for classes 0..c-2, `n - sum` for the last: `[..., c]`."""
    one_hots = tf.convert_to_tensor(one_hots)
    counts = counts_from_one_hots(one_hots[..., :-1, :], hard)
    last = tf.cast(tf.convert_to_tensor(total_count), one_hots.dtype) - tf.reduce_sum(counts, -1)
    return tf.cast(tf.concat([counts, last[..., None]], axis=-1), dtype)


class RelaxedOneHotMultivariateHypergeometric(_ParameterViews, tfd.TransformedDistribution):
    """Relaxed one-hots of the sequential MVHG sampler, with their density.

    `ExpRelaxedMultivariateHypergeometric` (the log one-hots) pushed through `PaddedExp`, as
    `tfd.RelaxedOneHotCategorical` is `tfd.ExpRelaxedOneHotCategorical` through `tfb.Exp`.

    #### Mathematical Details

    ```none
    event:   v = exp(y) = [v_0, ..., v_{c-1}],  v_i on the simplex over F_i, 0 off F_i  ([c, W])
    density: log p(v) = log p_Y(log v) - sum_i sum_{k in F_i} log v_i[k]
    ```

    with `p_Y`, `F_i` and the counts `x_i = argmax_k v_i[k]` as for
    `ExpRelaxedMultivariateHypergeometric`. Each class adds
    `tfd.RelaxedOneHotCategorical(tau, logits=alpha_i[F_i]).log_prob(v_i[F_i])`, a density w.r.t.
    Lebesgue measure on `K_i - 1` of the coordinates in `F_i`; the padding entries (exactly 0) and
    rows with `K_i = 1` (the last class, the one-hot of the remainder) are point masses and add 0.
    A feasible entry that is 0 is outside the support (log_prob -inf): at low temperatures soft
    one-hots underflow, so evaluate densities of such samples in log space (or on the tensor
    returned by `sample`, whose inverse `PaddedExp` caches).
    """

    def __init__(self, num_per_class, total_count, temperature, logits=None, weights=None,
                 method="exact", validate_args=False, allow_nan_stats=True,
                 name="RelaxedOneHotMultivariateHypergeometric"):
        """Builds the distribution; arguments as for `ExpRelaxedMultivariateHypergeometric`."""
        parameters = dict(locals())
        distribution = ExpRelaxedMultivariateHypergeometric(
            num_per_class, total_count, temperature, logits=logits, weights=weights,
            method=method, validate_args=validate_args, allow_nan_stats=allow_nan_stats)
        super().__init__(distribution=distribution,
                         bijector=PaddedExp(validate_args=validate_args),
                         validate_args=validate_args, parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return ExpRelaxedMultivariateHypergeometric._parameter_properties(dtype, num_classes)

    def _parameter_source(self):
        return self.distribution

    def _sample_control_dependencies(self, x):
        """The event shape, checked before `PaddedExp` reduces over it."""
        return event_shape_assertions(
            x, self.event_shape, self.event_shape_tensor, _EVENT, self.validate_args)

    def counts_from_one_hots(self, one_hots, hard=True):
        """Straight-through counts `[..., c]` of one-hots `[..., c, W]` (e.g. samples).

        Classes `0..c-2` are `tfp_mvhg.counts_from_one_hots(v_i, hard)`; the last takes `n - sum`.
        """
        return _counts_with_remainder(one_hots, self.total_count, hard, self.dtype)
