# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""HGVAE options for a k_hat that estimates s (`hypergeometric_aggregation`): the prior on k, the
Dense layer's inputs, the stopped gamma gradient and the AdaVAE warm-up. Deterministic (fixed
seeds)."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from scipy import special

from disentanglement_ext import configs
from disentanglement_ext import group_vae
from disentanglement_ext import weak_training
from tf1_graph import run_graph

GAMMA = np.array([[0.1, 3.0, 0.2, 2.5, 0.0, 0.3, 8.0, 0.01, 0.02, 1.5],
                  [1.0, 1.1, 0.9, 5.0, 4.8, 0.1, 0.03, 0.2, 7.0, 0.5]])


def enumerated_kl(log_omega, prior_log_ratio, d):
    """KL over k = 0..d between MVHG(m = [d, d], n = d) laws with log-weights `log_omega` [2]
    and [prior_log_ratio, 0], from the pmf ~ C(d, k) C(d, d - k) exp(k a_0 + (d - k) a_1)."""
    k = np.arange(d + 1)
    base = 2 * np.log(special.comb(d, k))
    log_q = base + k * log_omega[0] + (d - k) * log_omega[1]
    log_p = base + k * prior_log_ratio
    log_q, log_p = log_q - special.logsumexp(log_q), log_p - special.logsumexp(log_p)
    return np.sum(np.exp(log_q) * (log_q - log_p))


def test_prior_kl_is_the_enumerated_kl_and_its_gradient():
    log_omega = np.array([[0.3, -0.4], [2.0, 0.5], [-1.0, 1.5]])
    aggregation = group_vae.HypergeometricAggregation(prior_weight=2.5, prior_log_ratio=-4.)

    def build():
        logits = tf.constant(log_omega)
        kl = aggregation.prior_kl(logits, 10)
        return kl, tf.gradients(tf.reduce_sum(kl), logits)[0]

    kl, gradient = run_graph(build)
    expected = [enumerated_kl(row, -4., 10) for row in log_omega]
    np.testing.assert_allclose(kl, expected, rtol=1e-9)
    step = 1e-6                                  # central differences of the enumerated KL
    for row in range(len(log_omega)):
        for j in range(2):
            shift = np.eye(2)[j] * step
            numeric = (enumerated_kl(log_omega[row] + shift, -4., 10)
                       - enumerated_kl(log_omega[row] - shift, -4., 10)) / (2 * step)
            np.testing.assert_allclose(gradient[row, j], numeric, rtol=1e-5, atol=1e-8)


def test_the_prior_enters_the_aggregation_loss_and_pushes_towards_sharing():
    def build(prior_weight):
        # A fixed graph seed: the sign below is the gradient's at one initialisation of the omega
        # layer. Unseeded, 3 of 14 runs failed (presumably where q already favours sharing
        # more than the prior, log-weight ratio below -5, where the sign is rightly reversed).
        tf.set_random_seed(0)
        gamma = tf.constant(GAMMA, tf.float32)
        aggregation = group_vae.HypergeometricAggregation(
            tau_init=1., tau_final=0.5, n_steps=10, prior_weight=prior_weight,
            prior_log_ratio=-5.)
        result = aggregation(gamma, tf.constant(0))
        loss = tf.reduce_mean(result.loss)
        if not prior_weight:
            return loss, result.summaries
        bias = [v for v in tf.trainable_variables() if "log_omega/bias" in v.name][0]
        return loss, result.summaries, tf.gradients(loss, bias)[0]

    loss, summaries, bias_gradient = run_graph(lambda: build(3.))
    assert loss == pytest.approx(3. * summaries["hg_prior_kl"], rel=1e-6) and loss > 0
    # descending the loss lowers the independent log-weight and raises the shared one
    assert bias_gradient[0] > 0 > bias_gradient[1]
    no_prior, summaries = run_graph(lambda: build(0.))
    assert no_prior == 0. and "hg_prior_kl" not in summaries


