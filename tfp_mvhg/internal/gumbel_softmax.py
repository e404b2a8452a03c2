# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Per-class Gumbel-softmax sampling of the MVHG (Algorithm 1 of the paper, with exact
conditionals), and the density of its relaxed one-hots.

Class after class (`conditionals.class_by_class`), with the conditional logits alpha_i of class
i given the remaining count r_i (`conditionals`) and Gumbel noise g_i, the forward pass draws
`x_i = argmax(alpha_i + g_i)` (Gumbel-max: an exact draw of the conditional at any temperature)
and relaxes it to `y_i = softmax((alpha_i + g_i) / tau)`. The last class takes what remains,
`x_c = n - sum_{j<c} x_j`, so soft counts also sum to `n`.

Gradients reach theta through `alpha_i` (and the tables) and through the remaining count: the
table `T_i` is read at the integer `r_i - x` in the forward pass, and differentiated as the
piecewise-linear interpolation of `T_i` in `r`, `alpha_i += (r_i - stop_gradient(r_i)) * T_i'`
(straight-through: the draws, and so r_i, are piecewise constant in theta; the sample jumps
where a draw changes, and the attached gradient ignores the jumps, so it is a biased surrogate
of the gradient of an expectation).

The stacked log one-hots have a density, the product of the per-class Concrete densities
(`one_hots_log_prob`): with F_i = {k : alpha_i[k] > -inf} and K_i = |F_i|,

    log p(y) = sum_i [ lgamma(K_i) + (K_i - 1) log tau + sum_{k in F_i} (alpha_i[k] - tau y_i[k])
                       - K_i logsumexp_{k in F_i} (alpha_i[k] - tau y_i[k]) ].

