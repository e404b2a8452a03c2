# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""How clusterable a pretrained autoencoder's latent space is, beside pixel baselines.

    python -m mvhg_clustering.diagnose PRETRAIN.npz [...] --dataset mnist10k [--version 100]
        [--data-dir DIR]

For each pretraining cache that `mvhg_clustering.run` wrote (`--hidden`: its architecture), the
training images' latent means are clustered by k-means and by Gaussian mixtures with diagonal
covariances (VaDE's, the joint model's starting point) and with full ones; beside them k-means on
the raw pixels and on their first 10 principal components. Prints the accuracy of each on the
training images (10 restarts each, fixed seeds), so the start of joint training can be told apart
from what the embedding allows.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from mvhg_clustering import data as data_lib  # noqa: E402
from mvhg_clustering import metrics  # noqa: E402

__all__ = ["latent_scores", "main", "pixel_scores"]

RESTARTS = 10


def _kmeans(x):
    from sklearn.cluster import KMeans  # pylint: disable=import-outside-toplevel
    return KMeans(10, n_init=RESTARTS, random_state=0).fit_predict(x)


def _gmm(x, covariance):
    from sklearn.mixture import GaussianMixture  # pylint: disable=import-outside-toplevel
    return GaussianMixture(10, covariance_type=covariance, n_init=RESTARTS,
                           random_state=0).fit(x).predict(x)


def pixel_scores(x, y):
    """ACC of k-means on the pixels and on their 10 leading principal components."""
    from sklearn.decomposition import PCA  # pylint: disable=import-outside-toplevel
    return {"kmeans_pixels": metrics.cluster_accuracy(y, _kmeans(x)),
            "kmeans_pca10": metrics.cluster_accuracy(
                y, _kmeans(PCA(10, random_state=0).fit_transform(x)))}


def latent_scores(path, x, y, hidden=(500, 500, 2000)):
    """ACC of k-means and of diagonal and full GMMs on the latent means of cache `path` (an
    encoder of the given hidden sizes)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    model = vade.VaDE(x.shape[1], hidden=hidden)
    with np.load(path, allow_pickle=False) as cache:
        weights = [cache[f"w{i}"] for i in range(len(model.encoder_body.weights))]
    model.encoder_body.set_weights(weights)
    latent = model.encoder_body(tf.constant(x, tf.float32)).numpy()
    return {"kmeans_latent": metrics.cluster_accuracy(y, _kmeans(latent)),
            "gmm_diag_latent": metrics.cluster_accuracy(y, _gmm(latent, "diag")),
            "gmm_full_latent": metrics.cluster_accuracy(y, _gmm(latent, "full"))}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mvhg_clustering.diagnose",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("caches", nargs="+", help="pretraining caches (.npz) of one data set")
    parser.add_argument("--dataset", choices=data_lib.DATASETS, default="mnist10k")
    parser.add_argument("--version", type=int, choices=data_lib.VERSIONS, default=100)
    parser.add_argument("--hidden", default="500,500,2000", help="the caches' hidden sizes")
    parser.add_argument("--data-dir", default=None,
                        help="cache of mnist10k/fashion (else $CLUSTERING_DATA_DIR, else "
                             "experiments/clustering/data_cache; made by get_data)")
    args = parser.parse_args(argv)
    try:
        split = data_lib.load_split(args.dataset, args.version, data_dir=args.data_dir)
    except data_lib.DataError as error:
        parser.error(str(error))
    x, y = split.x_train, split.y_train
    for name, score in pixel_scores(x, y).items():
        print(f"{name}: acc {score:.4f}")
    for path in args.caches:
        scores = latent_scores(path, x, y, tuple(int(h) for h in args.hidden.split(",")))
        print(f"{path}: " + ", ".join(f"{name} {score:.4f}" for name, score in scores.items()))


if __name__ == "__main__":
    main()
