# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""GroupVAE aggregations, gin files, and an end-to-end run per method (train, export, reload,
evaluate).

All deterministic (fixed seeds, no statistical thresholds)."""

import glob
import json
import os
import shutil

import gin.tf
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from disentanglement_ext import configs
from disentanglement_ext import group_vae
from disentanglement_ext import neural_sort
from disentanglement_ext import sweep
from disentanglement_ext import weak_training
from tf1_graph import run_graph


def gaussian_kl_numpy(mean_1, var_1, mean_2, var_2):
    return 0.5 * (np.log(var_2 / var_1) + (var_1 + (mean_1 - mean_2) ** 2) / var_2 - 1.)


def test_symmetric_kl_and_view_combination_match_closed_forms():
    rng = np.random.default_rng(0)
    mean_1, mean_2 = rng.normal(size=(2, 4, 5))
    logvar_1, logvar_2 = rng.normal(size=(2, 4, 5))
    var_1, var_2 = np.exp(logvar_1), np.exp(logvar_2)
    def build():
        args = [tf.constant(a) for a in (mean_1, logvar_1, mean_2, logvar_2)]
        return (group_vae.symmetric_gaussian_kl(*args), group_vae.combine_views(*args, "mean"),
                group_vae.combine_views(*args, "product_of_experts"))

    gamma, (mean, logvar), (poe_mean, poe_logvar) = run_graph(build)
    expected = 0.5 * (gaussian_kl_numpy(mean_1, var_1, mean_2, var_2)
                      + gaussian_kl_numpy(mean_2, var_2, mean_1, var_1))
    np.testing.assert_allclose(gamma, expected, rtol=1e-10)
    np.testing.assert_allclose(mean, (mean_1 + mean_2) / 2, rtol=1e-12)
    np.testing.assert_allclose(np.exp(logvar), (var_1 + var_2) / 2, rtol=1e-10)
    poe_var = 1. / (1. / var_1 + 1. / var_2)
    np.testing.assert_allclose(np.exp(poe_logvar), poe_var, rtol=1e-10)
    np.testing.assert_allclose(poe_mean, poe_var * (mean_1 / var_1 + mean_2 / var_2), rtol=1e-10)
    with pytest.raises(ValueError, match="`combine`"):
        group_vae.combine_views(*[tf.zeros([1, 1])] * 4, "median")


def test_pair_kl_is_the_pair_elbo_kl_with_shared_dimensions_paid_once():
    from disentanglement_lib.methods.unsupervised import vae  # pylint: disable=import-outside-toplevel
    rng = np.random.default_rng(1)
    mean_1, mean_2, logvar_1, logvar_2 = rng.normal(size=(4, 3, 6))
    independent = np.array([[1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], float)
    shared_mean, shared_var = (mean_1 + mean_2) / 2, (np.exp(logvar_1) + np.exp(logvar_2)) / 2
    views = [(np.where(independent, mean, shared_mean),
              np.where(independent, np.exp(logvar), shared_var))
             for mean, logvar in ((mean_1, logvar_1), (mean_2, logvar_2))]
    kl_1, kl_2 = [gaussian_kl_numpy(mean, var, 0., 1.) for mean, var in views]
    kl_shared = gaussian_kl_numpy(shared_mean, shared_var, 0., 1.)
    # pair ELBO: each view's own dims, plus the shared latents once; halved to a per-view scale
    expected_once = 0.5 * ((independent * (kl_1 + kl_2)).sum(1)
                           + ((1 - independent) * kl_shared).sum(1))

    def build():
        per_dim = [tf.constant(kl_1), tf.constant(kl_2)]
        mask = tf.constant(independent)
        once = group_vae.pair_kl(*per_dim, mask, "once")
        return (group_vae.pair_kl(*per_dim, mask, "per_view"), once,
                tf.gradients(tf.reduce_sum(once), mask)[0],
                [vae.compute_gaussian_kl(tf.constant(mean), tf.log(tf.constant(var)))
                 for mean, var in views])

    per_view, once, gradient, dlib_kls = run_graph(build)
    np.testing.assert_allclose(once, expected_once, rtol=1e-12)
    np.testing.assert_allclose(per_view.mean(), np.mean(dlib_kls), rtol=1e-12)  # its GroupVAE KL
    np.testing.assert_allclose(once[2], per_view[2], rtol=1e-12)  # nothing shared: no difference
    np.testing.assert_allclose(once[1], per_view[1] / 2, rtol=1e-12)  # all shared: paid once
    np.testing.assert_allclose(gradient, (kl_1 + kl_2) / 4, rtol=1e-12)  # sharing saves kl_j / 2
    with pytest.raises(ValueError, match="`shared_kl`"):
        group_vae.pair_kl(*[tf.zeros([1, 1])] * 3, "twice")


@pytest.mark.parametrize("num_independent", [0, 4, 10])
def test_group_vae_loss_uses_the_shared_kl_setting(num_independent):
    """The model's KL term with `shared_kl` "once" vs "per_view", both models in one graph (the
    same encoder variables, EVAL mode)."""
    rng = np.random.default_rng(2)
    features = rng.uniform(size=(4, 2, 64, 64, 3)).astype(np.float32)
    labels = dict(num_shared=np.full(4, 3, np.int32), shared_mask=np.ones((4, 7), np.float32))
    gin.clear_config()
    try:
        gin.parse_config_files_and_bindings(
            [gin_file("base.gin"), gin_file("label.gin"), gin_file("procedural.gin")], [])

        def build():
            kl_losses = {}
            for shared_kl in ("per_view", "once"):
                model = group_vae.GroupVAE(
                    aggregation=group_vae.LabelAggregation(num_independent), shared_kl=shared_kl)
                spec = model.model_fn(tf.constant(features), labels,
                                      tf.estimator.ModeKeys.EVAL, {})
                kl_losses[shared_kl] = spec.eval_metrics[1][3][0]     # the "kl_loss" metric
            return kl_losses

        kl_losses = run_graph(build)
    finally:
        gin.clear_config()
    assert kl_losses["per_view"] > 0
    if num_independent in (0, 10):      # all shared dims paid once: half; none shared: equal
        shared_fraction = 1. - num_independent / 10.
        assert kl_losses["once"] == pytest.approx(kl_losses["per_view"] * (1 - shared_fraction / 2),
                                                  rel=1e-5)
    else:
        assert kl_losses["per_view"] / 2 < kl_losses["once"] < kl_losses["per_view"]
    with pytest.raises(ValueError, match="`shared_kl`"):
        group_vae.GroupVAE(aggregation=group_vae.AdaAggregation(), shared_kl="twice")


GAMMA = np.array([[0.1, 3.0, 0.2, 2.5, 0.0, 0.3],
                  [1.0, 1.1, 0.9, 5.0, 4.8, 0.1]], np.float32)


def test_label_and_ada_aggregations():
    label, ada = run_graph(lambda: (
        group_vae.LabelAggregation(num_independent=2)(tf.constant(GAMMA), 0),
        group_vae.AdaAggregation()(tf.constant(GAMMA), 0)))
    np.testing.assert_array_equal(label.independent, [[0, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0]])
    np.testing.assert_array_equal(label.num_independent, [2, 2])
    # thresholds (0 + 3) / 2 = 1.5 and (0.1 + 5) / 2 = 2.55
    np.testing.assert_array_equal(ada.independent, [[0, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0]])
    np.testing.assert_array_equal(ada.num_independent, [2, 2])
    with pytest.raises(ValueError, match="`num_independent`"):
        group_vae.LabelAggregation(num_independent=-1)


def test_label_aggregation_from_the_changed_factor_is_disentanglement_libs_labelvae():
    result = run_graph(lambda: group_vae.LabelAggregation(source="changed_factor")(
        tf.constant(GAMMA), 0, dict(changed_index=tf.constant([3, -1]),
                                    shared_mask=tf.zeros([2, 5], tf.bool))))
    # dimension 3 (the changed factor's index) is independent; no changed factor: all shared
    np.testing.assert_array_equal(result.independent, [[0, 0, 0, 1, 0, 0], [0] * 6])
    np.testing.assert_array_equal(result.num_independent, [1, 0])
    aggregation = group_vae.LabelAggregation(source="changed_factor")
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="needs the pairs' `changed_index` labels"):
            aggregation(tf.constant(GAMMA), 0)
        with pytest.raises(ValueError, match="as many latent dimensions as factors: 6 < 7"):
            aggregation(tf.constant(GAMMA), 0, dict(changed_index=tf.constant([0, 1]),
                                                    shared_mask=tf.zeros([2, 7], tf.bool)))
    with pytest.raises(ValueError, match=r"label_aggregation.source must be one of"):
        group_vae.LabelAggregation(source="argmax")


def test_label_aggregation_given_the_true_independent_set():
    shared = np.array([[True, False, True, True, False], [True] * 5])
    result = run_graph(lambda: group_vae.LabelAggregation(source="changed_factors")(
        tf.constant(GAMMA), 0, dict(shared_mask=tf.constant(shared))))
    # factor j differs -> dimension j independent; the dimension beyond F = 5 is shared
    np.testing.assert_array_equal(result.independent, [[0, 1, 0, 0, 1, 0], [0] * 6])
    np.testing.assert_array_equal(result.num_independent, [2, 0])
    aggregation = group_vae.LabelAggregation(source="changed_factors")
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="needs the pairs' `shared_mask` labels"):
            aggregation(tf.constant(GAMMA), 0, dict(changed_index=tf.constant([0, 1])))
        with pytest.raises(ValueError, match="as many latent dimensions as factors: 6 < 7"):
            aggregation(tf.constant(GAMMA), 0, dict(shared_mask=tf.zeros([2, 7], tf.bool)))


def test_hypergeometric_aggregation_masks_the_top_k_hat_and_trains_its_dense_layer():
    def build():
        gamma = tf.constant(GAMMA)
        aggregation = group_vae.HypergeometricAggregation(tau_init=1., tau_final=0.5, n_steps=10)
        result = aggregation(gamma, tf.constant(0))
        kernel = [v for v in tf.trainable_variables() if "log_omega/kernel" in v.name][0]
        loss = tf.reduce_sum(result.independent * tf.constant([1., -2., 3., 0.5, -1., 2.]))
        return result, tf.gradients(loss, kernel)[0]

    result, kernel_gradient = run_graph(build)
    mask, k_hat = result.independent, result.num_independent
    np.testing.assert_array_equal(mask, np.round(mask))          # hard sort and hard counts
    np.testing.assert_array_equal(mask.sum(-1), k_hat)
    for row in range(len(GAMMA)):                                  # the top-k_hat of gamma
        top = np.argsort(-GAMMA[row])[:int(k_hat[row])]
        np.testing.assert_array_equal(np.flatnonzero(mask[row]), np.sort(top))
    assert np.all(np.isfinite(kernel_gradient)) and np.any(kernel_gradient != 0)


def test_paper_protocol_anneals_a_stochastic_sort_on_the_mvhg_schedule():
    """hypergeometric_aggregation(anneal_sort_temperature, stochastic_sort): the paper's sort."""
    steps = [0, 50] + list(range(1, 21))

    def build(**options):
        gamma = tf.constant(GAMMA)
        aggregation = group_vae.HypergeometricAggregation(tau_init=10., tau_final=0.01,
                                                          n_steps=100, **options)
        results = [aggregation(gamma, tf.constant(step)) for step in steps]
        return [(r.independent, r.num_independent, r.summaries["hg_sort_temperature"])
                for r in results]

    def top_k_hat_masks(results):
        return [all(np.array_equal(np.flatnonzero(mask[row]),
                                   np.sort(np.argsort(-GAMMA[row])[:int(k_hat[row])]))
                    for row in range(len(GAMMA))) for mask, k_hat, _ in results]

    deterministic = run_graph(lambda: build())
    paper = run_graph(lambda: build(anneal_sort_temperature=True, stochastic_sort=True))
    np.testing.assert_allclose([t for _, _, t in deterministic], 1.)
    np.testing.assert_allclose([t for _, _, t in paper[:3]],
                               [10., np.sqrt(10. * 0.01), 10. * (0.01 / 10.) ** 0.01], rtol=1e-5)
    for mask, k_hat, _ in paper:
        np.testing.assert_array_equal(mask, np.round(mask))
        np.testing.assert_array_equal(mask.sum(-1), k_hat)
    # The deterministic sort always keeps the top k_hat of gamma. The paper's keeps the top k_hat
    # of gamma + g, with Gumbel noise g from the stateless seed (step, 0x5047), new every step;
    # that noise reorders gamma in some steps. (Checked against the noise itself, not against
    # whichever k_hat the MVHG draws: a stateful draw whose seed depends on the graph's ops.)
    assert all(top_k_hat_masks(deterministic))
    reordered = []
    for step, (mask, k_hat, _) in zip(steps, paper, strict=True):
        seed = np.array([step, 0x5047], np.int64)
        with tf.Graph().as_default(), tf.Session() as session:
            noise = session.run(neural_sort.gumbel_noise(GAMMA.shape, seed, tf.float32))
        order = np.argsort(-(GAMMA + noise), axis=-1)
        for row in range(len(GAMMA)):
            np.testing.assert_array_equal(np.flatnonzero(mask[row]),
                                          np.sort(order[row, :int(k_hat[row])]))
        reordered.append(not np.array_equal(order, np.argsort(-GAMMA, axis=-1)))
    assert any(reordered)


