# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""tfp_mvhg: the multivariate Fisher noncentral hypergeometric distribution for TFP.

An urn holds `m_i` balls of class i, each of weight `omega_i`; `n` balls are drawn. The counts
`x` (sum x = n, 0 <= x_i <= m_i) follow

    p(x) = prod_i C(m_i, x_i) omega_i^{x_i} / P_0,   P_0 = sum over all such y of the same product.

`MultivariateHypergeometric` computes it exactly (log_prob, sample, mean, covariance, KL);
`RelaxedMultivariateHypergeometric` draws differentiable samples (one Gumbel-softmax per class,
conditioned on the classes before it), so that omega can be learned by gradient descent:

    import tfp_mvhg

    urn = tfp_mvhg.MultivariateHypergeometric(
        num_per_class=[200., 200., 200.], total_count=180., logits=[0., 1., 0.])
    counts = urn.sample(5, seed=42)          # [5, 3] integer-valued, each row sums to 180
    urn.log_prob(counts)                     # [5]
    relaxed = tfp_mvhg.RelaxedMultivariateHypergeometric(
        num_per_class=[200., 200., 200.], total_count=180., logits=[0., 1., 0.],
        temperature=0.5)
    relaxed.sample(seed=42)                  # counts with a gradient to the logits

Public names:

- `MultivariateHypergeometric`: exact log_prob, sample, mean, covariance, KL.
- `RelaxedMultivariateHypergeometric`: differentiable samples (per-class Gumbel-softmax).
- `FisherNoncentralHypergeometric`: the two-class (univariate) case.
- `RelaxedSample`, `counts_from_one_hots`: what the relaxed sampler returns; one-hots to counts.
- `ExpRelaxedMultivariateHypergeometric`, `RelaxedOneHotMultivariateHypergeometric`: the relaxed
  per-class (log) one-hots as distributions with a density (a chain of Concrete densities).
- `MVHGLayer`, `relaxed_mvhg_distribution_lambda`: Keras layers.
- `temperature_schedule`, `TemperatureAnnealing`: exponential annealing and its Keras callback.
- `kl_divergence`: `tfd.kl_divergence`, with the MVHG pair registered.

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

__all__ = ["MultivariateHypergeometric", "RelaxedMultivariateHypergeometric",
           "FisherNoncentralHypergeometric", "RelaxedSample", "counts_from_one_hots",
           "ExpRelaxedMultivariateHypergeometric", "RelaxedOneHotMultivariateHypergeometric",
           "MVHGLayer", "relaxed_mvhg_distribution_lambda", "temperature_schedule",
           "TemperatureAnnealing", "kl_divergence"]
__version__ = "0.1.0"
