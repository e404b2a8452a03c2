"""Windowed suffix tables: the exact tables restricted to the remaining counts that can occur.

The remaining count after class i-1 is S_i = sum_{j >= i} X_j (S_0 = n, S_c = 0). For any
shift lam, the MVHG is the law of independent X_j ~ Binomial(m_j, p_j), logit p_j = theta_j + lam,
given sum_j X_j = n. With lam the mean-field tilt (sum_j m_j p_j = n), A_i = sum_{j >= i} X_j and
B_i = sum_{j < i} X_j:

    P(S_i >= u) = P(A_i >= u, A_i + B_i = n) / P(A + B = n)
               <= min(P(A_i - E A_i >= t), P(B_i - E B_i <= -t)) / P(A + B = n),   t = u - E A_i,

and Bernstein's inequality for sums of independent centred Bernoullis bounds both tails by
exp(-t^2 / (2 (V + t / 3))), V = min(Var A_i, Var B_i) (the same for the lower tail of S_i).
So S_i lives, but for a negligible mass, in a window of half-width O(sqrt(V) + log(1 / tol))
around E A_i, instead of the O(n) range of the full tables.

Tables on windows: q~_i[lo_i + j], j = 0..K_w-1, sums only the configurations whose S_i' stay in
their windows for i' >= i,

    q~_i[k] = logsumexp_u (log C(m_i, x) + x theta_i + q~_{i+1}[lo_{i+1} + u]),
    x = k - lo_{i+1} - u,

so P~0 = exp q~_0[n] <= P0, and the neglected relative mass is

    1 - P~0 / P0 = P(some S_i outside its window) <= eps = sum_i (tail bounds) / P(A + B = n),
    P(A + B = n) = exp(sum_j m_j log(1 - p_j) + n lam) P0
                >= exp(sum_j m_j log(1 - p_j) + n lam) P~0:

`log_error_bound` computes eps after the fact, from the windowed tables alone. The windows are
chosen for eps < `TOLERANCE` = 1e-30 (the denominator estimated as 1 / sqrt(2 pi e^4 (Var + 1)));
the tests check the certificate on skewed, boundary and large cases. The truncated model is a
distribution in its own right (the MVHG given all S_i in their windows), at total-variation
distance at most eps from the MVHG: log P0 is off by at most -log(1 - eps), the mean (grad log P~0)
by at most 2 eps n, and exact draws by eps in total variation.

Cost per class step O(K_w^2 B) instead of O(K W B), K_w ~ 2 (sqrt(2 V ell) + 2 ell / 3),
ell ~ 80: the route to n ~ 10^5. Shapes are data-dependent, so this path is not used under XLA.
"""

import collections

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # XLA context test (TF 2.15-2.21)

from tfp_mvhg import _tables

__all__ = ["TOLERANCE", "Windows", "use_windows", "choose_windows", "windows_are_cheaper",
           "windowed_suffix_tables", "windowed_log_normalizer", "log_error_bound",
           "sample_windowed_counts", "log_normalizer", "sample_counts"]

TOLERANCE = 1e-30
_BISECTION_STEPS = 110  # the tilt's bracket (width < 2^11 + range) halves to below 1 ulp

Windows = collections.namedtuple("Windows", ["lows", "width", "mean", "variance", "tilt",
                                             "hard_low", "hard_high"])
Windows.__doc__ = """Windows of the remaining counts S_0..S_c, flattened batch `[B]`.

lows:      `[B, c + 1]` int32, window i holds k = lows[:, i] + 0..width-1.
width:     K_w, int32 scalar, common to all windows.
mean:      `[B, c + 1]` float64 E A_i under the tilt.
variance:  `[B, c + 1]` float64 min(Var A_i, Var B_i).
tilt:      `[B]` float64 lam.
hard_low, hard_high: `[B, c + 1]` int32 the range S_i can take at all.
"""


def _static_width_bound(table_size, num_classes, tolerance):
    """An upper bound on K_w from n = K - 1 alone: min(Var A_i, Var B_i) <= n / 2 and
    Var(sum_j X_j) <= n under the tilt (a variance is at most its mean)."""
    n = table_size - 1
    ell = (np.log(1. / tolerance) + np.log(2. * (num_classes + 1))
           + 0.5 * np.log(2. * np.pi * np.e ** 4 * (n + 1.)))
    half_width = ell / 3. + np.sqrt(ell ** 2 / 9. + n * ell)
    return min(table_size, 2 * int(np.ceil(half_width)) + 1)


