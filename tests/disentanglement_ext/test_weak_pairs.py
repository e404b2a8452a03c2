# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext.pairs: pairs share exactly s factors; the random option; tf.data."""
import numpy as np
import pytest
import tensorflow as tf

from disentanglement_ext import pairs
from disentanglement_ext.data import procedural

from disentanglement_lib.data.ground_truth import ground_truth_data


@pytest.fixture(scope="module")
def data():
    return procedural.ProceduralMPI3DToy()


class SmallData(ground_truth_data.GroundTruthData):
    """Three factors, the first with a single value (it can never change)."""

    @property
    def num_factors(self):
        return 3

    @property
    def factors_num_values(self):
        return [1, 3, 4]

    @property
    def observation_shape(self):
        return [1]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values], 1)

    def sample_observations_from_factors(self, factors, random_state):
        return (factors @ np.array([[100.], [10.], [1.]])).astype(np.float32)


def check_pairs(factors, shared_mask, num_shared, sizes):
    first, second = factors[:, 0], factors[:, 1]
    np.testing.assert_array_equal(shared_mask, first == second)
    np.testing.assert_array_equal(num_shared, shared_mask.sum(1))
    assert ((factors >= 0) & (factors < np.array(sizes))).all()


@pytest.mark.parametrize("s", range(8))
def test_pairs_share_exactly_s_factors(data, s):
    factors, mask, shared, _ = pairs.sample_pair_factors(data, 500, np.random.RandomState(s),
                                                      num_shared=s)
    assert factors.shape == (500, 2, 7) and factors.dtype == np.int64
    assert mask.shape == (500, 7) and mask.dtype == bool and shared.dtype == np.int32
    check_pairs(factors, mask, shared, data.factors_num_values)
    assert (shared == s).all()
    if 0 < s < 7:   # every factor is sometimes shared and sometimes changed
        assert mask.any(0).all() and (~mask).any(0).all()


@pytest.mark.parametrize("k", range(8))
def test_num_changed_is_the_complement(data, k):
    factors, mask, shared, _ = pairs.sample_pair_factors(data, 200, np.random.RandomState(k),
                                                      num_changed=k)
    check_pairs(factors, mask, shared, data.factors_num_values)
    assert (shared == 7 - k).all()


def test_changed_values_are_uniform_over_the_other_values(data):
    factors, mask, _, _ = pairs.sample_pair_factors(data, 6000, np.random.RandomState(0),
                                                 num_changed=7)
    # Object colour (6 values): each of the 5 other values about 1/5 of the time.
    first, second = factors[:, 0, 0], factors[:, 1, 0]
    offsets = (second - first) % 6
    counts = np.bincount(offsets, minlength=6)
    assert counts[0] == 0
    expected = 6000 / 5
    assert np.all(np.abs(counts[1:] - expected) < 5 * np.sqrt(expected))


@pytest.mark.parametrize("random", [pairs.RANDOM, -1, "random", "RANDOM"])
@pytest.mark.parametrize("which", ["num_shared", "num_changed"])
def test_random_count_is_uniform_on_1_to_n_minus_1(data, random, which):
    factors, mask, shared, _ = pairs.sample_pair_factors(data, 3000, np.random.RandomState(1),
                                                      **{which: random})
    check_pairs(factors, mask, shared, data.factors_num_values)
    counts = np.bincount(shared, minlength=8)
    assert counts[0] == 0 and counts[7] == 0
    expected = 3000 / 6
    assert np.all(np.abs(counts[1:7] - expected) < 5 * np.sqrt(expected)), counts


def test_sample_pairs_renders_both_views(data):
    batch = pairs.sample_pairs(data, 6, np.random.RandomState(3), num_shared=4)
    assert isinstance(batch, pairs.PairBatch)
    assert batch.observations.shape == (6, 2, 64, 64, 3)
    assert batch.observations.dtype == np.float32
    for view in range(2):
        np.testing.assert_array_equal(batch.observations[:, view],
                                      procedural.render(batch.factors[:, view]))
    assert (batch.num_shared == 4).all()


def test_seed_reproduces_and_differs(data):
    a = pairs.sample_pairs(data, 4, np.random.RandomState(5), num_shared=pairs.RANDOM)
    b = pairs.sample_pairs(data, 4, np.random.RandomState(5), num_shared=pairs.RANDOM)
    c = pairs.sample_pairs(data, 4, np.random.RandomState(6), num_shared=pairs.RANDOM)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.factors, c.factors)


