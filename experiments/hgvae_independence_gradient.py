# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Which way the GroupVAE objective pushes each latent dimension: independent or shared.

HGVAE's k_hat is learned from the gradient of the loss with respect to the mask of independent
dimensions, `dL / d ind_j` (the straight-through count passes it on to log omega). This measures it
on a trained run: with the run's weights and the top-k dimensions of the symmetric KL gamma kept
independent (LabelVAE's mask; k = the true number F - s of differing factors unless `--k`), per pair
and sorted by gamma rank, averaged over pairs, split into the reconstruction part and the
beta-weighted KL part under both `group_vae.shared_kl` settings. Negative: keeping the dimension per
view lowers the loss (k_hat is pushed up); positive: sharing it does. The entries at ranks beyond k
say whether k_hat is pushed past the true k.

    .venv/bin/python experiments/hgvae_independence_gradient.py --run runs/elbo_vs_k/k4_seed0 \
        --run runs/elbo_vs_k/k4_seed1 --out experiments/results/hgvae_independence_gradient \
        [--num_pairs 1024] [--k 4]

Writes OUT/results.md and OUT/gradient_by_rank.png (mean over pairs and runs).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import gin.tf  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

import disentanglement_ext  # noqa: E402

disentanglement_ext.install_compat()  # before disentanglement_lib is imported
from disentanglement_ext import group_vae  # noqa: E402
from disentanglement_ext import pairs  # noqa: E402
from disentanglement_ext import weak_training  # noqa: E402, F401  (registers the gin names)

from disentanglement_lib.data.ground_truth import named_data  # noqa: E402

SETTINGS = ("per_view", "once")


class TopKProbe(group_vae.LabelAggregation):
    """LabelVAE's top-k mask that keeps its gamma and mask tensors for `tf.gradients`."""

    def __call__(self, gamma, global_step, labels=None):
        aggregation = super().__call__(gamma, global_step, labels)
        self.gamma, self.independent = gamma, aggregation.independent
        return aggregation


def measure(run_dir, num_pairs, k=None, batch_size=64, seed=0):
    """Per-pair gradients of one run, rows sorted by decreasing gamma: dict of `[num_pairs, d]`
    arrays ("gamma", "reconstruction", "kl_per_view", "kl_once"; KL parts times beta), and k."""
    gin.clear_config()
    gin.parse_config_file(os.path.join(run_dir, "results", "gin", "train.gin"))
    try:
        dataset = named_data.get_named_ground_truth_data()
        num_shared = gin.query_parameter("model.num_shared")
        if num_shared < 0:
            raise ValueError(f"{run_dir} was trained with a random s per pair; pass a run with a "
                             "fixed `model.num_shared`.")
        k = dataset.num_factors - num_shared if k is None else k
        beta, combine = gin.query_parameter("group_vae.beta"), gin.query_parameter(
            "group_vae.combine")
        checkpoint = tf.train.latest_checkpoint(os.path.join(run_dir, "tf_checkpoint"))
        if checkpoint is None:
            raise ValueError(f"no checkpoint in {run_dir}/tf_checkpoint")
        graph = tf.Graph()
        with graph.as_default():
            features = tf.placeholder(tf.float32, [None, 2, *dataset.observation_shape])
            labels = dict(num_shared=tf.placeholder(tf.int32, [None]),
                          shared_mask=tf.placeholder(tf.float32, [None, dataset.num_factors]))
            gradients, probes = {}, {}
            for setting in SETTINGS:  # the same variables (AUTO_REUSE) under both KL settings
                probes[setting] = TopKProbe(k)
                model = group_vae.GroupVAE(beta=beta, aggregation=probes[setting],
                                           combine=combine, shared_kl=setting)
                values = model.model_fn(features, labels, tf.estimator.ModeKeys.EVAL,
                                        {}).eval_metrics[1]
                reconstruction, kl = tf.reduce_mean(values[0]), tf.reduce_mean(values[3])
                gradients["kl_" + setting] = tf.gradients(beta * kl, probes[setting].independent)[0]
                if setting == SETTINGS[0]:
                    gradients["reconstruction"] = tf.gradients(
                        reconstruction, probes[setting].independent)[0]
                    gradients["gamma"] = probes[setting].gamma
            session = tf.Session(graph=graph)
            tf.train.Saver().restore(session, checkpoint)
        random_state = np.random.RandomState(seed)
        batches = []
        for _ in range(-(-num_pairs // batch_size)):
            batch = pairs.sample_pairs(dataset, batch_size, random_state, num_shared=num_shared)
            feed = {features: batch.observations, labels["num_shared"]: batch.num_shared,
                    labels["shared_mask"]: batch.shared_mask}
            batches.append(session.run(gradients, feed))
        session.close()
    finally:
        gin.clear_config()
    result = {name: np.concatenate([batch[name] for batch in batches])[:num_pairs]
              for name in gradients}
    order = np.argsort(-result["gamma"], axis=1, kind="stable")
    # gradients are of batch means: times the batch size, per pair
    return {name: np.take_along_axis(values, order, axis=1)
            * (1. if name == "gamma" else batch_size) for name, values in result.items()}, k


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--run", action="append", required=True,
                        help="a finished train_weak run with a fixed s (repeat for several)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--num_pairs", type=int, default=1024)
    parser.add_argument("--k", type=int, default=None,
                        help="dimensions kept independent (default: the true F - s)")
    args = parser.parse_args(argv)
    if args.num_pairs < 1:
        raise ValueError(f"`--num_pairs` must be >= 1, got {args.num_pairs}.")
    measured = []
    for index, run in enumerate(args.run, 1):
        print(f"[independence_gradient {index}/{len(args.run)}] {run}", flush=True)
        measured.append(measure(run, args.num_pairs, args.k))
    k = measured[0][1]
    stacked = {name: np.concatenate([values[name] for values, _ in measured])
               for name in measured[0][0]}
    mean = {name: values.mean(0) for name, values in stacked.items()}
    stderr = {name: values.std(0) / np.sqrt(len(values)) for name, values in stacked.items()}
    lines = [f"{len(args.run)} run(s) x {args.num_pairs} pairs, the top k = {k} dimensions of "
             "gamma independent; dL/d ind_j per pair (mean ± standard error), negative = keeping "
             "the dimension per view lowers the loss.", "",
             "| gamma rank | gamma | reconstruction | beta KL, per_view | beta KL, once | "
             "total, per_view | total, once |", "|---:|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for rank in range(len(mean["gamma"])):
        row = dict(rank=rank + 1, gamma=mean["gamma"][rank])
        for name in ("reconstruction", "kl_per_view", "kl_once"):
            row[name], row[name + "_stderr"] = mean[name][rank], stderr[name][rank]
        for setting in SETTINGS:
            total = stacked["reconstruction"][:, rank] + stacked["kl_" + setting][:, rank]
            row["total_" + setting] = total.mean()
            row["total_" + setting + "_stderr"] = total.std() / np.sqrt(len(total))
        rows.append(row)
        cells = " | ".join(f"{row[name]:.3f} ± {row[name + '_stderr']:.3f}" for name in (
            "reconstruction", "kl_per_view", "kl_once", "total_per_view", "total_once"))
        lines.append(f"| {rank + 1}{' (k)' if rank + 1 == k else ''} | {row['gamma']:.3g} | "
                     f"{cells} |")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axis = plt.subplots(figsize=(6, 3.8))
    ranks = np.arange(1, len(rows) + 1)
    for name, label in (("reconstruction", "reconstruction"),
                        ("total_per_view", "total, shared_kl = per_view"),
                        ("total_once", "total, shared_kl = once")):
        axis.errorbar(ranks, [row[name] for row in rows],
                      yerr=[row[name + "_stderr"] for row in rows], marker="o", capsize=3,
                      label=label)
    axis.axhline(0., color="black", linewidth=0.8)
    axis.axvline(k + 0.5, color="gray", linestyle="--", label=f"k = {k}")
    axis.set(xlabel="rank of the dimension by gamma (1 = views differ most)",
             ylabel="dL / d ind_j per pair",
             title="< 0: independent lowers the loss; > 0: sharing does")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, "gradient_by_rank.png"), dpi=110)
    plt.close(figure)
    return rows


if __name__ == "__main__":
    main()
