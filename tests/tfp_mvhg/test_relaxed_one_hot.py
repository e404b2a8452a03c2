# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Exp/RelaxedOneHot MVHG: the density of the relaxed one-hots, against independent references.

References: TFP's per-class `tfd.ExpRelaxedOneHotCategorical` / `tfd.RelaxedOneHotCategorical`
with conditional logits from enumerating the support (exact method) or scipy's
`nchypergeom_fisher` (merged method), and numpy quadrature (trapezoid on double-exponential
and tanh-sinh grids). The one statistical test (importance sampling) allows 5 standard errors: a
false-fail rate below 1e-6 under its normal approximation. Other assertions are deterministic.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import special
from scipy import stats

import mvhg_reference as ref
import tfp_mvhg

tfd = tfp.distributions


def exp_relaxed(m, n, logits, temperature, **kwargs):
    return tfp_mvhg.ExpRelaxedMultivariateHypergeometric(
        np.asarray(m, np.float64), np.asarray(n, np.float64), temperature,
        logits=np.asarray(logits, np.float64), **kwargs)


def one_hot_relaxed(m, n, logits, temperature, **kwargs):
    return tfp_mvhg.RelaxedOneHotMultivariateHypergeometric(
        np.asarray(m, np.float64), np.asarray(n, np.float64), temperature,
        logits=np.asarray(logits, np.float64), **kwargs)


def reference_conditional(m, n, logits, prefix, method, window):
    """log P(X_i = k | X_<i = prefix), k = 0..W-1 (-inf off the support), i = len(prefix)."""
    i, result = len(prefix), np.full(window, -np.inf)
    if method == "exact":
        support, log_pmf = ref.enumerate_pmf(m, n, logits)
        rows = np.all(support[:, :i] == prefix, axis=1)
        for k in np.unique(support[rows, i]):
            result[k] = special.logsumexp(log_pmf[rows & (support[:, i] == k)])
        return result - special.logsumexp(result)
    remaining, weights = n - sum(prefix), np.exp(logits)
    rest = int(sum(m[i + 1:]))
    if rest == 0:
        result[remaining] = 0.
        return result
    rest_weight = np.dot(m[i + 1:], weights[i + 1:]) / rest
    law = stats.nchypergeom_fisher(int(m[i]) + rest, int(m[i]), remaining, weights[i] / rest_weight)
    with np.errstate(divide="ignore"):
        return law.logpmf(np.arange(window))


def per_class_reference(m, n, logits, temperature, log_one_hots, method, space):
    """Sum over classes of TFP's Concrete log density on the feasible entries, for one sample."""
    window, prefix, total = log_one_hots.shape[-1], [], 0.
    for row in log_one_hots:
        alpha = reference_conditional(m, n, logits, prefix, method, window)
        feasible = np.isfinite(alpha)
        np.testing.assert_array_equal(np.isfinite(row), feasible)  # padding exactly -inf
        if feasible.sum() > 1:
            if space == "log":
                concrete = tfd.ExpRelaxedOneHotCategorical(temperature, logits=alpha[feasible])
                total += concrete.log_prob(row[feasible]).numpy()
            else:
                concrete = tfd.RelaxedOneHotCategorical(temperature, logits=alpha[feasible])
                total += concrete.log_prob(np.exp(row[feasible])).numpy()
        else:
            np.testing.assert_allclose(row[feasible], 0., atol=1e-12)  # a point mass
        prefix.append(int(np.argmax(row)))
    return total


CASES = [  # m, n, logits, temperature, method: padding, forced and empty classes, merged
    ([4., 3., 5.], 6, [0., 1., -1.], 0.7, "exact"),
    ([2., 0., 5., 1.], 4, [0.5, 0., -0.3, 1.2], 1.5, "exact"),
    ([6., 1., 2.], 7, [0.2, -0.4, 0.9], 0.4, "exact"),
    ([5., 4., 3.], 5, np.log([1., 4., 0.5]), 0.8, "merged"),
]


