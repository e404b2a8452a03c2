# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Keras layers around the relaxed MVHG sampler.

`MVHGLayer` returns tensors, so it works with tf.keras (Keras 2, TF 2.15) and with Keras 3
(TF >= 2.16) alike. `relaxed_mvhg_distribution_lambda` returns a `tfp.layers.DistributionLambda`,
which needs the Keras that `tfp.layers` is built on (tf.keras on TF 2.15, tf_keras on Keras-3
stacks).
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_mvhg.internal import conditionals
from tfp_mvhg.relaxed import RelaxedMultivariateHypergeometric

__all__ = ["MVHGLayer", "relaxed_mvhg_distribution_lambda"]


def _check_counts(num_per_class, total_count):
    num_per_class = np.asarray(num_per_class, np.float64)
    if num_per_class.ndim != 1 or num_per_class.size == 0:
        raise ValueError(f"`num_per_class` must be a non-empty list of counts, got "
                         f"{num_per_class.tolist()!r}.")
    if np.any(num_per_class < 0) or np.any(num_per_class != np.round(num_per_class)):
        raise ValueError(f"`num_per_class` must hold non-negative integers, got "
                         f"{num_per_class.tolist()!r}.")
    if not (0 <= total_count <= num_per_class.sum() and total_count == round(total_count)):
        raise ValueError(f"`total_count` must be an integer in [0, sum(num_per_class)] = "
                         f"[0, {num_per_class.sum():g}], got {total_count!r}.")
    return [int(m) for m in num_per_class], int(total_count)


