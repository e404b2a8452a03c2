# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""One clustering run: pretrain (or reuse) the autoencoder, GMM init, joint VaDE training.

    python -m mvhg_clustering.run --prior hypergeometric --dataset mnist10k --version 80 --seed 0

Writes `OUT/{dataset}_v{version}_{prior}{tag}_s{seed}.json` (settings, data set, GMM-init scores,
final ACC/NMI/ARI on the held-out and on the training images, learned prior weights, per-epoch
history). `OUT` defaults to `experiments/clustering/results/{dataset}/vade/runs` (the `vade`
recipe) or `.../{dataset}/runs` (`--recipe legacy`, the committed tables' folders).

Recipes (`RECIPES`, `SCHEDULES`; every part is a flag, the recipe only sets the defaults):

- `vade` (default): 300 pretraining epochs (`--pretrain-noise P`: denoising, default 0; the
  pretraining variants `--pretrain-loss {bce,mse,mse_sigmoid}`, `--pretrain-batch-size`,
  `--pretrain-lr-final`, `--pretrain-weight-decay`, `--pretrain-latent-l2`, `--pretrain-init
  {glorot,dec}`, defaults bce, --batch-size, constant rate, 0, 0, glorot:
  `vade.pretrain_autoencoder`; before it `--pretrain-layerwise-epochs N` epochs of DEC's
  layer-wise pretraining per layer pair with `--pretrain-dropout` 0.2: `vade.pretrain_layerwise`,
  default 0), GMM
  initialisation with `--gmm-n-init 10` restarts kept by likelihood and `--gmm-reg-covar 1e-6`
  (scikit-learn's default), 300 joint epochs with VaDE's schedule `--lr 2e-3`, times `--lr-decay
  0.9` every `--lr-decay-every 10` epochs, at least `--lr-floor 2e-4`, `--adam-epsilon 1e-4`;
  trained on the training images, scored on held-out ones (`--eval-split test`: Fashion's and
  MNIST's official test splits, a fixed 2,000 of mnist10k's and 360 of digits' images, see
  `data.load_split`), every `--eval-every 10` epochs and at the end.
- `legacy`: the committed tables' settings (10 + 10 epochs on mnist10k and fashion, 50 + 50 on
  digits, constant lr 1e-3, Keras' Adam epsilon 1e-7, one GMM fit, `--eval-split none`: trained
  and scored on all images, evaluated every epoch; `fashion` is then its 10,000-image test split
  only, as those tables had it). One difference remains: the categorical prior's weights no longer
  get a gradient through q(c|x) (fixed; `vade`'s docstring), so the committed categorical arms were
  made by the older code (commit 57fb247).

The pretrained autoencoder and its GMM fit depend only on (dataset, version, data seed, training
images, seed, architecture, pretraining and GMM settings), not on the prior, so they are cached
under `--pretrain-cache` (default `OUT/pretrain`) and the three priors of a seed start from the
same initialisation (a paired comparison).

Options (why, in `vade`'s docstring): `--prior-term-scale BETA` multiplies the prior term
E_q log p(c) of the loss by BETA (default 1, the ELBO); `--fix-prior-weights` keeps the learned
prior's weights at their initial value, uniform or, with `--init-prior-from-gmm`, the GMM's weights.
`--prior capacity` is the data-set-level urn with capacities `--capacity-factor F` x N / K
(default 1.5; `vade.CapacityPrior`), not one of the paper's priors.
Each non-default one is part of the file name's `tag` (`variant_tag`: `_gmmw`, `_fixed`,
`_ptsBETA`, `_capF`, e.g. `mnist10k_v60_hypergeometric_gmmw_fixed_pts128_s0.json`), so runs of
different options never overwrite each other and share the pretrained autoencoders of their
folder.

Long runs resume: pretraining checkpoints into `PRETRAIN_CACHE/{key}.ckpt/` (each layer-wise
pair into its `layer{l}/`) and joint training into `OUT/checkpoints/{run name}/` every
`--checkpoint-every` epochs (default 10; 0: never) and at their last epoch (`vade.Checkpoints`);
a rerun continues from the last checkpoint and ends as an uninterrupted run would. The checkpoints
are deleted once the pretraining cache or the result is written (`--keep-checkpoints` keeps the
joint ones: the final model). `--stop-after-epochs N` (tests) stops the run after N epochs,
pretraining (layer-wise and end to end) and joint training counted together, with its checkpoint
written, and writes no result.

A run killed anywhere keeps what it finished: the pretraining cache, the checkpoints and the
result JSON are written whole or not at all (`disentanglement_ext.files.atomic_write`), so a rerun
skips a run whose result is complete, reuses a complete pretraining cache, resumes from the
checkpoints and redoes the rest. A corrupt result is rerun and a corrupt pretraining cache rebuilt,
each with a message. A missing or corrupt data set file, or a bad parameter, stops the command with
one line naming it, exit status 2 (`--verbose` adds the traceback). Fault-injection points
(`files.fault_point`): `pretrain` (pretrained and GMM fitted, cache not written), `train` (trained,
result not written), and `write NAME` halfway through writing file NAME.
"""

import argparse
import io
import json
import math
import os
import re
import shutil
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from disentanglement_ext import files  # noqa: E402
from mvhg_clustering import ALL_PRIORS  # noqa: E402
from mvhg_clustering import data as data_lib  # noqa: E402
from mvhg_clustering import experiment_dir  # noqa: E402

# The recipes' defaults of the flags that are None on the command line.
RECIPES = {
    "vade": {"lr": 2e-3, "lr_decay": 0.9, "lr_decay_every": 10, "lr_floor": 2e-4,
             "adam_epsilon": 1e-4, "gmm_n_init": 10, "gmm_reg_covar": 1e-6,
             "pretrain_noise": 0., "eval_split": "test", "eval_every": 10},
    "legacy": {"lr": 1e-3, "lr_decay": 1., "lr_decay_every": 1, "lr_floor": 0.,
               "adam_epsilon": 1e-7, "gmm_n_init": 1, "gmm_reg_covar": 1e-6,
               "pretrain_noise": 0., "eval_split": "none", "eval_every": 1},
}
# Epochs (joint training, pretraining) and batch size per recipe and dataset. legacy's mnist10k
# and fashion: the budget that fit both committed tables (3 priors x 3 versions x 4 seeds; fashion
# on 5000 images) into 81 min on 2 shared CPU cores (experiments/clustering/README.md).
SCHEDULES = {
    "vade": dict.fromkeys(data_lib.DATASETS,
                          {"epochs": 300, "pretrain_epochs": 300, "batch_size": 128}),
    "legacy": {
        "digits": {"epochs": 50, "pretrain_epochs": 50, "batch_size": 128},
        "mnist": {"epochs": 100, "pretrain_epochs": 50, "batch_size": 128},
        "mnist10k": {"epochs": 10, "pretrain_epochs": 10, "batch_size": 128},
        "fashion": {"epochs": 10, "pretrain_epochs": 10, "batch_size": 128},
    },
}
QUICK = {"epochs": 2, "pretrain_epochs": 2}
LAYERWISE_DROPOUT = 0.2  # DEC's
# What the table reads from a result JSON; one without them is corrupt.
RESULT_KEYS = ("config", "data", "init_gmm_scores", "scores", "cluster_to_class",
               "cluster_proportions", "prior_weights", "prior_marginal", "history", "seconds")


def build_parser():
    parser = argparse.ArgumentParser(prog="mvhg_clustering", description=__doc__.split("\n")[0],
                                     allow_abbrev=False)
    parser.add_argument("--prior", choices=ALL_PRIORS, required=True,
                        help="the paper's three, or capacity: a data-set-level urn "
                             "(vade.CapacityPrior)")
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="vade",
                        help="the defaults of the flags below that say 'recipe' (module doc)")
    parser.add_argument("--dataset", choices=data_lib.DATASETS, default="digits")
    parser.add_argument("--version", type=int, choices=data_lib.VERSIONS, default=100,
                        help="percentage kept of each class in the first half of the classes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-seed", type=int, default=0,
                        help="seed of the subsampling of the 80/60 versions (fixed across seeds)")
    parser.add_argument("--eval-split", choices=data_lib.EVAL_SPLITS, default=None,
                        help="test: train on the training images, score on held-out ones; none: "
                             "train and score on all images (recipe: test; legacy: none)")
    parser.add_argument("--out", default=None,
                        help="folder of the result JSON (default experiments/clustering/results/"
                             "{dataset}/vade/runs, legacy: .../{dataset}/runs)")
    parser.add_argument("--mnist-path", default=None,
                        help="mnist.npz or folder of IDX files (else $MNIST_PATH, "
                             "~/.keras/datasets/mnist.npz); never downloaded")
    parser.add_argument("--data-dir", default=None,
                        help="cache of mnist10k/fashion (else $CLUSTERING_DATA_DIR, else "
                             "experiments/clustering/data_cache; made by get_data)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="joint-training epochs (recipe: 300; legacy: 10 or 50, 100 on mnist)")
    parser.add_argument("--pretrain-epochs", type=int, default=None,
                        help="recipe: 300; legacy: 10 or 50")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="B: also the MVHG's n and each class's m (128)")
    parser.add_argument("--num-clusters", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--hidden", default="500,500,2000")
    parser.add_argument("--lr", type=float, default=None,
                        help="networks and GMM, Adam (recipe: 2e-3; legacy: 1e-3)")
    parser.add_argument("--lr-decay", type=float, default=None,
                        help="factor applied to both rates every --lr-decay-every epochs "
                             "(recipe: 0.9; legacy: 1)")
    parser.add_argument("--lr-decay-every", type=int, default=None,
                        help="epochs (recipe: 10; legacy: 1)")
    parser.add_argument("--lr-floor", type=float, default=None,
                        help="smallest --lr (the prior's rate keeps its ratio) (recipe: 2e-4; "
                             "legacy: 0)")
    parser.add_argument("--adam-epsilon", type=float, default=None,
                        help="joint training's Adam (recipe: 1e-4; legacy: 1e-7, Keras' default)")
    parser.add_argument("--prior-lr", type=float, default=1e-2,
                        help="the prior's learned weights (Adam) at epoch 0")
    parser.add_argument("--prior-term-scale", type=float, default=1.,
                        help="beta > 0 multiplying the prior term E_q log p(c) in the loss "
                             "(1: the ELBO)")
    parser.add_argument("--init-prior-from-gmm", action="store_true",
                        help="start the learned prior weights at the GMM weights (else uniform)")
    parser.add_argument("--fix-prior-weights", action="store_true",
                        help="do not train the prior's weights (they stay at their start)")
    parser.add_argument("--capacity-factor", type=float, default=1.5,
                        help="capacity prior: the urn holds f N / K images of each cluster, "
                             "f > 1 (default 1.5)")
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--pretrain-noise", type=float, default=None,
                        help="denoising pretraining: probability of zeroing an input pixel, in "
                             "[0, 1) (recipe and legacy: 0)")
    parser.add_argument("--pretrain-loss", choices=("bce", "mse", "mse_sigmoid"), default="bce",
                        help="pretraining reconstruction loss: bce (Bernoulli logits), mse "
                             "(linear output, DEC/IDEC) or mse_sigmoid (squared error of the "
                             "sigmoid output)")
    parser.add_argument("--pretrain-batch-size", type=int, default=None,
                        help="pretraining batch size (default: --batch-size)")
    parser.add_argument("--pretrain-lr-final", type=float, default=None,
                        help="decay the pretraining rate geometrically per epoch from "
                             "--pretrain-lr to this at the last epoch (default: constant)")
    parser.add_argument("--pretrain-weight-decay", type=float, default=0.,
                        help="Adam's decoupled weight decay in pretraining (default 0)")
    parser.add_argument("--pretrain-latent-l2", type=float, default=0.,
                        help="pretraining penalty on the squared norm of the latent means "
                             "(default 0)")
    parser.add_argument("--pretrain-init", choices=("glorot", "dec"), default="glorot",
                        help="the networks' initialisation before pretraining: Keras' glorot "
                             "(default) or DEC-keras' VarianceScaling(1/3, fan_in, uniform)")
    parser.add_argument("--pretrain-layerwise-epochs", type=int, default=0,
                        help="DEC's greedy layer-wise denoising pretraining first, this many "
                             "epochs per layer pair (default 0: none; vade.pretrain_layerwise)")
    parser.add_argument("--pretrain-dropout", type=float, default=None,
                        help="the layer-wise pretraining's dropout rate, in [0, 1) (default "
                             "0.2, DEC's; only with --pretrain-layerwise-epochs)")
    parser.add_argument("--gmm-n-init", type=int, default=None,
                        help="GMM restarts, the most likely kept (recipe: 10; legacy: 1)")
    parser.add_argument("--gmm-reg-covar", type=float, default=None,
                        help="added to the GMM's variances (recipe and legacy: 1e-6)")
    parser.add_argument("--tau-init", type=float, default=1.0)
    parser.add_argument("--tau-final", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=None,
                        help="score every N joint epochs and at the last (0: the last only) "
                             "(recipe: 10; legacy: 1)")
    parser.add_argument("--checkpoint-every", type=int, default=10,
                        help="checkpoint every N epochs and at the last (0: never)")
    parser.add_argument("--keep-checkpoints", action="store_true",
                        help="keep the joint-training checkpoint (the final model) after the run")
    parser.add_argument("--stop-after-epochs", type=int, default=None,
                        help="tests: stop after N epochs (pretraining + joint), checkpointed, "
                             "without a result")
    parser.add_argument("--pretrain-cache", default=None,
                        help="folder of cached pretrained autoencoders (default OUT/pretrain)")
    parser.add_argument("--no-cache", action="store_true",
                        help="always pretrain afresh (no pretraining cache or checkpoints)")
    parser.add_argument("--subset", type=int, default=None,
                        help="smoke tests: N of the training (and N of the held-out) images of "
                             "the version, at random with a fixed seed (legacy: the first N)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK['pretrain_epochs']} pretraining and "
                             f"{QUICK['epochs']} training epochs")
    parser.add_argument("--force", action="store_true",
                        help="rerun even if the JSON exists (joint training from its start)")
    parser.add_argument("--verbose", action="store_true", help="the traceback of an error")
    return parser


def _check_flag(flag, value, ok, what):
    if not ok:
        raise ValueError(f"{flag} must be {what}, got {value!r}.")


def _finite(value):
    return value is not None and math.isfinite(value)


def resolve(args):
    """Fills the recipe's and dataset's defaults into `args` (in place) and returns it; raises
    ValueError naming the flag of a bad value."""
    _check_flag("--prior-term-scale", args.prior_term_scale,
                _finite(args.prior_term_scale) and args.prior_term_scale > 0,
                "a finite number > 0")
    _check_flag("--capacity-factor", args.capacity_factor,
                _finite(args.capacity_factor) and args.capacity_factor > 1, "a finite number > 1")
    defaults = dict(SCHEDULES[args.recipe][args.dataset], **RECIPES[args.recipe])
    if args.quick:
        defaults.update(QUICK)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for flag, value in (("--lr", args.lr), ("--prior-lr", args.prior_lr),
                        ("--pretrain-lr", args.pretrain_lr), ("--adam-epsilon", args.adam_epsilon),
                        ("--pretrain-lr-final",
                         args.pretrain_lr if args.pretrain_lr_final is None
                         else args.pretrain_lr_final),
                        ("--gmm-reg-covar", args.gmm_reg_covar), ("--tau-init", args.tau_init),
                        ("--tau-final", args.tau_final)):
        _check_flag(flag, value, _finite(value) and value > 0, "a finite number > 0")
    _check_flag("--lr-decay", args.lr_decay, _finite(args.lr_decay) and 0 < args.lr_decay <= 1,
                "in (0, 1]")
    _check_flag("--lr-floor", args.lr_floor,
                _finite(args.lr_floor) and 0 <= args.lr_floor <= args.lr, f"in [0, --lr {args.lr}]")
    _check_flag("--pretrain-noise", args.pretrain_noise,
                _finite(args.pretrain_noise) and 0 <= args.pretrain_noise < 1, "in [0, 1)")
    if args.pretrain_dropout is not None and not args.pretrain_layerwise_epochs:
        raise ValueError("--pretrain-dropout is the layer-wise pretraining's: it needs "
                         "--pretrain-layerwise-epochs N > 0.")
    if args.pretrain_layerwise_epochs and args.pretrain_dropout is None:
        args.pretrain_dropout = LAYERWISE_DROPOUT
    _check_flag("--pretrain-dropout", args.pretrain_dropout, args.pretrain_dropout is None or (
        _finite(args.pretrain_dropout) and 0 <= args.pretrain_dropout < 1), "in [0, 1)")
    for flag, value in (("--pretrain-weight-decay", args.pretrain_weight_decay),
                        ("--pretrain-latent-l2", args.pretrain_latent_l2)):
        _check_flag(flag, value, _finite(value) and value >= 0, "a finite number >= 0")
    for flag, value, low in (("--lr-decay-every", args.lr_decay_every, 1),
                             ("--gmm-n-init", args.gmm_n_init, 1),
                             ("--batch-size", args.batch_size, 1),
                             ("--pretrain-batch-size", args.pretrain_batch_size, 1),
                             ("--epochs", args.epochs, 0),
                             ("--pretrain-epochs", args.pretrain_epochs, 0),
                             ("--pretrain-layerwise-epochs", args.pretrain_layerwise_epochs, 0),
                             ("--eval-every", args.eval_every, 0),
                             ("--checkpoint-every", args.checkpoint_every, 0),
                             ("--stop-after-epochs", args.stop_after_epochs, 0),
                             ("--subset", args.subset, args.batch_size),
                             ("--num-clusters", args.num_clusters, 2),
                             ("--latent-dim", args.latent_dim, 1),
                             ("--seed", args.seed, 0),
                             ("--data-seed", args.data_seed, 0)):
        _check_flag(flag, value, value is None or value >= low, f"an integer >= {low}"
                    + (" (--batch-size)" if flag == "--subset" else ""))
    _check_flag("--hidden", args.hidden, re.fullmatch(r"[1-9][0-9]*(,[1-9][0-9]*)*", args.hidden),
                "layer widths > 0 separated by commas")
    if args.recipe == "legacy" and args.dataset == "fashion" and args.eval_split != "none":
        raise ValueError("--eval-split test does not go with --recipe legacy on fashion: the "
                         "legacy Fashion-MNIST data are its test split only, nothing is held out.")
    if args.out is None:
        args.out = os.path.join(experiment_dir(), "results", args.dataset,
                                "" if args.recipe == "legacy" else args.recipe, "runs")
    if args.pretrain_cache is None:
        args.pretrain_cache = os.path.join(args.out, "pretrain")
    return args


def variant_tag(args):
    """The run's non-default options as a file-name part: '' for the defaults, else `_gmmw`
    (--init-prior-from-gmm), `_fixed` (--fix-prior-weights), `_pts{beta}` (--prior-term-scale),
    `_cap{f}` (the capacity prior's --capacity-factor)."""
    tag = "_gmmw" * bool(args.init_prior_from_gmm) + "_fixed" * bool(args.fix_prior_weights)
    tag += "" if args.prior_term_scale == 1 else f"_pts{args.prior_term_scale:g}"
    capacity_factor = getattr(args, "capacity_factor", 1.5)
    if getattr(args, "prior", None) == "capacity" and capacity_factor != 1.5:
        tag += f"_cap{capacity_factor:g}"
    return tag


def result_path(args):
    return os.path.join(args.out, f"{args.dataset}_v{args.version}_{args.prior}"
                                  f"{variant_tag(args)}_s{args.seed}.json")


def checkpoint_folder(args):
    """Where the joint training of this run checkpoints: `OUT/checkpoints/{result name}`."""
    name = os.path.splitext(os.path.basename(result_path(args)))[0]
    return os.path.join(args.out, "checkpoints", name)


class StaleResult(data_lib.DataError):
    """A result JSON exists for this run's name but was made with other settings."""


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


# Settings that do not change a run's result: where it is written and read, how often it is
# evaluated or checkpointed, the command's own switches; and those its file name already holds.
NOT_COMPARED = frozenset({"out", "pretrain_cache", "mnist_path", "data_dir", "eval_every",
                          "checkpoint_every", "keep_checkpoints", "stop_after_epochs", "no_cache",
                          "force", "verbose", "dataset", "version", "prior", "seed"})


def stored_settings(config, prior, dataset):
    """A result's `config` with the settings it lacks: those came after it, with defaults that
    kept the behaviour, so each is taken at what its recipe (`legacy` where none is stored)
    resolves it to (`prior` and `dataset` where the config has none)."""
    argv = ["--recipe", config.get("recipe", "legacy"), "--prior", config.get("prior", prior),
            "--dataset", config.get("dataset", dataset)] + ["--quick"] * bool(config.get("quick"))
    return dict(vars(resolve(build_parser().parse_args(argv))), **config)


def check_same_settings(result, args, path):
    """Raises `StaleResult`, naming each difference, if the existing `result` (at `path`) was
    made with settings other than `args` (resolved), so that a folder never mixes recipes.
    Settings its `config` lacks: `stored_settings`. `capacity_factor` counts for the capacity
    prior only."""
    stored = stored_settings(result.get("config") or {}, args.prior, args.dataset)
    ignored = NOT_COMPARED | ({"capacity_factor"} if args.prior != "capacity" else set())
    differences = [f"{key}: {stored.get(key)!r} -> {value!r}"
                   for key, value in sorted(vars(args).items())
                   if key not in ignored and stored.get(key) != value]
    if differences:
        raise StaleResult(f"{path} exists but was made with other settings ("
                          + ", ".join(differences) + "); use another --out (the default folder "
                          "depends on --recipe) or --force to replace it")


def _log(message):
    print(message, flush=True)


def _pretrain_key(args, num_images):
    """The pretraining cache's name: everything the pretrained autoencoder and GMM depend on (the
    committed tables' names, plus the parts that differ from the legacy recipe's settings)."""
    key = (f"{args.dataset}_v{args.version}_ds{args.data_seed}_s{args.seed}_n{num_images}"
           f"_h{args.hidden.replace(',', '-')}_d{args.latent_dim}_k{args.num_clusters}"
           f"_e{args.pretrain_epochs}_b{args.batch_size}")
    if args.eval_split != "none":
        key += f"_{args.eval_split}"  # trained on the training part only
    elif args.dataset == "fashion" and args.recipe != "legacy":
        key += "_all"  # all 70,000 images, not the legacy test split
    if args.subset and args.recipe != "legacy":
        key += "_random"  # `--subset` images at random, not the legacy recipe's first ones
    if args.pretrain_lr != 1e-3:
        key += f"_plr{args.pretrain_lr:g}"
    if args.pretrain_noise:
        key += f"_noise{args.pretrain_noise:g}"
    if args.pretrain_loss != "bce":
        key += f"_{args.pretrain_loss}"
    if args.pretrain_batch_size not in (None, args.batch_size):
        key += f"_pb{args.pretrain_batch_size}"
    if args.pretrain_lr_final is not None:
        key += f"_plrf{args.pretrain_lr_final:g}"
    if args.pretrain_weight_decay:
        key += f"_wd{args.pretrain_weight_decay:g}"
    if args.pretrain_latent_l2:
        key += f"_zl2{args.pretrain_latent_l2:g}"
    if args.pretrain_init != "glorot":
        key += f"_init{args.pretrain_init}"
    if args.pretrain_layerwise_epochs:
        key += f"_lw{args.pretrain_layerwise_epochs}"
        if args.pretrain_dropout != LAYERWISE_DROPOUT:
            key += f"_do{args.pretrain_dropout:g}"
    if (args.gmm_n_init, args.gmm_reg_covar) != (1, 1e-6):
        key += f"_gmm{args.gmm_n_init}x{args.gmm_reg_covar:g}"
    return key


PRETRAIN_ARRAYS = ("gmm_means", "gmm_variances", "gmm_weights", "gmm_predictions", "seconds",
                   "pretrain_history")


def _read_pretrain_cache(path, num_weights, log):
    """The arrays of the pretraining cache `path` (and `gmm_fit` and `layerwise_history`, None
    where it has none); None if absent or corrupt (said in `log`)."""
    if not os.path.exists(path):
        return None
    keys = [f"w{i}" for i in range(num_weights)] + list(PRETRAIN_ARRAYS)
    try:
        arrays = data_lib.read_npz(path, keys, "pretraining cache", "pretraining afresh")
    except data_lib.CorruptFile as error:
        log(str(error))
        return None
    with np.load(path, allow_pickle=False) as npz:
        arrays["gmm_fit"] = json.loads(str(npz["gmm_fit"])) if "gmm_fit" in npz.files else None
        arrays["layerwise_history"] = (npz["layerwise_history"].tolist()
                                       if "layerwise_history" in npz.files else None)
    return arrays


def pretraining_epochs(args, num_layers):
    """All pretraining epochs, the layer-wise pairs' and the end-to-end ones (what
    `--stop-after-epochs` counts before joint training)."""
    return num_layers * args.pretrain_layerwise_epochs + args.pretrain_epochs


def prepare(args, model, x, log):
    """Pretrains (layer-wise first with `--pretrain-layerwise-epochs`) and fits the GMM, or loads
    both from the cache. Returns an info dict."""
    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    path = os.path.join(args.pretrain_cache, _pretrain_key(args, len(x)) + ".npz")
    checkpoints = None if args.no_cache else path[:-len(".npz")] + ".ckpt"
    num_encoder = len(model.encoder_body.weights)
    num_weights = num_encoder + len(model.decoder.weights)
    cache = None if args.no_cache else _read_pretrain_cache(path, num_weights, log)
    if cache is not None:
        weights = [cache[f"w{i}"] for i in range(num_weights)]
        model.encoder_body.set_weights(weights[:num_encoder])
        model.decoder.set_weights(weights[num_encoder:])
        vade.set_gmm(model, cache["gmm_means"], cache["gmm_variances"], cache["gmm_weights"],
                     args.init_prior_from_gmm)
        shutil.rmtree(checkpoints, ignore_errors=True)  # left by a kill after the cache's write
        log(f"loaded pretrained autoencoder and GMM from {path}")
        return {"pretrain_cached": path, "pretrain_seconds": float(cache["seconds"]),
                "gmm_predictions": cache["gmm_predictions"], "gmm_fit": cache["gmm_fit"],
                "pretrain_history": cache["pretrain_history"].tolist(),
                "layerwise_history": cache["layerwise_history"]}
    start = time.time()
    stop = args.stop_after_epochs
    layerwise_history = None
    if args.pretrain_layerwise_epochs:
        layerwise_epochs = len(model.encoder_body.layers) * args.pretrain_layerwise_epochs
        layerwise_history = vade.pretrain_layerwise(
            model, x, args.pretrain_layerwise_epochs,
            batch_size=args.pretrain_batch_size or args.batch_size,
            learning_rate=args.pretrain_lr, seed=args.seed, dropout=args.pretrain_dropout,
            init=args.pretrain_init, checkpoint_dir=checkpoints,
            checkpoint_every=args.checkpoint_every,
            stop_after_epochs=stop if stop is not None and stop < layerwise_epochs else None,
            log=log)
        stop = None if stop is None else stop - layerwise_epochs
    history = vade.pretrain_autoencoder(
        model, x, args.pretrain_epochs, batch_size=args.pretrain_batch_size or args.batch_size,
        learning_rate=args.pretrain_lr, seed=args.seed, noise=args.pretrain_noise,
        loss=args.pretrain_loss, final_learning_rate=args.pretrain_lr_final,
        weight_decay=args.pretrain_weight_decay, latent_l2=args.pretrain_latent_l2,
        init="glorot" if args.pretrain_layerwise_epochs else args.pretrain_init,  # as left
        checkpoint_dir=checkpoints, checkpoint_every=args.checkpoint_every,
        stop_after_epochs=stop if stop is not None and stop < args.pretrain_epochs else None,
        log=log)
    predictions, _, fit = vade.init_gmm(model, x, seed=args.seed, n_init=args.gmm_n_init,
                                        reg_covar=args.gmm_reg_covar,
                                        init_prior_from_gmm=args.init_prior_from_gmm)
    log(f"GMM: {fit['n_init']} restart(s), kept lower bound {fit['lower_bound']:.4f} "
        f"(converged {fit['converged']}, {fit['n_iter']} iterations)")
    seconds = time.time() - start
    files.fault_point("pretrain")
    if not args.no_cache:
        os.makedirs(args.pretrain_cache, exist_ok=True)
        weights = model.encoder_body.get_weights() + model.decoder.get_weights()
        buffer = io.BytesIO()
        np.savez(buffer, num_weights=len(weights), **{f"w{i}": w for i, w in enumerate(weights)},
                 gmm_means=model.gmm_means.numpy(), gmm_variances=model.gmm_init_variances,
                 gmm_weights=model.gmm_init_weights, gmm_predictions=predictions, seconds=seconds,
                 pretrain_history=np.asarray(history), gmm_fit=np.asarray(json.dumps(fit)),
                 **({} if layerwise_history is None
                    else {"layerwise_history": np.asarray(layerwise_history)}))
        files.atomic_write(path, buffer.getvalue())
        shutil.rmtree(checkpoints, ignore_errors=True)
    return {"pretrain_cached": None, "pretrain_seconds": seconds, "gmm_predictions": predictions,
            "gmm_fit": fit, "pretrain_history": history, "layerwise_history": layerwise_history}


def _remove_checkpoints(folder):
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(folder))  # `checkpoints/`, if no other run's are left
    except OSError:
        pass


def _prefixed(prefix, scores):
    return {prefix + key: value for key, value in scores.items()}


def run(args, log=_log):
    """Runs one configuration and writes its JSON; returns the result dict (None when stopped by
    `--stop-after-epochs`)."""
    args = resolve(args)
    split = data_lib.load_split(
        args.dataset, args.version, args.data_seed, args.eval_split, args.mnist_path,
        args.data_dir, fashion_test_only=args.recipe == "legacy" and args.dataset == "fashion")
    # TensorFlow only once the data are read: `--help`, argument and data errors answer at once.
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from mvhg_clustering import metrics  # pylint: disable=import-outside-toplevel
    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    hidden = tuple(int(h) for h in args.hidden.split(","))
    x, y, x_test, y_test = split
    held_out = x_test is not None
    if args.subset and args.recipe == "legacy":  # the first N, as the committed Fashion table
        x, y = x[:args.subset], y[:args.subset]
    elif args.subset:
        x, y = data_lib.take_subset(x, y, args.subset)
        if held_out:
            x_test, y_test = data_lib.take_subset(x_test, y_test, args.subset)
    num_classes = int(max(y.max(), y_test.max() if held_out else 0)) + 1
    log(f"run {args.dataset} v{args.version} prior={args.prior}{variant_tag(args)} "
        f"seed={args.seed} recipe={args.recipe}: {len(x)} training images, class counts "
        f"{np.bincount(y, minlength=num_classes).tolist()}; "
        + (f"{len(x_test)} held-out images, class counts "
           f"{np.bincount(y_test, minlength=num_classes).tolist()}" if held_out
           else "scored on the training images (--eval-split none)"))
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(args.seed)
    model = vade.VaDE(x.shape[1], args.num_clusters, args.latent_dim, hidden, args.prior,
                      args.batch_size, args.prior_term_scale, args.fix_prior_weights,
                      num_images=len(x), capacity_factor=args.capacity_factor)
    start = time.time()
    checkpoints = checkpoint_folder(args)
    if args.force:  # a rerun from the start: the joint training too (the pretraining cache stays)
        _remove_checkpoints(checkpoints)
    try:
        info = prepare(args, model, x, log)
    except vade.StoppedEarly as stop:
        log(f"{stop}: --stop-after-epochs {args.stop_after_epochs}; rerun to continue")
        return None

    def scores_of(predictions, labels):
        return metrics.clustering_scores(labels, predictions)

    gmm = (model.gmm_means.numpy(), np.exp(model.gmm_logvars.numpy()), model.gmm_init_weights)
    init = {"gmm_train": scores_of(info["gmm_predictions"], y),
            "q_train": scores_of(model.predict_clusters(x)[0], y)}
    if held_out:
        init["gmm_test"] = scores_of(vade.gmm_predict(model.embed(x_test)[0], *gmm), y_test)
        init["q_test"] = scores_of(model.predict_clusters(x_test)[0], y_test)
    on = "test" if held_out else "train"
    log(f"GMM init on the autoencoder ({'held-out' if held_out else 'training'} images): acc "
        f"{init['gmm_' + on]['acc']:.4f} nmi {init['gmm_' + on]['nmi']:.4f} ari "
        f"{init['gmm_' + on]['ari']:.4f}; q(c|x) at init: acc {init['q_' + on]['acc']:.4f}")

    def evaluate(trained):
        train_scores = scores_of(trained.predict_clusters(x)[0], y)
        if not held_out:
            return train_scores
        return {**scores_of(trained.predict_clusters(x_test)[0], y_test),
                **_prefixed("train_", train_scores),
                "test_loss": trained.mean_loss(x_test, seed=args.seed)}

    stop = args.stop_after_epochs
    train_start = time.time()
    try:
        history = vade.train_vade(
            model, x, args.epochs, learning_rate=args.lr, prior_learning_rate=args.prior_lr,
            lr_decay=args.lr_decay, lr_decay_every=args.lr_decay_every, lr_floor=args.lr_floor,
            adam_epsilon=args.adam_epsilon, tau_init=args.tau_init, tau_final=args.tau_final,
            seed=args.seed, evaluate=evaluate, eval_every=args.eval_every,
            checkpoint_dir=checkpoints, checkpoint_every=args.checkpoint_every,
            stop_after_epochs=None if stop is None else max(
                stop - pretraining_epochs(args, len(model.encoder_body.layers)), 0),
            log=log)
    except vade.StoppedEarly as stopped:
        log(f"{stopped}: --stop-after-epochs {stop}; rerun to continue")
        return None
    train_seconds = time.time() - train_start
    predictions, _ = model.predict_clusters(x)
    train_scores = scores_of(predictions, y)
    test_scores = scores_of(model.predict_clusters(x_test)[0], y_test) if held_out else None
    scores = test_scores if held_out else train_scores
    mapping = metrics.best_matching(y, predictions, args.num_clusters, num_classes)
    epoch_seconds = [record["seconds"] for record in history]
    result = {
        "config": {key: value for key, value in vars(args).items()},
        "data": {"num_images": int(len(x)), "input_dim": int(x.shape[1]),
                 "class_counts": np.bincount(y, minlength=num_classes).tolist(),
                 "class_proportions": data_lib.class_proportions(y, num_classes).tolist(),
                 "eval_split": args.eval_split,
                 "num_test_images": int(len(x_test)) if held_out else 0,
                 "test_class_counts": (np.bincount(y_test, minlength=num_classes).tolist()
                                       if held_out else None)},
        "scores_on": ("held-out images" if held_out else "training images (all images)"),
        "init_gmm_scores": init["gmm_" + on],
        "init_q_scores": init["q_" + on],
        "init_gmm_train_scores": init["gmm_train"],
        "init_gmm_test_scores": init.get("gmm_test"),
        "scores": scores,
        "train_scores": train_scores,
        "test_scores": test_scores,
        "gmm_fit": info["gmm_fit"],
        "cluster_to_class": mapping.tolist(),
        "cluster_proportions": (np.bincount(predictions, minlength=args.num_clusters)
                                / float(len(x))).tolist(),
        "prior_weights": model.prior.normalized_weights().tolist(),
        "prior_marginal": np.exp(model.prior.marginal_log_probs().numpy()).tolist(),
        "gmm_init_weights": np.asarray(model.gmm_init_weights).tolist(),
        "history": history,
        "pretrain_history": info["pretrain_history"],
        "pretrain_layerwise_history": info["layerwise_history"],
        "pretrain_cached": info["pretrain_cached"],
        "seconds": {"pretrain_and_gmm": info["pretrain_seconds"], "train": train_seconds,
                    "total": time.time() - start,
                    "joint_epochs_per_second": (len(epoch_seconds) / sum(epoch_seconds)
                                                if sum(epoch_seconds) > 0 else None)},
    }
    files.fault_point("train")
    os.makedirs(args.out, exist_ok=True)
    path = result_path(args)
    files.atomic_write(path, json.dumps(result, indent=1, default=_json_default))
    if not args.keep_checkpoints:
        _remove_checkpoints(checkpoints)
    train_part = ("" if not held_out else
                  f" (training images: acc {train_scores['acc']:.4f} nmi {train_scores['nmi']:.4f}"
                  f" ari {train_scores['ari']:.4f})")
    log(f"final on the {result['scores_on']}: acc {scores['acc']:.4f} nmi {scores['nmi']:.4f} "
        f"ari {scores['ari']:.4f}{train_part}; prior weights "
        f"{np.round(result['prior_weights'], 3).tolist()}; wrote {path} "
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
    """The command line; a bad parameter, or a missing or corrupt data file, exits with status 2
    and one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args = resolve(args)
    except ValueError as error:
        parser.error(str(error))
    path = result_path(args)
    try:
        try:
            result = None if args.force else read_result(path)
        except data_lib.CorruptFile as error:
            _log(f"{error}; rerunning")
        else:
            if result is not None:
                check_same_settings(result, args, path)
                _log(f"{path} exists; skipping (use --force to rerun)")
                return 0
        run(args)
    except data_lib.DataError as error:
        if args.verbose:
            traceback.print_exc()
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
