# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Evaluation of a weakly-supervised run (paper section 5.2, appendix C.2.5).

- s_hat: the estimator's EVAL metrics (`s_hat_mean`, `mse_s` = mean (s - s_hat)^2 over pairs).
- - Downstream scores: for every ground-truth factor f, a logistic regression predicts f of the
  first view from the *shared* part of its representation (encoder means with the dimensions the
  model calls independent set to 0), trained and tested on the pairs in which f is shared; likewise
  from the *independent* part on the pairs in which f differs. Scores are scikit-learn's adjusted
  balanced accuracy (0 = chance, 1 = perfect), averaged over factors: `shared_score` should be high
  (the shared part carries the shared factors) and so should `independent_score`. `factor_score`
  predicts each factor from the whole representation: whether it is encoded at all, wherever it
  sits.
- disentanglement_lib's own metrics (MIG, DCI, SAP, modularity/explicitness, ...) on the mean
  representation of single images, through its `postprocess` and `evaluate` and in its directory
  layout (`DisentanglementLibMetrics`).
"""

import os

import gin.tf
import numpy as np
import tensorflow.compat.v1 as tf
from sklearn import linear_model
from sklearn import metrics as sk_metrics
from sklearn import preprocessing

from disentanglement_ext import _shims_required  # noqa: F401  (before disentanglement_lib)
from disentanglement_ext import files
from disentanglement_ext import pairs

from disentanglement_lib.evaluation import evaluate
from disentanglement_lib.postprocessing import methods as postprocess_methods
from disentanglement_lib.postprocessing import postprocess

# gin names of disentanglement_lib's metrics that run on any ground-truth data set with a trained
# representation (the downstream/fairness/abstract-reasoning studies need more than that).
DLIB_METRICS = ("mig", "dci", "sap_score", "modularity_explicitness", "beta_vae_sklearn",
                "factor_vae_score", "irs", "unsupervised_metrics")


def _predict(estimator, observations, changed_index, shared_mask):
    """Estimator predictions for pairs `[N, 2, H, W, C]` with their `changed_index` `[N]` and
    `shared_mask` `[N, F]` labels: dict of `[N, ...]` arrays (whole batches only)."""
    def input_fn(params):
        dataset = tf.data.Dataset.from_tensor_slices(
            {"observations": observations.astype(np.float32),
             "changed_index": changed_index.astype(np.int32),
             "shared_mask": shared_mask.astype(bool)})
        return dataset.batch(params["batch_size"], drop_remainder=True)

    rows = list(estimator.predict(input_fn=input_fn, yield_single_examples=True))
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def linear_probe_score(features, labels, train, test, inverse_regularization=1.):
    """Adjusted balanced accuracy (0 = chance, 1 = perfect) of a standardized multinomial logistic
    regression (scikit-learn, L2 penalty with inverse strength `inverse_regularization`) trained
    on the rows `train` and tested on the rows `test` (bool masks); None if either has fewer than
    20 rows or the training labels one value."""
    if train.sum() < 20 or test.sum() < 20 or len(np.unique(labels[train])) < 2:
        return None
    scaler = preprocessing.StandardScaler().fit(features[train])
    classifier = linear_model.LogisticRegression(C=inverse_regularization, max_iter=1000)
    classifier.fit(scaler.transform(features[train]), labels[train])
    predicted = classifier.predict(scaler.transform(features[test]))
    return float(sk_metrics.balanced_accuracy_score(labels[test], predicted, adjusted=True))


def downstream_scores(representation, independent, factors, shared, num_train,
                      inverse_regularization=1.):
    """Adjusted balanced accuracy per factor from the shared and independent parts.

    Args:
      representation: `[N, d]` encoder means of the first view.
      independent: `[N, d]` mask in [0, 1] (rounded) of the dimensions the model keeps per view.
      factors: `[N, F]` integer ground-truth factors of the first view.
      shared: `[N, F]` bool, factor f shared by the pair.
      num_train: the first `num_train` pairs train the regressions, the rest test them.
      inverse_regularization: the probes' C (`linear_probe_score`).

    Returns:
      dict with `shared_score`, `independent_score` (means over factors that have data) and the
      per-factor lists `shared_scores`, `independent_scores` (None where a factor has too few
      pairs); and `factor_scores`, `factor_score`: each factor from the whole representation on
      all pairs, which says whether the representation encodes it at all.
    """
    independent = np.round(independent)
    parts = {"shared": representation * (1. - independent),
             "independent": representation * independent}
    scores = {}
    for part, features in parts.items():
        per_factor = []
        for factor in range(factors.shape[1]):
            select = shared[:, factor] if part == "shared" else ~shared[:, factor]
            train = select.copy()
            train[num_train:] = False
            test = select.copy()
            test[:num_train] = False
            per_factor.append(linear_probe_score(features, factors[:, factor], train, test,
                                                 inverse_regularization))
        scores[f"{part}_scores"] = per_factor
    train = np.arange(len(factors)) < num_train
    scores["factor_scores"] = [
        linear_probe_score(representation, factors[:, factor], train, ~train,
                           inverse_regularization) for factor in range(factors.shape[1])]
    for part in ("shared", "independent", "factor"):
        valid = [score for score in scores[f"{part}_scores"] if score is not None]
        scores[f"{part}_score"] = float(np.mean(valid)) if valid else None
    return scores


@gin.configurable("evaluate_weak", allowlist=["num_train", "num_test", "inverse_regularization"])
def evaluate_weak(estimator, ground_truth_data, num_shared, seed, num_train=10000,
                  num_test=5000, dynamics="exact", inverse_regularization=1.):
    """Downstream scores of a trained GroupVAE estimator on fresh pairs of the training's
    `dynamics` (see module docstring).

    `inverse_regularization` is the probes' C (scikit-learn's default 1). Measured on a perfect
    one-dimensional code of a 40-valued factor (10000 training rows), C = 1 scores 0.33, C = 100
    0.92 and C = 10^4 1.0: at C = 1 the penalty, not the representation, caps the position factors.
    """
    if not inverse_regularization > 0:
        raise ValueError(f"evaluate_weak.inverse_regularization must be positive, got "
                         f"{inverse_regularization!r}.")
    random_state = np.random.RandomState(seed)
    batch = pairs.sample_pairs(ground_truth_data, num_train + num_test, random_state,
                               num_shared=num_shared, dynamics=dynamics)
    predictions = _predict(estimator, batch.observations, batch.changed_index,
                           batch.shared_mask)
    count = len(predictions["mean_1"])  # whole batches only
    scores = downstream_scores(predictions["mean_1"], predictions["independent"],
                               batch.factors[:count, 0], batch.shared_mask[:count],
                               min(num_train, count - 1), inverse_regularization)
    scores["num_train"], scores["num_test"] = num_train, count - num_train
    return scores


def representation_dir(model_dir):
    """Where `DisentanglementLibMetrics.postprocess` puts a run's mean representation."""
    return os.path.join(model_dir, "postprocessed", "mean")