def test_paper_gin_sets_the_papers_values():
    gin.clear_config()
    try:
        gin.parse_config_files_and_bindings(
            [gin_file(name) for name in ("base.gin", "hg.gin", "procedural.gin", "paper.gin")], [])
        expected = {"vae/AdamOptimizer.learning_rate": 1e-6, "group_vae.beta": 1.,
                    "model.batch_size": 64, "model.training_steps": 300000,
                    "hypergeometric_aggregation.tau_init": 10.,
                    "hypergeometric_aggregation.tau_final": 0.01,
                    "hypergeometric_aggregation.n_steps": 50000,
                    "hypergeometric_aggregation.anneal_sort_temperature": True,
                    "hypergeometric_aggregation.stochastic_sort": True}
        for name, value in expected.items():
            assert gin.query_parameter(name) == value, name
        aggregation = gin.query_parameter("model.model").scoped_configurable_fn().aggregation
        assert aggregation.anneal_sort_temperature and aggregation.stochastic_sort
    finally:
        gin.clear_config()


def gin_file(name):
    return os.path.join(configs.GIN_DIR, name)


@pytest.mark.parametrize("method", ["label", "label_dlib", "label_true", "ada", "hg"])
@pytest.mark.parametrize("dataset", ["procedural.gin", "mpi3d_toy.gin", "vector.gin"])
def test_every_gin_file_parses(method, dataset):
    shipped = glob.glob(os.path.join(configs.GIN_DIR, "*.gin"))
    assert sorted(os.path.basename(path) for path in shipped) == [
        "ada.gin", "base.gin", "cpu_small.gin", "hg.gin", "hg_per_dimension.gin", "hg_prior.gin",
        "images_long.gin", "label.gin", "label_dlib.gin", "label_true.gin", "mpi3d_toy.gin",
        "paper.gin", "procedural.gin", "vector.gin"]
    gin.clear_config()
    try:
        gin.parse_config_files_and_bindings(
            [gin_file("base.gin"), gin_file(f"{method}.gin"), gin_file(dataset),
             gin_file("cpu_small.gin")]
            + ([gin_file("hg_per_dimension.gin"), gin_file("images_long.gin")]
               if (method, dataset) == ("hg", "procedural.gin") else []), [])
        model = gin.query_parameter("model.model").scoped_configurable_fn()
        assert isinstance(model, group_vae.GroupVAE)
        expected = {"label": group_vae.LabelAggregation, "ada": group_vae.AdaAggregation,
                    "hg": group_vae.HypergeometricAggregation,
                    "label_dlib": group_vae.LabelAggregation,
                    "label_true": group_vae.LabelAggregation}[method]
        assert isinstance(model.aggregation, expected)
        if method.startswith("label_"):
            assert model.aggregation.source == {"label_dlib": "changed_factor",
                                                "label_true": "changed_factors"}[method]
    finally:
        gin.clear_config()


