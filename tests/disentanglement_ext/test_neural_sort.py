# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext.neural_sort against exact sorting and the formula of Grover et al. (2019)."""
import numpy as np
import pytest
import tensorflow as tf

from disentanglement_ext import neural_sort as ns


def reference(scores, tau):
    """P_hat[i, :] = softmax(((d + 1 - 2 i) s - A 1) / tau), written out with loops (numpy)."""
    scores = np.asarray(scores, np.float64)
    d = scores.shape[-1]
    out = np.empty(scores.shape + (d,))
    for index in np.ndindex(scores.shape[:-1]):
        s = scores[index]
        a_one = np.abs(s[:, None] - s[None, :]).sum(1)
        for i in range(1, d + 1):
            logits = ((d + 1 - 2 * i) * s - a_one) / tau
            e = np.exp(logits - logits.max())
            out[index + (i - 1,)] = e / e.sum()
    return out


def exact(scores):
    """Exact descending permutation matrices, numpy (ties: lower index first)."""
    scores = np.asarray(scores)
    order = np.argsort(-scores, axis=-1, kind="stable")
    return (order[..., :, None] == np.arange(scores.shape[-1])).astype(np.float64)


def separated_scores(shape, gap=0.1, seed=0):
    """Scores whose sorted values are `gap` apart, in random order."""
    rs = np.random.RandomState(seed)
    d = shape[-1]
    base = rs.normal() + gap * np.arange(d)
    return np.stack([rs.permutation(base) for _ in range(int(np.prod(shape[:-1])))]).reshape(shape)


@pytest.mark.parametrize("tau", [0.05, 0.5, 3.])
def test_matches_the_formula(tau):
    scores = np.random.RandomState(1).normal(size=(4, 6))
    np.testing.assert_allclose(ns.neural_sort(tf.constant(scores), tau).numpy(),
                               reference(scores, tau), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 7, 20])
def test_soft_converges_to_the_exact_permutation(d):
    scores = separated_scores((8, d), gap=0.1, seed=d)
    # Neighbouring candidates of a row differ by at least the gap in logits: error <~ e^(-gap/tau).
    for tau, tol in [(0.01, 1e-4), (1e-3, 1e-12)]:
        p_hat = ns.neural_sort(tf.constant(scores), tau).numpy()
        np.testing.assert_allclose(p_hat, exact(scores), atol=tol)
        # P_hat s is the scores sorted in descending order.
        np.testing.assert_allclose((p_hat @ scores[..., None])[..., 0],
                                   -np.sort(-scores, axis=-1), atol=tol)
    # The error shrinks as tau does.
    errors = [np.abs(ns.neural_sort(scores, tau).numpy() - exact(scores)).max()
              for tau in (1., 0.1, 0.03)]
    assert d == 1 or errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize("tau", [1e-2, 0.3, 1., 10.])
def test_rows_sum_to_one_and_rowwise_argmax_is_the_sort(tau):
    scores = np.random.RandomState(2).normal(size=(50, 9)).astype(np.float32)
    p_hat = ns.neural_sort(scores, tau).numpy()
    assert p_hat.shape == (50, 9, 9) and p_hat.dtype == np.float32
    np.testing.assert_allclose(p_hat.sum(-1), 1., atol=1e-5)
    assert (p_hat >= 0).all()
    np.testing.assert_array_equal(p_hat.argmax(-1), np.argsort(-scores, axis=-1))


@pytest.mark.parametrize("tau", [1e-3, 1., 100.])
def test_hard_forward_is_exactly_the_permutation_matrix(tau):
    scores = np.random.RandomState(3).normal(size=(20, 7)).astype(np.float32)
    hard = ns.neural_sort(scores, tau, hard=True).numpy()
    np.testing.assert_array_equal(hard, exact(scores))
    np.testing.assert_array_equal(ns.permutation_matrix(scores).numpy(), exact(scores))
    # Ties still give a permutation matrix (lower index first).
    tied = np.array([[1., 3., 1., 3.]], np.float32)
    hard = ns.neural_sort(tied, tau, hard=True).numpy()
    np.testing.assert_array_equal(hard, exact(tied))
    np.testing.assert_array_equal(hard[0].argmax(-1), [1, 3, 0, 2])


