"""Windowed tables (`_windowed`): values against the full tables and scipy, the certified bound
on the neglected mass (checked against the true neglected mass where it is measurable), the
windowed sampler against the full one and scipy, and which path the distribution takes."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats

import tfp_mvhg
from tfp_mvhg import _tables, _windowed

# (m, n, theta): skewed weights, a weight-0 class, n near 0 and near sum(m), unequal m.
CASES = [
    ([3000, 3000, 3000], 3000, [0., 1., 2.]),
    ([3000, 1000, 5000, 200], 2500, [0., -3., 1., 4.]),
    ([3000, 3000], 5900, [0., 5.]),
    ([3000, 3000, 3000], 10, [0., 1., 2.]),
    ([2000, 2000, 2000], 1500, [0., -np.inf, 0.5]),
    ([1, 4000, 2, 3000], 3500, [8., -1., -8., 0.]),
    ([1500] * 6, 4000, [0., 0.2, 0.4, 0.6, 0.8, 1.]),
]


def flat(m, n, theta):
    return (tf.constant([m], tf.float64), tf.constant([theta], tf.float64),
            tf.constant([float(n)], tf.float64))


def full_log_normalizer(m, n, theta):
    num, logits, _ = flat(m, n, theta)
    return float(_tables.suffix_log_tables(num, logits, n + 1, min(max(m), n) + 1)[0][n, 0])


def windowed(m, n, theta, tolerance=_windowed.TOLERANCE):
    num, logits, total = flat(m, n, theta)
    windows = _windowed.choose_windows(num, logits, total, tolerance)
    log_norm = _windowed.windowed_log_normalizer(num, logits, total, windows, len(m))
    bound = _windowed.log_error_bound(num, logits, total, windows, log_norm)
    return windows, float(log_norm[0]), float(bound[0])


@pytest.mark.parametrize("m, n, theta", CASES)
def test_windowed_normalizer_matches_full_tables_and_certifies_1e_30(m, n, theta):
    windows, log_norm, log_bound = windowed(m, n, theta)
    assert np.max(windows.widths) < (n + 1 if n > 100 else n + 2)  # below the full range
    np.testing.assert_allclose(log_norm, full_log_normalizer(m, n, theta), rtol=1e-13)
    assert log_bound < np.log(1e-30)


def narrowed(windows, factor):
    """The same windows, `factor` times narrower around their centres (within the hard range)."""
    widths = np.maximum(windows.widths.numpy() // factor, 1)
    lows = windows.lows.numpy() + (windows.widths.numpy() - widths) // 2
    lows = np.maximum(windows.hard_low.numpy(),
                      np.minimum(lows, windows.hard_high.numpy() - widths + 1)).astype(np.int32)
    return windows._replace(lows=tf.constant(lows), widths=tf.constant(widths, tf.int32))


@pytest.mark.parametrize("m, n, theta", CASES[:3] + CASES[4:])
def test_bound_holds_where_the_neglected_mass_is_measurable(m, n, theta):
    """Windows narrowed until the true neglected mass 1 - P~0 / P0 (from the full tables) shows
    in float64 (above 1e-12): at every width it stays below the certified bound."""
    num, logits, total = flat(m, n, theta)
    windows = _windowed.choose_windows(num, logits, total)
    exact = full_log_normalizer(m, n, theta)
    for factor in range(2, 40):
        narrow = narrowed(windows, factor)
        log_norm = _windowed.windowed_log_normalizer(num, logits, total, narrow, len(m))
        log_bound = float(_windowed.log_error_bound(num, logits, total, narrow, log_norm)[0])
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


def test_windowed_draws_equal_full_table_draws_for_the_same_seed():
    """Both samplers invert the same conditional CDFs (x ascending) with the same uniforms."""
    for m, n, theta in CASES[:2]:
        num, logits, total = flat(m, n, theta)
        windows = _windowed.choose_windows(num, logits, total)
        for num_samples in (50, 2000):  # rows per sample, and rows for every remaining count
            windowed_draws = _windowed.sample_windowed_counts(num, logits, total, windows,
                                                              num_samples, tf.constant([5, 6]))
            full_draws = _tables.sample_exact_counts(num, logits, total, n + 1,
                                                     min(max(m), n) + 1, num_samples,
                                                     tf.constant([5, 6]))
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


def test_the_distribution_takes_the_windowed_path_only_where_it_pays():
    assert not _windowed.use_windows(181, 181, 3)         # (3, 200, 180): full tables
    assert not _windowed.use_windows(5001, 11, 1000)      # small m: full tables are cheap
    assert _windowed.use_windows(10001, 10001, 3)
    assert _windowed.use_windows(tf.constant(10001), 10001, 3) is None  # decided at run time
    assert not _windowed.use_windows(10001, 10001, None)  # classes unknown when tracing

    @tf.function(jit_compile=True)
    def under_xla():
        return tf.constant(_windowed.use_windows(10001, 10001, 3))

    assert not under_xla()


def test_dynamic_counts_choose_at_run_time():
    """Counts unknown when tracing: `tf.cond` on the actual widths; both branches agree."""
    @tf.function(input_signature=[tf.TensorSpec([3], tf.float64),
                                  tf.TensorSpec([], tf.float64)])
    def log_normalizer(m, n):
        dist = tfp_mvhg.MultivariateHypergeometric(m, n, logits=tf.zeros_like(m))
        return dist.log_normalizer()

    for m, n in (([3000., 3000., 3000.], 3000.), ([20., 20., 20.], 20.)):
        total = sum(m)  # all weights 1: P0 = C(sum m, n) (Vandermonde)
        reference = (special.gammaln(total + 1) - special.gammaln(n + 1)
                     - special.gammaln(total - n + 1))
        np.testing.assert_allclose(log_normalizer(tf.constant(m, tf.float64),
                                                  tf.constant(n, tf.float64)), reference,
                                   rtol=1e-12)


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
