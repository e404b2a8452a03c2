# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The per-class conditionals of the sequential sampler, exact or merged, and their class loop.

Class i, given the remaining count r_i = n - sum_{j<i} x_j, is a categorical over x = 0..W-1
with the normalised logits

    alpha_i[x] = log C(m_i, x) + x theta_i + T_i[r_i - x] - Z_i(r_i),

Z_i(r_i) the logsumexp over x of the rest (computed per row, O(W)), and, per method,

    exact:  T_i = q_{i+1}   (suffix tables: the true conditional; Z_i(r) = q_i[r]),
    merged: T_i[k] = log C(M_i, k) + k log w_i with M_i = sum_{j>i} m_j and
            w_i = sum_{j>i} m_j omega_j / M_i (the paper's classes i+1..c merged into one).

`class_by_class` is the one loop over the classes in order: the relaxed sampler
(`gumbel_softmax.relaxed_sample`), the pmf of counts (`chain_log_prob`) and the density of the
relaxed one-hots (`gumbel_softmax.one_hots_log_prob`) each visit it with their own step. The
exact method's tables cost c - 2 class steps of O(K W B) (`suffix_tables.suffix_log_tables`:
q_{c-1} is direct, q_0 is not needed; the relaxed sampler's in linear space,
`suffix_tables.tilted_suffix_log_tables`); the merged tables are direct, O(c K B).
"""

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import implementation_selection

from tfp_mvhg.internal.log_space import log_class_term
from tfp_mvhg.internal.log_space import safe_reduce_logsumexp
from tfp_mvhg.internal.suffix_tables import suffix_log_tables
from tfp_mvhg.internal.suffix_tables import table_entries
from tfp_mvhg.internal.suffix_tables import tilted_suffix_log_tables

__all__ = ["METHODS", "TABLE_DTYPES", "chain_log_prob", "check_table_dtype", "class_by_class",
           "class_conditional_logits", "conditional_tables", "slope_at"]

METHODS = ("exact", "merged")
TABLE_DTYPES = ("float64", "float32")
# Below K W = 1024 terms per row and class step, the linear-space steps' extra ops (tilt, batch
# windows) cost more than the log-space steps save (measured: 25k against 37k rows/s at
# (c, m, n) = (10, 10, 10), 4,096 rows).
LINEAR_TABLES_MIN_TERMS = 1024


def check_table_dtype(table_dtype):
    """`table_dtype` as a `tf.DType` of `TABLE_DTYPES`; a `ValueError` naming it otherwise."""
    try:
        dtype = tf.as_dtype(table_dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in TABLE_DTYPES:
        raise ValueError(f"`table_dtype` must be one of {TABLE_DTYPES}, got {table_dtype!r}.")
    return dtype


def _merged_next_tables(num_per_class, logits, table_size):
    """T_i of the merged method, `[c, K, B]`: one class of M_i items with m-weighted mean weight."""
    # suffix sums over j > i, via exclusive reverse cumulative sums along classes.
    merged_count = tf.cumsum(num_per_class, axis=1, exclusive=True, reverse=True)      # [B, c]
    log_mass = tf.where(num_per_class > 0., tf.math.log(num_per_class) + logits,
                        tf.constant(-np.inf, logits.dtype))
    log_merged_mass = tf.math.cumulative_logsumexp(
        tf.reverse(log_mass, axis=[1]), axis=1, exclusive=True)
    log_merged_mass = tf.reverse(log_merged_mass, axis=[1])
    has_items = merged_count > 0.
    merged_logit = tf.where(
        has_items,
        log_merged_mass - tf.math.log(tf.where(has_items, merged_count, 1.)),
        tf.zeros_like(merged_count))
    k = tf.range(table_size, dtype=logits.dtype)[None, :, None]                       # [1, K, 1]
    merged_count = tf.transpose(merged_count)[:, None, :]                             # [c, 1, B]
    merged_logit = tf.transpose(merged_logit)[:, None, :]
    return log_class_term(merged_count, k, merged_logit)


def conditional_tables(num_per_class, logits, table_size, window, method, total_count=None,
                       table_dtype=tf.float64):
    """Tables T_i of the per-class conditionals: `[c, K, B]` float64.

    `alpha_i[x] = log C(m_i, x) + x theta_i + T_i[r - x]`, normalised over x, is the log
    conditional of class i with r remaining (see the module docstring). With `total_count` (n,
    `[B]`) and c >= 3 static, the exact tables' class steps run in linear space on tilted
    probabilities (`suffix_tables.tilted_suffix_log_tables`: multiply-adds, a bound on what
    underflows); without it, for small tables (K W < `LINEAR_TABLES_MIN_TERMS`), or under XLA
    (whose CPU depthwise convolution allocated O(B^2 K) memory, 145 GB at B = 10^4, K = 181), in
    log space (`log_convolve`). `table_dtype` is the linear-space steps' dtype (float32: see
    `tilted_suffix_log_tables`); the tables themselves are float64 either way.
    """
    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if (method == "exact" and total_count is not None and num_classes and num_classes >= 3
            and not implementation_selection.is_xla()
            and not (isinstance(table_size, int) and isinstance(window, int)
                     and table_size * window < LINEAR_TABLES_MIN_TERMS)):
        return tilted_suffix_log_tables(num_per_class, logits, total_count, table_size, window,
                                        convolution_dtype=table_dtype)
    if method == "exact":
        return suffix_log_tables(num_per_class, logits, table_size, window, first=1)
    return _merged_next_tables(num_per_class, logits, table_size)


def slope_at(table, row, batch_index):
    """Derivative in k of the piecewise-linear interpolation of `table` (`[K, B]`) at `row`
    (`[S, B, W]`): the mean of the forward and backward differences where both neighbours are
    finite, the one-sided difference at the edges of the support, 0 where the table is -inf.
    Read at the rows only (O(S B W) memory, not O(K B))."""
    size = tf.shape(table)[0]
    here = table_entries(table, row, batch_index)
    below = table_entries(table, tf.maximum(row - 1, 0), batch_index)
    above = table_entries(table, tf.minimum(row + 1, size - 1), batch_index)
    finite = tf.math.is_finite(here)
    backward_ok = (row > 0) & finite & tf.math.is_finite(below)
    forward_ok = (row < size - 1) & finite & tf.math.is_finite(above)
    zero = tf.zeros_like(here)
    safe_here = tf.where(finite, here, zero)
    backward = tf.where(backward_ok, safe_here - tf.where(backward_ok, below, zero), zero)
    forward = tf.where(forward_ok, tf.where(forward_ok, above, zero) - safe_here, zero)
    count = tf.cast(backward_ok, here.dtype) + tf.cast(forward_ok, here.dtype)
    return tf.where(finite, (backward + forward) / tf.maximum(count, 1.), zero)


def class_conditional_logits(num_i, theta_i, next_table, remaining, window):
    """alpha_i[x] of class i given `remaining` r_i (module docstring), `[S, B, W]` float64.

    Args:
      num_i, theta_i: `[B]` float64 m_i and theta_i.
      next_table: `[K, B]` table T_i of `conditional_tables`.
      remaining: `[S, B]` int32 remaining counts r_i < K (negative: alpha all -inf).
      window: W.

    Returns:
      `(alpha, row)`: alpha `[S, B, W]` normalised over x, -inf where class i cannot take x
      (x > m_i, x > r_i, or r_i - x more than the later classes hold), and the table rows
      `max(r_i - x, 0)`.
    """
    x = tf.range(window)
    x64 = tf.cast(x, tf.float64)
    batch_index = tf.range(tf.shape(theta_i)[0])[None, :, None]                     # [1, B, 1]
    coefficient = log_class_term(num_i[:, None], x64, theta_i[:, None])             # [B, W]
    rest = remaining[:, :, None] - x                                                # [S, B, W]
    row = tf.maximum(rest, 0)
    alpha = coefficient[None] + table_entries(next_table, row, batch_index)
    alpha = tf.where(rest >= 0, alpha, tf.constant(-np.inf, tf.float64))
    log_norm = safe_reduce_logsumexp(alpha, axis=-1, keepdims=True)
    # an infeasible r (no x possible) keeps its row -inf
    return alpha - tf.where(log_norm > -np.inf, log_norm, tf.zeros_like(log_norm)), row


def class_by_class(num_per_class, logits, next_tables, remaining, window, visit):
    """Visits the classes in order with their conditional logits; returns the visits' outputs.

    For i = 0..c-1: `alpha, row = class_conditional_logits(m_i, theta_i, T_i, r_i, W)`, then
    `x_i, output_i = visit(i, alpha, row, r_i)` and r_{i+1} = r_i - x_i. A negative r_i (counts
    that overdraw) gives alpha all -inf.

    Args:
      num_per_class, logits: `[B, c]` float64 (c static: the loop is unrolled).
      next_tables: `[c, K, B]` tables T_i of `conditional_tables`.
      remaining: `[N, B]` int32 r_0 (n, broadcast over N rows).
      window: W.
      visit: `(i, alpha [N, B, W], row [N, B, W], remaining [N, B]) -> (x_i [N, B] int32,
        output)`.

    Returns:
      The list of the c outputs.
    """
    num_classes = int(logits.shape[-1])
    outputs = []
    for i in range(num_classes):
        alpha, row = class_conditional_logits(num_per_class[:, i], logits[:, i], next_tables[i],
                                              remaining, window)
        taken, output = visit(i, alpha, row, remaining)
        outputs.append(output)
        if i < num_classes - 1:
            remaining = remaining - taken
    return outputs


def chain_log_prob(num_per_class, logits, total_count, counts, table_size, window, method):
    """log P(x) as the product of the method's sequential conditionals: `[N, B]` float64.

    For `method="exact"` this is the MVHG pmf; for "merged" it is the pmf of the paper's scheme in
    the given class order. `counts` is `[N, B, c]` integer-valued float64 summing to n.
    """
    next_tables = conditional_tables(num_per_class, logits, table_size, window, method)
    counts = tf.cast(counts, tf.int32)

    def visit(i, alpha, _, remaining):
        x_i = counts[..., i]
        taken = tf.gather(alpha, tf.clip_by_value(x_i, 0, window - 1), batch_dims=2)
        return x_i, tf.where((remaining >= 0) & (x_i >= 0) & (x_i < window), taken,
                             tf.constant(-np.inf, tf.float64))

    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32)[None, :], tf.shape(counts)[:2])
    total = tf.zeros(tf.shape(remaining), tf.float64)
    for log_prob in class_by_class(num_per_class, logits, next_tables, remaining, window, visit):
        total += log_prob
    return total