@pytest.mark.parametrize("space", ["log", "one_hot"])
@pytest.mark.parametrize("m, n, logits, temperature, method", CASES)
def test_density_is_the_product_of_tfd_concrete_densities_class_by_class(
        m, n, logits, temperature, method, space):
    build = exp_relaxed if space == "log" else one_hot_relaxed
    dist = build(m, n, logits, temperature, method=method)
    samples = dist.sample(12, seed=(3, 4))
    log_prob = dist.log_prob(samples).numpy()
    with np.errstate(divide="ignore"):  # log 0 = -inf: the padding
        log_one_hots = samples.numpy() if space == "log" else np.log(samples.numpy())
    expected = [per_class_reference(np.array(m), n, np.array(logits), temperature, y, method, space)
                for y in log_one_hots]
    np.testing.assert_allclose(log_prob, expected, rtol=1e-9, atol=1e-9)
    assert dist.event_shape == [len(m), int(min(max(m), n)) + 1]


def double_exponential_nodes(temperature, step=0.2):
    """Trapezoid nodes and weights on R: d = +-exp(t), t in [-24, log(70 / tau)]."""
    t = np.arange(-24., np.log(70. / temperature), step)
    half = np.exp(t)
    return np.concatenate([-half[::-1], half]), step * np.concatenate([half[::-1], half])


def quadrature_grid(m, n, temperature, window):
    """Points `[P, c, W]` (log one-hots) and weights covering the support of the density.

    Each class with two feasible counts {a < b} (the feasible range from m and the remaining
    count) is one axis: y[a] - y[b] = d. Classes with one feasible count are point masses.
    """
    nodes, weights = double_exponential_nodes(temperature)
    num_classes = len(m)
    axes = np.meshgrid(*[np.arange(len(nodes))] * (num_classes - 1), indexing="ij")
    index = np.stack([a.ravel() for a in axes], axis=-1)                     # [P, c - 1]
    points = np.full([len(index), num_classes, window], -np.inf)
    weight = np.ones(len(index))
    remaining = np.full(len(index), n)
    for i in range(num_classes):
        low = np.maximum(0, remaining - int(sum(m[i + 1:])))
        high = np.minimum(int(m[i]), remaining)
        assert np.all(high - low <= 1), "the grid handles at most two feasible counts per class"
        rows = np.arange(len(index))
        if i == num_classes - 1:
            points[rows, i, low], draw = 0., low
        else:
            d = nodes[index[:, i]]
            two = high > low
            weight *= np.where(two, weights[index[:, i]], index[:, i] == 0)
            first = np.where(two, -np.logaddexp(d, 0.) + d, 0.)
            points[rows, i, low] = first
            points[rows[two], i, high[two]] = -np.logaddexp(d, 0.)[two]
            draw = np.where(two & (d < 0), high, low)
        remaining = remaining - draw
    keep = weight > 0
    return points[keep], weight[keep]