def test_single_valued_factors_are_always_shared():
    small = SmallData()
    factors, mask, shared, _ = pairs.sample_pair_factors(small, 300, np.random.RandomState(0),
                                                      num_shared=1)
    check_pairs(factors, mask, shared, small.factors_num_values)
    assert mask[:, 0].all() and (shared == 1).all()
    _, mask, shared, _ = pairs.sample_pair_factors(small, 300, np.random.RandomState(0),
                                                num_shared=pairs.RANDOM)
    assert mask[:, 0].all() and set(shared) == {1, 2}   # k in {1, 2} = changeable factors
    with pytest.raises(ValueError, match=r"num_shared=0 needs 3 factors to change, but only 2"):
        pairs.sample_pair_factors(small, 3, np.random.RandomState(0), num_shared=0)
    batch = pairs.sample_pairs(small, 5, np.random.RandomState(0), num_changed=2)
    assert batch.observations.shape == (5, 2, 1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_shared=8), r"num_shared must be an integer in \[0, 7\] or -1"),
    (dict(num_shared=-2), r"num_shared must be an integer in \[0, 7\]"),
    (dict(num_shared=2.0), r"num_shared must be an integer"),
    (dict(num_shared="some"), r"num_shared must be an integer"),
    (dict(num_shared=True), r"num_shared must be an integer"),
    (dict(num_changed=8), r"num_changed must be an integer in \[0, 7\]"),
    (dict(), r"exactly one of num_shared and num_changed"),
    (dict(num_shared=1, num_changed=6), r"exactly one of num_shared and num_changed"),
])
def test_bad_counts_raise(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pairs.sample_pair_factors(data, 2, np.random.RandomState(0), **kwargs)
    with pytest.raises(ValueError, match=match):
        pairs.make_pair_dataset(data, 2, 0, **kwargs)
    with pytest.raises(ValueError, match=match):
        pairs.make_input_fn(data, 0, **kwargs)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, None])