def use_windows(table_size, window, num_classes, tolerance=TOLERANCE):
    """Whether to use windowed tables: False, True, or None (decide at run time by the actual
    width, `windows_are_cheaper`).

    Never under XLA (data-dependent shapes). With static K and W, True only when even the
    largest possible width makes a windowed class step cheaper than a full one
    (`windows_are_cheaper`): then no full-table op is built at all (a graph holding `[K, W, B]`
    ops with static shapes is constant-folded by Grappler even in a branch that never runs)."""
    if control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()):
        return False
    if not (isinstance(table_size, int) and isinstance(window, int)):
        return None
    classes = num_classes if num_classes is not None else table_size
    width = _static_width_bound(table_size, classes, tolerance)
    return 3 * width ** 2 < 2 * table_size * window


def windows_are_cheaper(windows, table_size, window):
    """Scalar bool: a windowed class step (K_w^2 summands forward, up to 2 K_w^2 backward) costs
    less than a full one (K W each way)."""
    width = tf.cast(windows.width, tf.float64)
    return 3. * width ** 2 < 2. * tf.cast(table_size, tf.float64) * tf.cast(window, tf.float64)


def _sanitized(num_per_class, logits, total_count):
    """Parameters safe for the window arithmetic: undefined members (NaN'd by the caller) get
    m = max(round(m), 0), n clipped to [0, sum m], NaN/+inf logits 0."""
    num = tf.maximum(tf.round(num_per_class), 0.)
    bad = tf.math.is_nan(logits) | tf.equal(logits, np.inf)
    logits = tf.where(bad, tf.zeros_like(logits), logits)
    total = tf.clip_by_value(tf.round(total_count), 0., tf.reduce_sum(num, axis=-1))
    return num, logits, total


def _mean_field_tilt(num, logits, total):
    """lam with sum_j m_j sigmoid(theta_j + lam) = n, by bisection: `[B]` float64.

    n = 0 or n = sum m give the bracket's end (p = 0 or 1 to float64 precision)."""
    finite = tf.math.is_finite(logits)
    neg_inf = tf.constant(-np.inf, tf.float64)
    top = tf.reduce_max(tf.where(finite, logits, neg_inf), axis=-1)
    bottom = -tf.reduce_max(tf.where(finite, -logits, neg_inf), axis=-1)
    top = tf.where(tf.math.is_finite(top), top, tf.zeros_like(top))
    bottom = tf.where(tf.math.is_finite(bottom), bottom, tf.zeros_like(bottom))
    low, high = -top - 800., -bottom + 800.

    def body(low, high):
        middle = 0.5 * (low + high)
        drawn = tf.reduce_sum(num * tf.math.sigmoid(logits + middle[:, None]), axis=-1)
        too_few = drawn < total
        return tf.where(too_few, middle, low), tf.where(too_few, high, middle)

    low, high = tf.while_loop(lambda *_: True, body, (low, high),
                              maximum_iterations=_BISECTION_STEPS)
    return 0.5 * (low + high)


def _log_one_minus_p(logits, tilt):
    """log(1 - p_j) = -softplus(theta_j + lam), 0 where theta_j = -inf: `[B, c]`."""
    return -tf.math.softplus(logits + tilt[:, None])


