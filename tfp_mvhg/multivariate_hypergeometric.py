# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The multivariate Fisher noncentral hypergeometric distribution (exact)."""

import tensorflow_probability as tfp
from tensorflow_probability.python.distributions import distribution
from tensorflow_probability.python.internal import reparameterization

from tfp_mvhg.internal.distribution_base import MultivariateHypergeometricBase
from tfp_mvhg.internal.distribution_base import family_parameter_properties
from tfp_mvhg.internal.distribution_base import kl_divergence

tfd = tfp.distributions

__all__ = ["MultivariateHypergeometric"]


class MultivariateHypergeometric(distribution.DiscreteDistributionMixin,
                                 MultivariateHypergeometricBase):
    """Multivariate Fisher noncentral hypergeometric distribution.

    An urn holds `m_i` items of class `i = 1..c`, with class weights `omega_i >= 0`; `n` items are
    drawn without replacement (Fisher's scheme: the draws are independent Bernoulli trials with
    odds `omega_i`, conditioned on their total being `n`). `X_i` counts the items of class `i`.

    #### Mathematical Details

    ```none
    pmf(x) = prod_i C(m_i, x_i) omega_i^{x_i} / P0,    sum_i x_i = n,  0 <= x_i <= m_i,
    P0 = [t^n] prod_i (1 + omega_i t)^{m_i},           theta_i = log omega_i = logits_i.
    ```

    `log P0` comes from log-space suffix tables of the generating function (cost O(c n min(m, n)),
    no enumeration of the support). For large n (outside XLA), `log_prob`, `log_normalizer`,
    `mean` and `sample` restrict each remaining count `S_i = sum_{j >= i} X_j` to a window of
    O(sqrt(Var) + 75) counts around its mean (cost O(c K_w^2), K_w the window width: seconds and
    under 0.5 GB at m_i = n = 10^5, c = 10), with a certified neglected mass below 1e-30 of P0
    (Chernoff bounds on the tails of the binomial representation, checked after the fact;
    `internal.windows` has the certificate). The
    distribution is an exponential family in `theta` with
    log-partition `A(theta) = log P0`, so `mean = grad A` and `covariance = hessian A` are exact
    (the covariance by sweeps over the exact conditionals, `internal.moments`);
    `entropy` uses the exact marginals `P(X_i = x)` (prefix and suffix tables) and `mode` the
    greedy solution of the separable concave log-pmf (see `_mode`).
    `sample` draws exactly from the sequential conditionals
    `P(X_i = x | x_<i) ∝ C(m_i, x) omega_i^x [t^{r-x}] prod_{j>i} (1 + omega_j t)^{m_j}`, with `r`
    the remaining count, by inverse CDF (one uniform per class), or, where that costs less (few
    samples per parameter set, e.g. distinct parameters per row; not under XLA), without tables:
    independent `X_j ~ Binomial(m_j, sigmoid(theta_j + lam))`, all but one proposed and the last
    accepted with probability `f_L(n - sum_{j != L} X_j) / max f_L` (the MVHG is their law given
    `sum_j X_j = n`, for any tilt `lam`), about 2 proposals per draw and memory linear in the
    draws (`internal.rejection_sampler`). Adding a constant to every logit
    changes nothing; equal logits give the central multivariate hypergeometric distribution.

    A weight of 0 (logit -inf) is exact: that class is never drawn. The gradients of `log_prob`
    and `log_normalizer` w.r.t. such a weight are exact too (the other methods' are NaN there:
    they go through `log(weights)`). Without `validate_args`, parameters that define no
    distribution (negative or non-integer counts, a NaN or +inf logit, `n` above the number of
    items of positive weight, e.g. `n > sum(m)`) give NaN from `log_prob`, `sample` and the
    statistics (or an error from the statistics with `allow_nan_stats=False`); with
    `validate_args=True` they raise `InvalidArgumentError` naming the parameter.

    Counts are floats of the distribution's `dtype`, like `tfd.Multinomial`; internally all tables
    are computed in float64. `logits`/`weights` must be floating (a `TypeError` otherwise). For
    XLA (`jit_compile=True`), `num_per_class` and `total_count` must be constants when the
    distribution is built, since they set the table shapes; elsewhere they may be tensors or
    variables (the tables then grow to the largest `total_count` at run time). Called eagerly,
    the loops of `sample`, `covariance` and, for large n, of the log normalizer run as
    `tf.function`s, traced once per table size (`tf.config.run_functions_eagerly(True)` runs them
    op by op); inside a `tf.function`, under XLA or in a TF1 graph they are plain ops of that
    graph.

    #### Examples

    ```python
    dist = tfp_mvhg.MultivariateHypergeometric(
        num_per_class=[200., 200., 200.], total_count=180., weights=[1., 5., 1.])
    x = dist.sample(1000, seed=(1, 2))     # [1000, 3], each row sums to 180
    dist.log_prob(x)                       # [1000]
    dist.mean(), dist.covariance()         # [3], [3, 3]
    dist.entropy(), dist.mode()            # [], [3]
    ```
    """

    def __init__(self, num_per_class, total_count, logits=None, weights=None,
                 validate_args=False, allow_nan_stats=True, name="MultivariateHypergeometric"):
        """Builds the distribution.

        Args:
          num_per_class: `[..., c]` non-negative integer-valued counts `m`.
          total_count: `[...]` integer-valued number of draws `n <= sum(m)`.
          logits: `[..., c]` log class weights `theta = log omega` (exactly one of
            `logits`/`weights`).
          weights: `[..., c]` non-negative class weights `omega` (0: never drawn).
          validate_args: check parameters (and `log_prob` arguments) at run time.
          allow_nan_stats: where the parameters define no distribution (see below), statistics
            are NaN if True, else they raise `InvalidArgumentError`.
          name: name scope of the ops.
        """
        parameters = dict(locals())
        super().__init__(num_per_class, total_count, logits, weights,
                         reparameterization_type=reparameterization.NOT_REPARAMETERIZED,
                         validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                         parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return family_parameter_properties(dtype)


tfd.RegisterKL(MultivariateHypergeometric, MultivariateHypergeometric)(kl_divergence)