@pytest.mark.parametrize("omega_inputs", ["gamma", "sorted_log_gamma"])
@pytest.mark.parametrize("stop_gamma_gradient", [False, True])
def test_omega_inputs_and_the_stopped_gamma_gradient(omega_inputs, stop_gamma_gradient):
    permutation = np.random.default_rng(0).permutation(10)

    def build():
        gamma = tf.constant(GAMMA, tf.float32)
        aggregation = group_vae.HypergeometricAggregation(
            omega_inputs=omega_inputs, stop_gamma_gradient=stop_gamma_gradient)
        omega = [aggregation(g, tf.constant(0)).summaries["hg_omega_independent"]
                 for g in (gamma, tf.gather(gamma, permutation, axis=1))]   # same Dense layer
        gradient = tf.gradients(omega[0], gamma)[0]
        return omega, tf.zeros_like(gamma) if gradient is None else gradient

    (omega, omega_permuted), gradient = run_graph(build)
    # sorted inputs: the Dense layer sees ranks, so permuting the dimensions changes nothing
    assert (omega == pytest.approx(omega_permuted, rel=1e-6)) == (omega_inputs != "gamma")
    assert np.all(gradient == 0) == stop_gamma_gradient


def test_warmup_uses_adavae_s_mask_then_the_hypergeometric_one():
    def build():
        gamma = tf.constant(GAMMA, tf.float32)
        aggregation = group_vae.HypergeometricAggregation(warmup_steps=5, prior_weight=1.,
                                                          prior_log_ratio=-3.)
        ada = group_vae.AdaAggregation()(gamma, 0)[:2]      # (independent, num_independent)
        results = [aggregation(gamma, tf.constant(step)) for step in (0, 4, 5, 50)]
        bias = [v for v in tf.trainable_variables() if "log_omega/bias" in v.name][0]
        mask_gradients = [tf.gradients(tf.reduce_sum(results[i].independent * tf.range(10.)),
                                       bias)[0] for i in (0, 3)]
        return ada, results, mask_gradients

    ada, results, (warmup_gradient, gradient) = run_graph(build)
    for result in results[:2]:
        np.testing.assert_array_equal(result.independent, ada[0])
        np.testing.assert_array_equal(result.num_independent, ada[1])
    for result in results[2:]:                          # top-k_hat of gamma
        mask, k_hat = result.independent, result.num_independent
        for row in range(len(GAMMA)):
            top = np.argsort(-GAMMA[row])[:int(k_hat[row])]
            np.testing.assert_array_equal(np.flatnonzero(mask[row]), np.sort(top))
    assert not np.array_equal(results[2].num_independent, ada[1])
    # in the warm-up only the prior trains the Dense layer; afterwards the mask does too
    assert np.all(warmup_gradient == 0) and np.any(gradient != 0)
    assert results[0].loss.shape == (2,) and np.all(results[0].loss > 0)



def test_the_per_dimension_charge_starts_after_the_warmup():
    def build():
        aggregation = group_vae.HypergeometricAggregation(
            warmup_steps=5, prior="per_dimension", prior_weight=2.)
        return [aggregation(tf.constant(GAMMA, tf.float32), tf.constant(step)).loss
                for step in (0, 4, 5, 50)]

    losses = run_graph(build)
    assert np.all(losses[0] == 0) and np.all(losses[1] == 0)
    assert np.all(losses[2] > 0) and np.all(losses[3] > 0)

def enumerated_mean(log_omega, d):
    """E[k] over k = 0..d under MVHG(m = [d, d], n = d) with log-weights `log_omega` [2]."""
    k = np.arange(d + 1)
    log_q = 2 * np.log(special.comb(d, k)) + k * log_omega[0] + (d - k) * log_omega[1]
    return np.sum(k * np.exp(log_q - special.logsumexp(log_q)))