@pytest.mark.parametrize("temperature", [0.4, 1.7])
@pytest.mark.parametrize("m, n, logits", [
    ([1., 1.], 1, [0.3, -0.5]),                 # one axis
    ([1., 1., 1.], 1, [0.3, -0.5, 1.0]),        # two axes, or one when class 0 takes the draw
    ([1., 2., 1.], 2, [-0.7, 0.4, 0.2]),        # padding: class 1 is over {1, 2} or {0, 1}
])
def test_density_integrates_to_one_by_quadrature(m, n, logits, temperature):
    """The integral is 1, and over the points with counts x (argmaxes) it is the MVHG pmf(x)."""
    dist = exp_relaxed(m, n, logits, temperature)
    window = dist.event_shape[-1]
    points, weights = quadrature_grid(m, n, temperature, window)
    density = np.exp(dist.log_prob(points).numpy())
    np.testing.assert_allclose(np.sum(density * weights), 1., atol=1e-7)
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    counts = points.argmax(-1)
    masses = [np.sum((density * weights)[np.all(counts == x, axis=1)]) for x in support]
    np.testing.assert_allclose(masses, np.exp(log_pmf), atol=1e-7)
    # the same in one-hot coordinates: p_i = v_i[a] = sigmoid(d) on each axis, dp = p (1 - p) dd
    one_hots = np.exp(points)
    jacobian = np.prod(np.where((one_hots > 0) & (one_hots < 1), one_hots, 1.), axis=(1, 2))
    one_hot_dist = one_hot_relaxed(m, n, logits, temperature)
    integral = np.sum(np.exp(one_hot_dist.log_prob(one_hots).numpy()) * jacobian * weights)
    np.testing.assert_allclose(integral, 1., atol=1e-7)


def tanh_sinh(low, high, step=0.05):
    """Nodes as (distance from low, distance from high) and weights of tanh-sinh on (low, high)."""
    t = np.arange(-4., 4. + step / 2, step)
    x = np.pi / 2 * np.sinh(t)
    width = high - low
    from_low, from_high = width * special.expit(2 * x), width * special.expit(-2 * x)
    return from_low, from_high, width * special.expit(2 * x) * special.expit(-2 * x) * (
        np.pi * np.cosh(t) * step)


def test_one_hot_density_integrates_to_one_on_the_simplex():
    """m = [1, 1], n = 1: v_0 = (p, 1 - p), v_1 the remainder; tanh-sinh in p on each half."""
    temperature = 0.6
    dist = one_hot_relaxed([1., 1.], 1, [0.3, -0.5], temperature)
    p_low, _, weights = tanh_sinh(0., .5)             # p in (0, 1/2): class 0 takes 1
    _, q_high, _ = tanh_sinh(.5, 1.)                  # p in (1/2, 1) as 1 - p = q: class 0 takes 0
    rows = [np.stack([p_low, 1. - p_low], -1), np.stack([1. - q_high, q_high], -1)]
    lasts = [[1., 0.], [0., 1.]]
    masses = []
    for row, last in zip(rows, lasts, strict=True):
        points = np.stack([row, np.broadcast_to(last, row.shape)], axis=1)
        masses.append(np.sum(np.exp(dist.log_prob(points).numpy()) * weights))
    _, log_pmf = ref.enumerate_pmf([1., 1.], 1, [0.3, -0.5])  # support [[0, 1], [1, 0]]
    np.testing.assert_allclose(masses, np.exp(log_pmf)[::-1], atol=1e-6)
    np.testing.assert_allclose(sum(masses), 1., atol=1e-6)


def test_importance_sampling_normalises_the_density_of_a_larger_case():
    """E_q[p(Y) / q(Y)] = 1 for two such distributions (other logits), where no grid fits."""
    m, n, temperature = [3., 2., 4., 2.], 5, 0.8
    q = exp_relaxed(m, n, [0.2, -0.3, 0.5, 0.], temperature)
    p = exp_relaxed(m, n, [0.4, -0.1, 0.3, 0.2], temperature)
    y = q.sample(4000, seed=(7, 8))
    ratio = np.exp(p.log_prob(y).numpy() - q.log_prob(y).numpy())
    standard_error = ratio.std(ddof=1) / np.sqrt(len(ratio))
    assert abs(ratio.mean() - 1.) < 5 * standard_error, (ratio.mean(), standard_error)
    assert standard_error < 0.02  # the check has power


