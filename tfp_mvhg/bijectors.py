# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Bijectors for the relaxed one-hots: `PaddedExp`, `tfb.Exp` with -inf padding."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

__all__ = ["PaddedExp"]


class PaddedExp(tfp.bijectors.AutoCompositeTensorBijector):
    """`Y = exp(X)` elementwise, where `X = -inf` is padding: a point mass sent to `Y = 0`.

    The log-det-Jacobian sums `X` over finite entries only (`tfb.Exp` sums every entry, -inf with
    padding); in the inverse direction it sums `-log Y` over `Y > 0`. So an event whose padding is
    -inf (log space) or 0 (one-hots) keeps the density of its other coordinates.
    """

    def __init__(self, validate_args=False, name="padded_exp"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            super().__init__(forward_min_event_ndims=0, validate_args=validate_args,
                             parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype):
        return dict()

    @classmethod
    def _is_increasing(cls):
        return True

    def _forward(self, x):
        return tf.exp(x)

    def _inverse(self, y):
        return tf.math.log(y)

    def _forward_log_det_jacobian(self, x):
        return tf.where(x > -np.inf, x, tf.zeros_like(x))

    def _inverse_log_det_jacobian(self, y):
        positive = y > 0.
        return -tf.where(positive, tf.math.log(tf.where(positive, y, tf.ones_like(y))),
                         tf.zeros_like(y))