def test_per_dimension_prior_is_lambda_times_the_enumerated_mean_and_its_gradient():
    log_omega = np.array([[0.3, -0.4], [2.0, 0.5], [-1.0, 1.5], [-6., 0.]])
    aggregation = group_vae.HypergeometricAggregation(prior="per_dimension", prior_weight=2.5)

    def build():
        logits = tf.constant(log_omega)
        term, summaries = aggregation.prior_loss(logits, 10, tf.constant(0))
        return term, summaries, tf.gradients(tf.reduce_sum(term), logits)[0]

    term, summaries, gradient = run_graph(build)
    means = np.array([enumerated_mean(row, 10) for row in log_omega])
    np.testing.assert_allclose(term, 2.5 * means, rtol=1e-9)
    assert summaries["hg_expected_k"] == pytest.approx(means.mean(), rel=1e-9)
    step = 1e-6
    for row in range(len(log_omega)):
        for j in range(2):
            shift = np.eye(2)[j] * step
            numeric = 2.5 * (enumerated_mean(log_omega[row] + shift, 10)
                             - enumerated_mean(log_omega[row] - shift, 10)) / (2 * step)
            np.testing.assert_allclose(gradient[row, j], numeric, rtol=1e-5, atol=1e-8)
    # the charge per dimension is flat: it always lowers the independent log-weight
    assert np.all(gradient[:, 0] > 0) and np.all(gradient[:, 1] < 0)


@pytest.mark.parametrize("prior", ["mvhg", "per_dimension"])
def test_the_prior_weight_ramps_up_linearly(prior):
    aggregation = group_vae.HypergeometricAggregation(prior=prior, prior_weight=4.,
                                                      prior_log_ratio=-2., prior_ramp_steps=100)
    log_omega = np.array([[0.5, -0.2]])

    def build():
        return [aggregation.prior_loss(tf.constant(log_omega), 10, tf.constant(step))
                for step in (0, 25, 100, 1000)]

    (zero, _), (quarter, summaries), (full, _), (late, _) = run_graph(build)
    assert zero[0] == 0. and summaries["hg_prior_weight"] == pytest.approx(1.)
    np.testing.assert_allclose([quarter[0] * 4, late[0]], [full[0], full[0]], rtol=1e-12)
    unramped = group_vae.HypergeometricAggregation(prior=prior, prior_weight=4.,
                                                   prior_log_ratio=-2.)
    constant, _ = run_graph(lambda: unramped.prior_loss(tf.constant(log_omega), 10,
                                                         tf.constant(0)))
    np.testing.assert_allclose(constant, full, rtol=1e-12)


@pytest.mark.parametrize("option, value", [
    ("prior", "geometric"), ("prior_ramp_steps", -5), ("prior_ramp_steps", 0.5),
    ("prior_weight", -1.), ("prior_weight", float("nan")), ("prior_log_ratio", float("inf")),
    ("omega_inputs", "log_gamma"), ("warmup_steps", -1), ("warmup_steps", 2.5)])
def test_bad_values_raise_naming_the_option(option, value):
    with pytest.raises(ValueError, match=f"`{option}`"):
        group_vae.HypergeometricAggregation(**{option: value})


def test_hg_prior_gin_trains_end_to_end(tmp_path):
    gin_files = [os.path.join(configs.GIN_DIR, name) for name in
                 ("base.gin", "hg.gin", "hg_prior.gin", "procedural.gin", "cpu_small.gin")]
    bindings = ["model.training_steps = 4", "model.batch_size = 8", "model.eval_steps = 1",
                "evaluate_weak.num_train = 120", "evaluate_weak.num_test = 80",
                "model.num_shared = 3", "dlib_metrics.metrics = []",
                "visualizations.num_animations = 0", "hypergeometric_aggregation.warmup_steps = 2",
                "group_vae_logging.every_n_steps = 1"]
    report = weak_training.train_with_gin(str(tmp_path / "hg_prior"), False, gin_files, bindings)
    assert report["s_true"] == 3 and 0 <= report["k_hat_mean"] <= 10
    assert np.isfinite(report["shared_score"]) and np.isfinite(report["independent_score"])