def metric_dir(model_dir, name):
    """Where `DisentanglementLibMetrics.evaluate` puts a run's metric `name`."""
    return os.path.join(model_dir, "metrics", "mean", name)


def read_scores(folder):
    """The numeric entries of a metric's `FOLDER/results/json/evaluation_results.json`; None if it
    is missing or does not parse (a truncated write)."""
    saved = files.read_json(os.path.join(folder, "results", "json", "evaluation_results.json"))
    if not isinstance(saved, dict):
        return None
    return {key: float(value) for key, value in saved.items()
            if isinstance(value, (int, float)) and key != "elapsed_time"}


@gin.configurable("dlib_metrics", allowlist=["metrics"])
class DisentanglementLibMetrics:
    """disentanglement_lib's metrics of a trained run's mean representation, in its layout.

    `postprocess` (`mean_representation` of the `gaussian_encoder` TF-Hub signature) writes
    `MODEL_DIR/postprocessed/mean`, and `evaluate` writes a metric to `MODEL_DIR/metrics/mean/NAME`
    (`results/json/evaluation_results.json`, with the operative gin config); both start afresh.
    Sample sizes are the metrics' own gin parameters (`mig.num_train`, `dci.num_test`, ...), set
    in `gin_configs/base.gin` and `cpu_small.gin`.

    Args:
      metrics: gin names of metrics, a subset of `DLIB_METRICS` (checked here, before training).
    """

    def __init__(self, metrics=("mig", "dci", "sap_score", "modularity_explicitness")):
        unknown = sorted(set(metrics) - set(DLIB_METRICS))
        if unknown:
            raise ValueError(f"`metrics` has unknown names {unknown}; known: {list(DLIB_METRICS)}.")
        self.metrics = tuple(metrics)

    def postprocess(self, model_dir, random_seed):
        """The mean representation of the run in `model_dir` (with a `tfhub` export)."""
        postprocess.postprocess(model_dir, representation_dir(model_dir), overwrite=True,
                                postprocess_fn=postprocess_methods.mean_representation,
                                random_seed=random_seed, name="mean")

    def evaluate(self, model_dir, name, random_seed):
        """Metric `name` of the postprocessed run, seeded by `random_seed`: `{score name: float}`,
        e.g. `{"discrete_mig": 0.12}`."""
        print(f"[train_weak] disentanglement_lib metric {name} ...", flush=True)
        folder = metric_dir(model_dir, name)
        evaluate.evaluate(representation_dir(model_dir), folder, overwrite=True,
                          evaluation_fn=gin.get_configurable(name), random_seed=random_seed,
                          name=name)
        return read_scores(folder)
