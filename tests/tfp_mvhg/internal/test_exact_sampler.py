# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`exact_sampler`: the same draws on windowed and full tables, and the windowed draws against
scipy."""

import numpy as np
import tensorflow as tf
from scipy import stats

import tfp_mvhg
from tfp_mvhg.internal import exact_sampler
from tfp_mvhg.internal import windows
from windowed_cases import CASES
from windowed_cases import flat


def test_windowed_draws_equal_full_table_draws_for_the_same_seed():
    """Both invert the same conditional CDFs (x ascending) with the same uniforms."""
    for m, n, theta in CASES[:2]:
        num, logits, total = flat(m, n, theta)
        chosen = windows.choose_windows(num, logits, total)
        window = min(max(m), n) + 1
        for num_samples in (50, 2000):  # rows per sample, and rows for every remaining count
            windowed_draws = exact_sampler.sample_on_windows(
                num, logits, total, chosen, window, num_samples, tf.constant([5, 6]))
            full_draws = exact_sampler.sample_on_full_tables(
                num, logits, total, n + 1, window, num_samples, tf.constant([5, 6]), xla=False)
            np.testing.assert_array_equal(windowed_draws, full_draws)


def test_windowed_sampler_matches_scipy_by_chi_square():
    """X_1 of two classes (windowed path: n = 3000) against scipy's pmf; bins with expected
    count >= 5 (tails merged). False-fail rate 1e-4 at fixed seed."""
    m, n, odds = [4000., 5000.], 3000, 1.5
    dist = tfp_mvhg.MultivariateHypergeometric(m, float(n), weights=[odds, 1.])
    draws = dist.sample(20000, seed=(7, 8)).numpy()[:, 0].astype(int)
    reference = stats.nchypergeom_fisher(M=9000, n=4000, N=n, odds=odds)
    support = np.arange(0, n + 1)
    expected = reference.pmf(support) * len(draws)
    keep = expected >= 5.
    low, high = support[keep][0], support[keep][-1]
    observed = np.bincount(np.clip(draws, low, high) - low, minlength=high - low + 1)
    binned = expected[keep].copy()
    binned[0] += expected[:low].sum()
    binned[-1] += expected[high + 1:].sum()
    chi2 = np.sum((observed - binned) ** 2 / binned)
    assert chi2 < stats.chi2.ppf(1. - 1e-4, len(binned) - 1)