TINY = ["model.training_steps = 4", "model.batch_size = 8", "model.eval_steps = 1",
        "evaluate_weak.num_train = 120", "evaluate_weak.num_test = 80",
        "group_vae_logging.every_n_steps = 2", "model.num_shared = 3",
        'dlib_metrics.metrics = ["mig", "sap_score"]', "mig.num_train = 200",
        "sap_score.num_train = 200", "sap_score.num_test = 100",
        "visualizations.num_animations = 0"]


@pytest.mark.parametrize("method", ["label", "label_dlib", "ada", "hg"])
def test_end_to_end_run_trains_exports_reloads_and_evaluates(tmp_path, method):
    import tensorflow_hub as hub  # pylint: disable=import-outside-toplevel
    model_dir = str(tmp_path / method)
    configs = [gin_file("base.gin"), gin_file(f"{method}.gin"), gin_file("procedural.gin"),
               gin_file("cpu_small.gin")]
    visualizations = ["visualizations.num_animations = 1", "visualizations.num_frames = 2",
                      "visualizations.num_points_irs = 100"] if method == "hg" else []
    dynamics = ['model.dynamics = "dlib"'] if method == "label_dlib" else []
    report = weak_training.train_with_gin(model_dir, False, configs,
                                          TINY + visualizations + dynamics)
    with open(os.path.join(model_dir, "evaluation.json"), encoding="utf-8") as handle:
        evaluation = json.load(handle)
    assert evaluation == json.loads(json.dumps(report))
    for key in ("s_true", "s_hat_mean", "mse_s", "shared_score", "independent_score"):
        assert key in evaluation
    assert evaluation["s_true"] == 3 and 0 <= evaluation["s_hat_mean"] <= 10
    assert os.path.exists(os.path.join(model_dir, "results", "json", "train_results.json"))
    assert os.path.exists(os.path.join(model_dir, "results", "gin", "train.gin"))
    with tf.Graph().as_default():
        module = hub.Module(os.path.join(model_dir, "tfhub"))
        images = tf.zeros([3, 64, 64, 3])
        encoded = module(dict(images=images), signature="gaussian_encoder", as_dict=True)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            mean = session.run(encoded["mean"])
    assert mean.shape == (3, 10) and np.all(np.isfinite(mean))
    # disentanglement_lib's metrics, in its layout, readable by its results aggregation
    from disentanglement_lib.utils import results  # pylint: disable=import-outside-toplevel
    assert set(evaluation["disentanglement_lib"]) == {"mig", "sap_score"}
    assert 0. <= evaluation["disentanglement_lib"]["mig"]["discrete_mig"] <= 1.
    saved = results.aggregate_json_results(
        os.path.join(model_dir, "metrics", "mean", "mig", "results", "json"))
    assert saved["evaluation_results.discrete_mig"] == evaluation["disentanglement_lib"]["mig"][
        "discrete_mig"]
    assert saved["evaluation_config.dataset.name"] == "'procedural_mpi3d_toy'"
    assert evaluation["num_latent"] == 10
    assert evaluation["s_hat_latent_mean"] == pytest.approx(10 - evaluation["k_hat_mean"])
    assert evaluation["dynamics"] == ("dlib" if method == "label_dlib" else "exact")
    if method == "label_dlib":   # one dimension or none (no changed factor) independent
        assert 0 < evaluation["k_hat_mean"] <= 1 and evaluation["s_pairs_mean"] >= 3
    else:  # exactly s = 3 shared in every pair: the paper's MSE follows from F - k_hat's
        assert evaluation["s_pairs_mean"] == 3 and evaluation["s_pairs_sq_mean"] == 9
        assert evaluation["mse_s_latent"] == pytest.approx(
            evaluation["mse_s"] + 2 * 3 * (evaluation["s_hat_mean"] - 3) + 9, rel=1e-5)
    steps, _ = sweep.read_training_scalars(model_dir, "k_hat")  # a curve even for 4 steps
    assert list(steps) == [1, 2, 3, 4]
    if method == "hg":  # disentanglement_lib's visualize_model of the run
        for name in ("reconstructions/reconstructions.jpg", "traversals/traversals0.jpg",
                     "animated_traversals/std_gaussian_cycle0.gif"):
            assert os.path.getsize(os.path.join(model_dir, "visualizations", name)) > 0, name
    # a complete run is skipped, not retrained
    assert weak_training.train_with_gin(model_dir, False, configs,
                                        TINY + visualizations + dynamics) is None


