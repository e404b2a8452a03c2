# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""One clustering run: pretrain (or reuse) the autoencoder, GMM init, joint VaDE training.

    python -m mvhg_clustering.run --prior hypergeometric --dataset digits --version 80 \
        --seed 0 --out experiments/clustering/results/digits/runs

Writes `OUT/{dataset}_v{version}_{prior}{tag}_s{seed}.json` (settings, data set, GMM-init scores,
final ACC/NMI/ARI, learned prior weights, per-epoch history). The pretrained autoencoder and its
GMM fit depend only on (dataset, version, data seed, seed, architecture, pretraining settings),
not on the prior, so they are cached under `--pretrain-cache` (default `OUT/pretrain`) and the
three priors of a seed start from the same initialisation (a paired comparison).

Options (why, in `vade`'s docstring): `--prior-term-scale BETA` multiplies the prior term
E_q log p(c) of the loss by BETA (default 1, the ELBO); `--fix-prior-weights` keeps the learned
prior's weights at their initial value, uniform or, with `--init-prior-from-gmm`, the GMM's weights.
Each non-default one is part of the file name's `tag` (`variant_tag`: `_gmmw`, `_fixed`,
`_ptsBETA`, e.g. `mnist10k_v60_hypergeometric_gmmw_fixed_pts128_s0.json`), so runs of different
options never overwrite each other and share the pretrained autoencoders of their folder.