@tf.keras.utils.register_keras_serializable(package="tfp_mvhg")
class MVHGLayer(tf.keras.layers.Layer):
    """Relaxed MVHG counts from class logits: `[batch, c]` logits -> `[batch, c]` counts.

    Each row draws one sample of `RelaxedMultivariateHypergeometric(num_per_class, total_count,
    temperature, logits=row)`: straight-through integer counts (`hard=True`) or soft counts, which
    sum to `total_count` and are differentiable w.r.t. the logits. The temperature is a
    non-trainable weight (`layer.temperature`), e.g. driven by `TemperatureAnnealing`.

    At inference (`training=False` or None, e.g. `predict`) the layer returns what `inference`
    says: "sample" (the default: a draw, as in training), "mode" (the exact most probable counts,
    deterministic) or "mean" (the exact `E[X]`, not integer); "mode" and "mean" need
    `method="exact"`, and "mean" has no one-hots. The layer's dtype is float32 unless given
    (`dtype="float64"` for double precision), not the global Keras policy, and 16-bit inputs are
    computed in float32: under `mixed_bfloat16`, counts above 256 would not be exact integers.

    Args:
      num_per_class: list of c non-negative integers m (static: it fixes the table sizes).
      total_count: integer n <= sum(m).
      temperature: initial Gumbel-softmax temperature (> 0).
      hard, method, shuffle_classes, table_dtype: as for `RelaxedMultivariateHypergeometric`
        (`table_dtype="float32"`: faster exact draws, within a stated total-variation error).
      return_one_hots: also return the per-class relaxed one-hots `[batch, c, W]`,
        W = min(max m, n) + 1.
      seed: optional int for reproducible draws (an op-level seed); under a `tf.distribute`
        strategy each replica folds its id into the drawn seed, so replicas (devices, workers)
        draw different noise.
      inference: "sample", "mode" or "mean": the output at inference (see above).
    """

    INFERENCE = ("sample", "mode", "mean")

    def __init__(self, num_per_class, total_count, temperature=1.0, hard=True, method="exact",
                 shuffle_classes=False, return_one_hots=False, seed=None, inference="sample",
                 table_dtype="float64", **kwargs):
        kwargs.setdefault("dtype", "float32")  # not the global mixed-precision policy
        super().__init__(**kwargs)
        if inference not in self.INFERENCE:
            raise ValueError(f"`inference` must be one of {self.INFERENCE}, got {inference!r}.")
        if inference != "sample" and method != "exact":
            raise ValueError(f"`inference={inference!r}` needs method='exact' (the merged "
                             "scheme's mode and mean are not the MVHG's).")
        if inference == "mean" and return_one_hots:
            raise ValueError("`inference='mean'` has no one-hots: use return_one_hots=False.")
        self.inference = inference
        self.num_per_class, self.total_count = _check_counts(num_per_class, total_count)
        if method not in conditionals.METHODS:
            raise ValueError(f"`method` must be one of {conditionals.METHODS}, got {method!r}.")
        if not float(temperature) > 0:
            raise ValueError(f"`temperature` must be positive, got {temperature!r}.")
        self.initial_temperature = float(temperature)
        self.hard, self.method, self.shuffle_classes = bool(hard), method, bool(shuffle_classes)
        self.table_dtype = conditionals.check_table_dtype(table_dtype).name
        self.return_one_hots = bool(return_one_hots)
        self.seed = seed
        self.window = min(max(self.num_per_class), self.total_count) + 1
        self.temperature = self.add_weight(
            name="temperature", shape=(), trainable=False, dtype="float32",
            initializer=tf.keras.initializers.Constant(self.initial_temperature))

    def build(self, input_shape):
        num_classes = input_shape[-1]
        if num_classes is not None and num_classes != len(self.num_per_class):
            raise ValueError(f"Logits have {num_classes} classes but `num_per_class` has "
                             f"{len(self.num_per_class)}.")
        super().build(input_shape)

    def distribution(self, logits):
        """The `RelaxedMultivariateHypergeometric` with batch shape `[batch]` for these logits."""
        logits = tf.convert_to_tensor(logits)
        return RelaxedMultivariateHypergeometric(
            tf.constant(self.num_per_class, logits.dtype),
            tf.constant(self.total_count, logits.dtype),
            tf.cast(tf.convert_to_tensor(self.temperature), logits.dtype), logits=logits,
            hard=self.hard, method=self.method, shuffle_classes=self.shuffle_classes,
            table_dtype=self.table_dtype)

    def call(self, logits, seed=None, training=None):
        """Counts `[batch, c]` (and one-hots `[batch, c, W]` if `return_one_hots`).

        Args:
          logits: `[batch, c]` float log class weights (16-bit floats are computed in float32).
          seed: optional stateless seed `[2]` int32 (used as given on every replica); by default
            a fresh one per call and per replica.
          training: whether this is a training call (else `inference` decides the output).
        """
        logits = tf.convert_to_tensor(logits)
        if logits.dtype not in (tf.float32, tf.float64):
            logits = tf.cast(logits, tf.float32)
        distribution = self.distribution(logits)
        if not training and self.inference != "sample":
            counts = distribution.mode() if self.inference == "mode" else distribution.mean()
            if self.return_one_hots:
                one_hots = tf.one_hot(tf.cast(counts, tf.int32), self.window, dtype=counts.dtype)
                return counts, one_hots
            return counts
        if seed is None:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32, seed=self.seed)
            # Every replica builds this op with the same seeds (and workers the same graph): the
            # replica id tells their draws apart.
            replica = tf.distribute.get_replica_context()
            if replica is not None and replica.num_replicas_in_sync > 1:
                seed = tf.random.experimental.stateless_fold_in(
                    seed, replica.replica_id_in_sync_group)
        sample = distribution.sample_with_details(seed=seed)
        if self.return_one_hots:
            return sample.counts, sample.one_hots
        return sample.counts

    def compute_output_shape(self, input_shape):
        counts = tuple(input_shape)
        if self.return_one_hots:
            return counts, counts + (self.window,)
        return counts

    def get_config(self):
        config = super().get_config()
        config.update(num_per_class=[int(m) for m in self.num_per_class],
                      total_count=self.total_count, temperature=self.initial_temperature,
                      hard=self.hard, method=self.method,
                      shuffle_classes=self.shuffle_classes, return_one_hots=self.return_one_hots,
                      seed=self.seed, inference=self.inference, table_dtype=self.table_dtype)
        return config


def relaxed_mvhg_distribution_lambda(num_per_class, total_count, temperature, **kwargs):
    """A `tfp.layers.DistributionLambda`: `[batch, c]` logits -> RelaxedMultivariateHypergeometric.

    The layer's output is the distribution (batch shape `[batch]`) and converts to a relaxed
    sample when used as a tensor. `kwargs` go to the distribution (hard, method, ...).
    """
    num_per_class, total_count = _check_counts(num_per_class, total_count)

    def make_distribution(logits):
        return RelaxedMultivariateHypergeometric(
            tf.constant(num_per_class, logits.dtype), tf.constant(total_count, logits.dtype),
            tf.constant(temperature, logits.dtype), logits=logits, **kwargs)

    return tfp.layers.DistributionLambda(make_distribution,
                                         convert_to_tensor_fn=lambda dist: dist.sample())
