# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Clustering metrics: accuracy under the best cluster-to-class matching, NMI, ARI."""

import numpy as np
from scipy import optimize
from sklearn import metrics as sk_metrics

__all__ = ["labels", "contingency", "best_matching", "cluster_accuracy", "clustering_scores",
           "mean_std", "format_mean_std"]


def labels(y_true, y_pred):
    """`(y_true, y_pred)` as int64 arrays; raises ValueError naming the argument unless both are
    1-D, of one length > 0, with integer values >= 0."""
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        values = np.asarray(values)
        if values.ndim != 1 or not len(values):
            raise ValueError(f"{name} must be a non-empty 1-D array of labels, got shape "
                             f"{values.shape}.")
        if np.issubdtype(values.dtype, np.floating):
            fractional = values[values != np.round(values)]
            if len(fractional):
                raise ValueError(f"{name} must hold integer labels, got {fractional[0]!r}.")
        elif not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{name} must hold integer labels, got dtype {values.dtype}.")
        if values.min() < 0:
            raise ValueError(f"{name} must hold labels >= 0, got {values.min()!r}.")
        arrays.append(values.astype(np.int64))
    if len(arrays[0]) != len(arrays[1]):
        raise ValueError(f"y_true and y_pred must have one length, got {len(arrays[0])} and "
                         f"{len(arrays[1])}.")
    return tuple(arrays)


def contingency(y_true, y_pred, num_clusters=None, num_classes=None):
    """`counts[k, c]` = number of points in cluster k with class c."""
    y_true, y_pred = labels(y_true, y_pred)
    num_clusters = max(int(y_pred.max()) + 1, num_clusters or 0)
    num_classes = max(int(y_true.max()) + 1, num_classes or 0)
    counts = np.zeros((num_clusters, num_classes), np.int64)
    np.add.at(counts, (y_pred, y_true), 1)
    return counts


def best_matching(y_true, y_pred, num_clusters=None, num_classes=None):
    """Cluster -> class map maximizing matched points (Hungarian, `linear_sum_assignment`).

    Returns an int array `mapping[k]` (the class of cluster k; -1 for clusters left unmatched
    when there are more clusters than classes).
    """
    counts = contingency(y_true, y_pred, num_clusters, num_classes)
    rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
    mapping = np.full(counts.shape[0], -1, np.int64)
    mapping[rows] = cols
    return mapping


def cluster_accuracy(y_true, y_pred):
    """Fraction of points whose cluster maps to their class under the best one-to-one map."""
    y_true, y_pred = labels(y_true, y_pred)
    mapping = best_matching(y_true, y_pred)
    return float(np.mean(mapping[y_pred] == y_true))


def clustering_scores(y_true, y_pred):
    """`{"acc", "nmi", "ari"}` as floats."""
    y_true, y_pred = labels(y_true, y_pred)
    return {"acc": cluster_accuracy(y_true, y_pred),
            "nmi": float(sk_metrics.normalized_mutual_info_score(y_true, y_pred)),
            "ari": float(sk_metrics.adjusted_rand_score(y_true, y_pred))}


def mean_std(values):
    """(mean, sample standard deviation with ddof=1; None for a single value: undefined)."""
    values = np.asarray(values, np.float64)
    if not len(values):
        raise ValueError("mean_std needs at least one value.")
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std


def format_mean_std(mean_std, digits=3, sign=""):
    """"mean ± std" of a `mean_std` pair, or the mean alone where one value leaves the spread
    undefined; `sign` "+" writes the mean's sign (differences)."""
    mean, std = mean_std
    return f"{mean:{sign}.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")