def choose_windows(num_per_class, logits, total_count, tolerance=TOLERANCE):
    """Windows of S_0..S_c for a neglected mass below `tolerance` (module docstring): `Windows`.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
    """
    with tf.name_scope("choose_windows"):
        num, logits, total = _sanitized(tf.stop_gradient(num_per_class),
                                        tf.stop_gradient(logits), tf.stop_gradient(total_count))
        num_classes = tf.shape(logits)[1]
        tilt = _mean_field_tilt(num, logits, total)
        p = tf.math.sigmoid(logits + tilt[:, None])
        zero = tf.zeros_like(total)[:, None]
        suffix_mean = tf.concat([tf.cumsum(num * p, axis=1, reverse=True), zero], axis=1)
        suffix_var = tf.concat([tf.cumsum(num * p * (1. - p), axis=1, reverse=True), zero], 1)
        variance = tf.minimum(suffix_var, tf.maximum(suffix_var[:, :1] - suffix_var, 0.))
        # log(2 (c + 1) / tol) for the union over tails, and log of the denominator estimate
        ell = (np.log(1. / tolerance) + tf.math.log(2. * tf.cast(num_classes + 1, tf.float64))
               + 0.5 * tf.math.log(2. * np.pi * np.e ** 4 * (suffix_var[:, :1] + 1.)))
        half_width = ell / 3. + tf.sqrt(ell ** 2 / 9. + 2. * variance * ell)        # [B, c+1]
        suffix_items = tf.concat([tf.cumsum(num, axis=1, reverse=True), zero], axis=1)
        hard_low = tf.maximum(total[:, None] - (suffix_items[:, :1] - suffix_items), 0.)
        hard_high = tf.minimum(total[:, None], suffix_items)
        low = tf.maximum(hard_low, tf.math.ceil(suffix_mean - half_width))
        high = tf.minimum(hard_high, tf.floor(suffix_mean + half_width))
        width = tf.cast(tf.maximum(tf.reduce_max(high - low) + 1., 1.), tf.int32)
        # the common width: start as low as the range allows, to cover more of it
        lows = tf.maximum(hard_low, tf.minimum(low, hard_high - tf.cast(width, tf.float64) + 1.))
        return Windows(tf.cast(lows, tf.int32), width, suffix_mean, variance, tilt,
                       tf.cast(hard_low, tf.int32), tf.cast(hard_high, tf.int32))


def _class_coefficients(num_i, theta_i, low_i, low_next, width):
    """log C(m_i, x) + x theta_i on x = offset + v, v = 0..2 K_w - 2, offset = low_i - low_next
    - (K_w - 1): `([2 K_w - 1, B], offset [B])`. Entry j + u' pairs remaining k = low_i + j with
    q~_{i+1} at low_next + K_w - 1 - u', so that x = k - (low_next + K_w - 1 - u')."""
    offset = low_i - low_next - (width - 1)                                          # [B]
    x = tf.cast(offset[None, :] + tf.range(2 * width - 1)[:, None], tf.float64)
    return _tables.log_class_term(num_i[None, :], x, theta_i[None, :]), offset


def windowed_suffix_tables(num_per_class, logits, windows):
    """q~_1..q~_c on their windows: `[c, K_w, B]`, entry j of table i - 1 at k = lows[:, i] + j.

    q~_c is the boundary and q~_{c-1}[k] = log C(m_{c-1}, k) + k theta_{c-1} (S_c = 0); each
    other class step is a log-space convolution of the window of q~_{i+1} (length K_w) with the
    class coefficients on the x range the two windows imply (length 2 K_w - 1), of which the
    outputs K_w - 1 .. 2 K_w - 2 are the new window (`_tables.log_convolve` with an output
    offset: K_w^2 summands each way, recomputed in the backward pass instead of stored).
    (q~_0 is needed at n only: `windowed_log_normalizer`.)

    Args:
      num_per_class, logits: `[B, c]` float64 (logits differentiable).
      windows: `Windows` of `choose_windows`.
    """
    width, lows = windows.width, windows.lows
    k_last = lows[:, -1][None, :] + tf.range(width)[:, None]                         # [K_w, B]
    boundary = tf.where(tf.equal(k_last, 0), tf.zeros(tf.shape(k_last), tf.float64),
                        tf.fill(tf.shape(k_last), tf.constant(-np.inf, tf.float64)))

    def step(q_next, params):
        num_i, theta_i, low_i, low_next = params
        coefficient, _ = _class_coefficients(num_i, theta_i, low_i, low_next, width)
        return tf.ensure_shape(_tables.log_convolve(q_next, coefficient, width - 1),
                               q_next.shape)

    elems = (tf.transpose(num_per_class), tf.transpose(logits), tf.transpose(lows[:, :-1]),
             tf.transpose(lows[:, 1:]))
    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if num_classes is None:  # the plain scan over every class from the boundary
        tables = tf.scan(step, elems, initializer=boundary, reverse=True)
        return tf.concat([tables, boundary[None]], axis=0)[1:]
    k_before_last = tf.cast(lows[:, -2][None, :] + tf.range(width)[:, None], tf.float64)
    last = tf.ensure_shape(_tables.log_class_term(num_per_class[None, :, -1], k_before_last,
                                                  logits[None, :, -1]), boundary.shape)
    if num_classes == 1:
        return boundary[None]
    tables = [last[None], boundary[None]]
    if num_classes > 2:
        tables.insert(0, tf.scan(step, tuple(e[1:-1] for e in elems), initializer=last,
                                 reverse=True))
    return tf.concat(tables, axis=0)


