# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext.data.procedural: the offline mpi3d_toy-like data set."""

import numpy as np
import pytest

from disentanglement_ext.data import procedural

from disentanglement_lib.data.ground_truth import ground_truth_data

SIZES = [6, 6, 2, 3, 3, 40, 40]


@pytest.fixture(scope="module")
def data():
    return procedural.ProceduralMPI3DToy()


def corner_and_random_bases(num_random, seed=0):
    rs = np.random.RandomState(seed)
    bases = [np.zeros(7, np.int64), np.array(SIZES) - 1]
    bases += list(procedural.ProceduralMPI3DToy().sample_factors(num_random, rs))
    return bases


def test_structure(data):
    assert isinstance(data, ground_truth_data.GroundTruthData)
    assert data.num_factors == 7
    assert data.factors_num_values == SIZES
    assert data.observation_shape == [64, 64, 3]
    assert len(procedural.FACTOR_NAMES) == 7 and len(procedural.SHAPE_NAMES) == 6
    assert procedural.DATASET_NAME == "procedural_mpi3d_toy"


def test_sample_factors_shape_range_and_seed(data):
    factors = data.sample_factors(5000, np.random.RandomState(1))
    assert factors.shape == (5000, 7) and factors.dtype == np.int64
    for i, size in enumerate(SIZES):
        assert set(np.unique(factors[:, i])) == set(range(size))
    np.testing.assert_array_equal(factors, data.sample_factors(5000, np.random.RandomState(1)))
    assert data.sample_factors(0, np.random.RandomState(1)).shape == (0, 7)


def test_observations_shape_range_and_determinism(data):
    factors = data.sample_factors(50, np.random.RandomState(2))
    images = data.sample_observations_from_factors(factors, np.random.RandomState(3))
    assert images.shape == (50, 64, 64, 3) and images.dtype == np.float32
    assert images.min() >= 0. and images.max() <= 1.
    again = data.sample_observations_from_factors(factors, np.random.RandomState(99))
    np.testing.assert_array_equal(images, again)
    # Rendering does not depend on the batch an image is rendered in (chunking, order).
    one_by_one = np.concatenate([data.sample_observations_from_factors(f[None], None)
                                 for f in factors[::-1]])[::-1]
    np.testing.assert_array_equal(images, one_by_one)
    big = np.repeat(factors[:1], 300, axis=0)   # more than one rendering chunk
    np.testing.assert_array_equal(data.sample_observations_from_factors(big, None),
                                  np.repeat(images[:1], 300, axis=0))
    # GroundTruthData.sample is the two steps.
    sampled_factors, sampled = data.sample(4, np.random.RandomState(5))
    np.testing.assert_array_equal(sampled, procedural.render(sampled_factors))


@pytest.mark.parametrize("factor", range(7), ids=procedural.FACTOR_NAMES)
def test_each_factor_changes_the_image_for_every_pair_of_values(data, factor):
    """For every base tried, every two values of the factor render visibly different images."""
    for base in corner_and_random_bases(8, seed=factor):
        sweep = procedural.factor_sweep(factor, base)
        assert len(sweep) == SIZES[factor]
        images = data.sample_observations_from_factors(sweep, None).reshape(len(sweep), -1)
        diff = np.abs(images[:, None, :] - images[None, :, :]).max(-1)
        off_diagonal = diff[~np.eye(len(sweep), dtype=bool)]
        assert off_diagonal.min() > 0.1, (base, off_diagonal.min())


def test_distinct_factors_render_distinct_images(data):
    factors = np.unique(data.sample_factors(1500, np.random.RandomState(7)), axis=0)
    images = data.sample_observations_from_factors(factors, None)
    quantized = np.round(images * 255).astype(np.uint8).reshape(len(factors), -1)
    assert len({image.tobytes() for image in quantized}) == len(factors)


@pytest.mark.parametrize("factors, match", [
    (np.zeros((3, 6), np.int64), r"factors must have shape \[num, 7\]"),
    (np.zeros(7, np.int64), r"factors must have shape \[num, 7\]"),
    (np.array([[0, 0, 2, 0, 0, 0, 0]]), r"factors\[0, 2\] = 2 is out of range for object_size"),
    (np.array([[0, 0, 0, 0, 0, 0, 40]]), r"out of range for vertical_axis"),
    (np.array([[-1, 0, 0, 0, 0, 0, 0]]), r"out of range for object_color"),
    (np.full((1, 7), 0.5), r"factors must be integers"),
])
def test_bad_factors_raise(data, factors, match):
    with pytest.raises(ValueError, match=match):
        data.sample_observations_from_factors(factors, None)


@pytest.mark.parametrize("num", [-1, 2.5, True, "3"])
def test_bad_num_raises(data, num):
    with pytest.raises(ValueError, match="num must be a non-negative integer"):
        data.sample_factors(num, np.random.RandomState(0))


def test_factor_sweep_and_grid(tmp_path):
    sweep = procedural.factor_sweep(5, num_values=10)
    assert sweep.shape == (10, 7) and sweep[0, 5] == 0 and sweep[-1, 5] == 39
    others = [0, 1, 2, 3, 4, 6]
    assert (sweep[:, others] == procedural.default_base_factors()[others]).all()
    with pytest.raises(ValueError, match="factor must be in"):
        procedural.factor_sweep(7)
    path = tmp_path / "grid.png"
    grid = procedural.save_factor_grid(str(path))
    from PIL import Image
    with Image.open(path) as image:
        assert image.size == (grid.shape[1], grid.shape[0])
    assert grid.shape[0] > 7 * 128
