# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""E[X] and Cov[X] of the MVHG from the chain of exact conditionals, without derivatives.

S_i = sum_{j >= i} X_j, the remaining count before class i, is a Markov chain (S_0 = n) with the
transitions of the suffix tables q (`suffix_tables`),

    P_i[s, x] = P(X_i = x | S_i = s) = C(m_i, x) omega_i^x exp(q_{i+1}[s - x] - q_i[s]);

a forward sweep gives the laws pi_i of S_i and the means, a backward sweep the covariances
(`moments_by_sweeps`, a `tf.function` when called eagerly: `compilation`).
"""

import tensorflow as tf

from tfp_mvhg.internal import blocks
from tfp_mvhg.internal.compilation import function_when_eager
from tfp_mvhg.internal.suffix_tables import class_logits
from tfp_mvhg.internal.suffix_tables import suffix_log_tables

__all__ = ["moments_by_sweeps"]


def _transitions(q_i, q_next, num_i, theta_i, window):
    """P(X_i = x | S_i = s) for every s and x: `[K, W, B]`, 0 where impossible (s - x < 0, x >
    m_i, or a remaining count s that cannot occur)."""
    logits = class_logits(q_next, num_i, theta_i, window)
    possible = tf.math.is_finite(q_i)[:, None, :] & tf.math.is_finite(logits)
    shift = tf.where(tf.math.is_finite(q_i), q_i, tf.zeros_like(q_i))[:, None, :]
    return tf.where(possible, tf.exp(tf.where(possible, logits, tf.zeros_like(logits)) - shift),
                    tf.zeros_like(logits))


@function_when_eager
def moments_by_sweeps(num_per_class, logits, total_count, table_size, window):
    """E[X] `[B, c]` and Cov[X] `[B, c, c]` from the chain of exact conditionals, without
    derivatives: one forward and one backward sweep over the classes.

    With S_i = sum_{j >= i} X_j the remaining count (a Markov chain, S_0 = n) and the transitions
    P_i[s, x] = P(X_i = x | S_i = s) = C(m_i, x) omega_i^x exp(q_{i+1}[s - x] - q_i[s]):

        forward:  pi_{i+1}[s'] = sum_x pi_i[s' + x] P_i[s' + x, x],
                  mu_i = sum_s pi_i[s] sum_x P_i[s, x] x;
        backward: H_i[s, j] = E[X_j | S_i = s] - mu_j (0 for j < i),
            H_i[s, j] = sum_x P_i[s, x] H_{i+1}[s - x, j] + [j = i] (sum_x P_i[s, x] x - mu_i),
            Cov[X_i, X_j] = sum_s pi_i[s] sum_x P_i[s, x] (x - mu_i) H_{i+1}[s - x, j] (j > i),
            Var[X_i] = sum_s pi_i[s] sum_x P_i[s, x] (x - mu_i)^2,

    since given S_{i+1} the later counts do not depend on X_i. All c columns are carried at once:
    O(c^2 K W) work in one pass and O(c K B + K W B) memory (the x sums go C values at a time,
    K C c B <= 2^22), instead of the c backward passes of a Hessian.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      table_size, window: K and W as in `suffix_log_tables`.
    """
    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if num_classes is None:
        num_classes = tf.shape(logits)[-1]
    suffix = suffix_log_tables(num_per_class, logits, table_size, window)       # [c+1, K, B]
    batch = tf.shape(logits)[0]
    x_int = tf.range(window)
    x = tf.cast(x_int, tf.float64)
    s = tf.range(table_size)[:, None]                                             # [K, 1]
    params = (suffix[:-1], suffix[1:], tf.transpose(num_per_class), tf.transpose(logits))

    def forward(carry, elems):
        occupancy, _ = carry                                                      # pi_i [K, B]
        transition = _transitions(*elems, window)                                 # [K, W, B]
        mean = tf.einsum("sb,sxb,x->b", occupancy, transition, x)
        weighted = occupancy[:, None, :] * transition
        source = s + x_int[None, :]                                               # s' + x: [K, W]
        index = tf.stack([tf.minimum(source, table_size - 1),
                          tf.broadcast_to(x_int[None, :], tf.shape(source))], axis=-1)
        moved = tf.gather_nd(weighted, index)                                     # [K, W, B]
        moved = tf.where((source < table_size)[:, :, None], moved, tf.zeros_like(moved))
        return tf.ensure_shape(tf.reduce_sum(moved, axis=1), occupancy.shape), mean

    first = tf.one_hot(tf.clip_by_value(tf.cast(total_count, tf.int32), 0, table_size - 1),
                       table_size, axis=0, dtype=tf.float64)                      # pi_0 [K, B]
    occupancies, means = tf.scan(forward, params,
                                 initializer=(first, tf.zeros([batch], tf.float64)))
    occupancies = tf.concat([first[None], occupancies[:-1]], axis=0)             # pi_0..pi_{c-1}

    static_batch = tf.compat.dimension_value(logits.shape[0])
    chunk, num_chunks = blocks.chunks(window, table_size * num_classes
                                      * (static_batch if static_batch is not None else batch))

    def backward(carry, elems):
        later, _ = carry                                                          # H_{i+1}
        q_i, q_next, num_i, theta_i, occupancy, mean_i, column = elems
        transition = _transitions(q_i, q_next, num_i, theta_i, window)            # [K, W, B]
        centred = x[:, None] - mean_i[None, :]                                    # [W, B]

        def block(k, conditional, covariance):
            x_block = k * chunk + tf.range(chunk)
            valid = x_block < window
            x_block = tf.minimum(x_block, window - 1)
            rest = s - x_block[None, :]                                           # [K, C]
            gathered = tf.gather(later, tf.maximum(rest, 0))                      # [K, C, c, B]
            weight = tf.gather(transition, x_block, axis=1)                       # [K, C, B]
            weight = tf.where((rest >= 0)[:, :, None] & valid[None, :, None], weight,
                              tf.zeros_like(weight))
            conditional += tf.einsum("skb,skjb->sjb", weight, gathered)
            coupling = occupancy[:, None, :] * weight * tf.gather(centred, x_block)[None]
            covariance += tf.einsum("skb,skjb->jb", coupling, gathered)
            return (conditional, covariance), tf.zeros([0], tf.float64)

        (conditional, covariance), _ = blocks.chunk_loop(
            block, num_chunks, (tf.zeros_like(later), tf.zeros([num_classes, batch], tf.float64)))
        own = tf.einsum("sxb,xb->sb", transition, centred)                        # E[X_i|s] - mu_i
        variance = tf.einsum("sb,sxb,xb->b", occupancy, transition, centred ** 2)
        conditional += own[:, None, :] * column[None, :, None]
        row = covariance + variance[None, :] * column[:, None]
        return tf.ensure_shape(conditional, later.shape), tf.ensure_shape(row, row_shape)

    later = tf.zeros([table_size, num_classes, batch], tf.float64)
    row_shape = [num_classes if isinstance(num_classes, int) else None, static_batch]
    _, rows = tf.scan(backward, params + (occupancies, means, tf.eye(num_classes,
                                                                     dtype=tf.float64)),
                      initializer=(later, tf.zeros([num_classes, batch], tf.float64)),
                      reverse=True)                                               # [c, c, B]
    upper = tf.transpose(rows, [2, 0, 1])                                         # [B, c, c]
    covariance = upper + tf.linalg.matrix_transpose(upper) - tf.linalg.diag(
        tf.linalg.diag_part(upper))
    return tf.transpose(means), covariance