@_tables.compiled_when_eager
def windowed_log_normalizer(num_per_class, logits, total_count, windows):
    """log P~0 = q~_0[n] = logsumexp_u (log C(m_0, x) + x theta_0 + q~_1[lows_1 + u]),
    x = n - lows_1 - u: `[B]` float64, differentiable in logits."""
    q_1 = windowed_suffix_tables(num_per_class, logits, windows)[0]                 # [K_w, B]
    x = (tf.cast(total_count, tf.int32) - windows.lows[:, 1])[None, :] - tf.range(
        windows.width)[:, None]
    coefficient = _tables.log_class_term(num_per_class[None, :, 0], tf.cast(x, tf.float64),
                                         logits[None, :, 0])
    return _tables.safe_reduce_logsumexp(coefficient + q_1, axis=0)


def log_error_bound(num_per_class, logits, total_count, windows, log_normalizer):
    """log eps, the certified bound on the neglected relative mass 1 - P~0 / P0: `[B]` float64.

    Args:
      num_per_class, logits, total_count: as for `choose_windows`.
      windows: the `Windows` used.
      log_normalizer: `[B]` log P~0 computed on them.
    """
    num, logits, total = _sanitized(num_per_class, logits, total_count)
    lows = tf.cast(windows.lows, tf.float64)
    highs = lows + tf.cast(windows.width, tf.float64) - 1.
    hard_low = tf.cast(windows.hard_low, tf.float64)
    hard_high = tf.cast(windows.hard_high, tf.float64)

    def log_tail(deviation, cut):
        t = tf.maximum(deviation, 0.)
        bound = -t ** 2 / (2. * (windows.variance + t / 3.))
        bound = tf.where(t > 0., bound, tf.zeros_like(bound))  # 0/0 at t = V = 0
        return tf.where(cut, bound, tf.fill(tf.shape(bound), tf.constant(-np.inf, tf.float64)))

    tails = tf.concat([log_tail(highs + 1. - windows.mean, highs < hard_high),
                       log_tail(windows.mean - (lows - 1.), lows > hard_low)], axis=1)
    log_tails = _tables.safe_reduce_logsumexp(tails, axis=1)
    log_one_minus_p = _log_one_minus_p(logits, windows.tilt)
    log_denominator = (tf.reduce_sum(tf.where(num > 0., num * log_one_minus_p,
                                              tf.zeros_like(num)), axis=1)
                       + tf.where(total > 0., total * windows.tilt, tf.zeros_like(total))
                       + log_normalizer)
    return log_tails - log_denominator


