# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Weakly-supervised pairs: two observations of which s ground-truth factors are shared.

For the weakly-supervised models (LabelVAE, AdaVAE, HGVAE) each training example is a pair
(x1, x2) whose factor vectors agree on some factors and differ on the others. Two pair dynamics:

- "exact" (default): the pair shares exactly s factors. The k = num_factors - s changed factors
  are chosen uniformly without replacement among the factors with two or more values, and each
  is moved to a uniformly drawn *different* value (factors with a single value never change).
- "dlib": disentanglement_lib's weak `simple_dynamics` for `dynamics.k = k`: the number of
  factors to change is 1 or k with probability 1/2 each, the factors are chosen uniformly
  without replacement among all factors, and each gets a uniform value of its range, *possibly
  its old one*. A pair then shares at least s = num_factors - k factors, often more; the labels
  carry the count actually shared.

How many, use exactly one:

  num_shared = s     s in [0, num_factors]: factors the two views have in common.
  num_changed = k    k in [0, num_factors]: factors that differ (disentanglement_lib's weak `k`).

Either can be `RANDOM` (-1, or the string "random"): a fresh k per pair, uniform on
{1, ..., num_factors - 1} (disentanglement_lib's `k = -1`: `randint(1, num_factors)`); with
"exact" dynamics that k is the count obtained.

Each pair also has a `changed_index`: the index of one changed factor, the last one drawn (for
"exact" the changed factors are drawn in a uniform random order), or -1 when none was drawn.
This is disentanglement_lib's LabelVAE label (`return_index=True`).

API:
  sample_pair_factors(...)  -> PairFactors(factors [batch, 2, n] int64, shared_mask [batch, n]
                                bool, num_shared [batch] int32, changed_index [batch] int32)
  sample_pairs(...)         -> PairBatch(observations [batch, 2, *obs_shape] float32, factors,
                                         shared_mask, num_shared, changed_index)
  pair_batches(...)         -> an endless, seeded generator of PairBatch
  make_pair_dataset(...)    -> tf.data.Dataset of (observations, {"factors", "shared_mask",
                                                   "num_shared", "changed_index"}) batches
  make_input_fn(...)        -> Estimator/TPUEstimator `input_fn(params)` (params["batch_size"])
"""
from typing import NamedTuple

import numpy as np

RANDOM = -1
DYNAMICS = ("exact", "dlib")


class PairFactors(NamedTuple):
    """The factors of a batch of pairs.

    Attributes:
      factors: int64 [batch, 2, num_factors], the factors of both views.
      shared_mask: bool [batch, num_factors], True where both views have the same value.
      num_shared: int32 [batch], the factors each pair shares (= shared_mask.sum(-1)).
      changed_index: int32 [batch], the last factor drawn to change, -1 if none.
    """
    factors: np.ndarray
    shared_mask: np.ndarray
    num_shared: np.ndarray
    changed_index: np.ndarray


class PairBatch(NamedTuple):
    """A batch of weakly-supervised pairs: `PairFactors` plus the observations.

    Attributes:
      observations: float32 [batch, 2, *observation_shape]; [:, 0] is the first view.
      factors, shared_mask, num_shared, changed_index: as `PairFactors`.
    """
    observations: np.ndarray
    factors: np.ndarray
    shared_mask: np.ndarray
    num_shared: np.ndarray
    changed_index: np.ndarray


def _is_random(value):
    return (isinstance(value, str) and value.lower() == "random") or (
        not isinstance(value, (bool, str)) and isinstance(value, (int, np.integer))
        and value == RANDOM)


def _check_count(name, value, num_factors):
    if _is_random(value):
        return RANDOM
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 0 <= value <= num_factors:
        raise ValueError(f"{name} must be an integer in [0, {num_factors}] or {RANDOM} "
                         f"('random'), got {value!r}.")
    return int(value)


def check_dynamics(dynamics):
    """`dynamics` if it is one of `DYNAMICS`, else a ValueError naming it."""
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}.")
    return dynamics


def resolve_num_changed(num_factors, num_shared=None, num_changed=None):
    """The number of factors to change, from exactly one of `num_shared` and `num_changed`.

    Returns:
      k in [0, num_factors], or RANDOM.

    Raises:
      ValueError: if neither or both are given, or the one given is out of range.
    """
    if (num_shared is None) == (num_changed is None):
        raise ValueError("Give exactly one of num_shared and num_changed, got "
                         f"num_shared={num_shared!r}, num_changed={num_changed!r}.")
    if num_shared is not None:
        s = _check_count("num_shared", num_shared, num_factors)
        return RANDOM if s == RANDOM else num_factors - s
    return _check_count("num_changed", num_changed, num_factors)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)


def sample_pair_factors(ground_truth_data, batch_size, random_state, num_shared=None,
                        num_changed=None, dynamics="exact"):
    """Factor vectors of `batch_size` pairs (see the module docstring for the two dynamics).

    The first view's factors come from `ground_truth_data.sample_factors`; the second copies them
    and changes some of them.

    Args:
      ground_truth_data: a disentanglement_lib `GroundTruthData`.
      batch_size: positive int.
      random_state: `np.random.RandomState`.
      num_shared: s in [0, num_factors], or RANDOM (-1 / "random"); or give `num_changed`.
      num_changed: k in [0, num_factors], or RANDOM; or give `num_shared`.
      dynamics: "exact" (exactly s shared) or "dlib" (disentanglement_lib's `simple_dynamics`).

    Returns:
      PairFactors(factors int64 [batch, 2, num_factors], shared_mask bool [batch, num_factors],
      num_shared int32 [batch], changed_index int32 [batch]).

    Raises:
      ValueError: naming the argument, for a bad batch_size, num_shared, num_changed or dynamics,
        or when "exact" dynamics must change more factors than have two or more values.
    """
    batch_size = _check_batch_size(batch_size)
    check_dynamics(dynamics)
    sizes = np.asarray(ground_truth_data.factors_num_values, np.int64)
    num_factors = len(sizes)
    k = resolve_num_changed(num_factors, num_shared, num_changed)
    changeable = int(np.sum(sizes >= 2)) if dynamics == "exact" else num_factors
    if k == RANDOM:
        high = min(num_factors - 1, changeable)
        if high < 1:
            raise ValueError(f"num_shared/num_changed = {RANDOM} (random) needs at least two "
                             f"factors with two or more values; factors_num_values = "
                             f"{sizes.tolist()}.")
        k = random_state.randint(1, high + 1, size=batch_size)
    elif k > changeable:
        name, value = (("num_changed", num_changed) if num_changed is not None
                       else ("num_shared", num_shared))
        raise ValueError(f"{name}={value!r} needs {k} factors to change, but only {changeable} "
                         f"have two or more values ({sizes.tolist()}).")
    k = np.broadcast_to(np.asarray(k, np.int64), (batch_size,))

    first = np.asarray(ground_truth_data.sample_factors(batch_size, random_state), np.int64)
    # Draw the factors to change in a random order per pair and change the first `count`.
    keys = random_state.uniform(size=(batch_size, num_factors))
    if dynamics == "exact":
        keys[:, sizes < 2] = 2.  # constant factors last: never drawn
        count = k
        # Adding an offset in [1, size - 1] modulo size moves a factor to a uniform other value.
        offset = random_state.randint(1, np.maximum(sizes, 2), size=(batch_size, num_factors))
        new_values = (first + offset) % sizes
    else:
        count = np.where(random_state.uniform(size=batch_size) < 0.5, 1, k)
        new_values = np.floor(random_state.uniform(size=(batch_size, num_factors))
                              * sizes).astype(np.int64)
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    changed = rank < count[:, None]
    second = np.where(changed, new_values, first)
    last_drawn = rank == (count[:, None] - 1)
    changed_index = np.where(count > 0, np.argmax(last_drawn, axis=1), -1).astype(np.int32)
    shared_mask = first == second
    return PairFactors(np.stack([first, second], axis=1), shared_mask,
                       shared_mask.sum(axis=1).astype(np.int32), changed_index)


def sample_pairs(ground_truth_data, batch_size, random_state, num_shared=None, num_changed=None,
                 dynamics="exact"):
    """`batch_size` pairs of observations (see `sample_pair_factors`).

    Both views are rendered with one call of `sample_observations_from_factors`.

    Returns:
      PairBatch(observations float32 [batch, 2, *observation_shape], factors int64
      [batch, 2, num_factors], shared_mask bool [batch, num_factors], num_shared int32 [batch],
      changed_index int32 [batch]).

    Raises:
      ValueError: as `sample_pair_factors`.
    """
    pair_factors = sample_pair_factors(ground_truth_data, batch_size, random_state, num_shared,
                                       num_changed, dynamics)
    factors = pair_factors.factors
    flat = factors.reshape(-1, factors.shape[-1])   # [x1_0, x2_0, x1_1, x2_1, ...]
    observations = np.asarray(
        ground_truth_data.sample_observations_from_factors(flat, random_state), np.float32)
    observations = observations.reshape((factors.shape[0], 2) + observations.shape[1:])
    return PairBatch(observations, *pair_factors)


def pair_batches(ground_truth_data, batch_size, seed, num_shared=None, num_changed=None,
                 dynamics="exact"):
    """Endless generator of `PairBatch`es from `np.random.RandomState(seed)`.

    Each new generator starts again from `seed`, so a tf.data pipeline built on it replays the same
    batches when re-initialized (as disentanglement_lib's own input functions do).

    Raises:
      ValueError: as `sample_pair_factors`, when the generator is created (not at first `next`).
    """
    batch_size = _check_batch_size(batch_size)
    check_dynamics(dynamics)
    resolve_num_changed(len(ground_truth_data.factors_num_values), num_shared, num_changed)

    def generate():
        random_state = np.random.RandomState(seed)
        while True:
            yield sample_pairs(ground_truth_data, batch_size, random_state, num_shared,
                               num_changed, dynamics)
    return generate()


def pair_dataset_signature(ground_truth_data, batch_size):
    """The `tf.TensorSpec`s of `make_pair_dataset`'s elements (observations, labels dict)."""
    import tensorflow as tf
    num_factors = len(ground_truth_data.factors_num_values)
    shape = list(ground_truth_data.observation_shape)
    return (tf.TensorSpec([batch_size, 2] + shape, tf.float32),
            {"factors": tf.TensorSpec([batch_size, 2, num_factors], tf.int64),
             "shared_mask": tf.TensorSpec([batch_size, num_factors], tf.bool),
             "num_shared": tf.TensorSpec([batch_size], tf.int32),
             "changed_index": tf.TensorSpec([batch_size], tf.int32)})


def make_pair_dataset(ground_truth_data, batch_size, seed, num_shared=None, num_changed=None,
                      num_batches=None, dynamics="exact"):
    """A `tf.data.Dataset` of whole batches of pairs (static shapes, endless unless `num_batches`).

    Elements are `(observations, labels)`: observations float32 [batch, 2, *observation_shape],
    labels {"factors": int64 [batch, 2, n], "shared_mask": bool [batch, n],
    "num_shared": int32 [batch], "changed_index": int32 [batch]}. Batches are rendered whole
    (vectorized), not one example at a time.

    Args:
      ground_truth_data, batch_size, num_shared, num_changed, dynamics: as `sample_pair_factors`.
      seed: int seed of the generator's `np.random.RandomState` (each iteration restarts from it).
      num_batches: None for an endless data set, else the number of batches.

    Raises:
      ValueError: as `sample_pair_factors`, or a negative `num_batches`.
    """
    import tensorflow as tf
    batch_size = _check_batch_size(batch_size)
    check_dynamics(dynamics)
    resolve_num_changed(len(ground_truth_data.factors_num_values), num_shared, num_changed)
    if num_batches is not None and (isinstance(num_batches, bool) or not isinstance(
            num_batches, (int, np.integer)) or num_batches < 0):
        raise ValueError(f"num_batches must be None or a non-negative integer, "
                         f"got {num_batches!r}.")

    def generate():
        for batch in pair_batches(ground_truth_data, batch_size, seed, num_shared, num_changed,
                                  dynamics):
            yield batch.observations, {"factors": batch.factors,
                                       "shared_mask": batch.shared_mask,
                                       "num_shared": batch.num_shared,
                                       "changed_index": batch.changed_index}

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=pair_dataset_signature(ground_truth_data, batch_size))
    if num_batches is not None:
        dataset = dataset.take(num_batches)
    return dataset


def make_input_fn(ground_truth_data, seed, num_shared=None, num_changed=None, num_batches=None,
                  dynamics="exact"):
    """An Estimator/TPUEstimator `input_fn(params, input_context=None)` returning
    `make_pair_dataset(...)`.

    The batch size is read from `params["batch_size"]` (TPUEstimator passes its train/eval batch
    size there); under a distribution strategy (an `input_context`: one call per worker, whose
    replicas take consecutive batches) it is the global batch, and each batch is one replica's
    share of it. Features are the observations [batch, 2, *observation_shape]; labels the dict of
    `make_pair_dataset`.

    Raises:
      ValueError: as `resolve_num_changed` or `check_dynamics`, when `make_input_fn` is called.
    """
    check_dynamics(dynamics)
    resolve_num_changed(len(ground_truth_data.factors_num_values), num_shared, num_changed)

    def input_fn(params, input_context=None):
        batch_size = params["batch_size"]
        if input_context is not None:  # a distribution strategy: each replica takes its share
            batch_size = input_context.get_per_replica_batch_size(batch_size)
        return make_pair_dataset(ground_truth_data, batch_size, seed, num_shared, num_changed,
                                 num_batches, dynamics)
    return input_fn
