"""Per-class Gumbel-softmax sampling of the MVHG (Algorithm 1 of the paper, with exact conditionals).

Class `i` is a categorical over `x = 0..W-1` with logits

    alpha_i[x] = log C(m_i, x) + x theta_i + T_i[r_i - x] - Z_i(r_i),

where `r_i = n - sum_{j<i} x_j` is the remaining count, Z_i(r_i) the logsumexp over x of the
rest (computed per sample, O(W)), and, per method,

    exact:  T_i = q_{i+1}   (suffix tables: the true conditional; Z_i(r) = q_i[r]),
    merged: T_i[k] = log C(M_i, k) + k log w_i with M_i = sum_{j>i} m_j and
            w_i = sum_{j>i} m_j omega_j / M_i (the paper's classes i+1..c merged into one).

The forward pass draws `x_i = argmax(alpha_i + g_i)` (Gumbel-max: an exact draw of the
conditional at any temperature) and relaxes it to `y_i = softmax((alpha_i + g_i) / tau)`.
Gradients reach theta through `alpha_i` (and the tables) and through the remaining count: the
table `T_i` is read at the integer `r_i - x` in the forward pass, and differentiated as the
piecewise-linear interpolation of `T_i` in `r`, `alpha_i += (r_i - stop_gradient(r_i)) * T_i'`.
The last class takes what remains, `x_c = n - sum_{j<c} x_j`, so soft counts also sum to `n`.

Memory is O(S B W) per class (S samples, B parameter sets, W = min(max m, max n) + 1), plus the
tables O(c K B) with K = max n + 1. Work: the exact method's tables cost c - 2 class steps of
O(K W B) (`suffix_tables.suffix_log_tables`: q_{c-1} is direct, q_0 is not needed); the merged tables
are direct, O(c K B).
"""

import collections

import numpy as np
import tensorflow as tf

from tfp_mvhg.internal.log_space import log_class_term, safe_reduce_logsumexp
from tfp_mvhg.internal.random_bits import stateless_open_uniform
from tfp_mvhg.internal.suffix_tables import suffix_log_tables

__all__ = ["METHODS", "RelaxedSample", "class_conditional_logits", "conditional_tables",
           "counts_from_one_hots", "relaxed_sample"]

METHODS = ("exact", "merged")

RelaxedSample = collections.namedtuple("RelaxedSample", ["counts", "one_hots", "logits", "mask"])
RelaxedSample.__doc__ = """What Algorithm 1 returns, for `sample_shape + batch_shape = [...]`.

counts:   `[..., c]` counts (straight-through integers when hard, else soft); they sum to n.
one_hots: `[..., c, W]` per-class relaxed one-hot vectors over x = 0..W-1.
logits:   `[..., c, W]` per-class conditional logits alpha_i (normalised; -inf where impossible).
mask:     `[..., c, W]` bool, True where x <= min(m_i, n): the padding to the common length W.
"""


def counts_from_one_hots(one_hots, hard):
    """Count index of per-class relaxed one-hots: `x = sum_k k y[k]`, `[..., W] -> [...]`.

    With `hard=True` the forward value is the integer `argmax_k y[k]` and the gradient is that of
    the soft count `sum_k k y[k]` (straight-through). This map is not invertible (many soft
    vectors share a count), so it is a plain function rather than a `tfb.Bijector`, and the
    relaxed distribution has no density for soft samples.
    """
    positions = tf.range(tf.shape(one_hots)[-1], dtype=one_hots.dtype)
    soft = tf.reduce_sum(one_hots * positions, axis=-1)
    if not hard:
        return soft
    index = tf.cast(tf.argmax(one_hots, axis=-1), one_hots.dtype)
    return index + (soft - tf.stop_gradient(soft))


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


def conditional_tables(num_per_class, logits, table_size, window, method):
    """Tables T_i of the per-class conditionals: `[c, K, B]` float64.

    `alpha_i[x] = log C(m_i, x) + x theta_i + T_i[r - x]`, normalised over x, is the log
    conditional of class i with r remaining (see the module docstring).
    """
    if method == "exact":
        return suffix_log_tables(num_per_class, logits, table_size, window, first=1)
    return _merged_next_tables(num_per_class, logits, table_size)


def _gather_rows(table, row, batch_index):
    """`table[row, batch_index]` for `table [K, B]` and integer indices of any common shape."""
    flat = tf.reshape(table, [-1])
    return tf.gather(flat, row * tf.shape(table)[1] + batch_index)