def test_samples_give_the_relaxed_sampler_counts_and_gradients():
    m, n, logits, temperature = [6., 5., 7.], 8., [0., 1.6, -1.], 0.5
    weights = tf.constant([1., -2., 0.5], tf.float64)
    theta = tf.Variable(logits, dtype=tf.float64)
    seed = (21, 22)
    with tf.GradientTape(persistent=True) as tape:
        relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(m, n, temperature, logits=theta)
        counts = relaxed.sample(50, seed=seed)
        one_hot_dist = tfp_mvhg.RelaxedOneHotMultivariateHypergeometric(
            m, n, temperature, logits=theta)
        one_hots = one_hot_dist.sample(50, seed=seed)
        ours = one_hot_dist.counts_from_one_hots(one_hots)
        exp_dist = tfp_mvhg.ExpRelaxedMultivariateHypergeometric(m, n, temperature, logits=theta)
        ours_log = exp_dist.counts_from_one_hots(exp_dist.sample(50, seed=seed))
        losses = [tf.reduce_sum(c * weights) for c in (counts, ours, ours_log)]
    np.testing.assert_array_equal(ours.numpy(), counts.numpy())
    np.testing.assert_array_equal(ours_log.numpy(), counts.numpy())
    np.testing.assert_array_equal(tfp_mvhg.counts_from_one_hots(one_hots, hard=True), counts)
    gradients = [tape.gradient(loss, theta).numpy() for loss in losses]
    assert np.all(np.isfinite(gradients[0])) and np.any(gradients[0] != 0)
    np.testing.assert_allclose(gradients[1], gradients[0], rtol=1e-9)
    np.testing.assert_allclose(gradients[2], gradients[0], rtol=1e-9)
    # the soft one-hots are the sampler's (hard=False) one-hots
    soft = tfp_mvhg.RelaxedMultivariateHypergeometric(
        m, n, temperature, logits=np.array(logits), hard=False).sample_with_details(50, seed=seed)
    np.testing.assert_allclose(one_hots.numpy()[..., :-1, :], soft.one_hots.numpy()[..., :-1, :],
                               rtol=1e-9, atol=1e-300)


def test_shapes_with_batch_and_sample_shapes():
    m = np.array([[[4., 0., 6.]], [[2., 3., 1.]]])                           # [2, 1, 3]
    n = np.array([[5.], [4.]])                                             # [2, 1]
    logits = np.array([[0., 1., -1.], [2., 0., .5], [-.5, -.5, 3.]], np.float32)   # [3, 3]
    temperature = np.array([0.5, 1., 2.], np.float32)                      # [3]
    window = 6
    for dist in (tfp_mvhg.ExpRelaxedMultivariateHypergeometric(m, n, temperature, logits=logits),
                 tfp_mvhg.RelaxedOneHotMultivariateHypergeometric(m, n, temperature,
                                                                  logits=logits)):
        assert dist.batch_shape == [2, 3] and dist.event_shape == [3, window]
        np.testing.assert_array_equal(dist.num_per_class, m)
        np.testing.assert_array_equal(dist.temperature, temperature)
        np.testing.assert_array_equal(dist.logits_parameter(), logits)
        assert dist.method == "exact" and dist.weights is None
        np.testing.assert_array_equal(dist.event_shape_tensor(), [3, window])
        assert dist.dtype == tf.float32
        assert dist.reparameterization_type == tfd.NOT_REPARAMETERIZED  # the draws jump
        samples = dist.sample([4, 2], seed=(1, 1))
        assert samples.shape == [4, 2, 2, 3, 3, window]
        log_prob = dist.log_prob(samples).numpy()
        assert log_prob.shape == (4, 2, 2, 3) and np.all(np.isfinite(log_prob))
        counts = dist.counts_from_one_hots(samples).numpy()
        assert counts.shape == (4, 2, 2, 3, 3)
        np.testing.assert_array_equal(counts.sum(-1), np.broadcast_to(n, [4, 2, 2, 3]))
        # one value broadcast against the batch, and each batch member alone
        single = samples[0, 0, 1, 2]
        broadcast = dist.log_prob(single).numpy()
        assert broadcast.shape == (2, 3)
        alone = type(dist)(m[1, 0], n[1, 0], temperature[2], logits=logits[2])
        assert alone.event_shape == [3, 4]  # W is the batch's: min(max m, max n) + 1
        np.testing.assert_allclose(alone.log_prob(single[:, :4]), broadcast[1, 2], rtol=1e-5)


