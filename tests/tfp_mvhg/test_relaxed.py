# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""RelaxedMultivariateHypergeometric: exactness of hard samples, the merged scheme, gradients, API.

Statistical tests use fixed seeds; a goodness-of-fit test fails when p < 1e-3 (false-fail rate
1e-3 each, 7 such tests here); the gradient test allows 6 standard errors (t with 19 dof: about
1e-5 per entry). Other assertions are deterministic.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import mvhg_reference as ref
import tfp_mvhg

tfd = tfp.distributions
P_MIN = 1e-3
M, N, LOGITS = [4., 3., 5.], 6, [0., 1., -1.]
NONCENTRAL = ([30., 30., 30.], 27, np.log([1., 5., 1.]))


def relaxed(m, n, logits, temperature=1.0, **kwargs):
    return tfp_mvhg.RelaxedMultivariateHypergeometric(
        np.asarray(m, np.float64), float(n), temperature, logits=np.asarray(logits, np.float64),
        **kwargs)


def gof_p_value(samples, support, log_pmf):
    _, _, p_value = ref.pooled_chi_square(np.rint(samples).astype(np.int64), support, log_pmf)
    return p_value


@pytest.mark.parametrize("temperature", [0.05, 1.0, 10.0])
@pytest.mark.parametrize("m, n, logits", [
    ([6., 5., 7.], 8, [0., 1.6, -1.]),
    NONCENTRAL,
    ([4., 0., 3., 5.], 7, [2., 0., -3., 1.]),
])
def test_exact_method_hard_samples_follow_the_mvhg(m, n, logits, temperature):
    samples = relaxed(m, n, logits, temperature).sample(20000, seed=(11, 12)).numpy()
    np.testing.assert_array_equal(samples, np.rint(samples))
    np.testing.assert_array_equal(samples.sum(-1), n)
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    assert gof_p_value(samples, support, log_pmf) > P_MIN


def test_float32_tables_hard_samples_follow_the_mvhg():
    """`table_dtype="float32"` at a size that runs the linear-space tables (K W = 1681): the
    stated total-variation error (<= 3e-5 here) is far below what 20,000 samples can see."""
    m, n, logits = [40., 30., 35., 25.], 40, np.log([1., 3., 0.5, 2.])
    dist = relaxed(m, n, logits, 0.5, table_dtype="float32")
    assert dist.table_dtype == tf.float32
    samples = tf.function(lambda: dist.sample(20000, seed=(5, 6)))().numpy()
    np.testing.assert_array_equal(samples.sum(-1), n)
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    assert gof_p_value(samples, support, log_pmf) > P_MIN


def test_merged_method_follows_the_papers_scheme_not_the_mvhg():
    m, n, logits = NONCENTRAL
    dist = relaxed(m, n, logits, method="merged")
    samples = dist.sample(20000, seed=(13, 14)).numpy()
    support, merged_log_pmf = ref.merged_scheme_pmf(m, n, np.exp(logits))
    assert gof_p_value(samples, support, merged_log_pmf) > P_MIN
    _, exact_log_pmf = ref.enumerate_pmf(m, n, logits)
    assert gof_p_value(samples, support, exact_log_pmf) < 1e-12
    total_variation = 0.5 * np.abs(np.exp(merged_log_pmf) - np.exp(exact_log_pmf)).sum()
    assert total_variation > 0.05
    # its log_prob is the exact pmf of the merged scheme, and is the MVHG's for the exact method
    np.testing.assert_allclose(dist.log_prob(support).numpy(), merged_log_pmf, rtol=1e-9)
    np.testing.assert_allclose(relaxed(m, n, logits).log_prob(support).numpy(), exact_log_pmf,
                               rtol=1e-9)