A run killed anywhere keeps what it finished: the pretraining cache and the result JSON are
written whole or not at all (`disentanglement_ext.files.atomic_write`), so a rerun skips a run
whose result is complete, reuses a complete pretraining cache and redoes the rest. A corrupt
result is rerun and a corrupt pretraining cache rebuilt, each with a message. A missing or corrupt
data set file stops the command with one line naming the file and how to rebuild it, exit status
2 (`--verbose` adds the traceback). Fault-injection points (`files.fault_point`): `pretrain`
(pretrained and GMM fitted, cache not written), `train` (trained, result not written), and
`write NAME` halfway through writing file NAME.
"""

import argparse
import io
import json
import math
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from disentanglement_ext import files  # noqa: E402
from mvhg_clustering import PRIORS  # noqa: E402
from mvhg_clustering import data as data_lib  # noqa: E402
from mvhg_clustering import experiment_dir  # noqa: E402

# Default schedules per dataset (epochs of joint training, epochs of pretraining). mnist10k and
# fashion: the budget that fit both tables (3 priors x 3 versions x 4 seeds; fashion on 5000
# images) into 81 min on 2 shared CPU cores (4.5-7 s per epoch on 10,000 images; see
# experiments/clustering/README.md).
DEFAULTS = {
    "digits": {"epochs": 50, "pretrain_epochs": 50, "batch_size": 128},
    "mnist": {"epochs": 100, "pretrain_epochs": 50, "batch_size": 128},
    "mnist10k": {"epochs": 10, "pretrain_epochs": 10, "batch_size": 128},
    "fashion": {"epochs": 10, "pretrain_epochs": 10, "batch_size": 128},
}
QUICK = {"epochs": 2, "pretrain_epochs": 2}
# What the table reads from a result JSON; one without them is corrupt.
RESULT_KEYS = ("config", "data", "init_gmm_scores", "scores", "cluster_to_class",
               "cluster_proportions", "prior_weights", "prior_marginal", "history", "seconds")


def build_parser():
    parser = argparse.ArgumentParser(prog="mvhg_clustering", description=__doc__.split("\n")[0])
    parser.add_argument("--prior", choices=PRIORS, required=True)
    parser.add_argument("--dataset", choices=data_lib.DATASETS, default="digits")
    parser.add_argument("--version", type=int, choices=data_lib.VERSIONS, default=100,
                        help="percentage kept of each class in the first half of the classes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-seed", type=int, default=0,
                        help="seed of the subsampling of the 80/60 versions (fixed across seeds)")
    parser.add_argument("--out", default=None,
                        help="folder of the result JSON (default experiments/clustering/results/"
                             "{dataset}/runs, see experiment_dir)")
    parser.add_argument("--mnist-path", default=None,
                        help="mnist.npz or folder of IDX files (else $MNIST_PATH, "
                             "~/.keras/datasets/mnist.npz); never downloaded")
    parser.add_argument("--data-dir", default=None,
                        help="cache of mnist10k/fashion (else $CLUSTERING_DATA_DIR, else "
                             "experiments/clustering/data_cache; made by get_data)")
    parser.add_argument("--epochs", type=int, default=None, help="joint-training epochs")
    parser.add_argument("--pretrain-epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="B: also the MVHG's n and each class's m")
    parser.add_argument("--num-clusters", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--hidden", default="500,500,2000")
    parser.add_argument("--lr", type=float, default=1e-3, help="networks and GMM (Adam)")
    parser.add_argument("--prior-lr", type=float, default=1e-2,
                        help="the prior's learned weights (Adam)")
    parser.add_argument("--lr-decay", type=float, default=1.0, help="per epoch, both rates")
    parser.add_argument("--prior-term-scale", type=float, default=1.,
                        help="beta > 0 multiplying the prior term E_q log p(c) in the loss "
                             "(1: the ELBO)")
    parser.add_argument("--init-prior-from-gmm", action="store_true",
                        help="start the learned prior weights at the GMM weights (else uniform)")
    parser.add_argument("--fix-prior-weights", action="store_true",
                        help="do not train the prior's weights (they stay at their start)")
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--tau-init", type=float, default=1.0)
    parser.add_argument("--tau-final", type=float, default=0.1)
    parser.add_argument("--pretrain-cache", default=None,
                        help="folder of cached pretrained autoencoders (default OUT/pretrain)")
    parser.add_argument("--no-cache", action="store_true", help="always pretrain afresh")
    parser.add_argument("--subset", type=int, default=None,
                        help="use only the first N images (after the version), for smoke tests")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK['pretrain_epochs']} pretraining and "
                             f"{QUICK['epochs']} training epochs")
    parser.add_argument("--force", action="store_true", help="rerun even if the JSON exists")
    parser.add_argument("--verbose", action="store_true", help="the traceback of an error")
    return parser


def resolve(args):
    """Fills dataset-dependent defaults into `args` (in place) and returns it."""
    if not (math.isfinite(args.prior_term_scale) and args.prior_term_scale > 0):
        raise ValueError(f"--prior-term-scale must be a finite number > 0, got "
                         f"{args.prior_term_scale!r}.")
    defaults = dict(DEFAULTS[args.dataset])
    if args.quick:
        defaults.update(QUICK)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        args.out = os.path.join(experiment_dir(), "results", args.dataset, "runs")
    if args.pretrain_cache is None:
        args.pretrain_cache = os.path.join(args.out, "pretrain")
    return args


def variant_tag(args):
    """The run's non-default options as a file-name part: '' for the defaults, else `_gmmw`
    (--init-prior-from-gmm), `_fixed` (--fix-prior-weights), `_pts{beta}` (--prior-term-scale)."""
    tag = "_gmmw" * bool(args.init_prior_from_gmm) + "_fixed" * bool(args.fix_prior_weights)
    return tag + ("" if args.prior_term_scale == 1 else f"_pts{args.prior_term_scale:g}")


def result_path(args):
    return os.path.join(args.out, f"{args.dataset}_v{args.version}_{args.prior}"
                                  f"{variant_tag(args)}_s{args.seed}.json")


def read_result(path):
    """The result dict in `path`, None if there is no such file; raises `data.CorruptFile` if it
    is not a JSON object with `RESULT_KEYS` (a file cut short by an older, non-atomic writer)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    try:
        result = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise data_lib.CorruptFile("run result", path, "empty file" if not data.strip()
                                   else f"truncated or invalid JSON: {error}") from None
    if not isinstance(result, dict):
        raise data_lib.CorruptFile("run result", path, "not a JSON object")
    missing = [key for key in RESULT_KEYS if key not in result]
    if missing:
        raise data_lib.CorruptFile("run result", path, f"no {missing[0]!r}")
    return result


