# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`exact_sampler`: the same draws on windowed and full tables, and the windowed draws against
scipy."""

import os
import subprocess
import sys

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


def test_member_blocks_give_the_same_draws_as_one_block(monkeypatch):
    """The batch drawn in blocks of members (a small block budget: 7 blocks) equals one block."""
    m, n, theta = [30., 40., 50.], 60., [[0., 1., -1.], [2., 0., 0.5], [0., 0., 0.], [1., 1., 3.],
                                         [-2., 0., 1.], [0.5, 0.5, 0.], [3., -3., 0.]]
    num = tf.constant([m] * len(theta), tf.float64)
    logits, total = tf.constant(theta, tf.float64), tf.constant([n] * len(theta), tf.float64)

    def draws(num_samples):
        return exact_sampler.sample_on_full_tables(num, logits, total, 61, 51, num_samples,
                                                   tf.constant([5, 6]), xla=False).numpy()

    whole = {samples: draws(samples) for samples in (3, 200)}
    monkeypatch.setattr(exact_sampler.blocks, "CHUNK_ELEMENTS", 51 * 51)
    assert exact_sampler._members_per_block(200, 61, 51, 7) == (1, 7)
    for samples, expected in whole.items():
        np.testing.assert_array_equal(draws(samples), expected)


_MEMORY_CHILD = """
import resource, numpy as np, tensorflow as tf
from tfp_mvhg.internal import dispatch
rows = 4000
num = tf.constant(np.full((rows, 3), 200.)); total = tf.constant(np.full(rows, 180.))
logits = tf.constant(np.random.default_rng(0).normal(size=(rows, 3)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
dispatch._sample_counts(num, logits, total, 181, 181, 3, tf.constant(1), tf.constant([1, 2]),
                        False).numpy()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2 ** 20)
"""


def test_table_draws_with_a_tensor_number_of_samples_stay_in_bounded_memory():
    """(3, 200, 180) with 4000 distinct rows on the full tables, the number of samples a tensor
    (as `Distribution.sample` passes it): the draws took 2.5 GiB above the child's baseline
    before the batch was drawn in member blocks (10,000 rows: 6 GiB), now about 0.1 GiB."""
    child = subprocess.run([sys.executable, "-c", _MEMORY_CHILD], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert child.returncode == 0, child.stderr[-2000:]
    assert float(child.stdout.split()[-1]) < 0.75
