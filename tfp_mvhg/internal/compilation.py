# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""How the loops over classes, samples and bisection steps run: `function_when_eager`.

Called eagerly, op by op, the exact draws, the windowed normalizer and the covariance sweeps took
3 to 10 times longer (measured), so eager calls run them as a `tf.function`. Called while a graph
is built (a caller's `tf.function`, XLA, a TF1 graph), they are plain ops of that graph: as a
nested `tf.function` they hid the caller's constants (the number of samples, the counts) from
XLA, and XLA's draws took 150 times longer (1.8 s instead of 11 ms for 10^5 draws, measured).
`tf.config.run_functions_eagerly(True)` runs the eager calls op by op too, for debugging.
"""

import functools

import tensorflow as tf

__all__ = ["function_when_eager"]


def function_when_eager(fn):
    """`fn` as a `tf.function` (`autograph=False`, shapes relaxed on retracing: one trace per
    table size and input signature) when called eagerly, else as plain ops (module docstring).
    Positional arguments only."""
    function = tf.function(fn, autograph=False, reduce_retracing=True)

    @functools.wraps(fn)
    def run(*args):
        return function(*args) if tf.executing_eagerly() else fn(*args)

    return run