def sample_windowed_counts(num_per_class, logits, total_count, windows, num_samples, seed):
    """Exact sequential draws on the windowed conditionals: `[S, B, c]` int32.

    Class i with r remaining (r in its window) takes x with probability proportional to
    C(m_i, x) omega_i^x exp(q~_{i+1}[r - x]), drawn by inverse CDF over x ascending with one
    uniform per (class, sample, member), as `_tables.sample_exact_counts` does. The CDF rows are
    built at the realized r of each sample when S <= K_w (memory O(S B K_w) per class), else for
    every r of the window (O(B K_w^2)).
    """
    width, lows = windows.width, windows.lows
    tables = windowed_suffix_tables(num_per_class, logits, windows)
    batch = tf.shape(logits)[0]
    uniforms = _tables.stateless_open_uniform([tf.shape(logits)[1], num_samples, batch], seed,
                                              tf.float64)
    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32), tf.shape(uniforms)[1:])
    batch_index = tf.broadcast_to(tf.range(batch)[None, :], tf.shape(remaining))
    u = tf.range(width)

    def per_sample_rows(offset_in_window):
        return (tf.reshape(offset_in_window, [-1]), tf.reshape(batch_index, [-1]),
                tf.range(num_samples * batch))

    def every_row(offset_in_window):
        return (tf.tile(u, [batch]), tf.repeat(tf.range(batch), width),
                tf.reshape(batch_index * width + offset_in_window, [-1]))

    def step(remaining, elems):
        q_next, num_i, theta_i, low_i, low_next, uniform = elems
        coefficient, offset = _class_coefficients(num_i, theta_i, low_i, low_next, width)
        j = remaining - low_i[None, :]                                            # [S, B]
        row_j, row_b, query_row = tf.cond(num_samples <= width, lambda: per_sample_rows(j),
                                          lambda: every_row(j))
        # row (j, b), column u' (x ascending): coefficient[j + u'] + q~_{i+1}[K_w - 1 - u']
        coefficient_index = (row_j[:, None] + u[None, :]) * batch + row_b[:, None]
        rest = tf.gather(tf.transpose(q_next), row_b)[:, ::-1]                    # [R, K_w]
        row_logits = tf.gather(tf.reshape(coefficient, [-1]), coefficient_index) + rest
        log_norm = _tables.safe_reduce_logsumexp(row_logits, axis=1, keepdims=True)
        probs = tf.exp(row_logits - log_norm)
        probs = tf.where(tf.math.is_finite(probs), probs, tf.zeros_like(probs))
        cdf = tf.cumsum(probs, axis=1)
        cdf = cdf / tf.where(cdf[:, -1:] > 0., cdf[:, -1:], tf.ones_like(cdf[:, -1:]))
        column = _tables.count_at_most(cdf, query_row, tf.reshape(uniform, [-1]))
        column = tf.reshape(column, tf.shape(remaining))
        draw = tf.gather(offset, batch_index) + j + column
        draw = tf.clip_by_value(draw, 0, tf.minimum(tf.cast(num_i, tf.int32)[None, :], remaining))
        return remaining - draw

    def scan_step(carry, elems):
        remaining, _ = carry
        new_remaining = step(remaining, elems)
        return new_remaining, remaining - new_remaining

    elems = (tables, tf.transpose(num_per_class), tf.transpose(logits),
             tf.transpose(lows[:, :-1]), tf.transpose(lows[:, 1:]), uniforms)
    _, draws = tf.scan(scan_step, elems, initializer=(remaining, tf.zeros_like(remaining)))
    return tf.transpose(draws, [1, 2, 0])


def _dispatch(num_per_class, logits, total_count, table_size, window, windowed, full):
    """`windowed(windows)` or `full()` by `use_windows` (a `tf.cond` only when the table sizes
    are not static)."""
    choice = use_windows(table_size, window, tf.compat.dimension_value(logits.shape[-1]))
    if choice is False:
        return full()
    windows = choose_windows(num_per_class, logits, total_count)
    if choice:
        return windowed(windows)
    return tf.cond(windows_are_cheaper(windows, table_size, window), lambda: windowed(windows),
                   full)


def log_normalizer(num_per_class, logits, total_count, table_size, window, full):
    """log P0 (`[B]`): windowed where `use_windows` says so, else `full()` (the full tables)."""
    return _dispatch(num_per_class, logits, total_count, table_size, window,
                     lambda windows: windowed_log_normalizer(num_per_class, logits, total_count,
                                                             windows), full)


@_tables.compiled_when_eager
def sample_counts(num_per_class, logits, total_count, table_size, window, num_samples, seed):
    """Exact draws `[S, B, c]` int32: windowed where `use_windows` says so, else
    `_tables.sample_exact_counts` (same arguments)."""
    return _dispatch(
        num_per_class, logits, total_count, table_size, window,
        lambda windows: sample_windowed_counts(num_per_class, logits, total_count, windows,
                                               num_samples, seed),
        lambda: _tables.sample_exact_counts(num_per_class, logits, total_count, table_size,
                                            window, num_samples, seed))
