# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Windowed suffix tables: the exact tables restricted to the remaining counts that can occur.

The remaining count after class i-1 is S_i = sum_{j >= i} X_j (S_0 = n, S_c = 0). For any
shift lam, the MVHG is the law of independent X_j ~ Binomial(m_j, p_j), logit p_j = theta_j + lam,
given sum_j X_j = n. With lam the mean-field tilt (sum_j m_j p_j = n), A_i = sum_{j >= i} X_j and
B_i = sum_{j < i} X_j, for u above E A_i:

    P(S_i >= u) = sum_{a >= u} P(A_i = a) P(B_i = n - a) / P(A + B = n)
               <= #{a >= u possible} P(A_i >= u) P(B_i <= n - u) / P(A + B = n),

(each term is at most the product of the two tails), and Chernoff's bound on each tail,
log P(A_i >= u) <= Lambda_A(tau) - tau u for any tau >= 0 with Lambda_A the (explicit) log-mgf of
a sum of binomials, makes the product decay like exp(-t^2 / (2 Var(S_i))), t = u - E A_i (the
same below the mean). So S_i lives, but for a negligible mass, in a window of O(sqrt(Var) +
log(1 / tol)) counts around E A_i, instead of the O(n) range of the full tables.

Tables on windows: q~_i[lo_i + j], j = 0..K_i-1, sums only the configurations whose S_i' stay in
their windows for i' >= i,

    q~_i[k] = logsumexp_u (log C(m_i, x) + x theta_i + q~_{i+1}[lo_{i+1} + u]),
    x = k - lo_{i+1} - u,

so P~0 = exp q~_0[n] <= P0, and the neglected relative mass is

    1 - P~0 / P0 = P(some S_i outside its window) <= eps = sum_i (tail bounds) / P(A + B = n),
    P(A + B = n) = exp(sum_j m_j log(1 - p_j) + n lam) P0
                >= exp(sum_j m_j log(1 - p_j) + n lam) P~0:

`log_error_bound` computes eps after the fact, from the windowed tables alone. The windows are
chosen for eps < `TOLERANCE` = 1e-30 (the denominator estimated as 1 / sqrt(2 pi e^4 (Var + 1)));
the tests check the certificate on skewed, boundary and large cases, and that it bounds the true
neglected mass where that is measurable. The truncated model is a distribution in its own right
(the MVHG given all S_i in their windows), at total-variation distance at most eps from the MVHG:
log P0 is off by at most -log(1 - eps), the mean (grad log P~0) by at most 2 eps n, and exact draws
by eps in total variation.

Cost per class step O(K_i K_{i+1} B) instead of O(K W B), K_i ~ 2 sqrt(2 Var(S_i) ell) + O(ell),
ell ~ 80 nats: the route to n ~ 10^5. Shapes are data-dependent, so this path is not used under
XLA.
"""

import collections

import numpy as np
import tensorflow as tf

from tfp_mvhg.internal.log_space import log_class_term
from tfp_mvhg.internal.log_space import log_convolve
from tfp_mvhg.internal.log_space import safe_reduce_logsumexp

__all__ = ["TOLERANCE", "Windows", "choose_windows", "log_error_bound", "logit_range",
           "mean_field_tilt", "sanitized", "static_width_bound", "windowed_log_normalizer",
           "windowed_suffix_tables", "windows_are_cheaper"]

TOLERANCE = 1e-30
_BISECTION_STEPS = 110  # the tilt's bracket (width < 2^11 + range) halves to below 1 ulp

Windows = collections.namedtuple("Windows", ["lows", "widths", "mean", "variance", "eta",
                                             "hard_low", "hard_high", "tilt"])
Windows.__doc__ = """Windows of the remaining counts S_0..S_c, flattened batch `[B]`.

