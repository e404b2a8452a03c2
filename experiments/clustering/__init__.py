"""Deep variational clustering (VaDE) with a hypergeometric cluster-size prior (paper section 5.3).

Modules:
  data     MNIST (local copy only, never downloaded) and scikit-learn's 8x8 digits; the uniform,
           80% and 60% dataset versions (half of the classes subsampled).
  metrics  clustering accuracy (Hungarian matching), NMI, ARI.
  vade     the VaDE model, the three assignment priors (uniform, categorical, hypergeometric),
           autoencoder pretraining, GMM initialisation and joint training.
  run      one run: `python -m experiments.clustering.run --prior hypergeometric ...`.
  table    the Table 2 analogue: `python -m experiments.clustering.table`.
"""

PRIORS = ("uniform", "categorical", "hypergeometric")  # the assignment priors of `vade`