def test_merged_method_is_exact_when_merged_weights_are_equal():
    m, n, logits = [6., 5., 7.], 8, [1.5, 0., 0.]
    samples = relaxed(m, n, logits, method="merged").sample(20000, seed=(15, 16)).numpy()
    support, log_pmf = ref.enumerate_pmf(m, n, logits)
    assert gof_p_value(samples, support, log_pmf) > P_MIN


def test_shuffled_classes_mix_the_class_orders():
    m, n, logits = NONCENTRAL
    dist = relaxed(m, n, logits, method="merged", shuffle_classes=True)
    samples = np.concatenate([dist.sample(250, seed=(17, s)).numpy() for s in range(40)])
    support, _ = ref.merged_scheme_pmf(m, n, np.exp(logits))
    orders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    mixture = np.zeros(len(support))
    for order in orders:
        permuted, log_p = ref.merged_scheme_pmf(np.take(m, order), n, np.exp(logits)[list(order)])
        unpermuted = np.empty_like(permuted)
        unpermuted[:, list(order)] = permuted
        index = {tuple(row): cell for cell, row in enumerate(support)}
        mixture[[index[tuple(row)] for row in unpermuted]] += np.exp(log_p) / len(orders)
    assert gof_p_value(samples, support, np.log(mixture)) > P_MIN
    with pytest.raises(NotImplementedError, match="mixture over class orders"):
        dist.log_prob(support[:2])


