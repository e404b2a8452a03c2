# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Windowed or full suffix tables, or no tables, by cost: the log normalizer and the exact draws.

A class step costs K W summands on full tables (`suffix_tables`, K = max n + 1, W = min(max m,
max n) + 1) and K_i K_{i+1} on windowed ones (`windows`), each way. Windows pay for large n;
they have data-dependent shapes, so XLA always gets the full tables.

The exact draws and the windowed normalizer run as `tf.function`s when called eagerly
(`compilation.function_when_eager`); the full normalizer is plain ops: for `log_prob` and the
mean, tracing once per new configuration costs more than it saves.
"""

import tensorflow as tf
from tensorflow_probability.python.internal import implementation_selection

from tfp_mvhg.internal import exact_sampler
from tfp_mvhg.internal import rejection_sampler
from tfp_mvhg.internal import suffix_tables
from tfp_mvhg.internal import windows
from tfp_mvhg.internal.compilation import function_when_eager

__all__ = ["REJECTION_COST", "REJECTION_COST_XLA", "log_normalizer", "sample_counts",
           "use_rejection", "use_windows"]


def use_windows(table_size, window, num_classes, tolerance=windows.TOLERANCE, xla=None):
    """Whether to use windowed tables: False, True, or None (decide at run time by the actual
    widths, `windows.windows_are_cheaper`).

    Never under XLA (data-dependent shapes) or with a number of classes unknown when tracing.
    With static K and W, True only when even the largest possible widths make the windowed class
    steps cheaper than full ones: then no full-table op is built at all (a graph holding
    `[K, W, B]` ops with static shapes is constant-folded by Grappler even in a branch that never
    runs).

    `xla`: whether XLA compiles the ops; None asks TFP's `implementation_selection.is_xla()`,
    the test TFP's own samplers use (TensorFlow has no public one).
    """
    if implementation_selection.is_xla() if xla is None else xla:
        return False
    if num_classes is None:
        return False
    if not (isinstance(table_size, int) and isinstance(window, int)):
        return None
    width = windows.static_width_bound(table_size, num_classes, tolerance)
    return 3 * width ** 2 < 2 * table_size * window


def _with_classes(num_classes, *tensors):
    """`[B, c]` tensors with their static c restored (a retraced tf.function relaxes shapes)."""
    return tuple(tf.ensure_shape(tensor, [None, num_classes]) for tensor in tensors)


def _dispatch(num_per_class, logits, total_count, table_size, window, num_classes, windowed,
              full, xla=None):
    """`windowed(windows)` or `full()` by `use_windows` (a `tf.cond` only when the table sizes
    are not static)."""
    choice = use_windows(table_size, window, num_classes, xla=xla)
    if choice is False:
        return full()
    num_per_class, logits = _with_classes(num_classes, num_per_class, logits)
    chosen = windows.choose_windows(num_per_class, logits, total_count)
    if choice:
        return windowed(chosen)
    return tf.cond(windows.windows_are_cheaper(chosen, table_size, window),
                   lambda: windowed(chosen), full)


@function_when_eager
def _windowed_log_normalizer(num_per_class, logits, total_count, chosen, num_classes):
    return windows.windowed_log_normalizer(*_with_classes(num_classes, num_per_class, logits),
                                           total_count, chosen)


def log_normalizer(num_per_class, logits, total_count, table_size, window):
    """log P0 = q_0[n], `[B]` float64, differentiable in `logits`: windowed where `use_windows`
    says so (neglected relative mass below `windows.TOLERANCE`), else the full tables.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64, integer-valued.
      table_size, window: K and W, Python ints or int32 scalars.
    """
    num_classes = tf.compat.dimension_value(logits.shape[-1])
    return _dispatch(
        num_per_class, logits, total_count, table_size, window, num_classes,
        lambda chosen: _windowed_log_normalizer(num_per_class, logits, total_count, chosen,
                                                num_classes),
        lambda: suffix_tables.log_normalizer(num_per_class, logits, total_count, table_size,
                                             window))


# Cost of one rejection-sampler draw per class, in log-sum-exp terms of a table step: the
# break-even points measured on the benchmark sizes (tables against rejection, one parameter set
# and many, `tf.function`, 2 cores) put it between 4.4 and 11 (`use_rejection`).
REJECTION_COST = 8
# The same under XLA, where the binomials are TFP's compilable sampler (about 6x slower) and every
# draw gets 4 candidates a round: between 108 and 11,000 (`bench_exact.py --per-row`, XLA rows).
REJECTION_COST_XLA = 400


def use_rejection(table_size, window, num_classes, num_samples, xla=False):
    """Whether `sample_counts` draws by rejection (`rejection_sampler`) rather than on tables.

    Tables cost about (c - 2) K W terms per parameter set (once, shared by its S samples) plus
    c min(S, K) W for the CDF rows; rejection about `REJECTION_COST` c terms per sample, nothing
    shared. So rejection wins for few samples per parameter set (distinct parameters per row) and
    large n, tables for many samples of one parameter set. Rejection wherever a size is unknown
    when tracing (its memory is O(S B c) whatever the sizes). `xla`: whether XLA compiles the
    ops (`REJECTION_COST_XLA` then).
    """
    num_samples = tf.get_static_value(num_samples)
    if not all(isinstance(size, int) for size in (table_size, window, num_classes)) or (
            num_samples is None):
        return True
    num_samples = int(num_samples)
    tables = (max(num_classes - 2, 0) * table_size * window
              + num_classes * min(num_samples, table_size) * window)
    cost = REJECTION_COST_XLA if xla else REJECTION_COST
    return tables > cost * num_classes * num_samples


def sample_counts(num_per_class, logits, total_count, table_size, window, num_classes,
                  num_samples, seed):
    """Exact draws `[S, B, c]` int32: by rejection where `use_rejection` says so, else on
    windowed tables where `use_windows` says so (`exact_sampler`), else on the full ones.

    Whether XLA compiles the caller is asked here and passed on as an argument, part of the
    signature of the eager calls' traces.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      table_size, window: K and W, Python ints or int32 scalars.
      num_classes: c, a Python int or None (unknown when tracing).
      num_samples: S.
      seed: stateless seed `[2]` int32.
    """
    xla = implementation_selection.is_xla()
    if use_rejection(table_size, window, num_classes, num_samples, xla):
        return _sample_by_rejection(num_per_class, logits, total_count, num_samples, seed, xla)
    return _sample_counts(num_per_class, logits, total_count, table_size, window, num_classes,
                          num_samples, seed, xla)


_sample_by_rejection = function_when_eager(rejection_sampler.sample_by_rejection)


@function_when_eager
def _sample_counts(num_per_class, logits, total_count, table_size, window, num_classes,
                   num_samples, seed, xla):
    """`sample_counts`, told whether XLA compiles it."""
    return _dispatch(
        num_per_class, logits, total_count, table_size, window, num_classes,
        lambda chosen: exact_sampler.sample_on_windows(
            *_with_classes(num_classes, num_per_class, logits), total_count, chosen, window,
            num_samples, seed),
        lambda: exact_sampler.sample_on_full_tables(num_per_class, logits, total_count,
                                                    table_size, window, num_samples, seed, xla),
        xla)
