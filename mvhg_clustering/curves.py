# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Training curves of clustering runs: pretraining loss, joint loss, and ACC against epochs.

    python -m mvhg_clustering.curves RESULT.json [RESULT.json ...] --out curves.png

One line per run (labelled by its folder and file name) in three panels: the autoencoder's
reconstruction loss per pretraining epoch, the joint VaDE loss per epoch, and the clustering
accuracy on the held-out images (solid) and on the training images (dashed) at each evaluation,
the GMM initialisation drawn at epoch 0. Reads the `pretrain_history` and `history` that
`mvhg_clustering.run` writes.
"""

import argparse
import io
import json
import os

from disentanglement_ext import files

__all__ = ["curves_figure", "main"]


def _label(path):
    return f"{os.path.basename(os.path.dirname(os.path.abspath(path)))}/" \
           f"{os.path.splitext(os.path.basename(path))[0]}"


def curves_figure(results, labels):
    """A matplotlib figure of the runs `results` (dicts of result JSONs) named `labels`."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    fig, (pretrain, joint, accuracy) = plt.subplots(1, 3, figsize=(15, 4))
    for number, (result, label) in enumerate(zip(results, labels, strict=True)):
        color = f"C{number}"
        pretrain_loss = result.get("pretrain_history") or []
        pretrain.plot(range(1, len(pretrain_loss) + 1), pretrain_loss, color=color, label=label)
        history = result["history"]
        joint.plot([h["epoch"] for h in history], [h["loss"] for h in history], color=color)
        evaluated = [h for h in history if "acc" in h]
        start = result["init_gmm_scores"]["acc"]
        accuracy.plot([0] + [h["epoch"] for h in evaluated],
                      [start] + [h["acc"] for h in evaluated], color=color, marker=".")
        if all("train_acc" in h for h in evaluated):
            train_start = result.get("init_gmm_train_scores", {}).get("acc", start)
            accuracy.plot([0] + [h["epoch"] for h in evaluated],
                          [train_start] + [h["train_acc"] for h in evaluated], color=color,
                          linestyle="--")
    pretrain.set(title="pretraining", xlabel="epoch", ylabel="reconstruction loss (nats/image)")
    joint.set(title="joint training", xlabel="epoch", ylabel="loss (-ELBO, nats/image)")
    accuracy.set(title="ACC (solid: held out, dashed: training)", xlabel="joint epoch "
                 "(0: GMM initialisation)", ylabel="clustering accuracy")
    pretrain.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mvhg_clustering.curves",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", help="result JSON files of mvhg_clustering.run")
    parser.add_argument("--out", required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    results = []
    for path in args.results:
        with open(path, encoding="utf-8") as handle:
            results.append(json.load(handle))
    fig = curves_figure(results, [_label(path) for path in args.results])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    files.atomic_write(args.out, buffer.getvalue())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