Memory is O(S B W) per class (S samples, B parameter sets, W = min(max m, max n) + 1), plus the
tables O(c K B) with K = max n + 1.
"""

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import reparameterization

from tfp_mvhg.internal.conditionals import class_by_class
from tfp_mvhg.internal.conditionals import conditional_tables
from tfp_mvhg.internal.conditionals import slope_at
from tfp_mvhg.internal.log_space import neg_inf_like
from tfp_mvhg.internal.log_space import safe_reduce_logsumexp
from tfp_mvhg.internal.random_bits import stateless_open_uniform
from tfp_mvhg.relaxed_sampling import RelaxedSample
from tfp_mvhg.relaxed_sampling import counts_from_one_hots

__all__ = ["one_hots_log_prob", "relaxed_sample", "reparameterization_type"]


def reparameterization_type(num_classes, hard, one_hots=False):
    """`FULLY_REPARAMETERIZED` where, for fixed noise, the sample is a continuous function of the
    parameters, else `NOT_REPARAMETERIZED` (the surrogate gradient is biased).

    Continuous: a single class (the sample is constant), or soft counts of two classes (the first
    class's soft count is smooth, the second takes the rest). Hard counts jump with the draws; so
    do the one-hots of the last class (the one-hot of the remainder) and, from three classes on,
    every class after the first (its logits depend on the drawn remaining count).

    Args:
      num_classes: c, a Python int or None (unknown: `NOT_REPARAMETERIZED`).
      hard: integer (True) or soft (False) counts.
      one_hots: the sample is the (log) one-hots rather than the counts.
    """
    continuous = num_classes == 1 or (num_classes == 2 and not hard and not one_hots)
    return (reparameterization.FULLY_REPARAMETERIZED if continuous
            else reparameterization.NOT_REPARAMETERIZED)


def relaxed_sample(num_per_class, logits, total_count, temperature, table_size, window,
                   num_samples, seed, hard=True, method="exact", shuffle_classes=False,
                   return_log_one_hots=False, table_dtype=tf.float64):
    """Relaxed MVHG samples by sequential per-class Gumbel-softmax (module docstring).

    Args:
      num_per_class: `[B, c]` float64 counts m (c static).
      logits: `[B, c]` log weights theta, float32 or float64: the working dtype, differentiable.
      total_count: `[B]` float64 draws n.
      temperature: `[B]` positive, working dtype.
      table_size, window: K = max n + 1 and W = min(max m, max n) + 1.
      num_samples: S.
      seed: stateless seed `[2]` int32.
      hard: straight-through integer counts (True) or soft counts (False).
      method: "exact" or "merged".
      shuffle_classes: visit the classes in a random order (one order per call, as the paper's
        code does); outputs are returned in the original class order.
      return_log_one_hots: also return the log relaxed one-hots `[S, B, c, W]`,
        `log_softmax((alpha_i + g_i) / tau)` (-inf where alpha_i is), the last class `log` of its
        one-hot (whatever `hard` is).
      table_dtype: the exact tables' linear-space convolutions, float64 or float32
        (`conditionals.conditional_tables`).

    Returns:
      `RelaxedSample` with counts `[S, B, c]`, one_hots and logits `[S, B, c, W]`, mask `[B, c, W]`
      (and the log one-hots if asked).
    """
    dtype = logits.dtype
    num_classes = int(logits.shape[-1])
    num_per_class = tf.reshape(num_per_class, [-1, num_classes])
    noise_seed, order_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2,
                                                                               alg="philox"))
    if shuffle_classes:
        order = tf.argsort(tf.random.stateless_uniform([num_classes], seed=order_seed,
                                                       alg="philox"))
        num_per_class = tf.gather(num_per_class, order, axis=1)
        logits = tf.gather(logits, order, axis=1)
    logits64 = tf.cast(logits, tf.float64)
    next_tables = conditional_tables(num_per_class, logits64, table_size, window, method,
                                     total_count, table_dtype)

    batch = tf.shape(logits)[0]
    batch_index = tf.range(batch)[None, :, None]                                    # [1, B, 1]
    x64 = tf.cast(tf.range(window), tf.float64)
    mask = ((x64[None, None, :] <= num_per_class[:, :, None])
            & (x64[None, None, :] <= total_count[:, None, None]))                   # [B, c, W]
    uniforms = stateless_open_uniform(
        [num_classes - 1, num_samples, batch, window], noise_seed, dtype)
    gumbels = -tf.math.log(-tf.math.log(uniforms))
    inverse_temperature = (1. / temperature)[None, :, None]

    remaining_delta = tf.zeros([num_samples, batch], dtype)   # r - stop_gradient(r): 0 forward
    counts = []

    def visit(i, alpha, row, remaining):
        """Class i: `(draw, (count, one_hot, alpha, log_one_hot or None))`."""
        nonlocal remaining_delta
        alpha = (tf.cast(alpha, dtype) + remaining_delta[..., None]
                 * tf.cast(tf.stop_gradient(slope_at(next_tables[i], row, batch_index)), dtype))
        if i == num_classes - 1:  # the last class takes what remains: counts sum to n
            one_hot = tf.one_hot(remaining, window, dtype=dtype)
            taken = tf.add_n(counts) if counts else tf.zeros_like(remaining_delta)
            counts.append(tf.cast(total_count, dtype)[None, :] - taken)
            return remaining, (counts[-1], one_hot, alpha,
                               tf.math.log(one_hot) if return_log_one_hots else None)
        perturbed = alpha + gumbels[i]
        # (alpha + g) / tau, -inf off the support without -inf * 0 in the temperature gradient
        feasible = perturbed > -np.inf
        scaled = tf.where(feasible, tf.where(feasible, perturbed, tf.zeros_like(perturbed))
                          * inverse_temperature, perturbed)
        log_one_hot = tf.nn.log_softmax(scaled, axis=-1) if return_log_one_hots else None
        soft = tf.nn.softmax(scaled, axis=-1)
        draw = tf.argmax(perturbed, axis=-1, output_type=tf.int32)
        one_hot = (tf.one_hot(draw, window, dtype=dtype) + (soft - tf.stop_gradient(soft))
                   if hard else soft)
        count = counts_from_one_hots(one_hot, hard)
        counts.append(count)
        remaining_delta -= count - tf.stop_gradient(count)
        return draw, (count, one_hot, alpha, log_one_hot)

    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32)[None, :], [num_samples, batch])
    outputs = class_by_class(num_per_class, logits64, next_tables, remaining, window, visit)
    counts, one_hots, class_logits, log_one_hots = zip(*outputs, strict=True)
    counts = tf.stack(counts, axis=-1)
    one_hots = tf.stack(one_hots, axis=-2)
    class_logits = tf.stack(class_logits, axis=-2)
    if return_log_one_hots:
        log_one_hots = tf.stack(log_one_hots, axis=-2)
    if shuffle_classes:
        inverse = tf.math.invert_permutation(order)
        counts = tf.gather(counts, inverse, axis=-1)
        one_hots = tf.gather(one_hots, inverse, axis=-2)
        class_logits = tf.gather(class_logits, inverse, axis=-2)
        if return_log_one_hots:
            log_one_hots = tf.gather(log_one_hots, inverse, axis=-2)
        mask = tf.gather(mask, inverse, axis=1)
    sample = RelaxedSample(counts, one_hots, class_logits, mask)
    return (sample, log_one_hots) if return_log_one_hots else sample


def _masked_exp_concrete_log_prob(alpha, log_one_hot, temperature, feasible):
    """log density of an ExpConcrete vector over the `feasible` entries only: `[...]` float64.

    `lgamma(K) + (K - 1) log tau + sum_F (alpha - tau y) - K logsumexp_F (alpha - tau y)`, with
    K = |F| (the formula of `tfd.ExpRelaxedOneHotCategorical`); 0 for K = 1 (a point mass). All
    intermediates stay finite off F (where `alpha` is -inf), so gradients are finite.
    """
    count = tf.reduce_sum(tf.cast(feasible, tf.float64), axis=-1)
    usable = feasible & tf.math.is_finite(log_one_hot)
    safe_y = tf.where(usable, log_one_hot, tf.zeros_like(log_one_hot))
    safe_alpha = tf.where(feasible, alpha, tf.zeros_like(alpha))
    terms = safe_alpha - temperature[..., None] * safe_y
    log_sum = safe_reduce_logsumexp(tf.where(feasible, terms, neg_inf_like(terms)), axis=-1)
    safe_count = tf.maximum(count, 1.)
    return (tf.math.lgamma(safe_count) + (safe_count - 1.) * tf.math.log(temperature)
            + tf.reduce_sum(tf.where(feasible, terms, tf.zeros_like(terms)), axis=-1)
            - safe_count * tf.where(count > 0., log_sum, tf.zeros_like(log_sum)))


def one_hots_log_prob(num_per_class, logits, total_count, temperature, log_one_hots, table_size,
                      window, method):
    """log density of stacked log one-hots `[N, B, c, W]` (float64): `[N, B]` float64.

    Row i's count is `argmax y_i`; the remaining counts give the conditional logits alpha_i; the
    value is -inf unless every row is -inf exactly where alpha_i is (off the support), NaN where
    a row holds a NaN.

    Args:
      num_per_class, logits: `[B, c]` float64 (c static).
      total_count: `[B]` float64.
      temperature: `[B]` float64 tau.
      log_one_hots: `[N, B, c, W]` float64 y.
      table_size, window: K and W.
      method: "exact" or "merged".
    """
    next_tables = conditional_tables(num_per_class, logits, table_size, window, method)
    present = log_one_hots > -np.inf
    draws = tf.argmax(log_one_hots, axis=-1, output_type=tf.int32)                  # [N, B, c]

    def visit(i, alpha, _, remaining):
        """Class i: `(draw, (whether y_i fits the support, its Concrete log density))`."""
        feasible = alpha > -np.inf
        fits = (remaining >= 0) & tf.reduce_all(tf.equal(feasible, present[..., i, :]), axis=-1)
        return draws[..., i], (fits, _masked_exp_concrete_log_prob(
            alpha, log_one_hots[..., i, :], temperature[None, :], feasible))

    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32)[None, :], tf.shape(draws)[:2])
    in_support = tf.ones(tf.shape(remaining), tf.bool)
    total = tf.zeros(tf.shape(remaining), tf.float64)
    for fits, log_prob in class_by_class(num_per_class, logits, next_tables, remaining, window,
                                         visit):
        in_support &= fits
        total += log_prob
    result = tf.where(in_support, total, neg_inf_like(total))
    is_nan = tf.reduce_any(tf.math.is_nan(log_one_hots), axis=[-2, -1])
    return tf.where(is_nan, tf.fill(tf.shape(total), tf.constant(np.nan, tf.float64)), result)