def _log(message):
    print(message, flush=True)


def _pretrain_key(args, num_images):
    return (f"{args.dataset}_v{args.version}_ds{args.data_seed}_s{args.seed}_n{num_images}"
            f"_h{args.hidden.replace(',', '-')}_d{args.latent_dim}_k{args.num_clusters}"
            f"_e{args.pretrain_epochs}_b{args.batch_size}")


def _read_pretrain_cache(path, num_weights, log):
    """The arrays of the pretraining cache `path`; None if absent or corrupt (said in `log`)."""
    if not os.path.exists(path):
        return None
    keys = [f"w{i}" for i in range(num_weights)] + [
        "gmm_means", "gmm_variances", "gmm_weights", "gmm_predictions", "seconds",
        "pretrain_history"]
    try:
        return data_lib.read_npz(path, keys, "pretraining cache", "pretraining afresh")
    except data_lib.CorruptFile as error:
        log(str(error))
        return None


def prepare(args, model, x, log):
    """Pretrains and fits the GMM, or loads both from the cache. Returns an info dict."""
    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    path = os.path.join(args.pretrain_cache, _pretrain_key(args, len(x)) + ".npz")
    num_encoder = len(model.encoder_body.weights)
    num_weights = num_encoder + len(model.decoder.weights)
    cache = None if args.no_cache else _read_pretrain_cache(path, num_weights, log)
    if cache is not None:
        weights = [cache[f"w{i}"] for i in range(num_weights)]
        model.encoder_body.set_weights(weights[:num_encoder])
        model.decoder.set_weights(weights[num_encoder:])
        vade.set_gmm(model, cache["gmm_means"], cache["gmm_variances"], cache["gmm_weights"],
                     args.init_prior_from_gmm)
        log(f"loaded pretrained autoencoder and GMM from {path}")
        return {"pretrain_cached": path, "pretrain_seconds": float(cache["seconds"]),
                "gmm_predictions": cache["gmm_predictions"],
                "pretrain_history": cache["pretrain_history"].tolist()}
    start = time.time()
    history = vade.pretrain_autoencoder(model, x, args.pretrain_epochs,
                                        batch_size=args.batch_size,
                                        learning_rate=args.pretrain_lr, seed=args.seed, log=log)
    predictions, _ = vade.init_gmm(model, x, seed=args.seed,
                                   init_prior_from_gmm=args.init_prior_from_gmm)
    seconds = time.time() - start
    files.fault_point("pretrain")
    if not args.no_cache:
        os.makedirs(args.pretrain_cache, exist_ok=True)
        weights = model.encoder_body.get_weights() + model.decoder.get_weights()
        buffer = io.BytesIO()
        np.savez(buffer, num_weights=len(weights), **{f"w{i}": w for i, w in enumerate(weights)},
                 gmm_means=model.gmm_means.numpy(), gmm_variances=np.exp(model.gmm_logvars.numpy()),
                 gmm_weights=model.gmm_init_weights, gmm_predictions=predictions, seconds=seconds,
                 pretrain_history=np.asarray(history))
        files.atomic_write(path, buffer.getvalue())
    return {"pretrain_cached": None, "pretrain_seconds": seconds, "gmm_predictions": predictions,
            "pretrain_history": history}


