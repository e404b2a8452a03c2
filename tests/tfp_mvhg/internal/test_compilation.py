# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`compilation.function_when_eager`: a `tf.function` for eager calls, plain ops in graphs."""

import numpy as np
import tensorflow as tf

import tfp_mvhg
from tfp_mvhg.internal.compilation import function_when_eager


def test_eager_calls_run_one_trace_and_graphs_get_plain_ops():
    traces = []

    @function_when_eager
    def add_one(x):
        traces.append(tf.executing_eagerly())
        return x + 1.

    assert add_one(tf.constant(1.)).numpy() == 2. and add_one(tf.constant(2.)).numpy() == 3.
    assert traces == [False]  # traced once, then the trace runs
    graph = tf.function(add_one).get_concrete_function(tf.TensorSpec([])).graph
    assert not {"PartitionedCall", "StatefulPartitionedCall"} & {
        op.type for op in graph.get_operations()}


def test_functions_run_eagerly_give_the_same_draws_and_covariance():
    """The documented switch: `tf.config.run_functions_eagerly(True)` runs the loops op by op."""
    dist = tfp_mvhg.MultivariateHypergeometric([6., 3., 5.], 7., logits=[0.4, 1.2, -0.3])
    compiled = dist.sample(50, seed=(4, 2)), dist.covariance()
    tf.config.run_functions_eagerly(True)
    try:
        op_by_op = dist.sample(50, seed=(4, 2)), dist.covariance()
    finally:
        tf.config.run_functions_eagerly(False)
    np.testing.assert_array_equal(op_by_op[0], compiled[0])
    np.testing.assert_allclose(op_by_op[1], compiled[1], rtol=1e-12)
