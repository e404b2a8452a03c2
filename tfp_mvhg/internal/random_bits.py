# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Random bits: Philox uniforms in the open interval (0, 1), and inverse-CDF draws.

A draw from the normalized `p = exp(logits)` over x = 0..W-1 with a uniform u is the first x
where the CDF exceeds u, that is `#{x : cdf[x] <= u}` (`count_at_most`). The uniforms come from
raw Philox integers, so they are the same eagerly, in a `tf.function` and under XLA.
"""

import tensorflow as tf

from tfp_mvhg.internal.log_space import safe_reduce_logsumexp

__all__ = ["count_at_most", "draw_by_inverse_cdf", "stateless_open_uniform", "uniform_from_bits"]


def uniform_from_bits(words, dtype):
    """Maps random int64 words to the open interval (0, 1), exactly representable in `dtype`.

    The top b bits (b = 23 for float32, 52 for float64) give k; the value is `(2 k + 1) 2^-(b+1)`,
    so the largest is `1 - 2^-(b+1)` < 1 and `-log(-log(u))` stays finite.
    """
    bits = 52 if dtype == tf.float64 else 23
    k = tf.bitwise.right_shift(words, 64 - bits) & ((1 << bits) - 1)
    return (2. * tf.cast(k, dtype) + 1.) * 2. ** -(bits + 1)  # exact: 2 k + 1 < 2^(bits + 1)


def stateless_open_uniform(shape, seed, dtype):
    """Uniforms in (0, 1) from Philox bits: the same values eagerly and under XLA.

    (`tf.random.stateless_uniform` gives different floats under XLA on TF 2.15, while its raw
    integers agree.)
    """
    words = tf.random.stateless_uniform(shape, seed=seed, dtype=tf.int64, minval=None,
                                        maxval=None, alg="philox")
    return uniform_from_bits(words, dtype)


def count_at_most(cdf_rows, row, values, xla):
    """#{x : cdf_rows[row, x] <= value} for each (row, value) query: `[N]` int32.

    Args:
      cdf_rows: `[R, W]` float64, each row non-decreasing in [0, 1].
      row: `[N]` int32 row of each query.
      values: `[N]` float64 in [0, 1).
      xla: whether XLA compiles the ops (`dispatch.sample_counts` asks TFP's
        `implementation_selection.is_xla()`, the test TFP's own samplers use; TensorFlow has no
        public one).

    Outside XLA: one `tf.searchsorted` over all rows laid end to end, row j shifted by +j so the
    whole vector is sorted (queries are row + value). Under XLA, where `searchsorted` over a long
    vector compiles to a quadratic comparison, a binary search of ceil(log2(W + 1)) gathers (it is
    up to 2x slower than `searchsorted` outside XLA, so both are kept).
    """
    width = cdf_rows.shape[-1]
    if not xla:
        num_rows = tf.shape(cdf_rows)[0]
        shifted = tf.cast(tf.range(num_rows), tf.float64)[:, None] + cdf_rows
        position = tf.searchsorted(tf.reshape(shifted, [-1]), tf.cast(row, tf.float64) + values,
                                   side="right")
        return position - row * tf.shape(cdf_rows)[1]
    flat = tf.reshape(cdf_rows, [-1])
    row_start = row * tf.shape(cdf_rows)[1]
    low = tf.zeros_like(row)
    high = tf.fill(tf.shape(row), tf.shape(cdf_rows)[1])

    def body(low, high):
        active = low < high
        middle = tf.minimum((low + high) // 2, high - 1)
        go_right = tf.gather(flat, row_start + tf.maximum(middle, 0)) <= values
        return (tf.where(active & go_right, middle + 1, low),
                tf.where(active & ~go_right, middle, high))

    if width is not None:  # static width: unrolled, ceil(log2(width + 1)) halvings
        for _ in range(int(width).bit_length()):
            low, high = body(low, high)
        return low
    low, _ = tf.while_loop(lambda low, high: tf.reduce_any(low < high), body, (low, high))
    return low


def draw_by_inverse_cdf(row_logits, row, values, xla):
    """Inverse-CDF draws: for each query, the column of row `row` where the CDF of the
    normalized `exp(row_logits[row])` first exceeds the uniform: `[N]` int32 (W for a row of
    all -inf, which no drawn state reaches).

    Args:
      row_logits: `[R, W]` float64 unnormalized log-probabilities (-inf: impossible).
      row: `[N]` int32 row of each query.
      values: `[N]` float64 uniforms in [0, 1).
      xla: whether XLA compiles the ops (`count_at_most`).
    """
    log_norm = safe_reduce_logsumexp(row_logits, axis=1, keepdims=True)
    probs = tf.exp(row_logits - log_norm)
    probs = tf.where(tf.math.is_finite(probs), probs, tf.zeros_like(probs))  # infeasible rows
    cdf = tf.cumsum(probs, axis=1)
    cdf = cdf / tf.where(cdf[:, -1:] > 0., cdf[:, -1:], tf.ones_like(cdf[:, -1:]))
    return count_at_most(cdf, row, values, xla)