def test_deleting_evaluation_json_reevaluates_without_retraining(tmp_path):
    model_dir = str(tmp_path / "label")
    configs = [gin_file("base.gin"), gin_file("label.gin"), gin_file("procedural.gin"),
               gin_file("cpu_small.gin")]
    first = weak_training.train_with_gin(model_dir, False, configs, TINY)
    checkpoint = os.path.join(model_dir, "tf_checkpoint", "model.ckpt-4.index")
    sap_file = os.path.join(model_dir, "metrics", "mean", "sap_score", "results", "json",
                            "evaluation_results.json")
    stamps = os.path.getmtime(checkpoint), os.path.getmtime(sap_file)
    os.remove(os.path.join(model_dir, "evaluation.json"))
    shutil.rmtree(os.path.join(model_dir, "metrics", "mean", "mig"))
    second = weak_training.train_with_gin(model_dir, False, configs, TINY)
    assert (os.path.getmtime(checkpoint), os.path.getmtime(sap_file)) == stamps
    assert second["train_seconds"] == pytest.approx(first["train_seconds"])
    assert second["disentanglement_lib"] == first["disentanglement_lib"]  # same seed, same scores
    # more training steps on a finished run: training continues, and the metrics of the older
    # checkpoint are stale and recomputed
    third = weak_training.train_with_gin(model_dir, False, configs,
                                         TINY + ["model.training_steps = 6"])
    assert third["training_steps"] == 6 and os.path.getmtime(sap_file) > stamps[1]
    with pytest.raises(ValueError, match="metrics.*unknown.*'nope'"):
        weak_training.train_with_gin(str(tmp_path / "bad"), False, configs,
                                     TINY + ['dlib_metrics.metrics = ["nope"]'])


def test_hgvae_runs_on_mpi3d_toy_given_the_file(tmp_path, fake_mpi3d):
    from mpi3d_fakes import FAKE_MPI3D_SIZES  # pylint: disable=import-outside-toplevel
    configs = [gin_file("base.gin"), gin_file("hg.gin"), gin_file("mpi3d_toy.gin"),
               gin_file("cpu_small.gin")]
    report = weak_training.train_with_gin(str(tmp_path / "hg"), False, configs, TINY)
    assert report["num_factors"] == len(FAKE_MPI3D_SIZES) and report["s_true"] == 3
    with open(tmp_path / "hg" / "results" / "gin" / "train.gin", encoding="utf-8") as handle:
        assert "dataset.name = 'mpi3d_toy'" in handle.read()