def _slope_at(table, row, batch_index):
    """Derivative in k of the piecewise-linear interpolation of `table` (`[K, B]`) at `row`
    (`[S, B, W]`): the mean of the forward and backward differences where both neighbours are
    finite, the one-sided difference at the edges of the support, 0 where the table is -inf.
    Read at the rows only (O(S B W) memory, not O(K B))."""
    size = tf.shape(table)[0]
    here = _gather_rows(table, row, batch_index)
    below = _gather_rows(table, tf.maximum(row - 1, 0), batch_index)
    above = _gather_rows(table, tf.minimum(row + 1, size - 1), batch_index)
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
      remaining: `[S, B]` int32 remaining counts, 0 <= r_i < K.
      window: W.

    Returns:
      `(alpha, row)`: alpha `[S, B, W]` normalised over x, -inf where class i cannot take x
      (x > m_i, x > r_i, or r_i - x more than the later classes hold), and the table rows
      `max(r_i - x, 0)`.
    """
    x = tf.range(window)
    x64 = tf.cast(x, tf.float64)
    batch_index = tf.range(tf.shape(theta_i)[0])[None, :, None]                     # [1, B, 1]
    coefficient = log_class_term(num_i[:, None], x64, theta_i[:, None])       # [B, W]
    rest = remaining[:, :, None] - x                                                # [S, B, W]
    row = tf.maximum(rest, 0)
    alpha = coefficient[None] + _gather_rows(next_table, row, batch_index)
    alpha = tf.where(rest >= 0, alpha, tf.constant(-np.inf, tf.float64))
    log_norm = safe_reduce_logsumexp(alpha, axis=-1, keepdims=True)
    # an infeasible r (no x possible) keeps its row -inf
    return alpha - tf.where(log_norm > -np.inf, log_norm, tf.zeros_like(log_norm)), row


def relaxed_sample(num_per_class, logits, total_count, temperature, table_size, window,
                   num_samples, seed, hard=True, method="exact", shuffle_classes=False,
                   return_log_one_hots=False):
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

    Returns:
      `RelaxedSample` with counts `[S, B, c]`, one_hots and logits `[S, B, c, W]`, mask `[B, c, W]`
      (and the log one-hots if asked).
    """
    dtype = logits.dtype
    num_classes = int(logits.shape[-1])
    num_per_class = tf.reshape(num_per_class, [-1, num_classes])
    noise_seed, order_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2, alg="philox"))
    if shuffle_classes:
        order = tf.argsort(tf.random.stateless_uniform([num_classes], seed=order_seed, alg="philox"))
        num_per_class = tf.gather(num_per_class, order, axis=1)
        logits = tf.gather(logits, order, axis=1)
    logits64 = tf.cast(logits, tf.float64)
    next_tables = conditional_tables(num_per_class, logits64, table_size, window, method)

    batch = tf.shape(logits)[0]
    x = tf.range(window)
    batch_index = tf.range(batch)[None, :, None]                                    # [1, B, 1]
    x64 = tf.cast(x, tf.float64)
    mask = ((x64[None, None, :] <= num_per_class[:, :, None])
            & (x64[None, None, :] <= total_count[:, None, None]))                   # [B, c, W]
    uniforms = stateless_open_uniform(
        [num_classes - 1, num_samples, batch, window], noise_seed, dtype)
    gumbels = -tf.math.log(-tf.math.log(uniforms))
    inverse_temperature = (1. / temperature)[None, :, None]

    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32)[None, :], [num_samples, batch])
    remaining_delta = tf.zeros([num_samples, batch], dtype)   # r - stop_gradient(r): 0 forward
    counts, one_hots, class_logits, log_one_hots = [], [], [], []
    for i in range(num_classes):
        alpha, row = class_conditional_logits(num_per_class[:, i], logits64[:, i], next_tables[i],
                                              remaining, window)
        alpha = (tf.cast(alpha, dtype) + remaining_delta[..., None]
                 * tf.cast(tf.stop_gradient(_slope_at(next_tables[i], row, batch_index)),
                           dtype))
        class_logits.append(alpha)
        if i == num_classes - 1:  # the last class takes what remains: counts sum to n
            one_hots.append(tf.one_hot(remaining, window, dtype=dtype))
            if return_log_one_hots:
                log_one_hots.append(tf.math.log(one_hots[-1]))
            taken = tf.add_n(counts) if counts else tf.zeros_like(remaining_delta)
            counts.append(tf.cast(total_count, dtype)[None, :] - taken)
            break
        perturbed = alpha + gumbels[i]
        # (alpha + g) / tau, -inf off the support without -inf * 0 in the temperature gradient
        feasible = perturbed > -np.inf
        scaled = tf.where(feasible, tf.where(feasible, perturbed, tf.zeros_like(perturbed))
                          * inverse_temperature, perturbed)
        if return_log_one_hots:
            log_one_hots.append(tf.nn.log_softmax(scaled, axis=-1))
        soft = tf.nn.softmax(scaled, axis=-1)
        draw = tf.argmax(perturbed, axis=-1, output_type=tf.int32)
        one_hot = (tf.one_hot(draw, window, dtype=dtype) + (soft - tf.stop_gradient(soft))
                   if hard else soft)
        count = counts_from_one_hots(one_hot, hard)
        one_hots.append(one_hot)
        counts.append(count)
        remaining -= draw
        remaining_delta -= count - tf.stop_gradient(count)
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


def chain_log_prob(num_per_class, logits, total_count, counts, table_size, window, method):
    """log P(x) as the product of the method's sequential conditionals: `[N, B]` float64.

    For `method="exact"` this is the MVHG pmf; for "merged" it is the pmf of the paper's scheme in
    the given class order. `counts` is `[N, B, c]` integer-valued float64 summing to n.
    """
    next_tables = conditional_tables(num_per_class, logits, table_size, window, method)
    counts_int = tf.cast(counts, tf.int32)
    remaining = tf.cast(total_count, tf.int32)[None, :, None] - tf.cumsum(
        counts_int, axis=-1, exclusive=True)                                           # [N, B, c]
    total = tf.zeros(tf.shape(remaining)[:2], tf.float64)
    for i in range(int(logits.shape[-1])):
        r_i, x_i = remaining[..., i], counts_int[..., i]
        alpha, _ = class_conditional_logits(num_per_class[:, i], logits[:, i], next_tables[i],
                                            tf.maximum(r_i, 0), window)
        taken = tf.gather(alpha, tf.clip_by_value(x_i, 0, window - 1), batch_dims=2)
        total += tf.where((r_i >= 0) & (x_i >= 0) & (x_i < window), taken,
                          tf.constant(-np.inf, tf.float64))
    return total