def run(args, log=_log):
    """Runs one configuration and writes its JSON; returns the result dict."""
    args = resolve(args)
    x, y = data_lib.load_dataset(args.dataset, args.version, args.data_seed, args.mnist_path,
                                 args.data_dir)
    # TensorFlow only once the data are read: `--help`, argument and data errors answer at once.
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from mvhg_clustering import metrics  # pylint: disable=import-outside-toplevel
    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    hidden = tuple(int(h) for h in args.hidden.split(","))
    if args.subset:
        x, y = x[:args.subset], y[:args.subset]
    num_classes = int(y.max()) + 1
    log(f"run {args.dataset} v{args.version} prior={args.prior}{variant_tag(args)} "
        f"seed={args.seed}: "
        f"{len(x)} images, class counts {np.bincount(y, minlength=num_classes).tolist()}")
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(args.seed)
    model = vade.VaDE(x.shape[1], args.num_clusters, args.latent_dim, hidden, args.prior,
                      args.batch_size, args.prior_term_scale, args.fix_prior_weights)
    start = time.time()
    info = prepare(args, model, x, log)
    init_scores = metrics.clustering_scores(y, info["gmm_predictions"])
    q_predictions, _ = model.predict_clusters(x)
    init_q_scores = metrics.clustering_scores(y, q_predictions)
    log(f"GMM init on the autoencoder: acc {init_scores['acc']:.4f} nmi {init_scores['nmi']:.4f} "
        f"ari {init_scores['ari']:.4f}; q(c|x) at init: acc {init_q_scores['acc']:.4f}")

    def evaluate(trained):
        predictions, _ = trained.predict_clusters(x)
        return metrics.clustering_scores(y, predictions)

    train_start = time.time()
    history = vade.train_vade(
        model, x, args.epochs, learning_rate=args.lr, prior_learning_rate=args.prior_lr,
        lr_decay=args.lr_decay, tau_init=args.tau_init, tau_final=args.tau_final, seed=args.seed,
        evaluate=evaluate, log=log)
    train_seconds = time.time() - train_start
    predictions, _ = model.predict_clusters(x)
    scores = metrics.clustering_scores(y, predictions)
    mapping = metrics.best_matching(y, predictions, args.num_clusters, num_classes)
    result = {
        "config": {key: value for key, value in vars(args).items()},
        "data": {"num_images": int(len(x)), "input_dim": int(x.shape[1]),
                 "class_counts": np.bincount(y, minlength=num_classes).tolist(),
                 "class_proportions": data_lib.class_proportions(y, num_classes).tolist()},
        "init_gmm_scores": init_scores,
        "init_q_scores": init_q_scores,
        "scores": scores,
        "cluster_to_class": mapping.tolist(),
        "cluster_proportions": (np.bincount(predictions, minlength=args.num_clusters)
                                / float(len(x))).tolist(),
        "prior_weights": model.prior.normalized_weights().tolist(),
        "prior_marginal": np.exp(model.prior.marginal_log_probs().numpy()).tolist(),
        "gmm_init_weights": np.asarray(model.gmm_init_weights).tolist(),
        "history": history,
        "pretrain_history": info["pretrain_history"],
        "pretrain_cached": info["pretrain_cached"],
        "seconds": {"pretrain_and_gmm": info["pretrain_seconds"], "train": train_seconds,
                    "total": time.time() - start},
    }
    files.fault_point("train")
    os.makedirs(args.out, exist_ok=True)
    path = result_path(args)
    files.atomic_write(path, json.dumps(result, indent=1, default=_json_default))
    log(f"final: acc {scores['acc']:.4f} nmi {scores['nmi']:.4f} ari {scores['ari']:.4f}; "
        f"prior weights {np.round(result['prior_weights'], 3).tolist()}; wrote {path} "
        f"({result['seconds']['total']:.0f}s)")
    return result


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value))


def main(argv=None):
    """The command line; a missing or corrupt data file exits with status 2 and one line."""
    parser = build_parser()
    args = resolve(parser.parse_args(argv))
    path = result_path(args)
    try:
        if not args.force and read_result(path) is not None:
            _log(f"{path} exists; skipping (use --force to rerun)")
            return 0
    except data_lib.CorruptFile as error:
        _log(f"{error}; rerunning")
    try:
        run(args)
    except data_lib.DataError as error:
        if args.verbose:
            traceback.print_exc()
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
