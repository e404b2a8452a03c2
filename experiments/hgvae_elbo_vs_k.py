"""What the GroupVAE objective asks of k, the number of independent latent dimensions.

HGVAE learns k_hat by gradient descent on the GroupVAE loss. This experiment fixes k instead:
LabelVAE (the top-k dimensions of the symmetric KL independent, the rest averaged across views)
is trained for every k = 0..d on pairs sharing s factors, and the final loss (negative ELBO) is
recorded. If the loss keeps falling for k beyond the true k = F - s, the objective itself pulls
k_hat towards d and HGVAE cannot be expected to find s from it.

    .venv/bin/python experiments/hgvae_elbo_vs_k.py --out experiments/results/hgvae_elbo_vs_k \
        [--num_shared 3] [--seed 0] [--steps 1000] [--quick]

Each k is one `disentanglement_ext.train_weak` run (offline dataset, cpu_small.gin) in
OUT/k{k}; finished runs are skipped. Writes OUT/results.md and OUT/elbo_vs_k.png.
"""

import argparse
import os
import time

import numpy as np

from disentanglement_ext import sweep

NUM_LATENT = 10


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--num_shared", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--quick", action="store_true",
                        help="k in {0, 10}, 20 steps (a smoke test)")
    args = parser.parse_args(argv)
    values_of_k = [0, NUM_LATENT] if args.quick else list(range(NUM_LATENT + 1))
    steps = 20 if args.quick else args.steps
    bindings = [f"model.training_steps = {steps}", "dlib_metrics.metrics = []",
                "evaluate_weak.num_train = 500", "evaluate_weak.num_test = 500"]
    rows, start = [], time.time()
    for index, k in enumerate(values_of_k, 1):
        print(f"[elbo_vs_k {index}/{len(values_of_k)}, {time.time() - start:.0f} s] k = {k}",
              flush=True)
        report = sweep.run_one(args.out, "label", args.num_shared, args.seed,
                               sweep.DEFAULT_CONFIGS,
                               bindings + [f"label_aggregation.num_independent = {k}"],
                               model_dir=os.path.join(args.out, f"k{k}"))
        rows.append(dict(k=k, loss=-report["elbo"], reconstruction=report["reconstruction_loss"],
                         shared_score=report["shared_score"],
                         independent_score=report["independent_score"],
                         num_factors=report["num_factors"]))
        print(f"    loss = {rows[-1]['loss']:.1f}, reconstruction = "
              f"{rows[-1]['reconstruction']:.1f}", flush=True)
    true_k = rows[0]["num_factors"] - args.num_shared
    lines = [f"s = {args.num_shared} shared factors (true k = F - s = {true_k}), seed {args.seed}, "
             f"{steps} steps; loss = negative ELBO per pair on fresh evaluation pairs.", "",
             "| k (independent dims) | loss | reconstruction | KL | shared score | "
             "independent score |", "|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        scores = " | ".join("n/a" if row[key] is None else f"{row[key]:.2f}"
                            for key in ("shared_score", "independent_score"))
        lines.append(f"| {row['k']} | {row['loss']:.1f} | {row['reconstruction']:.1f} | "
                     f"{row['loss'] - row['reconstruction']:.1f} | {scores} |")
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    axis.plot([row["k"] for row in rows], [row["loss"] for row in rows], "o-",
              label="loss (negative ELBO)")
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