def test_bad_batch_size_raises(data, batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        pairs.sample_pairs(data, batch_size, np.random.RandomState(0), num_shared=1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        pairs.make_pair_dataset(data, batch_size, 0, num_shared=1)


def test_generator_replays_from_seed(data):
    first = [next(pairs.pair_batches(data, 3, 11, num_shared=2)) for _ in range(2)]
    np.testing.assert_array_equal(first[0].factors, first[1].factors)
    gen = pairs.pair_batches(data, 3, 11, num_shared=2)
    a, b = next(gen), next(gen)
    assert not np.array_equal(a.factors, b.factors)


def test_tf_dataset_and_input_fn(data):
    dataset = pairs.make_pair_dataset(data, 4, seed=7, num_shared=pairs.RANDOM, num_batches=3)
    spec = dataset.element_spec
    assert spec[0].shape == [4, 2, 64, 64, 3]
    assert spec[1]["factors"].shape == [4, 2, 7] and spec[1]["shared_mask"].shape == [4, 7]
    batches = list(dataset)
    assert len(batches) == 3
    expected = pairs.pair_batches(data, 4, 7, num_shared=pairs.RANDOM)
    for observations, labels in batches:
        reference = next(expected)
        np.testing.assert_array_equal(observations.numpy(), reference.observations)
        np.testing.assert_array_equal(labels["factors"].numpy(), reference.factors)
        np.testing.assert_array_equal(labels["shared_mask"].numpy(), reference.shared_mask)
        np.testing.assert_array_equal(labels["num_shared"].numpy(), reference.num_shared)
    # Iterating again replays the same batches.
    np.testing.assert_array_equal(next(iter(dataset))[1]["factors"].numpy(),
                                  batches[0][1]["factors"].numpy())
    input_fn = pairs.make_input_fn(data, seed=7, num_changed=3, num_batches=1)
    features, labels = next(iter(input_fn({"batch_size": 2})))
    assert features.shape == (2, 2, 64, 64, 3) and (labels["num_shared"].numpy() == 4).all()
    with pytest.raises(ValueError, match="num_batches"):
        pairs.make_pair_dataset(data, 2, 0, num_shared=1, num_batches=-1)


def test_input_fn_in_graph_mode(data):
    input_fn = pairs.make_input_fn(data, seed=1, num_shared=5)
    with tf.Graph().as_default():
        features, labels = tf.compat.v1.data.make_one_shot_iterator(
            input_fn({"batch_size": 3})).get_next()
        with tf.compat.v1.Session() as session:
            observations, shared = session.run([features, labels["num_shared"]])
    assert observations.shape == (3, 2, 64, 64, 3) and (shared == 5).all()


@pytest.mark.parametrize("s", [0, 3, 7])
def test_exact_changed_index_is_a_uniform_changed_factor(data, s):
    factors, mask, _, changed_index = pairs.sample_pair_factors(
        data, 3000, np.random.RandomState(s), num_shared=s)
    assert changed_index.dtype == np.int32
    if s == 7:
        assert (changed_index == -1).all()
        return
    rows = np.arange(3000)
    assert (~mask[rows, changed_index]).all()   # the labelled factor did change
    # Among the k = 7 - s changed factors each is the label equally often: with 7 factors,
    # every factor about 1/7 of the time (5-sigma bounds; false-fail rate < 1e-5).
    counts = np.bincount(changed_index, minlength=7)
    assert np.all(np.abs(counts - 3000 / 7) < 5 * np.sqrt(3000 / 7)), counts


def test_dlib_dynamics_follow_disentanglement_libs_simple_dynamics(data):
    """k = 3 (s = 4): half the pairs change 1 factor, half change 3, each to a uniform value of
    its range (possibly the old one), chosen among all 7 factors; the label is the last drawn."""
    num = 20000
    factors, mask, shared, changed_index = pairs.sample_pair_factors(
        data, num, np.random.RandomState(0), num_shared=4, dynamics="dlib")
    check_pairs(factors, mask, shared, data.factors_num_values)
    sizes = np.array(data.factors_num_values)
    # Reference distribution of the number of shared factors, from the rule above: a changed
    # factor keeps its value with probability 1/size. Enumerate the 7 choose k subsets.
    from itertools import combinations
    expected = np.zeros(8)
    for count in (1, 3):
        subsets = list(combinations(range(7), count))
        for subset in subsets:
            keep = 1. / sizes[list(subset)]
            distribution = np.array([1.])  # number of the subset's factors that keep their value
            for p in keep:
                distribution = np.convolve(distribution, [1 - p, p])
            for kept, prob in enumerate(distribution):
                expected[7 - count + kept] += 0.5 * prob / len(subsets)
    observed = np.bincount(shared, minlength=8) / num
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / num)
                  + 1e-12), (observed, expected)
    assert shared.min() >= 4   # at least s shared: more when a factor keeps its value
    # The label is a factor that was drawn: uniform over the 7 factors.
    counts = np.bincount(changed_index, minlength=7)
    assert (changed_index >= 0).all()
    assert np.all(np.abs(counts - num / 7) < 5 * np.sqrt(num / 7)), counts
    # The labelled factor got a uniform value, so it differs with probability 1 - 1/size.
    differs = ~mask[np.arange(num), changed_index]
    expected_differs = np.mean(1. - 1. / sizes)
    assert abs(differs.mean() - expected_differs) < 5 * np.sqrt(0.25 / num)


def test_dlib_dynamics_random_k_and_k_zero(data):
    _, _, shared, changed_index = pairs.sample_pair_factors(
        data, 4000, np.random.RandomState(1), num_shared=pairs.RANDOM, dynamics="dlib")
    assert shared.min() >= 1 and (changed_index >= 0).all()
    # k = 0 (s = 7): half the pairs change 1 factor (as disentanglement_lib's choice([1, k])),
    # half none (label -1).
    _, mask, shared, changed_index = pairs.sample_pair_factors(
        data, 4000, np.random.RandomState(2), num_shared=7, dynamics="dlib")
    none = changed_index == -1
    assert abs(none.mean() - 0.5) < 5 * np.sqrt(0.25 / 4000)
    assert (shared[none] == 7).all()


def test_bad_dynamics_raise(data):
    with pytest.raises(ValueError, match=r"dynamics must be one of \('exact', 'dlib'\)"):
        pairs.sample_pair_factors(data, 2, np.random.RandomState(0), num_shared=1,
                                  dynamics="locatello")
    with pytest.raises(ValueError, match="dynamics must be one of"):
        pairs.make_input_fn(data, 0, num_shared=1, dynamics="")


def test_dataset_carries_changed_index(data):
    dataset = pairs.make_pair_dataset(data, 4, seed=3, num_shared=2, num_batches=1,
                                      dynamics="dlib")
    assert dataset.element_spec[1]["changed_index"].shape == [4]
    _, labels = next(iter(dataset))
    reference = next(pairs.pair_batches(data, 4, 3, num_shared=2, dynamics="dlib"))
    np.testing.assert_array_equal(labels["changed_index"].numpy(), reference.changed_index)
