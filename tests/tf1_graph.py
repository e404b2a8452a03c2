# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A helper for tests of TF1-graph code (disentanglement_lib's models)."""
import tensorflow.compat.v1 as tf


def run_graph(build):
    """Builds `build()` in a fresh TF1 graph (graph seed 0), initializes its variables and returns
    the evaluated outputs."""
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        outputs = build()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return session.run(outputs)
