# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`PaddedExp`: `tfb.Exp` whose -inf padding is a point mass."""

import numpy as np
import tensorflow_probability as tfp

import tfp_mvhg
from tfp_mvhg.bijectors import PaddedExp


def test_padded_exp_counts_only_the_unpadded_coordinates():
    bijector = tfp_mvhg.RelaxedOneHotMultivariateHypergeometric(
        [1., 1.], 1., 1., logits=[0., 0.]).bijector
    assert isinstance(bijector, PaddedExp)
    x = np.array([[-0.3, -1.4, -np.inf], [-2., -0.1, -np.inf]])
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(x, event_ndims=2), -3.8)
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(np.exp(x), event_ndims=2), 3.8)
    unpadded = x[:, :2]
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(unpadded, event_ndims=2),
                               tfp.bijectors.Exp().forward_log_det_jacobian(unpadded, 2))
    # TFP's Exp is not usable here: the padding makes its log-det-Jacobian -inf
    assert tfp.bijectors.Exp().forward_log_det_jacobian(x, event_ndims=2).numpy() == -np.inf