@pytest.mark.parametrize("make", [exp_relaxed, one_hot_relaxed])
def test_log_prob_of_one_hots_of_the_wrong_event_shape_raises(make):
    """A statically wrong [c, W] is a ValueError; an unknown shape is checked with validation."""
    dist = make([1., 2., 1.], 2, [-0.7, 0.4, 0.2], 0.8, validate_args=True)   # event [3, 3]
    value = dist.sample(seed=(1, 2))
    expected = "last 2 dimensions must be [the number of classes, W = min(max m, max n) + 1], "
    for wrong, got in ((value[:2], "[3, 3], got [2, 3]"), (value[:, :1], "[3, 3], got [3, 1]"),
                       (value[0], "[3, 3], got a value of shape [3]")):
        for validate_args in (False, True):
            with pytest.raises(ValueError, match=re.escape(expected + got)):
                make([1., 2., 1.], 2, [-0.7, 0.4, 0.2], 0.8,
                     validate_args=validate_args).log_prob(wrong)
    log_prob = tf.function(dist.log_prob, input_signature=[tf.TensorSpec(None, tf.float64)])
    np.testing.assert_allclose(log_prob(value), dist.log_prob(value), rtol=1e-12)
    for wrong in (value[:2], value[:, :1], value[0]):
        with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(expected)):
            log_prob(wrong)


