# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The Table 2 analogue: priors x dataset versions x seeds, then the table and the Fig. 3 plot.

    python -m mvhg_clustering.table            # digits, 3 priors x 3 versions x 5 seeds
    python -m mvhg_clustering.table --quick    # smoke test (1 seed, 2 + 2 epochs)
    python -m mvhg_clustering.table --dataset mnist10k --seeds 4 \
        --priors hypergeometric,categorical --init-prior-from-gmm --fix-prior-weights \
        --prior-term-scale 128      # a variant table (run's options, see `run`)

The table's arms: without variant options, one per prior of `--priors`, labelled by the prior.
With any of `run`'s options `--prior-term-scale`, `--fix-prior-weights`, `--init-prior-from-gmm`,
the learned priors of `--priors` run with them (labelled `{prior}{tag}`, `run.variant_tag`; the
uniform prior has nothing they change), beside the `--baseline-priors` with default options.

`--recipe` (`vade`, default, or `legacy`) and the recipe's flags (`--lr`, `--lr-decay`,
`--lr-decay-every`, `--lr-floor`, `--adam-epsilon`, `--pretrain-noise`, `--gmm-n-init`,
`--gmm-reg-covar`, `--eval-split`, `--eval-every`, `--checkpoint-every`, ...) are passed to every
run (`run`'s docstring). The table's scores are the runs' `scores`: on the held-out images with
`--eval-split test` (the `vade` recipe's default), on all images with `none` (legacy).

Runs whose result JSON already exists are skipped (so an interrupted table resumes, and a run
resumes from its checkpoints); every run goes through `run.run` in this process (the three priors
of a (version, seed) share one pretrained autoencoder and GMM fit, cached by `run` under
`runs/pretrain/`). Writes, under
`--results` (default `experiments/clustering/results/{dataset}/vade`, `.../{dataset}` with
`--recipe legacy` (the committed tables), then `/quick` with `--quick`, and `/{tag}` for a variant
table, which so has its own runs, baselines and pretrained autoencoders and never overwrites the
default table):

  runs/{dataset}_v{version}_{prior}{tag}_s{seed}.json   one per run
  table.json   settings, per-run scores, mean and standard deviation (ddof=1) over seeds, paired
               differences per seed (`comparisons`)
  table.md     the table in markdown
  prior_weights.png   learned prior weights (normalized), matched to classes, against the true
               class proportions (paper Fig. 3)

Every file is written whole or not at all (`run`'s docstring). A run result that is not a whole
result JSON (cut short by an older writer) is reported as `CORRUPT` and rerun; with `--no-train`,
or if its rerun fails, the table files are not rewritten (a table without that run would replace
a good one) and the command exits with status 2 and one line, as it does for a missing or corrupt
data file (`--verbose` adds the traceback).
"""

import argparse
import io
import json
import os
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from disentanglement_ext import files  # noqa: E402
from mvhg_clustering import data as data_lib  # noqa: E402
from mvhg_clustering import experiment_dir  # noqa: E402
from mvhg_clustering import metrics  # noqa: E402
from mvhg_clustering import run as run_lib  # noqa: E402
from mvhg_clustering import vade  # noqa: E402

SCORES = ("acc", "nmi", "ari")


# `run`'s flags passed through to every run when given (None: the recipe's and dataset's defaults).
PASSED = (("--epochs", int), ("--pretrain-epochs", int), ("--batch-size", int), ("--lr", float),
          ("--prior-lr", float), ("--lr-decay", float), ("--lr-decay-every", int),
          ("--lr-floor", float), ("--adam-epsilon", float), ("--pretrain-lr", float),
          ("--pretrain-noise", float), ("--gmm-n-init", int), ("--gmm-reg-covar", float),
          ("--tau-init", float), ("--tau-final", float), ("--eval-every", int),
          ("--checkpoint-every", int), ("--mnist-path", str), ("--data-dir", str),
          ("--subset", int), ("--data-seed", int), ("--hidden", str),
          ("--pretrain-loss", str), ("--pretrain-batch-size", int),
          ("--pretrain-lr-final", float), ("--pretrain-weight-decay", float),
          ("--pretrain-latent-l2", float), ("--pretrain-init", str),
          ("--pretrain-layerwise-epochs", int), ("--pretrain-dropout", float),
          ("--capacity-factor", float))


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--dataset", choices=data_lib.DATASETS, default="digits")
    parser.add_argument("--recipe", choices=tuple(run_lib.RECIPES), default="vade")
    parser.add_argument("--priors", default=",".join(vade.PRIORS))
    parser.add_argument("--baseline-priors", default="uniform,hypergeometric",
                        help="priors run with default options beside a variant's arms")
    parser.add_argument("--prior-term-scale", type=float, default=1.)
    parser.add_argument("--fix-prior-weights", action="store_true")
    parser.add_argument("--init-prior-from-gmm", action="store_true")
    parser.add_argument("--versions", default="100,80,60")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..SEEDS-1")
    parser.add_argument("--results", default=None, help="output folder")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-train", action="store_true",
                        help="only aggregate the JSONs that exist")
    parser.add_argument("--verbose", action="store_true", help="the traceback of an error")
    # Passed through to every run (None: run.py's defaults for the dataset).
    for flag, kind in PASSED:
        parser.add_argument(flag, type=kind, default=None)
    parser.add_argument("--eval-split", choices=data_lib.EVAL_SPLITS, default=None)
    return parser


def _log(message):
    print(message, flush=True)


VARIANT_KEYS = ("prior_term_scale", "fix_prior_weights", "init_prior_from_gmm")
DEFAULT_OPTIONS = {"prior_term_scale": 1., "fix_prior_weights": False,
                   "init_prior_from_gmm": False}


def make_arms(args):
    """`[(label, prior, options)]`, `options` a dict of `VARIANT_KEYS`. Default options: the
    priors of `--priors`. Else the `--baseline-priors` with default options, then the learned
    priors of `--priors` with the variant's (label `{prior}{tag}`)."""
    options = {key: getattr(args, key) for key in VARIANT_KEYS}
    priors = args.priors.split(",")
    if options == DEFAULT_OPTIONS:
        return [(prior, prior, options) for prior in priors]
    tag = run_lib.variant_tag(argparse.Namespace(**options))
    return ([(prior, prior, dict(DEFAULT_OPTIONS)) for prior in args.baseline_priors.split(",")]
            + [(prior + tag, prior, options) for prior in priors if prior != "uniform"])


def comparisons(arms):
    """Paired differences `(a, b)` = a - b between arm labels, each only if both arms exist:
    hypergeometric - {uniform, categorical} and capacity - {uniform, hypergeometric} (default
    options), and a variant arm - {its prior with default options, uniform},
    hypergeometric{tag} - categorical{tag}, capacity{tag} - hypergeometric{tag}."""
    labels = [label for label, _, _ in arms]
    pairs = []
    for label, prior, _ in arms:
        tag = label[len(prior):]
        others = [prior, "uniform"] if tag else []
        if prior == "hypergeometric":
            others += ["uniform", "categorical" + tag]
        if prior == "capacity":
            others += ["uniform", "hypergeometric" + tag]
        pairs += [(label, other) for other in dict.fromkeys(others)
                  if other != label and other in labels and (label, other) not in pairs]
    return pairs


def run_args(args, prior, version, seed, runs_dir, options=None):
    argv = ["--prior", prior, "--dataset", args.dataset, "--version", str(version),
            "--seed", str(seed), "--out", runs_dir, "--recipe", args.recipe]
    options = options or DEFAULT_OPTIONS
    if options["prior_term_scale"] != 1:
        argv += ["--prior-term-scale", repr(options["prior_term_scale"])]
    argv += [flag for key, flag in (("fix_prior_weights", "--fix-prior-weights"),
                                    ("init_prior_from_gmm", "--init-prior-from-gmm"))
             if options[key]]
    for flag in [flag for flag, _ in PASSED] + ["--eval-split"]:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            argv += [flag, str(value)]
    if args.quick:
        argv.append("--quick")
    return run_lib.resolve(run_lib.build_parser().parse_args(argv))


def aggregate(results, labels, versions, pairs):
    """Mean/std per (version, arm label) and the paired differences `pairs` (see `comparisons`)
    per seed: keys `v{version}/{label}` and `v{version}/{a}-{b}`."""
    table = {}
    for version in versions:
        for label in labels:
            runs = [r for r in results if r["version"] == version and r["arm"] == label]
            if not runs:
                continue
            entry = {"seeds": [r["seed"] for r in runs]}
            for key in SCORES:
                entry[key] = metrics.mean_std([r["scores"][key] for r in runs])
                entry["init_" + key] = metrics.mean_std([r["init_gmm_scores"][key] for r in runs])
            table[f"v{version}/{label}"] = entry
        for first, other in pairs:
            by_seed = {r["seed"]: r for r in results
                       if r["version"] == version and r["arm"] == first}
            matched = [(by_seed[r["seed"]], r) for r in results if r["version"] == version
                       and r["arm"] == other and r["seed"] in by_seed]
            if not matched:
                continue
            entry = {"seeds": [h["seed"] for h, _ in matched]}
            for key in SCORES:
                diffs = [h["scores"][key] - o["scores"][key] for h, o in matched]
                entry[key] = metrics.mean_std(diffs)
                entry[key + "_wins"] = int(sum(d > 0 for d in diffs))
                entry[key + "_ties"] = int(sum(d == 0 for d in diffs))
            table[f"v{version}/{first}-{other}"] = entry
    return table


def _by_class(result, values):
    """Per-cluster `values` moved to the classes of the Hungarian map (unmatched clusters: 0)."""
    num_classes = len(result["data"]["class_proportions"])
    out = np.zeros(num_classes)
    for cluster, cls in enumerate(result["cluster_to_class"]):
        if 0 <= cls < num_classes:
            out[cls] += values[cluster]
    return out


def reduced_class_mass(results, labels, versions):
    """Total weight on the first half of the classes (the subsampled ones), per version/prior.

    For each run: the true proportion, the fraction of points assigned to clusters matched to
    those classes, and the learned prior's normalized weights and marginal on those clusters.
    """
    summary = {}
    for version in versions:
        for label in labels:
            runs = [r for r in results if r["version"] == version and r["arm"] == label]
            if not runs:
                continue
            half = len(runs[0]["data"]["class_proportions"]) // 2
            entry = {"true": float(np.sum(runs[0]["data"]["class_proportions"][:half]))}
            for key in ("cluster_proportions", "prior_weights", "prior_marginal"):
                entry[key] = metrics.mean_std(
                    [np.sum(_by_class(r, r[key])[:half]) for r in runs])
            summary[f"v{version}/{label}"] = entry
    return summary


# The paper's Table 2 (MNIST) accuracies in %, per version and prior.
PAPER_MNIST_ACC = {100: {"uniform": 92.0, "categorical": 87.2, "hypergeometric": 91.4},
                   80: {"uniform": 90.8, "categorical": 87.4, "hypergeometric": 92.5},
                   60: {"uniform": 83.5, "categorical": 86.5, "hypergeometric": 89.7}}


def table2_layout(table, arms, versions):
    """Markdown lines: one row per (version, arm) with ACC / NMI / ARI in % (mean ± std), and
    the paper's MNIST accuracy beside them (arms with default options only)."""
    lines = ["| version | prior | ACC (%) | NMI (%) | ARI (%) | paper MNIST ACC (%) |",
             "|---|---|---:|---:|---:|---:|"]
    for version in versions:
        for label, prior, _ in arms:
            entry = table.get(f"v{version}/{label}")
            if not entry:
                continue
            cells = [metrics.format_mean_std(
                [100 * value if value is not None else None for value in entry[k]], digits=1)
                for k in SCORES]
            paper = PAPER_MNIST_ACC.get(version, {}).get(prior) if label == prior else None
            lines.append(f"| {version}% | {label} | " + " | ".join(cells)
                         + f" | {paper if paper is not None else '–'} |")
    return lines


def per_seed_lines(results, labels, versions):
    """Markdown lines: ACC / ARI of every arm per (version, seed), the paired view."""
    lines = ["| version | seed | " + " | ".join(f"{p} ACC / ARI" for p in labels) + " |",
             "|---|---:|" + "---:|" * len(labels)]
    seeds = sorted({r["seed"] for r in results})
    for version in versions:
        for seed in seeds:
            found = {r["arm"]: r["scores"] for r in results
                     if r["version"] == version and r["seed"] == seed}
            if found:
                cells = [f"{found[p]['acc']:.3f} / {found[p]['ari']:.3f}" if p in found else "–"
                         for p in labels]
                lines.append(f"| {version}% | {seed} | " + " | ".join(cells) + " |")
    return lines


def markdown(table, labels, versions, settings, pairs, mass=None):
    lines = [f"# Deep variational clustering on {settings['dataset']}: priors on the cluster "
             "assignments (paper Table 2 analogue)", ""]
    missing = settings["runs_missing"]
    if missing:
        present = "; ".join(f"{version}: {seeds or 'none'}"
                            for version, seeds in settings["seeds_present"].items())
        spread = (f"Incomplete: {missing} of the {settings['runs_expected']} runs of seeds "
                  f"{settings['seeds']} are missing (seeds present: {present}). Mean ± standard "
                  "deviation (ddof=1) over the seeds a cell has, one seed's value alone")
    elif len(settings["seeds"]) > 1:
        spread = f"Mean ± standard deviation (ddof=1) over seeds {settings['seeds']}"
    else:
        spread = f"One seed, {settings['seeds'][0]}: no spread yet (more seeds fill it in)"
    lines.append(
        f"{spread}; each seed has its own "
        "pretrained autoencoder and GMM initialisation, shared by all arms (paired). "
        "Versions: `100` all images; `80`/`60`: classes 0-4 subsampled to 80%/60% (fixed data "
        "seed). " + settings["scores_on"]
        + ", clusters = argmax q(c|x).")
    lines.append("")
    header = "| prior | " + " | ".join(f"v{v} ACC | v{v} NMI | v{v} ARI" for v in versions) + " |"
    lines += [header, "|---|" + "---:|" * (3 * len(versions))]
    rows = [("GMM init (AE)", "init_", labels[0])] + [(p, "", p) for p in labels]
    for label, prefix, prior in rows:
        cells = []
        for version in versions:
            entry = table.get(f"v{version}/{prior}")
            cells += [metrics.format_mean_std(entry[prefix + k]) if entry else "–" for k in SCORES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Paired differences, first minus second arm (same seed, same "
              "initialisation): mean ± std, and wins/ties out of the seeds.", ""]
    lines += [header.replace("prior", "comparison"), "|---|" + "---:|" * (3 * len(versions))]
    for first, other in pairs:
        cells = []
        for version in versions:
            entry = table.get(f"v{version}/{first}-{other}")
            for key in SCORES:
                if entry:
                    n = len(entry["seeds"])
                    cells.append(f"{metrics.format_mean_std(entry[key], sign='+')} "
                                 f"({entry[key + '_wins']}/{n}, {entry[key + '_ties']} ties)")
                else:
                    cells.append("–")
        lines.append(f"| {first} − {other} | " + " | ".join(cells) + " |")
    if mass:
        lines += ["", "Mass on the subsampled classes 0-4 (clusters matched to them by the "
                  "Hungarian map): true proportion; fraction of points assigned there; learned "
                  "normalized prior weight (categorical pi, hypergeometric and capacity "
                  "omega/sum omega); prior marginal p(c_i = k) used in q(c|x) (hypergeometric: "
                  "E[n_k]/B; capacity: the urn's conditional at the running counts, whose "
                  "omega also makes up for the room m_k - N_k).", "",
                  "| version | prior | true | assigned | weight | marginal |",
                  "|---|---|---:|---:|---:|---:|"]
        for version in versions:
            for label in labels:
                entry = mass.get(f"v{version}/{label}")
                if entry:
                    lines.append(
                        f"| v{version} | {label} | {entry['true']:.3f} | "
                        f"{metrics.format_mean_std(entry['cluster_proportions'])} | "
                        f"{metrics.format_mean_std(entry['prior_weights'])} | "
                        f"{metrics.format_mean_std(entry['prior_marginal'])} |")
    lines += ["", "Settings: " + ", ".join(f"{k} = {v}" for k, v in settings["run"].items()), ""]
    if settings["variant"]:
        lines += ["Arms with the tag `" + settings["variant"] + "`: " + ", ".join(
            f"{k} = {v}" for k, v in settings["variant_options"].items()) + " (`run`'s options: "
            "`_gmmw` prior weights start at the GMM's, `_fixed` and are not trained, `_ptsB` the "
            "prior term E_q log p(c) of the loss times B); the other arms: default options.", ""]
    lines.append(f"Runtime: {settings['seconds_total_runs']:.0f} s summed over "
                 f"{settings['num_runs']} runs (pretraining counted once per version and seed); "
                 f"the table invocation that trained {settings['runs_trained']} of them: "
                 f"{settings['seconds_wall']:.0f} s wall clock "
                 f"({settings.get('machine', 'machine not recorded')}).")
    return "\n".join(lines) + "\n"


def _weight_series(arms):
    """(arm label, result key, legend text) of every learned weight vector the figure shows."""
    series = []
    for label, prior, _ in arms:
        if prior == "categorical":
            series.append((label, "prior_weights", f"{label} pi"))
        elif prior == "hypergeometric":
            series += [(label, "prior_weights", f"{label} omega / sum(omega)"),
                       (label, "prior_marginal", f"{label} E[n_k] / B")]
        elif prior == "capacity":
            series += [(label, "prior_weights", f"{label} omega / sum(omega)"),
                       (label, "prior_marginal", f"{label} p(c_i = k | c_-i)")]
    return series


def prior_weights_figure(results, versions, arms):
    """Fig. 3 analogue: learned normalized prior weights per matched class vs true proportions,
    for every learned arm of `arms` (see `make_arms`): bars the mean over seeds, whiskers the
    seeds' range (inside [0, 1], as the weights are).

    The legend sits below the panels in as many columns as fit the figure's width, and the
    panels leave room for it, so it is never clipped. Returns the matplotlib figure.
    """
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, axes = plt.subplots(1, len(versions), figsize=(5 * len(versions), 3.8), squeeze=False)
    series = _weight_series(arms)
    width = 0.8 / (len(series) + 1)
    for ax, version in zip(axes[0], versions, strict=True):
        runs = [r for r in results if r["version"] == version]
        if not runs:
            ax.set_visible(False)
            continue
        true = np.asarray(runs[0]["data"]["class_proportions"])
        classes = np.arange(len(true))
        ax.bar(classes - 0.5 * len(series) * width, true, width, color="0.3",
               label="true class proportion")
        for offset, (arm, key, label) in enumerate(series):
            per_seed = np.asarray([_by_class(r, r[key]) for r in runs if r["arm"] == arm])
            if not len(per_seed):
                continue
            mean = per_seed.mean(0)
            ax.bar(classes + (offset + 1 - 0.5 * len(series)) * width, mean, width,
                   yerr=np.stack([mean - per_seed.min(0), per_seed.max(0) - mean])
                   if len(per_seed) > 1 else None,
                   label=label, capsize=2, color=f"C{offset}")
        ax.set_title(f"version {version}%")
        ax.set_xticks(classes)
        ax.set_xlabel("class (cluster matched by the Hungarian map)")
        ax.set_ylabel("proportion / normalized weight")
    entries = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    renderer = fig.canvas.get_renderer()
    for ncol in range(len(entries), 0, -1):
        legend = fig.legend(list(entries.values()), list(entries), loc="lower center",
                            ncol=ncol, fontsize=8)
        box = legend.get_window_extent(renderer)
        if box.width <= 0.98 * fig.bbox.width or ncol == 1:
            break
        legend.remove()
    fig.tight_layout(rect=(0, box.height / fig.bbox.height + 0.02, 1, 1))
    return fig


def plot_prior_weights(results, versions, path, arms):
    """Writes `prior_weights_figure` to `path` (as a PNG, atomically)."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    fig = prior_weights_figure(results, versions, arms)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    files.atomic_write(path, buffer.getvalue())


def results_folder(args):
    """`--results`, else results/{dataset}[/{recipe} unless legacy][/quick][/{variant tag}]
    here."""
    tag = run_lib.variant_tag(argparse.Namespace(**{key: getattr(args, key)
                                                   for key in VARIANT_KEYS}))
    return os.path.normpath(args.results or os.path.join(
        experiment_dir(), "results", args.dataset, "" if args.recipe == "legacy" else args.recipe,
        "quick" if args.quick else "", tag[1:]))


def main(argv=None):
    """The command line; a bad parameter, or a missing or corrupt data file or run result, exits
    with status 2 and one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be an integer >= 1, got {args.seeds!r}.")
    try:  # every run's parameters, checked before any run (run.resolve names a bad flag)
        for version in args.versions.split(","):
            for _, prior, options in make_arms(args):
                run_args(args, prior, version, 0, "runs", options)
    except ValueError as error:
        parser.error(str(error))
    try:
        return make_table(args)
    except data_lib.DataError as error:
        if args.verbose:
            traceback.print_exc()
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def _read_result(path, corrupt):
    """`run.read_result(path)`, None for a corrupt file, whose error is added to `corrupt`."""
    try:
        return run_lib.read_result(path)
    except data_lib.CorruptFile as error:
        corrupt.append(error)
        return None


def make_table(args):
    """Trains the missing runs unless `args.no_train`, then writes the table; returns 1 if a run
    failed, else 0."""
    priors = args.priors.split(",")
    arms = make_arms(args)
    labels, pairs = [label for label, _, _ in arms], comparisons(arms)
    options = {key: getattr(args, key) for key in VARIANT_KEYS}
    variant = run_lib.variant_tag(argparse.Namespace(**options))
    results_dir = results_folder(args)
    runs_dir = os.path.join(results_dir, "runs")
    versions = [int(v) for v in args.versions.split(",")]
    seeds = list(range(1 if args.quick and args.seeds == 5 else args.seeds))
    start = time.time()
    failures, trained = [], 0
    for version in versions:
        for seed in seeds:
            for label, prior, arm_options in arms:
                run_args_ = run_args(args, prior, version, seed, runs_dir, arm_options)
                path = run_lib.result_path(run_args_)
                corrupt = []
                existing = _read_result(path, corrupt)
                if existing is not None:
                    run_lib.check_same_settings(existing, run_args_, path)
                    _log(f"skip {path} (exists)")
                    continue
                if args.no_train:
                    continue
                if corrupt:
                    _log(f"CORRUPT {path}: {corrupt[0].reason}; rerunning it")
                trained += 1
                try:
                    run_lib.run(run_args_)
                except data_lib.DataError:
                    raise
                except Exception as error:  # pylint: disable=broad-except
                    _log(f"FAILED {label} v{version} seed {seed}: {error!r}")
                    failures.append({"arm": label, "version": version, "seed": seed,
                                     "error": repr(error)})
    results, corrupt = [], []
    for version in versions:
        for seed in seeds:
            for label, prior, arm_options in arms:
                result = _read_result(run_lib.result_path(
                    run_args(args, prior, version, seed, runs_dir, arm_options)), corrupt)
                if result is not None:
                    result.update(arm=label, prior=prior, version=version, seed=seed)
                    results.append(result)
    if corrupt:
        for error in corrupt:
            _log(f"CORRUPT {error.path}: {error.reason}")
        raise data_lib.DataError(
            f"{len(corrupt)} corrupt run result(s) (CORRUPT above); the table in {results_dir} "
            "was not rewritten: rerun the table (without --no-train) to redo them")
    table = aggregate(results, labels, versions, pairs)
    mass = reduced_class_mass(results, labels, versions)
    example = run_args(args, priors[0], versions[0], 0, runs_dir)
    run_settings = {key: getattr(example, key) for key in (
        "recipe", "dataset", "eval_split", "epochs", "pretrain_epochs", "batch_size",
        "num_clusters", "latent_dim", "hidden", "lr", "prior_lr", "lr_decay", "lr_decay_every",
        "lr_floor", "adam_epsilon", "pretrain_lr", "pretrain_noise", "pretrain_loss",
        "pretrain_batch_size", "pretrain_lr_final", "pretrain_weight_decay", "pretrain_latent_l2",
        "pretrain_init", "pretrain_layerwise_epochs", "pretrain_dropout", "gmm_n_init",
        "gmm_reg_covar", "tau_init", "tau_final", "data_seed", "subset")}
    if "capacity" in priors:
        run_settings["capacity_factor"] = example.capacity_factor
    runs_expected = len(versions) * len(seeds) * len(labels)
    pretrain_seconds = {(r["version"], r["seed"]): r["seconds"]["pretrain_and_gmm"]
                        for r in results}
    settings = {
        "dataset": args.dataset, "priors": priors, "arms": labels, "variant": variant,
        "variant_options": options,
        "comparisons": [f"{a}-{b}" for a, b in pairs], "versions": versions, "seeds": seeds,
        "run": run_settings, "num_runs": len(results),
        "runs_expected": runs_expected, "runs_missing": runs_expected - len(results),
        "seeds_present": {f"v{version}": sorted({r["seed"] for r in results
                                                 if r["version"] == version})
                          for version in versions},
        "scores_on": ("Scores on the held-out images of the version (trained on the others)"
                      if example.eval_split == "test" else "Scores on all images of the version"),
        "seconds_total_runs": float(sum(r["seconds"]["train"] for r in results)
                                    + sum(pretrain_seconds.values())),
        "seconds_wall": time.time() - start, "runs_trained": trained, "failures": failures,
        "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end"}
    table_path = os.path.join(results_dir, "table.json")
    previous = files.read_json(table_path) if not trained else None
    if isinstance(previous, dict):
        # Aggregation only: keep the wall clock of the invocation that trained the runs.
        previous = previous.get("settings", {})
        if "seconds_wall" in previous:
            settings["seconds_wall"] = previous["seconds_wall"]
            settings["runs_trained"] = previous.get("runs_trained", 0)
            settings["machine"] = previous.get("machine", "machine not recorded")
    os.makedirs(results_dir, exist_ok=True)
    per_run = [{"arm": r["arm"], "prior": r["prior"], "version": r["version"], "seed": r["seed"],
                "scores": r["scores"], "init_gmm_scores": r["init_gmm_scores"],
                "train_scores": r.get("train_scores", r["scores"]),
                "prior_weights": r["prior_weights"], "prior_marginal": r["prior_marginal"],
                "cluster_to_class": r["cluster_to_class"],
                "cluster_proportions": r["cluster_proportions"],
                "class_proportions": r["data"]["class_proportions"],
                "seconds": r["seconds"]} for r in results]
    files.atomic_write(table_path, json.dumps({"settings": settings, "table": table,
                                               "reduced_class_mass": mass, "runs": per_run},
                                              indent=1))
    text = markdown(table, labels, versions, settings, pairs, mass)
    text += ("\nPaper Table 2 layout (the last column is the paper's MNIST accuracy, under "
             "its own protocol):\n\n"
             + "\n".join(table2_layout(table, arms, versions))
             + "\n\nPer seed (paired: same pretrained autoencoder and GMM within a row):\n\n"
             + "\n".join(per_seed_lines(results, labels, versions)) + "\n")
    files.atomic_write(os.path.join(results_dir, "table.md"), text)
    if results:
        plot_prior_weights(results, versions, os.path.join(results_dir, "prior_weights.png"),
                           arms)
    _log(text)
    _log(f"wrote {results_dir}/table.json, table.md, prior_weights.png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
