# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`random_bits`: Philox uniforms inside the open unit interval."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_mvhg.internal import random_bits


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_uniform_bits_stay_inside_the_open_unit_interval(dtype):
    extremes = tf.constant([0, -1, 2**62, 2**63 - 1], tf.int64)  # all-zero and all-one words
    uniforms = random_bits.uniform_from_bits(extremes, dtype).numpy()
    assert np.all((uniforms > 0) & (uniforms < 1))
    assert np.all(np.isfinite(-np.log(-np.log(uniforms))))
    many = random_bits.stateless_open_uniform([200000], tf.constant([1, 2]), dtype).numpy()
    assert abs(many.mean() - 0.5) < 5 * np.sqrt(1 / 12 / len(many))
