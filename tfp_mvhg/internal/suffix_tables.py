# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Suffix tables of the generating function, the log normalizer and the marginals.

With classes i = 0..c-1, m_i items and log-weights theta_i, the suffix tables are

    q_i[k] = log [t^k] prod_{j >= i} (1 + exp(theta_j) t)^{m_j},      k = 0..K-1,
    q_c[k] = 0 if k == 0 else -inf,
    q_i[k] = logsumexp_x ( log C(m_i, x) + x theta_i + q_{i+1}[k - x] ),   x = 0..min(m_i, k),

so that log P0 = q_0[n]. The summands above, seen as a function of x for a fixed remaining count k,
are the unnormalized logits of the exact conditional P(X_i = x | X_<i) with k = n - sum_{j<i} x_j;
`class_logits` returns them for every k at once (a Toeplitz gather, `[K, W, B]`), and
`log_space.log_convolve` reduces them to q_i block by block, with a gradient that recomputes
them instead of storing them.

All functions work on flattened batches: parameters are `[B, c]`, tables `[c + 1, K, B]`.
"""

import numpy as np
import tensorflow as tf

from tfp_mvhg.internal.log_space import log_class_term
from tfp_mvhg.internal.log_space import log_convolve
from tfp_mvhg.internal.log_space import neg_inf_like
from tfp_mvhg.internal.log_space import safe_reduce_logsumexp
from tfp_mvhg.internal.windows import mean_field_tilt

__all__ = ["class_logits", "log_normalizer", "marginal_log_probs", "suffix_log_tables",
           "table_entries", "tilted_scales", "tilted_suffix_log_tables",
           "truncation_log_threshold"]


def table_entries(table, row, member):
    """`table[row, member]` for a k-major table `[K, B]` and integer indices of broadcastable
    shapes (one flat gather)."""
    return tf.gather(tf.reshape(table, [-1]), row * tf.shape(table)[1] + member)


def class_logits(q_next, num_i, theta_i, window):
    """Unnormalized log P(X_i = x | k remaining) for every k: `[K, W, B]`.

    Tables are k-major (`[K, B]`) so that the Toeplitz gather is on axis 0 and no transposes
    appear inside the scans (the exact sampler's and the moment sweeps').

    Args:
      q_next: `[K, B]` suffix table q_{i+1}.
      num_i: `[B]` items m_i of class i.
      theta_i: `[B]` log-weight of class i.
      window: W, a bound with W - 1 >= min(max m_i, K - 1); entries x > min(m_i, k) are -inf.
    """
    table_size = tf.shape(q_next)[0]
    x = tf.range(window)
    shift = tf.range(table_size)[:, None] - x[None, :]                       # [K, W]: k - x
    x = tf.cast(x, q_next.dtype)[:, None]
    coefficient = log_class_term(num_i[None, :], x, theta_i[None, :])       # [W, B]
    terms = coefficient[None] + tf.gather(q_next, tf.maximum(shift, 0))     # [K, W, B]
    return tf.where(shift[:, :, None] >= 0, terms, neg_inf_like(terms))


def suffix_log_tables(num_per_class, logits, table_size, window, first=0):
    """Suffix tables q_first..q_c, k-major: `[c + 1 - first, K, B]` (K = `table_size`).

    q_c is the boundary and q_{c-1}[k] = log C(m_{c-1}, k) + k theta_{c-1} directly (its
    convolution with the boundary is a copy), so only classes first..c-2 cost a class step, a
    `log_convolve` (memory O(K B + W B) per class for the backward pass).

    Args:
      num_per_class: `[B, c]` float, integer-valued m.
      logits: `[B, c]` float, theta = log omega.
      table_size: K = max n + 1 (a Python int keeps shapes static for XLA).
      window: W = min(max m, max n) + 1.
      first: the first table returned, 0 or 1 (the sampler needs q_1..q_c only).
    """
    batch = tf.shape(logits)[0]
    first_count = tf.equal(tf.range(table_size), 0)  # `==` is identity, not elementwise, in TF1
    boundary = tf.where(first_count, tf.zeros([table_size], logits.dtype),
                        tf.fill([table_size], tf.constant(-float("inf"), logits.dtype)))
    boundary = tf.broadcast_to(boundary[:, None], [table_size, batch])
    k = tf.cast(tf.range(table_size), logits.dtype)[:, None]
    last = log_class_term(num_per_class[None, :, -1], k, logits[None, :, -1])       # q_{c-1}
    x = tf.cast(tf.range(window), logits.dtype)[:, None]

    def step(q_next, params):
        num_i, theta_i = params
        q_i = log_convolve(log_class_term(num_i[None, :], x, theta_i[None, :]), q_next)
        return tf.ensure_shape(q_i, q_next.shape)  # a dynamic K must not loosen the loop shape

    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if num_classes is None:  # the plain scan over every class from the boundary
        tables = tf.scan(step, (tf.transpose(num_per_class), tf.transpose(logits)),
                         initializer=boundary, reverse=True)
        return tf.concat([tables, boundary[None]], axis=0)[first:]
    last = tf.ensure_shape(last, boundary.shape)
    tables = [last[None], boundary[None]]
    if num_classes - 1 - first > 0:  # (an empty scan cannot stack a dynamic batch)
        tables.insert(0, tf.scan(step, (tf.transpose(num_per_class)[first:-1],
                                        tf.transpose(logits)[first:-1]),
                                 initializer=last, reverse=True))
    return tf.concat(tables, axis=0)[max(first + 1 - num_classes, 0):]  # c = first = 1: q_1


def tilted_scales(num_per_class, logits, total_count):
    """The tilt of `tilted_suffix_log_tables` and the log scales it takes out of each table.

    Returns lam `[B]` (`windows.mean_field_tilt`, stop-gradient), the log normalizers of the
    tilted class terms m_j softplus(eta_j) `[B, c]` (eta_j = theta_j + lam), and their suffix sums
    sum_{j >= i} m_j softplus(eta_j) for i = 1..c-1 `[c-1, B]`, so that
    q_i[k] = log P_lam(S_i = k) - lam k + (the suffix sum of row i - 1).
    """
    tilt = tf.stop_gradient(mean_field_tilt(num_per_class, logits, total_count, steps=40))
    log_norms = num_per_class * tf.math.softplus(logits + tilt[:, None])              # [B, c]
    untilt = tf.transpose(tf.math.cumsum(log_norms, axis=1, reverse=True)[:, 1:])     # [c-1, B]
    return tilt, log_norms, untilt


def truncation_log_threshold(num_classes, window, most_items):
    """log t, t = 2^-60 / (2 c (c + W) (max_rows sum m + 1)): the smallest entry that
    `tilted_suffix_log_tables` keeps (float64 scalar tensor)."""
    return (-60. * np.log(2.) - np.log(2. * num_classes)
            - tf.math.log(num_classes + tf.cast(window, tf.float64))
            - tf.math.log1p(tf.cast(most_items, tf.float64)))


def tilted_suffix_log_tables(num_per_class, logits, total_count, table_size, window,
                             convolution_dtype=tf.float64):
    """q_1..q_c of `suffix_log_tables(..., first=1)`, with the class steps in linear space:
    `[c, K, B]` float64 (c static, >= 2).

    With the tilt lam of `windows.mean_field_tilt` (sum_j m_j sigmoid(theta_j + lam) = n) and
    eta_j = theta_j + lam, the tilted class terms are the pmfs of X_j ~ Binomial(m_j,
    sigmoid(eta_j)), and every table is the pmf of a partial sum S_i = sum_{j >= i} X_j:

        q_i[k] = log P_lam(S_i = k) - lam k + sum_{j >= i} m_j softplus(eta_j),
        P_lam(S_i = .) = P_lam(X_i = .) * P_lam(S_{i+1} = .)     (a convolution, truncated to K),

    an identity for every lam, so lam is held fixed (stop-gradient) and the gradients in theta
    are exact. The convolutions of nonnegative terms are per-row depthwise convolutions
    (multiply-adds instead of the log-space steps' exp and log), over batch windows: the range of
    x (of k) where some row's P_lam(X_i = x) (P_lam(S_i = k)) is at least

        t = 2^-60 / (2 c (c + W) (max_rows sum m + 1));

    what every row has below t outside its window is set to 0, and a table entry below t is -inf.

    What that neglects, bounded: every pmf sums to at most 1, so each table entry is off by at
    most c t. At class i with r remaining the draw has the law P_lam(X_i = x) P_lam(S_{i+1} = r -
    x) / P_lam(S_i = r), whose numerators are off by at most (c + W) t in sum, so the draw is off by
    at most 2 (c + W) t / P_lam(S_i = r) in total variation. Under the MVHG P(r_i = r) = P_lam(S_<i
    = n - r) P_lam(S_i = r) / P_lam(S = n), so the expected error is at most 2 (c + W) t /
    P_lam(S = n), and over the c classes 2 c (c + W) t / P_lam(S = n). S is a sum of independent
    Bernoulli variables with mean n (to the bisection's 2^-29), so n is its mode (Darroch 1964)
    and P_lam(S = n) >= 1 / (sum m + 1): the hard draws' law is within 2^-60 (about 1e-18) of the
    MVHG's in total variation, below the float64 rounding of the log-space tables' conditionals
    (relative errors of order W eps). The entries kept agree with the log-space tables to about
    1e-12 relative (tested).

    With `convolution_dtype=tf.float32` the pmfs and convolutions are float32 (TensorFlow's
    float32 depthwise convolution is oneDNN's, 10-30x faster on CPU than float64's generic
    kernel); t is a normal float32 (>= 2^-126) while 2 c (c + W)(sum m + 1) <= 2^66, far beyond
    any table that fits in memory. A convolution output is a sum of at most W nonnegative
    products, so in any summation order it is off by at most W 2^-24 relative to its float32
    inputs, and each pmf is rounded (2^-24): after the c - 2 class steps the rounding adds at
    most delta = (c - 1)(W + 1) 2^-24 relative error to every entry, on top of the truncation's
    c t (the first order of the bound with room for the second). A conditional is a normalised
    ratio of such entries, so the rounding moves it by at most delta / (1 - delta) in total
    variation, and the hard draws' law by c delta / (1 - delta) besides the 2^-60 above
    (measured: `benchmarks/accuracy_float32_tables.py`).

    Args:
      num_per_class, logits, table_size, window: as for `suffix_log_tables`.
      total_count: `[B]` float64 n, for the tilt.
      convolution_dtype: `tf.float64` or `tf.float32`, the class steps' dtype.
    """
    num_classes = int(logits.shape[-1])
    dtype = logits.dtype
    tilt, log_norms, untilt = tilted_scales(num_per_class, logits, total_count)
    eta = logits + tilt[:, None]                                                    # [B, c]
    log_threshold = truncation_log_threshold(
        num_classes, window, tf.reduce_max(tf.reduce_sum(num_per_class, axis=-1)))
    threshold = tf.cast(tf.exp(log_threshold), convolution_dtype)

    def batch_window(values):
        """`(first, values[first:last + 1])`: the rows' union window of entries >= t along axis
        0 (at least one entry)."""
        kept = tf.reduce_any(values >= threshold, axis=1)
        size = tf.shape(kept)[0]
        first = tf.minimum(tf.argmax(tf.cast(kept, tf.int32), output_type=tf.int32), size - 1)
        last = size - 1 - tf.argmax(tf.cast(tf.reverse(kept, [0]), tf.int32),
                                    output_type=tf.int32)
        return first, values[first:tf.maximum(last, first) + 1]

    def class_pmf(i, points):
        return batch_window(tf.cast(tf.exp(
            log_class_term(num_per_class[None, :, i], points, eta[None, :, i])
            - log_norms[None, :, i]), convolution_dtype))

    # P_lam(S_{c-1} = k) = P_lam(X_{c-1} = k), then S_i = X_i + S_{i+1} on windows.
    first, values = class_pmf(num_classes - 1, tf.cast(tf.range(table_size), dtype)[:, None])
    windows = [(first, values)]
    for i in range(num_classes - 2, 0, -1):
        x_first, pmf = class_pmf(i, tf.cast(tf.range(window), dtype)[:, None])
        width = tf.shape(pmf)[0]
        start = x_first + first                                # k of convolved[0]
        outputs = tf.maximum(tf.minimum(tf.shape(values)[0] + width - 1, table_size - start), 1)
        pad = tf.zeros([width - 1, tf.shape(pmf)[1]], convolution_dtype)
        padded = tf.concat([pad, values, pad], axis=0)[:outputs + width - 1]  # k < K only
        filters = tf.reverse(pmf, [0])[None, :, :, None]
        convolved = tf.nn.depthwise_conv2d(padded[None, None], filters, strides=[1, 1, 1, 1],
                                           padding="VALID")[0, 0]
        offset, values = batch_window(convolved)
        first = start + offset
        windows.insert(0, (first, values))

    k = tf.cast(tf.range(table_size), dtype)[:, None]
    batch = tf.shape(logits)[0]
    tables = []
    for i, (first, values) in enumerate(windows):
        kept = values >= threshold
        log_values = tf.where(kept, tf.math.log(tf.cast(tf.where(kept, values, 1.), dtype)),
                              tf.constant(-np.inf, dtype))
        after = table_size - first - tf.shape(values)[0]
        full = tf.concat([tf.fill([first, batch], tf.constant(-np.inf, dtype)), log_values,
                          tf.fill([after, batch], tf.constant(-np.inf, dtype))], axis=0)
        tables.append(full - tilt[None, :] * k + untilt[i][None, :])
    boundary = tf.where(tf.equal(tf.range(table_size), 0)[:, None],
                        tf.zeros([table_size, batch], dtype),
                        tf.fill([table_size, batch], tf.constant(-np.inf, dtype)))
    return tf.stack(tables + [boundary], axis=0)


def log_normalizer(num_per_class, logits, total_count, table_size, window):
    """log P0 = q_0[n] = logsumexp_x (log C(m_0, x) + x theta_0 + q_1[n - x]): `[B]`.

    Only q_1..q_c are full tables; q_0 is needed at k = n alone (O(W B) instead of O(K W B)).

    Args:
      total_count: `[B]` float, integer-valued n, 0 <= n < K.
      Others: as for `suffix_log_tables`.
    """
    x = tf.range(window)
    rest = tf.cast(total_count, tf.int32)[None, :] - x[:, None]                     # [W, B]
    coefficient = log_class_term(num_per_class[None, :, 0], tf.cast(x, logits.dtype)[:, None],
                                 logits[None, :, 0])
    q_1 = suffix_log_tables(num_per_class, logits, table_size, window, first=1)[0]   # [K, B]
    batch_index = tf.broadcast_to(tf.range(tf.shape(rest)[1])[None, :], tf.shape(rest))
    rest_table = tf.gather_nd(q_1, tf.stack([tf.clip_by_value(rest, 0, table_size - 1),
                                             batch_index], axis=-1))
    terms = tf.where(rest >= 0, coefficient + rest_table, neg_inf_like(coefficient))
    return safe_reduce_logsumexp(terms, axis=0)


def marginal_log_probs(num_per_class, logits, total_count, table_size, window):
    """log P(X_i = x) for every class and x = 0..W-1, `[c, W, B]`, and log P0, `[B]` (float64).

    With prefix tables p_i[k] = log [t^k] prod_{j < i} (1 + omega_j t)^{m_j} (the suffix tables of
    the reversed classes) and the suffix tables q,

        P(X_i = x) = C(m_i, x) omega_i^x [t^{n-x}] prod_{j != i} (...) / P0,
        log [t^k] prod_{j != i} (...) = logsumexp_a (p_i[a] + q_{i+1}[k - a]),

    evaluated only at k = n - x: memory O(W K B) per class (one class at a time).

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64, integer-valued, 0 <= n < K.
      table_size, window: K and W as in `suffix_log_tables`.
    """
    suffix = suffix_log_tables(num_per_class, logits, table_size, window)       # [c+1, K, B]
    prefix = tf.reverse(suffix_log_tables(tf.reverse(num_per_class, [1]), tf.reverse(logits, [1]),
                                          table_size, window), [0])           # p_0..p_c
    n = tf.cast(total_count, tf.int32)
    x = tf.range(window)
    a = tf.range(table_size)
    rest = n[None, None, :] - x[:, None, None] - a[None, :, None]                # [W, K, B]: n-x-a
    batch_index = tf.broadcast_to(tf.range(tf.shape(n)[0])[None, None, :], tf.shape(rest))
    log_norm = tf.gather(tf.transpose(suffix[0]), tf.clip_by_value(n, 0, table_size - 1),
                         batch_dims=1)                                           # [B]

    def one_class(params):
        prefix_i, suffix_next, num_i, theta_i = params                          # [K, B] x2, [B] x2
        flat = tf.reshape(suffix_next, [-1])
        terms = tf.gather(flat, tf.maximum(rest, 0) * tf.shape(suffix_next)[1] + batch_index)
        terms = tf.where(rest >= 0, prefix_i[None] + terms, neg_inf_like(terms))
        leave_one_out = safe_reduce_logsumexp(terms, axis=1)                  # [W, B]
        coefficient = log_class_term(num_i[None, :], tf.cast(x, num_i.dtype)[:, None],
                                     theta_i[None, :])
        return coefficient + leave_one_out - log_norm[None, :]

    marginals = tf.map_fn(one_class, (prefix[:-1], suffix[1:], tf.transpose(num_per_class),
                                       tf.transpose(logits)), fn_output_signature=tf.float64)
    return marginals, log_norm
