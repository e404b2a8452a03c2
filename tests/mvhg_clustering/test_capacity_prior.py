# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The capacity prior (`vade.CapacityPrior`): its conditional against the urn enumerated with
binomial coefficients, its running counts, its gradients, resume, and the run's flags. Exact
checks only (no statistical test)."""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from mvhg_clustering import run as run_lib
from mvhg_clustering import table as table_lib
from mvhg_clustering import vade


def _urn_log_prob(assignment, capacities, weights):
    """Unnormalized log p(c) of one assignment: the Fisher urn's counts,
    prod_k C(m_k, n_k) omega_k^n_k, spread uniformly over the N! / prod n_k! assignments."""
    counts = np.bincount(assignment, minlength=len(capacities))
    if np.any(counts > capacities):
        return -np.inf
    return sum(math.log(math.comb(int(m), int(n))) + n * math.log(w) + math.lgamma(n + 1)
               for m, n, w in zip(capacities, counts, weights, strict=True))


def test_the_conditional_is_the_urns_conditional_of_one_image_given_the_others():
    """p(c_0 = k | c_1..c_5) from the enumerated joint over all 3^6 assignments of N = 6 images
    to an urn of m_k = 1.5 x 6 / 3 = 3 items per cluster, for every c_-0 that leaves room in
    every cluster (where it is exact; a full cluster's room is floored at 1/2)."""
    clusters, images = 3, 6
    weights = np.array([0.5, 2.0, 1.2])
    prior = vade.CapacityPrior(clusters, batch_size=2, num_images=images, capacity_factor=1.5)
    prior.logits.assign(np.log(weights).astype(np.float32))
    capacities = np.full(clusters, 3)
    checked = 0
    for others in itertools.product(range(clusters), repeat=images - 1):
        other_counts = np.bincount(others, minlength=clusters)
        if np.any(other_counts >= capacities):
            continue
        joint = np.array([_urn_log_prob(np.array((k,) + others), capacities, weights)
                          for k in range(clusters)])
        expected = joint - np.logaddexp.reduce(joint)
        got = prior.conditional_log_probs(tf.constant(other_counts, tf.float32)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-5)
        checked += 1
    assert checked == 90  # the c_-0 with no cluster full (of 243)
    # A full cluster keeps half an item of room: strongly repelled, never a log(0).
    full = prior.conditional_log_probs(tf.constant([3., 1., 1.])).numpy()
    assert np.all(np.isfinite(full)) and np.exp(full[0]) < 0.1


def test_running_counts_start_at_the_gmm_and_move_one_epoch_rate_towards_q():
    prior = vade.CapacityPrior(4, batch_size=10, num_images=100)
    np.testing.assert_allclose(prior.expected_counts.numpy(), [25.] * 4)
    prior.reset_counts([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(prior.expected_counts.numpy(), [10., 20., 30., 40.], rtol=1e-6)
    prior.update_counts(tf.constant([0.4, 0.3, 0.2, 0.1]))
    # N^ + (B / N)(N q - N^) = N^ + 0.1 (100 q - N^)
    np.testing.assert_allclose(prior.expected_counts.numpy(), [13., 21., 29., 37.], rtol=1e-6)


def test_log_prob_is_the_pseudo_likelihood_and_its_gradient_is_counts_minus_b_p():
    prior = vade.CapacityPrior(3, batch_size=6, num_images=60, capacity_factor=2.)
    prior.logits.assign([0.3, -0.4, 0.1])
    prior.reset_counts([0.5, 0.2, 0.3])
    room = 2. * 60 / 3 - np.array([30., 12., 18.])
    p = np.exp([0.3, -0.4, 0.1]) * room
    p /= p.sum()
    counts = tf.constant([1., 1., 4.])
    with tf.GradientTape() as tape:
        log_p = prior.log_prob(counts)
    np.testing.assert_allclose(log_p.numpy(), np.sum([1., 1., 4.] * np.log(p)), rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(log_p, prior.logits).numpy(), [1., 1., 4.] - 6 * p,
                               atol=1e-5)
    np.testing.assert_allclose(np.exp(prior.marginal_log_probs().numpy()), p, rtol=1e-5)


@pytest.mark.parametrize("kwargs,message", [
    ({"num_images": None}, "num_images"),
    ({"num_images": 8}, "num_images"),
    ({"num_images": 100, "capacity_factor": 1.}, "capacity_factor"),
    ({"num_images": 100, "capacity_factor": float("nan")}, "capacity_factor"),
])
def test_bad_capacity_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vade.make_prior("capacity", 4, 16, **kwargs)


def test_training_moves_the_running_counts_and_resumes_them(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(64, 12)).astype(np.float32)

    def model():
        tf.keras.utils.set_random_seed(1)
        built = vade.VaDE(12, 4, latent_dim=3, hidden=(16,), prior="capacity", batch_size=16,
                          num_images=len(x))
        vade.set_gmm(built, np.random.default_rng(0).normal(size=(4, 3)), np.full((4, 3), 0.5),
                     [0.4, 0.3, 0.2, 0.1])
        return built

    quiet = {"seed": 2, "log": lambda message: None, "checkpoint_every": 1}
    reference = model()
    np.testing.assert_allclose(reference.prior.expected_counts.numpy(), [25.6, 19.2, 12.8, 6.4],
                               rtol=1e-6)
    vade.train_vade(reference, x, 3, **quiet)
    assert not np.allclose(reference.prior.expected_counts.numpy(), [25.6, 19.2, 12.8, 6.4])
    np.testing.assert_allclose(reference.prior.expected_counts.numpy().sum(), 64., rtol=1e-4)
    folder = str(tmp_path / "joint")
    with pytest.raises(vade.StoppedEarly):
        vade.train_vade(model(), x, 3, checkpoint_dir=folder, stop_after_epochs=1, **quiet)
    resumed = model()
    vade.train_vade(resumed, x, 3, checkpoint_dir=folder, **quiet)
    np.testing.assert_allclose(resumed.prior.expected_counts.numpy(),
                               reference.prior.expected_counts.numpy(), rtol=1e-5)


def test_the_run_names_a_non_default_capacity_and_refuses_a_bad_one():
    parser = run_lib.build_parser()
    args = run_lib.resolve(parser.parse_args(
        ["--prior", "capacity", "--capacity-factor", "2", "--out", "/tmp/x"]))
    assert run_lib.result_path(args).endswith("digits_v100_capacity_cap2_s0.json")
    args = run_lib.resolve(parser.parse_args(["--prior", "capacity", "--out", "/tmp/x"]))
    assert run_lib.result_path(args).endswith("digits_v100_capacity_s0.json")
    args = run_lib.resolve(parser.parse_args(
        ["--prior", "uniform", "--capacity-factor", "2", "--out", "/tmp/x"]))
    assert run_lib.result_path(args).endswith("digits_v100_uniform_s0.json")
    with pytest.raises(ValueError, match="--capacity-factor"):
        run_lib.resolve(parser.parse_args(["--prior", "capacity", "--capacity-factor", "0.9"]))


def test_the_table_passes_the_pretraining_and_capacity_flags_to_its_runs():
    """(Before, `table` dropped the pretraining flags: its runs pretrained with the defaults.)"""
    args = table_lib.build_parser().parse_args(
        ["--priors", "uniform,capacity", "--pretrain-loss", "mse", "--pretrain-batch-size", "256",
         "--pretrain-init", "dec", "--pretrain-lr-final", "1e-4", "--pretrain-weight-decay",
         "0.01", "--pretrain-latent-l2", "0.1", "--capacity-factor", "2", "--results", "/tmp/x"])
    run_args = table_lib.run_args(args, "capacity", 60, 1, "/tmp/x/runs")
    assert (run_args.pretrain_loss, run_args.pretrain_batch_size, run_args.pretrain_init) == (
        "mse", 256, "dec")
    assert (run_args.pretrain_lr_final, run_args.pretrain_weight_decay,
            run_args.pretrain_latent_l2, run_args.capacity_factor) == (1e-4, 0.01, 0.1, 2.)
    assert run_lib.result_path(run_args).endswith("digits_v60_capacity_cap2_s1.json")
    assert [pair for pair in table_lib.comparisons(table_lib.make_arms(args))] == [
        ("capacity", "uniform")]
