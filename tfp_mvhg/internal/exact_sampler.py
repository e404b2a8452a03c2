# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Exact sequential draws of the MVHG, on full or on windowed suffix tables.

Class i, with r remaining (r = n - sum_{j<i} x_j), takes x with probability

    P(X_i = x | r) ∝ C(m_i, x) omega_i^x exp(q_{i+1}[r - x]),

q the suffix tables (`suffix_tables`) or their windowed version (`windows`). Each draw inverts
the CDF over x ascending with one uniform per (class, sample, batch member), so full and windowed
tables give the same draws. The tables of a class step are given on windows: q_{i+1}[k] for
k = low_{i+1} + u, u = 0..K_{i+1}-1, and r ranges over low_i + 0..K_i-1 (full tables: every
window is 0..K-1). The x of a CDF row are x0 + v, v = 0..V-1, with

    x0 = max(0, r - low_{i+1} - K_{i+1} + 1),   V = min(K_{i+1}, W),

which covers every x with r - x in window i+1 and x <= min(m_i, r) <= W - 1.
"""

import numpy as np
import tensorflow as tf

from tfp_mvhg.internal import blocks
from tfp_mvhg.internal import windows
from tfp_mvhg.internal.log_space import log_class_term
from tfp_mvhg.internal.random_bits import draw_by_inverse_cdf
from tfp_mvhg.internal.random_bits import stateless_open_uniform
from tfp_mvhg.internal.suffix_tables import class_logits
from tfp_mvhg.internal.suffix_tables import suffix_log_tables
from tfp_mvhg.internal.suffix_tables import table_entries

__all__ = ["sample_on_full_tables", "sample_on_windows"]


def _row_logits(q_next, num_i, theta_i, windows, window, row_count, row_member):
    """CDF rows for the given remaining counts: logits `[R, V]` over x = x0 + 0..V-1, and x0
    `[R]` (module docstring).

    Args:
      q_next: `[K', B]` q_{i+1} on its window (entry u at count low_{i+1} + u; -inf from K_{i+1}).
      num_i, theta_i: `[B]` float64 m_i and theta_i.
      windows: `(low_i, low_next, K_i, K_{i+1})`: `[B]` int32 first counts of windows i and
        i+1, and their widths (Python ints or int32 scalars).
      window: W.
      row_count, row_member: `[R]` int32 remaining count and batch member of each row.
    """
    low_i, low_next, width_i, width_next = windows
    static = all(isinstance(size, int) for size in (width_i, width_next, window))
    minimum = min if static else tf.minimum
    # the class terms log C(m_i, x) + x theta_i on the x that window i can reach: x = start + t,
    # t = 0..T-1, start = max(0, low_i - low_{i+1} - K_{i+1} + 1), T = min(W, K_i + K_{i+1} - 1)
    start = tf.maximum(low_i - low_next - width_next + 1, 0)                           # [B]
    reach = minimum(window, width_i + width_next - 1)
    coefficient = log_class_term(
        num_i[None, :], tf.cast(start[None, :] + tf.range(reach)[:, None], tf.float64),
        theta_i[None, :])                                                              # [T, B]
    low_next_row = tf.gather(low_next, row_member)                                     # [R]
    first = tf.maximum(row_count - low_next_row - width_next + 1, 0)                   # x0
    x = first[:, None] + tf.range(minimum(width_next, window))[None, :]               # [R, V]
    member = row_member[:, None]
    t = x - tf.gather(start, row_member)[:, None]
    u = row_count[:, None] - x - low_next_row[:, None]
    inside = (t >= 0) & (t < reach) & (u >= 0) & (u < width_next)
    terms = (table_entries(coefficient, tf.clip_by_value(t, 0, reach - 1), member)
             + table_entries(q_next, tf.clip_by_value(u, 0, width_next - 1), member))
    return tf.where(inside, terms, tf.constant(-np.inf, tf.float64)), first


def _draw_class(q_next, num_i, theta_i, windows, window, remaining, uniforms, num_samples,
                xla):
    """Draws of class i given the remaining counts: `[S, B]` int32.

    The CDF rows are built for one row per (sample, member) when S <= K_i (memory O(S B V)),
    else for one per (count of window i, member) (O(K_i B V)): on full tables the Toeplitz gather
    of `suffix_tables.class_logits`, on windows `_row_logits`. The choice is made in Python when
    S and K_i are known, else by `tf.cond`.

    Args:
      q_next, num_i, theta_i, window: as for `_row_logits`.
      windows: as for `_row_logits`, or None: full tables, every window 0..K-1 (K the length of
        `q_next`).
      remaining: `[S, B]` int32 remaining counts r.
      uniforms: `[S, B]` float64 in (0, 1).
      num_samples: S.
      xla: whether XLA compiles the ops (`random_bits.count_at_most`).
    """
    batch = tf.shape(remaining)[1]
    member = tf.broadcast_to(tf.range(batch)[None, :], tf.shape(remaining))          # [S, B]
    full = windows is None
    if full:
        size = tf.compat.dimension_value(q_next.shape[0])
        size = tf.shape(q_next)[0] if size is None else size
        zeros = tf.zeros([batch], tf.int32)
        windows = (zeros, zeros, size, size)
    low_i, width_i = windows[0], windows[2]

    def per_sample():
        """`(row logits, query rows [S B], x0 of each query [S B])`."""
        rows, first = _row_logits(q_next, num_i, theta_i, windows, window,
                                  tf.reshape(remaining, [-1]), tf.reshape(member, [-1]))
        return rows, tf.range(tf.size(remaining)), first

    def per_count():
        offset = tf.clip_by_value(remaining - low_i[None, :], 0, width_i - 1)
        query = tf.reshape(member * width_i + offset, [-1])
        if full:  # x0 = 0: the Toeplitz rows of every count
            rows = tf.transpose(class_logits(q_next, num_i, theta_i, window), [2, 0, 1])
            return tf.reshape(rows, [-1, window]), query, tf.zeros_like(query)
        row_member = tf.repeat(tf.range(batch), width_i)
        row_count = tf.gather(low_i, row_member) + tf.tile(tf.range(width_i), [batch])
        rows, first = _row_logits(q_next, num_i, theta_i, windows, window, row_count,
                                  row_member)
        return rows, query, tf.gather(first, query)

    samples, width = tf.get_static_value(num_samples), tf.get_static_value(width_i)
    if samples is not None and width is not None:
        rows, query, first = per_sample() if samples <= width else per_count()
    else:
        rows, query, first = tf.cond(num_samples <= width_i, per_sample, per_count)
    column = draw_by_inverse_cdf(rows, query, tf.reshape(uniforms, [-1]), xla)
    draw = tf.reshape(first + column, tf.shape(remaining))
    return tf.clip_by_value(draw, 0, tf.minimum(tf.cast(num_i, tf.int32)[None, :], remaining))


def _members_per_block(num_samples, table_length, window, batch):
    """Batch members per block of `_sample_counts`: the CDF rows of a class step are at most
    min(S, K') x members x min(K', W) elements (`_draw_class`), kept <= `blocks.CHUNK_ELEMENTS`
    per block (at least one member). Returns (members M, number of blocks); Python ints when
    every size is."""
    static = all(isinstance(size, int) for size in (num_samples, table_length, window, batch))
    minimum, maximum = (min, max) if static else (tf.minimum, tf.maximum)
    rows_per_member = minimum(num_samples, table_length) * minimum(table_length, window)
    members = minimum(maximum(blocks.CHUNK_ELEMENTS // maximum(rows_per_member, 1), 1),
                      maximum(batch, 1))
    return members, (batch + members - 1) // members


def _sample_counts(num_per_class, logits, total_count, next_tables, window, num_samples, seed,
                   xla, lows=None, widths=None):
    """Exact sequential draws by inverse CDF on the exact conditionals: `[S, B, c]` int32.

    The batch is drawn in blocks of members (`_members_per_block`), one after the other, so that
    memory is O(c K' B) for the tables plus one block's CDF rows, whatever S and B; the uniforms
    are drawn for the whole batch first, so the draws do not depend on the blocks.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      next_tables: `[c, K', B]` q_1..q_c on their windows (entry u of table i at count
        lows[:, i + 1] + u; -inf padding beyond widths[i + 1]).
      window: W = min(max m, max n) + 1.
      num_samples: S.
      seed: stateless seed, `[2]` int32; one Philox uniform per (class, sample, batch member).
      xla: whether XLA compiles the ops (`random_bits.count_at_most`).
      lows, widths: `[B, c + 1]` and `[c + 1]` int32, the first counts and the widths of the
        windows of S_0..S_c; None: full tables (every window 0..K-1, K' = K).
    """
    batch = blocks.static_or_dynamic(tf.compat.dimension_value(logits.shape[0]), logits, 0)
    table_length = blocks.static_or_dynamic(tf.compat.dimension_value(next_tables.shape[1]),
                                            next_tables, 1)
    static_samples = tf.get_static_value(num_samples)
    members, num_blocks = _members_per_block(
        num_samples if static_samples is None else int(static_samples), table_length, window,
        batch)
    uniforms = stateless_open_uniform([tf.shape(logits)[1], num_samples, batch], seed, tf.float64)
    per_member = (tf.transpose(num_per_class), tf.transpose(logits), total_count,
                  tf.transpose(lows) if lows is not None else None)

    def draw_block(i):
        """Draws `[M, S, c]` of members i M + 0..M-1 (the last block repeats member B - 1)."""
        member = tf.minimum(i * members + tf.range(members), batch - 1)
        num_i, theta_i, total, low = (None if x is None else tf.gather(x, member, axis=-1)
                                      for x in per_member)
        elems = (tf.gather(next_tables, member, axis=2), num_i, theta_i,
                 tf.gather(uniforms, member, axis=2))
        if low is not None:
            elems += (low[:-1], low[1:], widths[:-1], widths[1:])
        remaining = tf.broadcast_to(tf.cast(total, tf.int32), tf.shape(elems[3])[1:])

        def step(carry, elems):
            remaining, _ = carry
            q_next, num_i, theta_i, uniforms_i = elems[:4]
            draw = _draw_class(q_next, num_i, theta_i, elems[4:] or None, window, remaining,
                               uniforms_i, num_samples, xla)
            return remaining - draw, draw

        _, draws = tf.scan(step, elems, initializer=(remaining, tf.zeros_like(remaining)))
        return tf.transpose(draws, [2, 1, 0])

    if isinstance(num_blocks, int) and num_blocks == 1:
        return tf.transpose(draw_block(0), [1, 0, 2])
    _, draws = blocks.chunk_loop(lambda i: ((), draw_block(i)), num_blocks, (), tf.int32)
    return tf.transpose(draws[:batch], [1, 0, 2])


def sample_on_full_tables(num_per_class, logits, total_count, table_size, window, num_samples,
                          seed, xla):
    """Exact draws `[S, B, c]` int32 on the full tables (every window is 0..K-1).

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      table_size, window: K = max n + 1 and W = min(max m, max n) + 1; Python ints keep the shapes
        static (XLA).
      num_samples: S.
      seed: stateless seed `[2]` int32.
      xla: whether XLA compiles the ops (`random_bits.count_at_most`).
    """
    tables = suffix_log_tables(num_per_class, logits, table_size, window, first=1)
    return _sample_counts(num_per_class, logits, total_count, tables, window, num_samples, seed,
                          xla)


def sample_on_windows(num_per_class, logits, total_count, chosen, window, num_samples, seed):
    """Exact draws `[S, B, c]` int32 on windowed tables (`windows.windowed_suffix_tables`, padded
    to the widest window); arguments as for `sample_on_full_tables`, c static, and `chosen` the
    `windows.Windows`."""
    tables = windows.windowed_suffix_tables(num_per_class, logits, chosen)
    widest = tf.reduce_max(chosen.widths[1:])
    padded = tf.stack([tf.pad(table, [[0, widest - tf.shape(table)[0]], [0, 0]],
                              constant_values=-np.inf) for table in tables])
    return _sample_counts(num_per_class, logits, total_count, padded, window, num_samples, seed,
                          False, chosen.lows, chosen.widths)  # windows never run under XLA