def straight_through_jacobians(temperature, num_seeds):
    """`[seeds, c, c]` straight-through Jacobians d mean(X_i) / d theta_j of 2000 hard samples
    each, and the exact covariance (= d E[X_i] / d theta_j, an exponential family), at
    (m, n, omega) = ([200] * 3, 180, [1, 5, 1])."""
    m, n, logits = [200., 200., 200.], 180., np.log([1., 5., 1.])
    covariance = tfp_mvhg.MultivariateHypergeometric(
        np.array(m), n, logits=logits).covariance().numpy()

    @tf.function(jit_compile=True)
    def jacobian(seed):
        theta = tf.constant(logits, tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(theta)
            counts = tfp_mvhg.RelaxedMultivariateHypergeometric(
                m, n, temperature, logits=theta).sample(2000, seed=seed)
            mean = tf.unstack(tf.reduce_mean(counts, axis=0))
        return tf.stack([tape.gradient(mean_i, theta) for mean_i in mean])

    estimates = np.stack([jacobian(tf.constant([21, s])).numpy() for s in range(num_seeds)])
    return estimates, covariance


def test_straight_through_jacobian_of_the_mean_is_the_covariance_at_unit_temperature():
    """d E[X_i] / d theta_j = Cov(X_i, X_j) (exponential family); the straight-through estimate,
    with its remaining-count gradients, matches it at tau = 1 within Monte-Carlo error."""
    estimates, covariance = straight_through_jacobians(1.0, 20)
    error = estimates.mean(0) - covariance
    standard_error = estimates.std(0, ddof=1) / np.sqrt(len(estimates))
    assert np.all(np.abs(error) < 6 * standard_error), (estimates.mean(0), covariance)


def test_straight_through_jacobian_of_the_mean_is_biased_at_high_temperature():
    """The surrogate gradient is not that of the expectation: at tau = 10 the straight-through
    Jacobian of the mean misses the covariance by far more than its Monte-Carlo error (about 5%
    on the diagonal), hence NOT_REPARAMETERIZED for hard samples."""
    estimates, covariance = straight_through_jacobians(10.0, 5)
    error = np.diag(estimates.mean(0) - covariance)
    standard_error = np.diag(estimates.std(0, ddof=1)) / np.sqrt(len(estimates))
    assert np.all(np.abs(error) > 20 * standard_error), (error, standard_error)


def dist_type(m, hard, **kwargs):
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(m, 2., 1., logits=np.zeros(len(m)),
                                                      hard=hard, **kwargs)
    return dist.reparameterization_type


@pytest.mark.parametrize("m, hard, fully", [
    ([3.], True, True), ([3.], False, True),                  # one class: a constant sample
    ([3., 4.], False, True), ([3., 4.], True, False),         # soft: smooth; hard: integers
    ([3., 4., 5.], False, False), ([3., 4., 5.], True, False),
])
def test_fully_reparameterized_only_where_samples_are_continuous_in_the_logits(m, hard, fully):
    expected = (tfp.distributions.FULLY_REPARAMETERIZED if fully
                else tfp.distributions.NOT_REPARAMETERIZED)
    assert dist_type(m, hard) == expected
    assert dist_type(m, hard, method="merged") == expected


def test_soft_counts_of_three_classes_jump_with_the_logits_and_of_two_do_not():
    """For fixed noise, a logit change of 1e-3 moves two-class soft counts by O(1e-3); with three
    classes some samples jump by O(1), where the first class's draw, and so the second class's
    remaining count, changes."""
    for m, logits, jumps in (([6., 5., 7.], [0., 1.6, -1.], True), ([6., 5.], [0., 1.6], False)):
        def counts(shift, m=m, logits=logits):
            theta = np.array(logits) + np.eye(len(m))[0] * shift
            return tfp_mvhg.RelaxedMultivariateHypergeometric(
                m, 5., 1., logits=theta, hard=False).sample(20000, seed=(3, 4)).numpy()

        change = np.abs(counts(1e-3) - counts(0.)).max()
        assert change > 0.5 if jumps else change < 0.01, change


@pytest.mark.parametrize("method", ["exact", "merged"])
@pytest.mark.parametrize("hard", [True, False])
@pytest.mark.parametrize("temperature", [0.01, 1.0, 10.0])
@pytest.mark.parametrize("m, n", [([5., 0., 4.], 6), ([5., 3., 4.], 0), ([5., 3., 4.], 12),
                                  ([7.], 3), ([9., 9., 9.], 10)])
def test_gradients_finite_and_soft_counts_sum_to_n(m, n, temperature, hard, method):
    theta = tf.Variable([0.3, -1.2, 2.0][:len(m)], dtype=tf.float32)
    weights = tf.constant([1., -2., 0.5][:len(m)])
    with tf.GradientTape() as tape:
        counts = tfp_mvhg.RelaxedMultivariateHypergeometric(
            m, float(n), temperature, logits=theta, hard=hard, method=method).sample(
                64, seed=(3, 4))
        loss = tf.reduce_sum(counts * weights)
    gradient = tape.gradient(loss, theta, unconnected_gradients="zero").numpy()
    assert np.all(np.isfinite(gradient))
    counts = counts.numpy()
    assert np.all(np.isfinite(counts))
    np.testing.assert_allclose(counts.sum(-1), n, atol=1e-4)
    if hard:
        np.testing.assert_array_equal(counts, np.rint(counts))
        assert np.all((counts >= 0) & (counts <= np.array(m)))


def test_soft_counts_relax_the_hard_draw_and_track_it_at_low_temperature():
    m, n, logits = NONCENTRAL
    hard = relaxed(m, n, logits, 0.01).sample(500, seed=(5, 6)).numpy()
    soft = relaxed(m, n, logits, 0.01, hard=False).sample(500, seed=(5, 6)).numpy()
    assert not np.array_equal(soft, np.rint(soft))
    # near-ties of the perturbed logits split a few soft draws; the rest sit on the hard count
    assert np.mean(np.abs(soft - hard) < 0.05) > 0.9


def test_sample_with_details_shapes_masks_and_counts():
    m = np.array([[4., 0., 6.], [2., 3., 1.]])
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(
        m, [5., 4.], [0.5, 2.], logits=np.zeros([2, 3], np.float32))
    details = dist.sample_with_details([7, 2], seed=(1, 1))
    window = 6  # min(max m, max n) + 1
    assert details.counts.shape == [7, 2, 2, 3]
    assert details.one_hots.shape == details.logits.shape == details.mask.shape == [7, 2, 2, 3,
                                                                                     window]
    x = np.arange(window)
    expected_mask = (x <= m[..., None]) & (x <= np.array([5, 4])[:, None, None])
    np.testing.assert_array_equal(details.mask.numpy(), np.broadcast_to(expected_mask,
                                                                        details.mask.shape))
    one_hots, counts = details.one_hots.numpy(), details.counts.numpy()
    np.testing.assert_array_equal(one_hots.argmax(-1), counts)
    np.testing.assert_allclose(tfp_mvhg.counts_from_one_hots(details.one_hots, hard=True),
                               counts)
    probabilities = np.exp(details.logits.numpy())
    np.testing.assert_allclose(probabilities.sum(-1), 1., rtol=1e-5)
    assert np.all(probabilities[~details.mask.numpy()] == 0)


def test_batch_of_different_logits_per_row():
    logits = np.log(np.array([[1., 5., 1.], [1., 1., 1.], [8., 1., 0.5]]))
    m, n = np.array([30., 30., 30.]), 27.
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(m, n, 0.5, logits=logits)
    assert dist.batch_shape == [3]
    samples = dist.sample(20000, seed=(7, 9)).numpy()
    for row in range(3):
        support, log_pmf = ref.enumerate_pmf(m, int(n), logits[row])
        assert gof_p_value(samples[:, row], support, log_pmf) > P_MIN


def test_seeds_reproduce_and_compiled_samples_equal_eager():
    dist = relaxed(*NONCENTRAL, 0.3)

    def draw(seed):
        details = dist.sample_with_details(300, seed=seed)
        return details.counts, details.one_hots

    eager = draw(tf.constant([9, 10]))
    again = draw(tf.constant([9, 10]))
    other = draw(tf.constant([9, 11]))
    np.testing.assert_array_equal(eager[0], again[0])
    assert not np.array_equal(eager[0], other[0])
    for compiled in (tf.function(draw), tf.function(draw, jit_compile=True)):
        counts, one_hots = compiled(tf.constant([9, 10]))
        np.testing.assert_array_equal(counts, eager[0])
        np.testing.assert_allclose(one_hots, eager[1], atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`method`"):
        relaxed([3., 3.], 2, [0., 0.], method="approximate")
    for table_dtype in ("float16", tf.int32, "double precision"):
        with pytest.raises(ValueError, match="`table_dtype`"):
            relaxed([3., 3.], 2, [0., 0.], table_dtype=table_dtype)
    with pytest.raises(ValueError, match="`temperature`"):  # known statically
        relaxed([3., 3.], 2, [0., 0.], temperature=0., validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`total_count`"):
        relaxed([3., 3.], 7, [0., 0.], validate_args=True)
    with pytest.raises(NotImplementedError, match="no tractable density"):
        relaxed([3., 3.], 2, [0., 0.], hard=False).log_prob([1., 1.])
    with pytest.raises(NotImplementedError, match="method='exact'"):
        relaxed([3., 3.], 2, [0., 0.], method="merged").mean()


def test_exact_hard_distribution_shares_the_mvhg_moments():
    m, n, logits = NONCENTRAL
    exact = tfp_mvhg.MultivariateHypergeometric(np.array(m), float(n), logits=logits)
    dist = relaxed(m, n, logits)
    np.testing.assert_allclose(dist.mean(), exact.mean(), rtol=1e-12)
    np.testing.assert_allclose(dist.covariance(), exact.covariance(), rtol=1e-12)
    assert dist.reparameterization_type == tfp.distributions.NOT_REPARAMETERIZED


def test_tf1_graph_mode_matches_eager():
    """disentanglement_lib builds TF1 graphs (estimators), where `Tensor.__eq__` is identity."""
    m, n, logits = [10., 6., 8.], 12., np.array([0.5, -0.2, 1.0], np.float32)
    x = np.array([4., 3., 5.], np.float32)

    def build(logits_tensor):
        exact = tfp_mvhg.MultivariateHypergeometric(m, n, logits=logits_tensor)
        relaxed_counts = tfp_mvhg.RelaxedMultivariateHypergeometric(
            m, n, 0.5, logits=logits_tensor).sample(50, seed=tf.constant([3, 4]))
        return exact.log_prob(x), exact.sample(50, seed=tf.constant([5, 6])), relaxed_counts

    eager = build(tf.constant(logits))
    with tf.Graph().as_default():
        logits_tensor = tf.constant(logits)
        graph = build(logits_tensor)
        gradient = tf.compat.v1.gradients(tf.reduce_sum(graph[2] * [1., -1., 2.]), logits_tensor)
        with tf.compat.v1.Session() as session:
            graph_values, gradient_value = session.run([graph, gradient])
    for graph_value, eager_value in zip(graph_values, eager, strict=True):
        np.testing.assert_allclose(graph_value, eager_value, rtol=1e-6)
    assert np.all(np.isfinite(gradient_value))


# Everyday use -----------------------------------------------------------------------------------

def test_relaxed_distribution_passed_into_a_tf_function():
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(M, float(N), 0.5, logits=LOGITS)
    samples = tf.function(lambda d: d.sample(20, seed=(1, 2)))(dist)
    np.testing.assert_array_equal(samples.numpy().sum(-1), N)


def test_merged_log_prob_with_a_batch_of_parameters():
    m = np.array([[4., 3., 5.], [2., 6., 1.]])
    weights = np.array([[1., 2., .5], [3., 1., 1.]])
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(m, 5., 1., weights=weights, method="merged")
    x = np.array([[2., 2., 1.], [1., 3., 1.]])
    expected = []
    for b in range(2):
        support, log_p = ref.merged_scheme_pmf(m[b], 5, weights[b])
        expected.append([log_p[(support == row).all(-1)][0] for row in x])
    expected = np.array(expected)                                       # [batch, point]
    np.testing.assert_allclose(dist.log_prob(x[0]).numpy(), expected[:, 0], rtol=1e-10)
    np.testing.assert_allclose(dist.log_prob(x).numpy(), np.diag(expected), rtol=1e-10)
    np.testing.assert_allclose(dist.log_prob(x[:, None]).numpy(), expected.T, rtol=1e-10)


def test_kl_of_relaxed_distributions():
    exact = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS)
    central = tfp_mvhg.MultivariateHypergeometric(M, 6., logits=[0., 0., 0.])
    support, log_p = ref.enumerate_pmf(M, 6, LOGITS)
    _, log_q = ref.enumerate_pmf(M, 6, [0., 0., 0.])
    expected = np.sum(np.exp(log_p) * (log_p - log_q))
    np.testing.assert_allclose(tfd.kl_divergence(exact, central).numpy(), expected, rtol=1e-5)
    for method, hard in (("merged", True), ("exact", False)):
        relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(
            M, 6., 1., logits=LOGITS, method=method, hard=hard)
        for p, q in ((relaxed, central), (central, relaxed), (relaxed, exact)):
            with pytest.raises(NotImplementedError, match="method='exact' and hard=True"):
                tfd.kl_divergence(p, q)


def test_relaxed_entropy_and_mode_only_for_exact_hard_samples():
    exact = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS)
    mvhg = tfp_mvhg.MultivariateHypergeometric(M, 6., logits=LOGITS)
    np.testing.assert_allclose(exact.entropy().numpy(), mvhg.entropy().numpy())
    merged = tfp_mvhg.RelaxedMultivariateHypergeometric(M, 6., 1., logits=LOGITS, method="merged")
    for statistic in (merged.entropy, merged.mode):
        with pytest.raises(NotImplementedError, match="method='exact' with hard=True"):
            statistic()
