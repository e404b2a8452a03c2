# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""tfp_mvhg: the multivariate Fisher noncentral hypergeometric distribution for TFP.

Public API:
  MultivariateHypergeometric: exact log_prob, sample, mean, covariance, KL.
  FisherNoncentralHypergeometric: the two-class (univariate) case.
  RelaxedMultivariateHypergeometric: differentiable samples (per-class Gumbel-softmax).
  RelaxedSample, counts_from_one_hots: what Algorithm 1 returns; one-hots to counts.
  ExpRelaxedMultivariateHypergeometric, RelaxedOneHotMultivariateHypergeometric: the relaxed
    per-class (log) one-hots as distributions with a density (a chain of Concrete densities).
  MVHGLayer, relaxed_mvhg_distribution_lambda: Keras layers.
  temperature_schedule, TemperatureAnnealing: exponential annealing and its Keras callback.
  kl_divergence: `tfd.kl_divergence`, with the MVHG pair registered.

Public modules besides: `bijectors` (`PaddedExp`, the relaxed one-hots' `tfb.Exp`) and
`relaxed_sampling`. `tfp_mvhg.internal` holds the computations and is not public API.
"""

import tensorflow_probability as tfp

from tfp_mvhg.fisher import FisherNoncentralHypergeometric
from tfp_mvhg.layers import MVHGLayer
from tfp_mvhg.layers import relaxed_mvhg_distribution_lambda
from tfp_mvhg.multivariate_hypergeometric import MultivariateHypergeometric
from tfp_mvhg.relaxed import RelaxedMultivariateHypergeometric
from tfp_mvhg.relaxed_one_hot import ExpRelaxedMultivariateHypergeometric
from tfp_mvhg.relaxed_one_hot import RelaxedOneHotMultivariateHypergeometric
from tfp_mvhg.relaxed_sampling import RelaxedSample
from tfp_mvhg.relaxed_sampling import counts_from_one_hots
from tfp_mvhg.schedule import TemperatureAnnealing
from tfp_mvhg.schedule import temperature_schedule

kl_divergence = tfp.distributions.kl_divergence

__all__ = ["ExpRelaxedMultivariateHypergeometric", "FisherNoncentralHypergeometric",
           "MultivariateHypergeometric", "MVHGLayer", "RelaxedMultivariateHypergeometric",
           "RelaxedOneHotMultivariateHypergeometric", "RelaxedSample",
           "TemperatureAnnealing", "counts_from_one_hots", "kl_divergence",
           "relaxed_mvhg_distribution_lambda", "temperature_schedule"]
__version__ = "0.1.0"