lows:      `[B, c + 1]` int32, window i holds k = lows[:, i] + 0..widths[i]-1.
widths:    `[c + 1]` int32 K_i, the widest window of boundary i over the batch.
mean:      `[B, c + 1]` float64 E A_i under the tilt.
variance:  `[B, c + 1]` float64 Var A_i Var B_i / Var(A_i + B_i) (the tilts' starting point).
eta:       `[B, c]` float64 theta + lam (sanitized).
hard_low, hard_high: `[B, c + 1]` float64, the range S_i can take at all.
tilt:      `[B]` float64 lam.
"""


def static_width_bound(table_size, num_classes, tolerance):
    """A width no window is expected to exceed, from n = K - 1 alone (for the static choice of
    path only; correctness never depends on it): Bernstein's bound on one tail, which the
    two-tail Chernoff bound of `_tail_bounds` (at near-optimal tilts) does not exceed, with
    min(Var A_i, Var B_i) <= n / 2 and Var(sum_j X_j) <= n under the tilt (a variance is at
    most its mean)."""
    n = table_size - 1
    ell = (np.log(1. / tolerance) + np.log(2. * (num_classes + 1))
           + 0.5 * np.log(2. * np.pi * np.e ** 4 * (n + 1.)) + np.log(n + 1.))
    half_width = ell / 3. + np.sqrt(ell ** 2 / 9. + n * ell)
    return min(table_size, 2 * int(np.ceil(half_width)) + 1)


def windows_are_cheaper(windows, table_size, window):
    """Scalar bool: the windowed class steps (K_i K_{i+1} summands forward, up to twice that
    backward) cost less than full ones (K W each way)."""
    widths = tf.cast(windows.widths, tf.float64)
    windowed = 3. * tf.reduce_sum(widths[:-1] * widths[1:])
    full = 2. * tf.cast(tf.size(widths) - 1, tf.float64) * tf.cast(table_size, tf.float64) \
        * tf.cast(window, tf.float64)
    return windowed < full


def sanitized(num_per_class, logits, total_count):
    """Parameters safe for the window arithmetic: undefined members (NaN'd by the caller) get
    m = max(round(m), 0), n clipped to [0, sum m], NaN/+inf logits 0."""
    num = tf.maximum(tf.round(num_per_class), 0.)
    bad = tf.math.is_nan(logits) | tf.equal(logits, np.inf)
    logits = tf.where(bad, tf.zeros_like(logits), logits)
    total = tf.clip_by_value(tf.round(total_count), 0., tf.reduce_sum(num, axis=-1))
    return num, logits, total


def logit_range(logits):
    """The largest and the smallest finite logit of each member, `[B]` each (0 if none)."""
    finite = tf.math.is_finite(logits)
    neg_inf = tf.constant(-np.inf, logits.dtype)
    top = tf.reduce_max(tf.where(finite, logits, neg_inf), axis=-1)
    bottom = -tf.reduce_max(tf.where(finite, -logits, neg_inf), axis=-1)
    return (tf.where(tf.math.is_finite(top), top, tf.zeros_like(top)),
            tf.where(tf.math.is_finite(bottom), bottom, tf.zeros_like(bottom)))


def mean_field_tilt(num, logits, total, steps=_BISECTION_STEPS):
    """lam with sum_j m_j sigmoid(theta_j + lam) = n, by `steps` bisections: `[B]` float64.

    n = 0 or n = sum m give the bracket's end (p = 0 or 1 to float64 precision). The bracket
    (width < 2^11 + logit range) halves each step: 110 reach 1 ulp, 40 an error below 2^-29."""
    top, bottom = logit_range(logits)
    low, high = -top - 800., -bottom + 800.

    def body(low, high):
        middle = 0.5 * (low + high)
        drawn = tf.reduce_sum(num * tf.math.sigmoid(logits + middle[:, None]), axis=-1)
        too_few = drawn < total
        return tf.where(too_few, middle, low), tf.where(too_few, high, middle)

    low, high = tf.while_loop(lambda *_: True, body, (low, high),
                              maximum_iterations=steps)
    return 0.5 * (low + high)


def _log_mgf(num, eta, members, tilt):
    """Lambda(tau) = log E exp(tau sum_{j in set} X_j) for X_j ~ Binomial(m_j, sigmoid(eta_j)) and
    its first two derivatives in tau, for each boundary's set: `[B, c + 1]` each.

    Args:
      num, eta: `[B, c]`; members: `[c + 1, c]` 0/1 float (the classes of each boundary's set);
      tilt: `[B, c + 1]` tau.
    """
    shifted = eta[:, None, :] + tilt[:, :, None]                                   # [B, c+1, c]
    weight = members[None] * num[:, None, :]
    value = tf.reduce_sum(weight * (tf.math.softplus(shifted)
                                    - tf.math.softplus(eta)[:, None, :]), axis=-1)
    p = tf.math.sigmoid(shifted)
    return (value, tf.reduce_sum(weight * p, axis=-1),
            tf.reduce_sum(weight * p * (1. - p), axis=-1))


def _tilt_for(num, eta, members, target, sign, start):
    """tau with sign tau in [0, 60] and Lambda'(tau) = target (`[B, R]` each; members `[R, c]`,
    sign `[R]` +1 or -1), by Newton steps kept inside a shrinking bracket (bisection when a step
    leaves it; Lambda' is increasing): 10 steps from `start`. Any such tau gives a valid Chernoff
    bound; this one makes it nearly tight."""
    low = tf.broadcast_to(tf.minimum(sign, 0.) * 60., tf.shape(target))
    high = low + 60.

    def newton(tilt, low, high):
        _, slope, curvature = _log_mgf(num, eta, members, tilt)
        below = slope < target
        low, high = tf.where(below, tilt, low), tf.where(below, high, tilt)
        step = tilt - (slope - target) / tf.maximum(curvature, 1e-300)
        return tf.where((step > low) & (step < high), step, 0.5 * (low + high)), low, high

    tilt, _, _ = tf.while_loop(lambda *_: True, newton,
                               (tf.clip_by_value(start, low, high), low, high),
                               maximum_iterations=10)
    return tilt


def _tail_bounds(num, eta, members, mean, total, above, below, variance):
    """Chernoff bounds for S_i = A_i beyond its mean, above (by h) and below (by h'):
    `(C, rate)`, `[B, 2 (c + 1)]` (above, then below), with

        log P(S_i >= mean + h) <= C - rate h + log(#counts above) - log P(A + B = n)

    for every h (likewise below), the tilts fitted to the deviations `above`/`below`; from

        P(S_i >= u) <= sum_{a >= u} P(A_i = a) P(B_i = n - a)
                    <= #counts P(A_i >= u) P(B_i <= n - u),

    and log P(A_i >= u) <= Lambda_A(tau) - tau u (tau >= 0), log P(B_i <= v) <= Lambda_B(tau')
    - tau' v (tau' <= 0). One vectorized tilt solve for the four tails of each boundary.
    """
    members_a, members_b = members
    sign = tf.constant([1., -1., -1., 1.], tf.float64)  # A above, A below, B (above), B (below)
    rows = tf.shape(mean)[1]
    sign = tf.repeat(sign, rows)                                               # [4 (c + 1)]
    deviation = tf.concat([above, below], axis=1)                               # [B, 2 (c + 1)]
    side = tf.repeat(tf.constant([1., -1.], tf.float64), rows)                  # [2 (c + 1)]
    mean_a = tf.concat([mean, mean], axis=1)
    rest = total[:, None] - mean_a
    start = side * deviation / tf.maximum(tf.concat([variance, variance], 1), 1e-12)
    tilts = _tilt_for(num, eta, tf.concat([members_a, members_a, members_b, members_b], 0),
                      tf.concat([mean_a + side * deviation, rest - side * deviation], 1),
                      sign, tf.concat([start, -start], 1))
    tilt_a, tilt_b = tilts[:, :2 * rows], tilts[:, 2 * rows:]
    log_mgf_a, _, _ = _log_mgf(num, eta, tf.concat([members_a, members_a], 0), tilt_a)
    log_mgf_b, _, _ = _log_mgf(num, eta, tf.concat([members_b, members_b], 0), tilt_b)
    constant = log_mgf_a + log_mgf_b - tilt_a * mean_a - tilt_b * rest
    return constant, side * (tilt_a - tilt_b)


def _memberships(num_classes):
    """`[c + 1, c]` 0/1 masks of A_i = {j >= i} and B_i = {j < i}."""
    boundary = tf.range(num_classes + 1)[:, None]
    classes = tf.range(num_classes)[None, :]
    return (tf.cast(classes >= boundary, tf.float64), tf.cast(classes < boundary, tf.float64))


def choose_windows(num_per_class, logits, total_count, tolerance=TOLERANCE):
    """Windows of S_0..S_c for a neglected mass below `tolerance` (module docstring): `Windows`.

    Half-widths h from the Chernoff bounds of `_tail_bounds` set to log(tol / (2 (c + 1))) plus
    log P(A + B = n) estimated as -log sqrt(2 pi e^4 (Var + 1)): three rounds of fitting the
    tilts to h and solving the (linear in h) bound for h, from a Gaussian start.

    Args:
      num_per_class, logits: `[B, c]` float64, c static.
      total_count: `[B]` float64.
    """
    with tf.name_scope("choose_windows"):
        num, logits, total = sanitized(tf.stop_gradient(num_per_class),
                                        tf.stop_gradient(logits), tf.stop_gradient(total_count))
        num_classes = int(logits.shape[-1])
        tilt = mean_field_tilt(num, logits, total)
        eta = logits + tilt[:, None]
        p = tf.math.sigmoid(eta)
        zero = tf.zeros_like(total)[:, None]
        mean = tf.concat([tf.cumsum(num * p, axis=1, reverse=True), zero], axis=1)
        suffix_var = tf.concat([tf.cumsum(num * p * (1. - p), axis=1, reverse=True), zero], 1)
        rest_var = tf.maximum(suffix_var[:, :1] - suffix_var, 0.)
        variance = suffix_var * rest_var / tf.maximum(suffix_var + rest_var, 1e-12)
        suffix_items = tf.concat([tf.cumsum(num, axis=1, reverse=True), zero], axis=1)
        hard_low = tf.maximum(total[:, None] - (suffix_items[:, :1] - suffix_items), 0.)
        hard_high = tf.minimum(total[:, None], suffix_items)
        ell = (np.log(1. / tolerance) + np.log(2. * (num_classes + 1))
               + 0.5 * tf.math.log(2. * np.pi * np.e ** 4 * (suffix_var[:, :1] + 1.))
               + tf.math.log(hard_high - hard_low + 1.))                           # [B, c+1]
        members = _memberships(num_classes)
        half_width = tf.sqrt(2. * variance * ell) + ell / 3.
        half_widths = tf.concat([half_width, half_width], axis=1)                # above, below
        for _ in range(3):
            constant, rate = _tail_bounds(num, eta, members, mean, total,
                                          half_widths[:, :num_classes + 1],
                                          half_widths[:, num_classes + 1:], variance)
            half_widths = tf.maximum((constant + tf.concat([ell, ell], 1))
                                     / tf.maximum(rate, 1e-12), 0.)
        low = tf.maximum(hard_low, tf.math.ceil(mean - half_widths[:, num_classes + 1:]))
        high = tf.minimum(hard_high, tf.floor(mean + half_widths[:, :num_classes + 1]))
        widths = tf.cast(tf.maximum(tf.reduce_max(high - low, axis=0) + 1., 1.), tf.int32)
        # each boundary's common width: start as low as the range allows, to cover more of it
        lows = tf.maximum(hard_low, tf.minimum(low, hard_high - tf.cast(widths, tf.float64) + 1.))
        return Windows(tf.cast(lows, tf.int32), widths, mean, variance, eta, hard_low,
                       hard_high, tilt)


def _class_coefficients(num_i, theta_i, low_i, low_next, width_i, width_next):
    """log C(m_i, x) + x theta_i on x = offset + v, v = 0..K_i + K_{i+1} - 2, offset = low_i -
    low_next - (K_{i+1} - 1): `[K_i + K_{i+1} - 1, B]`. Entry j + u' pairs the remaining
    k = low_i + j with q~_{i+1} at low_next + K_{i+1} - 1 - u' (x = k - that)."""
    offset = low_i - low_next - (width_next - 1)                                     # [B]
    x = tf.cast(offset[None, :] + tf.range(width_i + width_next - 1)[:, None], tf.float64)
    return log_class_term(num_i[None, :], x, theta_i[None, :])


def windowed_suffix_tables(num_per_class, logits, windows):
    """q~_1..q~_c on their windows: a list of c tables, q~_i `[K_i, B]` with entry j at
    k = lows[:, i] + j.

    q~_c is the boundary and q~_{c-1}[k] = log C(m_{c-1}, k) + k theta_{c-1} (S_c = 0); each
    other class step is a log-space convolution of the window of q~_{i+1} (length K_{i+1}) with
    the class coefficients on the x range the two windows imply (length K_i + K_{i+1} - 1), of
    which the outputs K_{i+1} - 1 .. are the new window (`log_convolve` with an output
    offset: K_i K_{i+1} summands each way, recomputed in the backward pass instead of stored).
    (q~_0 is needed at n only: `windowed_log_normalizer`.)

    Args:
      num_per_class, logits: `[B, c]` float64 (logits differentiable), c static.
      windows: `Windows` of `choose_windows`.
    """
    num_classes = int(logits.shape[-1])
    lows, widths = windows.lows, windows.widths
    k_last = lows[:, -1][None, :] + tf.range(widths[-1])[:, None]
    boundary = tf.where(tf.equal(k_last, 0), tf.zeros(tf.shape(k_last), tf.float64),
                        tf.fill(tf.shape(k_last), tf.constant(-np.inf, tf.float64)))
    if num_classes == 1:
        return [boundary]
    k = tf.cast(lows[:, -2][None, :] + tf.range(widths[-2])[:, None], tf.float64)
    tables = [log_class_term(num_per_class[None, :, -1], k, logits[None, :, -1]),
              boundary]
    for i in range(num_classes - 2, 0, -1):
        coefficient = _class_coefficients(num_per_class[:, i], logits[:, i], lows[:, i],
                                          lows[:, i + 1], widths[i], widths[i + 1])
        tables.insert(0, log_convolve(tables[0], coefficient, widths[i + 1] - 1))
    return tables


def windowed_log_normalizer(num_per_class, logits, total_count, windows):
    """log P~0 = q~_0[n] = logsumexp_u (log C(m_0, x) + x theta_0 + q~_1[lows_1 + u]),
    x = n - lows_1 - u: `[B]` float64, differentiable in logits (c static)."""
    q_1 = windowed_suffix_tables(num_per_class, logits, windows)[0]                 # [K_1, B]
    x = (tf.cast(total_count, tf.int32) - windows.lows[:, 1])[None, :] - tf.range(
        windows.widths[1])[:, None]
    coefficient = log_class_term(num_per_class[None, :, 0], tf.cast(x, tf.float64),
                                 logits[None, :, 0])
    return safe_reduce_logsumexp(coefficient + q_1, axis=0)


def log_error_bound(num_per_class, logits, total_count, windows, log_normalizer):
    """log eps, the certified bound on the neglected relative mass 1 - P~0 / P0: `[B]` float64.

    For each boundary and side cut by its window, the Chernoff bound of `_tail_bounds` at the
    first excluded count, times the number of excluded counts; over
    P(A + B = n) >= exp(sum_j m_j log(1 - p_j) + n lam) P~0.

    Args:
      num_per_class, logits, total_count: as for `choose_windows`.
      windows: the `Windows` used.
      log_normalizer: `[B]` log P~0 computed on them.
    """
    num, _, total = sanitized(num_per_class, logits, total_count)
    lows = tf.cast(windows.lows, tf.float64)
    highs = lows + tf.cast(windows.widths, tf.float64) - 1.
    members = _memberships(int(logits.shape[-1]))
    above, below = highs + 1. - windows.mean, windows.mean - (lows - 1.)
    constant, rate = _tail_bounds(num, windows.eta, members, windows.mean, total, above, below,
                                  windows.variance)
    beyond = tf.concat([windows.hard_high - highs, lows - windows.hard_low], axis=1)
    cut = tf.concat([highs < windows.hard_high, lows > windows.hard_low], axis=1)
    bound = (constant - rate * tf.concat([above, below], axis=1)
             + tf.math.log(tf.maximum(beyond, 1.)))
    tails = tf.where(cut, tf.minimum(bound, 0.), tf.constant(-np.inf, tf.float64))
    log_tails = safe_reduce_logsumexp(tails, axis=1)
    log_one_minus_p = -tf.math.softplus(windows.eta)
    log_denominator = (tf.reduce_sum(tf.where(num > 0., num * log_one_minus_p,
                                              tf.zeros_like(num)), axis=1)
                       + tf.where(total > 0., total * windows.tilt, tf.zeros_like(total))
                       + log_normalizer)
    return log_tails - log_denominator
