"""tfp_mvhg: the multivariate Fisher noncentral hypergeometric distribution for TFP.

Public API:
  MultivariateHypergeometric: exact log_prob, sample, mean, covariance, KL.
  FisherNoncentralHypergeometric: the two-class (univariate) case.
  kl_divergence: `tfd.kl_divergence`, with the MVHG pair registered.
"""

import tensorflow_probability as tfp

from tfp_mvhg.fisher import FisherNoncentralHypergeometric
from tfp_mvhg.multivariate_hypergeometric import MultivariateHypergeometric

kl_divergence = tfp.distributions.kl_divergence

__all__ = ["FisherNoncentralHypergeometric", "MultivariateHypergeometric", "kl_divergence"]
__version__ = "0.1.0"
