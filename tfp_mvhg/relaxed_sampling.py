# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""What the relaxed sampler returns, and the straight-through counts of relaxed one-hots."""

import collections

import tensorflow as tf

__all__ = ["RelaxedSample", "counts_from_one_hots"]

RelaxedSample = collections.namedtuple("RelaxedSample", ["counts", "one_hots", "logits", "mask"])
RelaxedSample.__doc__ = """What Algorithm 1 returns, for `sample_shape + batch_shape = [...]`.

counts:   `[..., c]` counts (straight-through integers when hard, else soft); they sum to n.
one_hots: `[..., c, W]` per-class relaxed one-hot vectors over x = 0..W-1.
logits:   `[..., c, W]` per-class conditional logits alpha_i (normalised; -inf where impossible).
mask:     `[..., c, W]` bool, True where x <= min(m_i, n): the padding to the common length W.
"""


def counts_from_one_hots(one_hots, hard):
    """Count index of per-class relaxed one-hots: `x = sum_k k y[k]`, `[..., W] -> [...]`.

    With `hard=True` the forward value is the integer `argmax_k y[k]` and the gradient is that of
    the soft count `sum_k k y[k]` (straight-through). This map is not invertible (many soft
    vectors share a count), so it is a plain function rather than a `tfb.Bijector`, and the
    relaxed distribution has no density for soft samples.
    """
    positions = tf.range(tf.shape(one_hots)[-1], dtype=one_hots.dtype)
    soft = tf.reduce_sum(one_hots * positions, axis=-1)
    if not hard:
        return soft
    index = tf.cast(tf.argmax(one_hots, axis=-1), one_hots.dtype)
    return index + (soft - tf.stop_gradient(soft))
