# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Log-space primitives: log C(m, x), the class terms, a safe logsumexp and the log-space
convolution of one class step.

The suffix tables of the MVHG (`suffix_tables`) are built by class steps

    q_i[k] = logsumexp_x ( log C(m_i, x) + x theta_i + q_{i+1}[k - x] ),   x = 0..min(m_i, k),

a log-space convolution of the class terms `log C(m_i, x) + x theta_i` (`log_class_term`) with the
next table (`log_convolve`). Impossible counts are -inf throughout, with zero (not NaN) gradients.
"""

import numpy as np
import tensorflow as tf

from tfp_mvhg.internal import blocks

__all__ = ["log_binomial", "log_class_term", "log_convolve", "neg_inf_like",
           "safe_reduce_logsumexp"]


def neg_inf_like(x):
    """-inf of the shape and dtype of `x`."""
    return tf.fill(tf.shape(x), tf.constant(-np.inf, x.dtype))


def log_binomial(total, k):
    """log C(total, k), broadcasting; -inf where k < 0 or k > total, with finite gradients.

    lgamma(total + 1) and lgamma(k + 1) are evaluated on their own shapes (e.g. `[B]` and `[K]`)
    and only lgamma(total - k + 1) on the broadcast shape."""
    shape = tf.broadcast_dynamic_shape(tf.shape(total), tf.shape(k))
    valid = tf.broadcast_to((k >= 0.) & (k <= total), shape)
    safe_k = tf.maximum(k, tf.zeros_like(k))
    safe_rest = tf.where(valid, tf.broadcast_to(total - safe_k, shape), tf.zeros(shape, k.dtype))
    value = (tf.math.lgamma(total + 1.) - tf.math.lgamma(safe_k + 1.)
             - tf.math.lgamma(safe_rest + 1.))
    return tf.where(valid, value, neg_inf_like(value))


def log_class_term(total, k, theta):
    """log [C(total, k) omega^k] = log C(total, k) + k theta, broadcasting.

    `k = 0` gives log C(total, 0) even when theta = -inf (weight 0: the class is never drawn, and
    drawing none of it has weight 1), with finite gradients in k and theta.
    """
    drawn = k > 0.
    safe_theta = tf.where(drawn, theta, tf.zeros_like(theta))
    power = tf.where(drawn, k * safe_theta, tf.zeros_like(safe_theta))
    return log_binomial(total, k) + power


def safe_reduce_logsumexp(x, axis, keepdims=False):
    """logsumexp over `axis`; a slice of all -inf gives -inf with a zero (not NaN) gradient."""
    raw_max = tf.reduce_max(x, axis=axis, keepdims=True)
    shift = tf.stop_gradient(tf.where(tf.math.is_finite(raw_max), raw_max, tf.zeros_like(raw_max)))
    total = tf.reduce_sum(tf.exp(x - shift), axis=axis, keepdims=True)
    positive = total > 0.
    safe_total = tf.where(positive, total, tf.ones_like(total))
    result = tf.where(positive, tf.math.log(safe_total) + shift, neg_inf_like(total))
    return result if keepdims else tf.squeeze(result, axis=axis)


def log_convolve(coefficient, table, output_offset=0):
    """`y[k] = logsumexp_x (coefficient[x] + table[d + k - x])`, x = 0..min(W - 1, d + k), for
    k = 0..K - d - 1 (d = `output_offset`): `[K - d, B]`.

    The log-space convolution of one class step of the suffix tables (`coefficient[x] =
    log C(m_i, x) + x theta_i`, `table = q_{i+1}`), computed C x-values at a time (a
    `[K - d, C, B]` block with K C B <= 2^22, combined by a running log-sum-exp); the outputs
    below d are not computed. The gradient recomputes the conditionals `P[k, x] =
    exp(coefficient[x] + table[d + k - x] - y[k])` block by block instead of storing them:

        dL/dtable[j] = sum_x g[j + x - d] P[j + x - d, x],
        dL/dcoefficient[x] = sum_j g[j + x - d] P[j + x - d, x],

    so forward and backward keep O(K B + W B) memory besides one block (the backward visits
    only the K - d + C - 1 table entries a block of x reaches). The gradient is built from
    differentiable ops, so second derivatives work (outside XLA, which does not compile them
    through the table scan; the covariance needs none, see `moments.moments_by_sweeps`). -inf
    entries (impossible counts, weight 0) give zero, not NaN, gradients; a row of y that is -inf
    gets none.

    Args:
      coefficient: `[W, B]` float64.
      table: `[K, B]` float64.
      output_offset: d, 0 <= d < K, a Python int or an int32 scalar.
    """
    @tf.custom_gradient
    def convolve(coefficient, table):
        return _log_convolve(coefficient, table, output_offset)

    return convolve(coefficient, table)


def _chunking(coefficient, table):
    """(K, W, chunk C, number of chunks): C x-values per block so that K C B <= 2^22 (C >= 1)."""
    table_size = blocks.static_or_dynamic(tf.compat.dimension_value(table.shape[0]), table, 0)
    window = blocks.static_or_dynamic(tf.compat.dimension_value(coefficient.shape[0]),
                                      coefficient, 0)
    batch = blocks.static_or_dynamic(tf.compat.dimension_value(table.shape[1]), table, 1)
    return (table_size, window) + blocks.chunks(window, table_size * batch)


def _log_convolve(coefficient, table, offset):
    """`log_convolve`'s forward pass and gradient function."""
    table_size, window, chunk, num_chunks = _chunking(coefficient, table)
    neg_inf = tf.constant(-np.inf, table.dtype)
    padded = tf.concat([coefficient, tf.fill([chunk * num_chunks - window, tf.shape(table)[1]],
                                             neg_inf)], axis=0)                   # [C n_c, B]
    no_offset = isinstance(offset, int) and offset == 0
    output_size = table_size - offset
    k = offset + tf.range(output_size)[:, None]                                   # table index

    def block(i):
        x = i * chunk + tf.range(chunk)[None, :]                                  # [1, C]
        return tf.gather(padded, x[0]), x

    def forward(i, peak, total):
        coefficient_x, x = block(i)
        shift = k - x                                                             # [K - d, C]
        terms = coefficient_x[None] + tf.gather(table, tf.maximum(shift, 0))     # [K - d, C, B]
        terms = tf.where(shift[:, :, None] >= 0, terms, neg_inf)
        new_peak = tf.maximum(peak, tf.reduce_max(terms, axis=1))
        reference = tf.where(tf.math.is_finite(new_peak), new_peak, tf.zeros_like(new_peak))
        total = (total * tf.exp(peak - reference)
                 + tf.reduce_sum(tf.exp(terms - reference[:, None]), axis=1))
        return (new_peak, total), tf.zeros([0], table.dtype)  # no per-block output

    initial = tf.fill([output_size, tf.shape(table)[1]], neg_inf)
    (peak, total), _ = blocks.chunk_loop(forward, num_chunks, (initial, tf.zeros_like(initial)))
    positive = total > 0.
    peak = tf.where(positive, peak, tf.zeros_like(peak))
    log_total = tf.math.log(tf.where(positive, total, tf.ones_like(total)))
    result = tf.where(positive, log_total + peak, neg_inf)

    def gradient(upstream):
        # exp(summand - y) as exp((summand - peak) - log_total): y = peak + log_total rounded would
        # cost a relative error of eps |y|; the zero `result - stop_gradient(result)` carries the
        # derivative in y for second derivatives.
        finite = tf.math.is_finite(result)
        shifted = (tf.stop_gradient(peak) + (tf.where(finite, result, tf.zeros_like(result))
                                             - tf.stop_gradient(tf.where(finite, result,
                                                                         tf.zeros_like(result)))))
        upstream = tf.where(finite, upstream, tf.zeros_like(upstream))
        scale = tf.stop_gradient(log_total)
        # the table entries block i reaches: all (d = 0), else j0 + 0..K - d + C - 2
        reach = table_size if no_offset else output_size + chunk - 1

        def backward(i, table_grad):
            coefficient_x, x = block(i)
            start = 0 if no_offset else offset - i * chunk - (chunk - 1)
            j = start + tf.range(reach)[:, None]                                  # [L, 1]
            target = j + x - offset                                               # [L, C]: k
            inside = (target >= 0) & (target < output_size) & (j >= 0) & (j < table_size)
            target = tf.clip_by_value(target, 0, output_size - 1)
            rows = tf.clip_by_value(j[:, 0], 0, table_size - 1)
            exponent = (coefficient_x[None] + tf.gather(table, rows)[:, None]
                        - tf.gather(shifted, target) - tf.gather(scale, target))
            exponent = tf.where(inside[:, :, None], exponent, neg_inf)
            weighted = tf.gather(upstream, target) * tf.exp(exponent)            # [L, C, B]
            rows_grad = tf.reduce_sum(weighted, axis=1)
            if no_offset:
                table_grad += rows_grad
            else:
                table_grad = tf.tensor_scatter_nd_add(table_grad, rows[:, None], rows_grad)
            return (table_grad,), tf.reduce_sum(weighted, axis=0)

        (table_grad,), coefficient_grad = blocks.chunk_loop(backward, num_chunks,
                                                            (tf.zeros_like(table),))
        return coefficient_grad[:window], table_grad

    return result, gradient
