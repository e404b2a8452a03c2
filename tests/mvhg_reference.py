# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Independent references for the MVHG, in numpy/scipy only: enumeration and goodness of fit.

Nothing here imports tfp_mvhg, so the tests compare our tables against a different algorithm
(listing the whole support) rather than against themselves.
"""

import itertools

import numpy as np
from scipy import special
from scipy import stats


def support(num_per_class, total_count):
    """All x with 0 <= x_i <= m_i and sum x = n, as an `[S, c]` int array."""
    num_per_class = [int(m) for m in num_per_class]
    head = [range(m + 1) for m in num_per_class[:-1]]
    rows = [x + (total_count - sum(x),) for x in itertools.product(*head)
            if 0 <= total_count - sum(x) <= num_per_class[-1]]
    return np.array(rows, dtype=np.int64).reshape(-1, len(num_per_class))


def log_unnormalized(num_per_class, logits, x):
    """sum_i log C(m_i, x_i) + x_i theta_i for each row of x (x_i = 0 adds 0, even at -inf)."""
    m = np.asarray(num_per_class, np.float64)
    x = np.asarray(x, np.float64)
    log_binom = special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)
    logits = np.broadcast_to(np.asarray(logits, np.float64), x.shape)
    power = np.where(x > 0, x * np.where(x > 0, logits, 0.), 0.)
    return np.sum(log_binom + power, axis=-1)


def enumerate_pmf(num_per_class, total_count, logits):
    """(support [S, c], log pmf [S]) by listing the support."""
    x = support(num_per_class, total_count)
    log_weight = log_unnormalized(num_per_class, logits, x)
    return x, log_weight - special.logsumexp(log_weight)


def moments(x, log_pmf):
    """Mean [c] and covariance [c, c] of an enumerated pmf."""
    p = np.exp(log_pmf)
    mean = p @ x
    centered = x - mean
    return mean, (centered * p[:, None]).T @ centered


def merged_scheme_pmf(num_per_class, total_count, weights):
    """pmf of the paper's merged sequential scheme (classes in the given order), by enumeration.

    X_i | x_<i follows the univariate Fisher law of class i against one merged class of all later
    classes, with m_R = sum_{j>i} m_j and the m-weighted mean weight omega_R.
    """
    m = np.asarray(num_per_class, np.int64)
    w = np.asarray(weights, np.float64)
    x = support(m, total_count)
    log_p = np.zeros(len(x))
    remaining = np.full(len(x), total_count)
    for i in range(len(m) - 1):
        rest_m = m[i + 1:].sum()
        rest_w = (m[i + 1:] * w[i + 1:]).sum() / rest_m if rest_m > 0 else 1.0
        log_p += stats.nchypergeom_fisher(m[i] + rest_m, m[i], remaining, w[i] / rest_w).logpmf(
            x[:, i])
        remaining = remaining - x[:, i]
    return x, log_p


def pooled_chi_square(samples, x, log_pmf, min_expected=5.0):
    """Chi-square goodness of fit of integer samples `[N, c]` to an enumerated pmf.

    Cells are taken in decreasing probability while their expected count is at least
    `min_expected`; all other cells are pooled into one bin. Returns (statistic, dof, p-value).
    """
    samples = np.asarray(samples, np.int64)
    num = len(samples)
    expected = num * np.exp(log_pmf)
    order = np.argsort(-expected)
    keep = order[expected[order] >= min_expected]
    index = {tuple(row): cell for cell, row in enumerate(x)}
    cell_of_sample = np.array([index.get(tuple(row), -1) for row in samples])
    if np.any(cell_of_sample < 0):
        return np.inf, 0, 0.0
    observed_all = np.bincount(cell_of_sample, minlength=len(x))
    observed = list(observed_all[keep])
    expected_bins = list(expected[keep])
    rest = np.setdiff1d(np.arange(len(x)), keep)
    if len(rest) and expected[rest].sum() > 0:
        observed.append(observed_all[rest].sum())
        expected_bins.append(expected[rest].sum())
    observed, expected_bins = np.array(observed, np.float64), np.array(expected_bins)
    statistic = np.sum((observed - expected_bins) ** 2 / expected_bins)
    dof = len(observed) - 1
    return statistic, dof, stats.chi2.sf(statistic, dof)
