# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""What the GroupVAE objective asks of k, the number of independent latent dimensions.

HGVAE learns k_hat by gradient descent on the GroupVAE loss. This experiment fixes k instead:
LabelVAE (the top-k dimensions of the symmetric KL independent, the rest averaged across views) is
trained for every k = 0..d on pairs sharing s factors, and the final loss (negative ELBO) is
recorded (per seed, and mean and standard deviation over seeds). If the loss keeps falling for k
beyond the true k = F - s, the objective itself pulls k_hat towards d and HGVAE cannot be expected
to find s from it.

    .venv/bin/python experiments/hgvae_elbo_vs_k.py --out experiments/results/hgvae_elbo_vs_k \
        [--num_shared 3] [--seeds 0 1] [--steps 1000] [--num_latent 10] [--quick] \
        [--gin_config vector] [--gin_bindings 'group_vae.shared_kl = "once"']

Each (k, seed) is one `disentanglement_ext.train_weak` run in OUT/k{k}_seed{seed} (default data:
the offline images with cpu_small.gin; `--gin_config vector` for the fast vector data set);
finished runs are skipped. Writes OUT/results.md and OUT/elbo_vs_k.png.
"""

import argparse
import os
import time

import numpy as np

from disentanglement_ext import sweep


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--num_shared", type=int, default=3)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--num_latent", type=int, default=10, help="d, latent dimensions")
    parser.add_argument("--gin_config", action="append", default=None,
                        help="gin files after base.gin and label.gin (default: procedural.gin "
                             "and cpu_small.gin)")
    parser.add_argument("--gin_bindings", action="append", default=[],
                        help="extra gin bindings for every run (e.g. the GroupVAE objective)")
    parser.add_argument("--quick", action="store_true",
                        help="k in {0, d}, one seed, 20 steps (a smoke test)")
    args = parser.parse_args(argv)
    if args.num_latent < 1:
        parser.error(f"--num_latent must be >= 1, got {args.num_latent}")
    from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
    gin_configs = ([configs.find_gin_file(name) for name in args.gin_config]
                   if args.gin_config is not None else sweep.DEFAULT_CONFIGS)
    values_of_k = [0, args.num_latent] if args.quick else list(range(args.num_latent + 1))
    seeds = args.seeds[:1] if args.quick else args.seeds
    steps = 20 if args.quick else args.steps
    bindings = [f"model.training_steps = {steps}", "dlib_metrics.metrics = []",
                "visualizations.num_animations = 0",
                "evaluate_weak.num_train = 500", "evaluate_weak.num_test = 500",
                f"encoder.num_latent = {args.num_latent}", *args.gin_bindings]
    runs = [(k, seed) for seed in seeds for k in values_of_k]
    losses, start = {}, time.time()
    for index, (k, seed) in enumerate(runs, 1):
        print(f"[elbo_vs_k {index}/{len(runs)}, {time.time() - start:.0f} s] k = {k}, "
              f"seed = {seed}", flush=True)
        report = sweep.run_one(args.out, "label", args.num_shared, seed, gin_configs,
                               bindings + [f"label_aggregation.num_independent = {k}"],
                               model_dir=os.path.join(args.out, f"k{k}_seed{seed}"))
        losses[k, seed] = (-report["elbo"], report["reconstruction_loss"])
        true_k = report["num_factors"] - args.num_shared
        print(f"    loss = {losses[k, seed][0]:.1f}, reconstruction = {losses[k, seed][1]:.1f}",
              flush=True)
    rows = []
    for k in values_of_k:
        loss = np.array([losses[k, seed][0] for seed in seeds])
        reconstruction = np.array([losses[k, seed][1] for seed in seeds])
        rows.append(dict(k=k, loss=float(loss.mean()), loss_std=float(loss.std()),
                         reconstruction=float(reconstruction.mean()),
                         per_seed=[float(value) for value in loss]))
    lines = [f"s = {args.num_shared} shared factors (true k = F - s = {true_k}), "
             f"d = {args.num_latent} latent dimensions, {steps} steps, "
             f"gin files {[os.path.basename(path) for path in gin_configs]}, "
             f"seeds {seeds}; loss = negative ELBO per pair on fresh evaluation pairs "
             "(mean ± std over seeds). Extra gin bindings: "
             + (", ".join(f"`{binding}`" for binding in args.gin_bindings) or "none") + ".", "",
             "| k (independent dims) | loss | reconstruction | KL | loss per seed |",
             "|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(f"| {row['k']} | {row['loss']:.1f} ± {row['loss_std']:.1f} | "
                     f"{row['reconstruction']:.1f} | {row['loss'] - row['reconstruction']:.1f} | "
                     + ", ".join(f"{value:.1f}" for value in row["per_seed"]) + " |")
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    for index in range(len(seeds)):
        axis.plot(values_of_k, [row["per_seed"][index] for row in rows], ".", color="gray",
                  label="single seeds" if index == 0 else None)
    axis.errorbar(values_of_k, [row["loss"] for row in rows],
                  yerr=[row["loss_std"] for row in rows], marker="o", capsize=3,
                  label="loss (negative ELBO), mean")
    axis.axvline(true_k, color="gray", linestyle="--", label=f"true k = F - s = {true_k}")
    axis.set(xlabel="k: independent latent dimensions (fixed)", ylabel="loss per pair",
             title=f"GroupVAE loss after {steps} steps, s = {args.num_shared}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, "elbo_vs_k.png"), dpi=110)
    plt.close(figure)
    return rows


if __name__ == "__main__":
    main()