def test_compiled_and_eager_agree_and_log_prob_gradients_are_finite():
    m, n = [[4., 3., 5.], [2., 6., 1.]], [6., 5.]   # batch 2 (the CompositeTensor round trip)
    logits = tf.Variable([[0., 1., -1.], [0.5, 0., 2.]], dtype=tf.float32)
    temperature = tf.Variable([0.6, 1.4], dtype=tf.float32)
    dist = tfp_mvhg.ExpRelaxedMultivariateHypergeometric(m, n, temperature, logits=logits)

    def sample_and_log_prob(seed):
        y = dist.sample(20, seed=seed)
        return y, dist.log_prob(y)

    eager = sample_and_log_prob(tf.constant([5, 6]))
    for compiled in (tf.function(sample_and_log_prob),
                     tf.function(sample_and_log_prob, jit_compile=True)):
        y, log_prob = compiled(tf.constant([5, 6]))
        np.testing.assert_allclose(y, eager[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(log_prob, eager[1], rtol=1e-4)
    round_trip = tf.function(lambda d, y: d.log_prob(y))(dist, eager[0])
    np.testing.assert_allclose(round_trip, eager[1], rtol=1e-5)

    # a reparameterized Monte-Carlo KL to a prior of the same family (the relaxed ELBO term)
    prior = tfp_mvhg.ExpRelaxedMultivariateHypergeometric(m, n, 1.0, logits=tf.zeros([2, 3]))
    with tf.GradientTape() as tape:
        y = dist.sample(64, seed=(9, 9))
        kl = tf.reduce_mean(dist.log_prob(y) - prior.log_prob(y))
    gradients = tape.gradient(kl, [logits, temperature])
    for gradient in gradients:
        assert np.all(np.isfinite(gradient.numpy())) and np.any(gradient.numpy() != 0)


def test_log_prob_gradient_matches_finite_differences():
    m, n, temperature = [4., 3., 5.], 6., 0.7
    logits = np.array([0., 1., -1.])
    y = exp_relaxed(m, n, logits, temperature).sample(5, seed=(2, 3))
    theta = tf.Variable(logits)
    tau = tf.Variable(temperature, dtype=tf.float64)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(tfp_mvhg.ExpRelaxedMultivariateHypergeometric(
            m, n, tau, logits=theta).log_prob(y))
    gradient = tape.gradient(value, [theta, tau])

    def f(theta_value, tau_value):
        return np.sum(exp_relaxed(m, n, theta_value, tau_value).log_prob(y).numpy())

    eps = 1e-6
    numeric = [(f(logits + eps * e, temperature) - f(logits - eps * e, temperature)) / (2 * eps)
               for e in np.eye(3)]
    np.testing.assert_allclose(gradient[0].numpy(), numeric, rtol=1e-6, atol=1e-5)
    numeric_tau = (f(logits, temperature + eps) - f(logits, temperature - eps)) / (2 * eps)
    np.testing.assert_allclose(gradient[1].numpy(), numeric_tau, rtol=1e-6, atol=1e-5)


def test_values_off_the_support_have_zero_density_not_nan():
    dist = exp_relaxed([1., 2., 1.], 2, [-0.7, 0.4, 0.2], 0.8)
    inf = np.inf
    valid = np.array([[-0.2, np.log1p(-np.exp(-0.2)), -inf],   # class 0 takes 0: r = 2
                      [-inf, -0.5, np.log1p(-np.exp(-0.5))],    # class 1 over {1, 2}, takes 1
                      [-inf, 0., -inf]])                       # class 2 takes the remaining 1
    assert np.isfinite(dist.log_prob(valid).numpy())
    finite_padding = valid.copy()
    finite_padding[0, 2] = -40.                                # class 0 cannot take 2 (m_0 = 1)
    forced_zero = valid.copy()
    forced_zero[1] = [-0.5, np.log1p(-np.exp(-0.5)), -inf]      # class 1 cannot take 0 when r = 2
    missing = valid.copy()
    missing[1, 1] = -inf                                       # a feasible entry at -inf
    wrong_last = valid.copy()
    wrong_last[2] = [0., -inf, -inf]                           # the remainder is 1, not 0
    log_prob = dist.log_prob(np.stack([finite_padding, forced_zero, missing, wrong_last])).numpy()
    np.testing.assert_array_equal(log_prob, -inf)
    assert np.isnan(dist.log_prob(np.where(np.isinf(valid), valid, np.nan)).numpy())
    with pytest.raises(tf.errors.InvalidArgumentError, match="logsumexp 0"):
        exp_relaxed([1., 2., 1.], 2, [-0.7, 0.4, 0.2], 0.8, validate_args=True).log_prob(
            valid - 0.1)
    with pytest.raises(ValueError, match="`temperature`"):  # known statically
        exp_relaxed([1., 2., 1.], 2, [0., 0., 0.], 0., validate_args=True)
    with pytest.raises(ValueError, match="`method`"):
        exp_relaxed([1., 2., 1.], 2, [0., 0., 0.], 1., method="approximate")


def test_temperature_gradients_are_finite_with_padding():
    """(alpha + g) / tau is -inf off the support: its temperature gradient must not be -inf * 0."""
    m, n = [[4., 3., 5.], [2., 6., 1.]], [6., 5.]
    temperature = tf.Variable([0.6, 1.4])
    with tf.GradientTape(persistent=True) as tape:
        counts = tfp_mvhg.RelaxedMultivariateHypergeometric(
            m, n, temperature, logits=[0., 1., -1.]).sample(64, seed=(9, 9))
        loss = tf.reduce_sum(counts * [1., 2., 3.])
        y = tfp_mvhg.ExpRelaxedMultivariateHypergeometric(
            m, n, temperature, logits=[0., 1., -1.]).sample(64, seed=(9, 9))
        padded_sum = tf.reduce_sum(tf.where(y > -np.inf, y, 0.))
    for gradient in (tape.gradient(loss, temperature), tape.gradient(padded_sum, temperature)):
        assert np.all(np.isfinite(gradient.numpy())) and np.all(gradient.numpy() != 0)
