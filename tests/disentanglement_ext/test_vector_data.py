# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext.data.vector (the fast data set) and the MLP/Gaussian-loss architectures."""
import json
import os

import gin.tf
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from disentanglement_ext import architectures
from disentanglement_ext import weak_training
from disentanglement_ext.configs import GIN_DIR
from disentanglement_ext.data import procedural
from disentanglement_ext.data import vector
from tf1_graph import run_graph

from disentanglement_lib.data.ground_truth import ground_truth_data
from disentanglement_lib.data.ground_truth import named_data

SIZES = [6, 6, 2, 3, 3, 40, 40]


@pytest.fixture(scope="module")
def data():
    return vector.VectorMPI3DToy(dimension=24, seed=3)


def test_the_ground_truth_interface(data):
    assert isinstance(data, ground_truth_data.GroundTruthData)
    assert data.num_factors == 7 and data.factors_num_values == SIZES
    assert data.observation_shape == [24]
    assert data.factor_names == procedural.FACTOR_NAMES
    factors = data.sample_factors(3000, np.random.RandomState(1))
    assert factors.shape == (3000, 7) and factors.dtype == np.int64
    for i, size in enumerate(SIZES):
        assert set(np.unique(factors[:, i])) == set(range(size))
    sampled_factors, observations = data.sample(5, np.random.RandomState(2))
    assert observations.shape == (5, 24) and observations.dtype == np.float32
    np.testing.assert_array_equal(observations,
                                  data.sample_observations_from_factors(sampled_factors))


def test_observations_are_the_sum_of_centred_unit_curves(data):
    """Each factor's points, read off by changing that factor alone from the all-zero vector,
    are centred with mean squared norm 1 (the module's normalisation, recomputed here)."""
    base = data.sample_observations_from_factors(np.zeros((1, 7), np.int64))[0]
    offsets = []
    for factor, size in enumerate(SIZES):
        sweep = np.zeros((size, 7), np.int64)
        sweep[:, factor] = np.arange(size)
        points = data.sample_observations_from_factors(sweep) - base   # g_f(t_v) - g_f(t_0)
        centred = points - points.mean(axis=0)
        assert np.mean(np.sum(centred ** 2, axis=1)) == pytest.approx(1., rel=1e-5)
        offsets.append(-points.mean(axis=0))                        # = g_f(t_0)
        # every value of every factor gives a distinct observation
        distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
        assert np.all(distances[~np.eye(size, dtype=bool)] > 1e-3)
    np.testing.assert_allclose(base, np.sum(offsets, axis=0), atol=1e-5)   # additive
    # smooth: neighbouring positions are closer than the curve's typical spread
    position = np.zeros((40, 7), np.int64)
    position[:, 5] = np.arange(40)
    steps = np.linalg.norm(np.diff(data.sample_observations_from_factors(position), axis=0),
                           axis=1)
    assert steps.max() < 0.5


def test_deterministic_by_seed_and_dimension():
    factors = vector.VectorMPI3DToy().sample_factors(20, np.random.RandomState(0))
    first = vector.VectorMPI3DToy(dimension=40, seed=0).sample_observations_from_factors(factors)
    again = vector.VectorMPI3DToy(dimension=40, seed=0).sample_observations_from_factors(
        factors, np.random.RandomState(7))
    other = vector.VectorMPI3DToy(dimension=40, seed=1).sample_observations_from_factors(factors)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.1


@pytest.mark.parametrize("kwargs, match", [
    (dict(dimension=1), "vector_mpi3d_toy.dimension"), (dict(dimension=4.5), "dimension"),
    (dict(seed=-1), "vector_mpi3d_toy.seed"), (dict(seed=True), "seed")])
def test_bad_settings_raise_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vector.VectorMPI3DToy(**kwargs)


@pytest.mark.parametrize("factors, match", [
    (np.zeros((2, 6), np.int64), r"shape \[num, 7\]"),
    (np.array([[0, 0, 0, 0, 0, 40, 0]]), "horizontal_axis"),
    (np.array([[0.5, 0, 0, 0, 0, 0, 0]]), "integers")])
def test_bad_factors_raise(data, factors, match):
    with pytest.raises(ValueError, match=match):
        data.sample_observations_from_factors(factors)


def test_selected_by_gin_dataset_name():
    gin.clear_config()
    try:
        gin.parse_config_files_and_bindings([os.path.join(GIN_DIR, name)
                                             for name in ("base.gin", "vector.gin")],
                                            ["vector_mpi3d_toy.dimension = 12"])
        dataset = named_data.get_named_ground_truth_data()
        assert isinstance(dataset, vector.VectorMPI3DToy) and dataset.observation_shape == [12]
    finally:
        gin.clear_config()


def test_mlp_encoder_decoder_shapes_and_gaussian_loss():
    x = np.random.RandomState(0).standard_normal((5, 12)).astype(np.float32)

    def build():
        means, log_var = architectures.mlp_encoder(tf.constant(x), 3, hidden_units=(8, 4))
        decoded = architectures.mlp_decoder(means, [12], hidden_units=(6,))
        loss = architectures.gaussian_loss(tf.constant(x), tf.zeros_like(tf.constant(x)),
                                           "logits", scale=0.5)
        return means, log_var, decoded, loss

    means, log_var, decoded, loss = run_graph(build)
    assert means.shape == log_var.shape == (5, 3) and decoded.shape == (5, 12)
    np.testing.assert_allclose(loss, np.sum(x ** 2, axis=1) / (2 * 0.25), rtol=1e-5)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="mlp_encoder.hidden_units"):
            architectures.mlp_encoder(tf.constant(x), 3, hidden_units=(8, 0))
        with pytest.raises(ValueError, match="gaussian_loss.scale"):
            architectures.gaussian_loss(tf.constant(x), tf.constant(x), "logits", scale=0.)


def test_a_run_on_the_vector_data_set_scores_every_factor(tmp_path):
    files = [os.path.join(GIN_DIR, name) for name in ("base.gin", "label_true.gin", "vector.gin")]
    bindings = ["model.training_steps = 30", "model.batch_size = 16", "model.eval_steps = 1",
                "evaluate_weak.num_train = 200", "evaluate_weak.num_test = 100",
                "model.num_shared = 3", "encoder.num_latent = 7", "dlib_metrics.metrics = ['mig']",
                "mig.num_train = 200", "visualizations.num_animations = 1"]
    report = weak_training.train_with_gin(str(tmp_path / "run"), False, files, bindings)
    with open(tmp_path / "run" / "evaluation.json", encoding="utf-8") as handle:
        assert json.load(handle) == json.loads(json.dumps(report))
    assert report["num_latent"] == 7 and report["k_hat_mean"] == pytest.approx(4.)  # true set
    assert len(report["factor_scores"]) == 7 and -1. <= report["factor_score"] <= 1.
    assert not os.path.exists(tmp_path / "run" / "visualizations")   # not images