def gradient(fn, scores):
    x = tf.constant(scores)
    weights = tf.constant(np.random.RandomState(4).normal(size=scores.shape + scores.shape[-1:]),
                          x.dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(fn(x) * weights)
    return tape.gradient(loss, x).numpy()


@pytest.mark.parametrize("tau", [1e-4, 0.1, 10.])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_are_finite_and_straight_through(tau, dtype):
    scores = np.random.RandomState(5).normal(size=(6, 5)).astype(dtype)
    scores[0] = 0.          # all tied
    scores[1, :2] = 1.5     # one tie
    soft = gradient(lambda x: ns.neural_sort(x, tau), scores)
    hard = gradient(lambda x: ns.neural_sort(x, tau, hard=True), scores)
    noisy = gradient(lambda x: ns.gumbel_neural_sort(x, tau, seed=1, hard=True), scores)
    for g in (soft, hard, noisy):
        assert np.isfinite(g).all()
    np.testing.assert_allclose(hard, soft, rtol=1e-6, atol=1e-6)   # straight-through
    if tau == 0.1:
        assert np.abs(soft).max() > 0


def test_gradient_matches_finite_differences():
    scores = np.random.RandomState(6).normal(size=(2, 4))
    weights = np.random.RandomState(7).normal(size=(2, 4, 4))

    def loss(s):
        return float(np.sum(reference(s, 0.7) * weights))

    x = tf.constant(scores)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = tf.reduce_sum(ns.neural_sort(x, 0.7) * weights)
    analytic = tape.gradient(value, x).numpy()
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-6
        numeric[index] = (loss(scores + step) - loss(scores - step)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_batch_dimensions_and_tensor_or_variable_tau():
    scores = np.random.RandomState(8).normal(size=(2, 3, 5)).astype(np.float32)
    p_hat = ns.neural_sort(scores, tf.constant(0.2)).numpy()
    assert p_hat.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(p_hat, reference(scores, 0.2), atol=1e-5)
    tau = tf.Variable(0.2)
    np.testing.assert_allclose(ns.neural_sort(scores, tau).numpy(), p_hat, atol=1e-6)
    assert ns.neural_sort(scores[0, 0], 0.2).shape == (5, 5)


def test_tf_function_and_xla_match_eager():
    scores = np.random.RandomState(9).normal(size=(4, 6)).astype(np.float32)

    def fn(x, tau):
        return (ns.neural_sort(x, tau), ns.neural_sort(x, tau, hard=True),
                ns.gumbel_neural_sort(x, tau, seed=[3, 4], hard=True),
                ns.gumbel_neural_sort(x, tau, seed=[3, 4]))

    eager = fn(scores, tf.constant(0.3))
    for compiled in (tf.function(fn), tf.function(fn, jit_compile=True)):
        for a, b in zip(eager, compiled(scores, tf.constant(0.3)), strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    dynamic = tf.function(lambda x: ns.neural_sort(x, 0.3),
                          input_signature=[tf.TensorSpec([None, None], tf.float32)])
    np.testing.assert_allclose(dynamic(scores).numpy(), eager[0].numpy(), atol=1e-6)


def test_gumbel_seeds_and_plackett_luce_first_row():
    scores = np.log(np.array([0.5, 0.3, 0.15, 0.05], np.float32))
    a = ns.gumbel_neural_sort(scores, 0.1, seed=1).numpy()
    b = ns.gumbel_neural_sort(scores, 0.1, seed=1).numpy()
    c = ns.gumbel_neural_sort(scores, 0.1, seed=2).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(a.sum(-1), 1., atol=1e-6)
    n = 20000
    hard = ns.gumbel_neural_sort(np.tile(scores, (n, 1)), 1., seed=(5, 6), hard=True).numpy()
    np.testing.assert_array_equal(hard.sum(-1), 1.)
    np.testing.assert_array_equal(hard.sum(-2), 1.)   # a permutation matrix every time
    # Row 0 picks index j with probability softmax(scores)_j (Gumbel-max); 5 standard errors.
    frequencies = hard[:, 0].mean(0)
    probabilities = np.exp(scores) / np.exp(scores).sum()
    assert np.all(np.abs(frequencies - probabilities)
                  < 5 * np.sqrt(probabilities * (1 - probabilities) / n))
    noise = ns.gumbel_noise([50000], seed=3, dtype=tf.float64).numpy()
    assert np.isfinite(noise).all()
    assert abs(noise.mean() - np.euler_gamma) < 5 * np.pi / np.sqrt(6 * 50000)


@pytest.mark.parametrize("tau", [0., -1., np.nan, np.inf, [0.1, 0.2]])
def test_bad_tau_raises(tau):
    with pytest.raises(ValueError, match="tau must be"):
        ns.neural_sort(np.zeros((2, 3), np.float32), tau)
    with pytest.raises(ValueError, match="tau must be"):
        ns.gumbel_neural_sort(np.zeros((2, 3), np.float32), tau, seed=0)


def test_bad_tau_at_run_time_with_validate_args():
    fn = tf.function(lambda x, tau: ns.neural_sort(x, tau, validate_args=True))
    fn(tf.zeros([2, 3]), tf.constant(0.5))
    with pytest.raises(tf.errors.InvalidArgumentError, match="tau must be a positive"):
        fn(tf.zeros([2, 3]), tf.constant(-0.5))


@pytest.mark.parametrize("scores, match", [
    (np.float32(1.), r"scores must have shape \[\.\.\., d\]"),
    (np.zeros((2, 0), np.float32), r"scores must have d >= 1"),
    (tf.zeros((2, 3), tf.int32), r"scores must be a floating-point tensor"),
])
def test_bad_scores_raise(scores, match):
    with pytest.raises(ValueError, match=match):
        ns.neural_sort(scores, 1.)
    with pytest.raises(ValueError, match=match):
        ns.permutation_matrix(scores)


@pytest.mark.parametrize("seed", [[1, 2, 3], [1.5, 2.], True])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed must be"):
        ns.gumbel_neural_sort(np.zeros((2, 3), np.float32), 1., seed=seed)
