# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Windowed tables (`windows`): values against the full tables and scipy, the certified bound on
the neglected mass (checked against the true neglected mass where it is measurable), and the
distribution on them at large n."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfp_mvhg
from tfp_mvhg.internal import suffix_tables
from tfp_mvhg.internal import windows
from windowed_cases import CASES
from windowed_cases import flat


def full_log_normalizer(m, n, theta):
    num, logits, _ = flat(m, n, theta)
    return float(suffix_tables.suffix_log_tables(num, logits, n + 1, min(max(m), n) + 1)[0][n, 0])


def windowed(m, n, theta, tolerance=windows.TOLERANCE):
    num, logits, total = flat(m, n, theta)
    chosen = windows.choose_windows(num, logits, total, tolerance)
    log_norm = windows.windowed_log_normalizer(num, logits, total, chosen)
    bound = windows.log_error_bound(num, logits, total, chosen, log_norm)
    return chosen, float(log_norm[0]), float(bound[0])


@pytest.mark.parametrize("m, n, theta", CASES)
def test_windowed_normalizer_matches_full_tables_and_certifies_1e_30(m, n, theta):
    chosen, log_norm, log_bound = windowed(m, n, theta)
    assert np.max(chosen.widths) < (n + 1 if n > 100 else n + 2)  # below the full range
    np.testing.assert_allclose(log_norm, full_log_normalizer(m, n, theta), rtol=1e-13)
    assert log_bound < np.log(1e-30)


def narrowed(chosen, factor):
    """The same windows, `factor` times narrower around their centres (within the hard range)."""
    widths = np.maximum(chosen.widths.numpy() // factor, 1)
    lows = chosen.lows.numpy() + (chosen.widths.numpy() - widths) // 2
    lows = np.maximum(chosen.hard_low.numpy(),
                      np.minimum(lows, chosen.hard_high.numpy() - widths + 1)).astype(np.int32)
    return chosen._replace(lows=tf.constant(lows), widths=tf.constant(widths, tf.int32))


@pytest.mark.parametrize("m, n, theta", CASES[:3] + CASES[4:])
def test_bound_holds_where_the_neglected_mass_is_measurable(m, n, theta):
    """Windows narrowed until the true neglected mass 1 - P~0 / P0 (from the full tables) shows
    in float64 (above 1e-12): at every width it stays below the certified bound."""
    num, logits, total = flat(m, n, theta)
    chosen = windows.choose_windows(num, logits, total)
    exact = full_log_normalizer(m, n, theta)
    for factor in range(2, 40):
        narrow = narrowed(chosen, factor)
        log_norm = windows.windowed_log_normalizer(num, logits, total, narrow)
        log_bound = float(windows.log_error_bound(num, logits, total, narrow, log_norm)[0])
        neglected = -np.expm1(float(log_norm[0]) - exact)
        assert neglected <= np.exp(log_bound) * (1. + 1e-9) + 1e-15, (factor, neglected)
        if neglected > 1e-12:
            break
    else:
        pytest.fail("no width neglected a measurable mass")


def test_two_classes_match_scipy_at_large_n():
    """c = 2 is the univariate Fisher distribution: log pmf and mean against scipy at n = 10^5."""
    m, n, odds = [100000., 100000.], 100000., 2.
    dist = tfp_mvhg.MultivariateHypergeometric(m, n, weights=np.array([odds, 1.]))  # float64
    reference = stats.nchypergeom_fisher(M=200000, n=100000, N=100000, odds=odds)
    x = np.array([58000., 58578., 59500.])
    np.testing.assert_allclose(dist.log_prob(np.stack([x, n - x], -1)), reference.logpmf(x),
                               rtol=1e-9)
    np.testing.assert_allclose(dist.mean()[0], reference.mean(), rtol=1e-10)


def test_large_n_log_prob_mean_and_sample_are_consistent():
    """c = 10, n = 10^5 (full tables would hold 10^10 entries per class)."""
    c, m, n = 10, 100000., 100000.
    logits = np.log(np.linspace(0.5, 3., c))
    dist = tfp_mvhg.MultivariateHypergeometric([m] * c, n, logits=logits)
    mean = dist.mean().numpy()
    np.testing.assert_allclose(mean.sum(), n, rtol=1e-12)
    draws = dist.sample(200, seed=(3, 4)).numpy()
    assert np.all(draws.sum(-1) == n)
    # the sample mean within 5 standard errors per class (Cov[X_i] <= E[X_i]: a binomial bound)
    assert np.all(np.abs(draws.mean(0) - mean) < 5. * np.sqrt(mean / 200.))
    log_prob = dist.log_prob(draws).numpy()
    assert np.all(np.isfinite(log_prob)) and np.all(log_prob < 0.)


def test_degenerate_and_undefined_members_in_one_batch():
    """n = 0, n = sum(m), and an undefined member (n > sum m: P0 = 0, NaN mean) beside a
    windowed one."""
    m = [[3000., 3000., 3000.], [3000., 3000., 3000.], [3000., 3000., 3000.],
         [10., 10., 10.]]
    n = [3000., 0., 9000., 3000.]
    dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=tf.zeros([4, 3], tf.float64))
    log_norm = dist.log_normalizer().numpy()
    np.testing.assert_allclose(log_norm[:3], [full_log_normalizer([3000] * 3, 3000, [0.] * 3),
                                              0., 0.], rtol=1e-13, atol=1e-12)
    assert log_norm[3] == -np.inf
    mean = dist.mean().numpy()
    np.testing.assert_allclose(mean[:3], [[1000.] * 3, [0.] * 3, [3000.] * 3], rtol=1e-12,
                               atol=1e-9)
    assert np.all(np.isnan(mean[3]))
