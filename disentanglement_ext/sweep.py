# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A sweep of weakly-supervised runs (methods x s x seeds), resumable, with a results table and
plots.

    mvhg_sweep --out_dir runs/cpu_small [--methods label label_dlib ada hg] \
        [--num_shared 0 1 3 5] [--seeds 0 1] [--gin_config procedural --gin_config cpu_small] \
        [--gin_bindings "model.training_steps = 1500"] [--jobs 2] [--report_only]

(or `python -m disentanglement_ext.sweep ...`). Each run is `mvhg_train_weak` in its own process,
writing to `OUT/{method}_s{s}_seed{seed}` and its progress to `OUT/{method}_s{s}_seed{seed}.log`;
runs with every stage done and an unchanged gin config are skipped, and a killed run does its
missing stages, so an interrupted sweep continues where it stopped (a changed config is refused by
the run, see `weak_training`). `--jobs N` trains N runs at a time (small models on the vector data
set leave a core idle per run). A finished run's `evaluation.json` is also kept as
`OUT/runs/{run}.json`, from which `--report_only` rebuilds the outputs without training (e.g. in a
results folder without the run folders); a run file that does not parse is reported as corrupt and
never copied over its archive. Every output is written whole or not at all (`files.atomic_write`).
Outputs:

- `OUT/results.csv`: one row per run.
- `OUT/results.md`: mean ± standard deviation over seeds of both definitions of s_hat, F - k_hat
  (F ground-truth factors) and the paper's d - k_hat (d latent dimensions), with MSE(s, s_hat)
  against each pair's s, the downstream scores and disentanglement_lib's MIG, DCI
  disentanglement, SAP and modularity; reference rows for a constant k_hat = d, a constant
  k_hat = 1 and the oracle k_hat = F - s (their MSE from the moments of the evaluation pairs' s);
  and the paper's Table 1 layout (independent / shared score per s).
- `OUT/s_hat.png`: s_hat vs s and MSE(s, s_hat) vs s under both definitions (paper Fig. 2), with
  the reference estimators; `OUT/k_hat_training.png`: k_hat during training (TensorBoard
  summaries of the run folders).
"""

import argparse
import concurrent.futures
import csv
import glob
import io
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import disentanglement_ext
from disentanglement_ext.configs import GIN_DIR
from disentanglement_ext.files import atomic_write
from disentanglement_ext.files import atomic_write_json
from disentanglement_ext.files import read_json

METHOD_NAMES = {"label": "LabelVAE", "label_dlib": "LabelVAE (changed factor)",
                "label_true": "LabelVAE (true set)", "ada": "AdaVAE", "hg": "HGVAE"}
# One colour per method in every plot of the sweep.
METHOD_COLOURS = {"label": "tab:blue", "label_dlib": "tab:purple", "label_true": "tab:brown",
                  "ada": "tab:orange", "hg": "tab:green"}
DEFAULT_CONFIGS = [os.path.join(GIN_DIR, name) for name in ("procedural.gin", "cpu_small.gin")]
# disentanglement_lib scores shown in the table: column -> (metric, score name) in evaluation.json.
DLIB_COLUMNS = {"mig": ("mig", "discrete_mig"), "dci": ("dci", "disentanglement"),
                "sap": ("sap_score", "SAP_score"), "modularity": ("modularity_explicitness",
                                                                  "modularity_score")}
SUMMARIZED = ["s_hat_mean", "mse_s", "s_hat_latent_mean", "mse_s_latent", "shared_score",
              "independent_score", *DLIB_COLUMNS]
COLUMNS = ["method", "dynamics", "s_true", "seed", "k_hat_mean", "s_hat_mean", "mse_s",
           "s_hat_latent_mean", "mse_s_latent", "shared_score", "independent_score",
           *DLIB_COLUMNS, "reconstruction_loss", "train_seconds"]
# Reference estimators of every table and plot, k_hat = a(F, d) + b s: name -> (a, b).
REFERENCES = {"constant k_hat = d": (lambda f, d: d, 0.),
              "constant k_hat = 1": (lambda f, d: 1, 0.),
              "oracle k_hat = F - s": (lambda f, d: f, -1.)}


def run_dir(out_dir, method, num_shared, seed):
    return os.path.join(out_dir, f"{method}_s{num_shared}_seed{seed}")


class CorruptReport(Exception):
    """A run's evaluation.json that does not parse (a truncated write)."""


def run_one(out_dir, method, num_shared, seed, gin_configs, gin_bindings, model_dir=None):
    """Trains one run in a child process unless it is complete; returns its evaluation dict.

    The run goes to `model_dir` (default `run_dir(out_dir, method, num_shared, seed)`), its
    progress to `model_dir + ".log"`; the evaluation dict is archived (`archived_report`).

    Raises:
      subprocess.CalledProcessError: the run failed.
      CorruptReport: its evaluation.json does not parse (the archived copy is kept).
    """
    model_dir = model_dir or run_dir(out_dir, method, num_shared, seed)
    result_file = os.path.join(model_dir, "evaluation.json")
    files, bindings = run_config(method, num_shared, seed, gin_configs, gin_bindings)
    if not (os.path.exists(result_file) and _is_complete(model_dir, files, bindings)):
        command = [sys.executable, "-m", "disentanglement_ext.train_weak", "--model_dir",
                   model_dir]
        command += [arg for path in files for arg in ("--gin_config", path)]
        command += [arg for binding in bindings for arg in ("--gin_bindings", binding)]
        os.makedirs(out_dir, exist_ok=True)
        with open(model_dir + ".log", "w", encoding="utf-8") as log:  # the run's progress
            subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    report = read_json(result_file)
    archive = archived_report(out_dir, os.path.basename(model_dir))
    if not isinstance(report, dict):
        raise CorruptReport(f"{result_file} is not valid JSON (a truncated write?); "
                            f"{archive} is kept")
    os.makedirs(os.path.dirname(archive), exist_ok=True)
    atomic_write_json(archive, report)
    return report


def archived_report(out_dir, name):
    """Where the sweep keeps a copy of run `name`'s evaluation.json: `OUT/runs/{name}.json`."""
    return os.path.join(out_dir, "runs", name + ".json")


def read_report(out_dir, method, num_shared, seed):
    """A finished run's evaluation dict, from its run folder or else its archived copy; None if
    neither exists. A file that does not parse is passed over with a line saying so.

    Raises:
      CorruptReport: there are such files, and no good one.
    """
    name = os.path.basename(run_dir(out_dir, method, num_shared, seed))
    corrupt = []
    for path in (os.path.join(out_dir, name, "evaluation.json"), archived_report(out_dir, name)):
        report = read_json(path)
        if isinstance(report, dict):
            return report
        if os.path.exists(path):
            corrupt.append(path)
            print(f"    {path} is not valid JSON (a truncated write?): passed over", flush=True)
    if corrupt:
        raise CorruptReport(f"{' and '.join(corrupt)} {'are' if len(corrupt) > 1 else 'is'} not "
                            "valid JSON; rerun the sweep without --report_only to re-evaluate "
                            "the run")
    return None


def run_config(method, num_shared, seed, gin_configs, gin_bindings):
    """The gin files and bindings of one run: `(files, bindings)`."""
    files = [os.path.join(GIN_DIR, "base.gin"), os.path.join(GIN_DIR, f"{method}.gin")]
    bindings = [f"model.num_shared = {num_shared}", f"model.random_seed = {seed}"]
    return files + list(gin_configs), bindings + list(gin_bindings)


def _weak_training():
    """`disentanglement_ext.weak_training`, imported with TensorFlow's C++ logs off."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    disentanglement_ext.install_compat()
    from disentanglement_ext import weak_training  # pylint: disable=import-outside-toplevel
    return weak_training


# gin's config is global to the process: the sweep's threads (--jobs) check runs one at a time.
_GIN_LOCK = threading.Lock()


def _is_complete(model_dir, files, bindings):
    with _GIN_LOCK:
        return _weak_training().is_complete(model_dir, files, bindings)


def flatten_dlib_scores(report):
    """The `DLIB_COLUMNS` scores of an evaluation.json dict (None where not computed)."""
    scores = report.get("disentanglement_lib") or {}
    return {column: (scores.get(metric) or {}).get(score)
            for column, (metric, score) in DLIB_COLUMNS.items()}


def with_both_definitions(report):
    """A copy of an evaluation.json dict with the paper's s_hat = d - k_hat and its MSE, and the
    first two moments of the evaluation pairs' s (`s_pairs_mean`, `s_pairs_sq_mean`).

    Runs evaluated before these were recorded (exact-s pairs, so s is the run's s) lack them; per
    pair d - k_hat - s = (F - k_hat - s) + (d - F), hence
    MSE_d = MSE_F + 2 (d - F) (mean(F - k_hat) - s) + (d - F)^2.
    """
    report = dict(report)
    s_true = report.get("s_true")
    if "s_pairs_mean" not in report and _is_number(s_true) and s_true >= 0:
        report["s_pairs_mean"], report["s_pairs_sq_mean"] = float(s_true), float(s_true) ** 2
    num_factors, num_latent = report.get("num_factors"), report.get("num_latent")
    if ("mse_s_latent" not in report and None not in (num_factors, num_latent)
            and "s_pairs_mean" in report and _is_number(report.get("mse_s"))):
        shift = num_latent - num_factors
        report["s_hat_latent_mean"] = report["s_hat_mean"] + shift
        report["mse_s_latent"] = (report["mse_s"] + shift ** 2 + 2 * shift * (
            report["s_hat_mean"] - report["s_pairs_mean"]))
    return report


def summarize(rows):
    """Mean and (population) standard deviation over seeds per (method, dynamics, s): list of
    dicts; None where no seed has the value."""
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], row.get("dynamics", "exact"), row["s_true"]),
                          []).append(row)
    summary = []
    for (method, dynamics, num_shared), group in sorted(groups.items()):
        entry = dict(method=method, dynamics=dynamics, s_true=num_shared, seeds=len(group))
        for key in SUMMARIZED:
            values = [float(row[key]) for row in group if _is_number(row.get(key))]
            entry[key] = statistics.fmean(values) if values else None
            entry[key + "_std"] = statistics.pstdev(values) if values else None
        summary.append(entry)
    return summary


def reference_rows(rows):
    """The `REFERENCES` estimators per (dynamics, s), in `summarize`'s form (`seeds` None).

    An estimator k_hat = a + b s gives, per definition X in {F, d}, s_hat - s = (X - a) - (1 + b) s,
    so MSE = (X - a)^2 - 2 (X - a)(1 + b) E[s] + (1 + b)^2 E[s^2], with the moments of the runs'
    evaluation pairs. Runs without F, d or those moments are left out.
    """
    groups = {}
    for row in rows:
        if all(_is_number(row.get(key)) for key in ("num_factors", "num_latent", "s_pairs_mean",
                                                     "s_pairs_sq_mean")):
            groups.setdefault((row.get("dynamics", "exact"), row["s_true"]), []).append(row)
    references = []
    for (dynamics, num_shared), group in sorted(groups.items()):
        num_factors, num_latent = group[0]["num_factors"], group[0]["num_latent"]
        mean = statistics.fmean(row["s_pairs_mean"] for row in group)
        square = statistics.fmean(row["s_pairs_sq_mean"] for row in group)
        for name, (intercept, slope) in REFERENCES.items():
            entry = dict({key: None for key in SUMMARIZED},
                         **{key + "_std": None for key in SUMMARIZED},
                         method=name, dynamics=dynamics, s_true=num_shared, seeds=None)
            for size, s_hat, mse in ((num_factors, "s_hat_mean", "mse_s"),
                                     (num_latent, "s_hat_latent_mean", "mse_s_latent")):
                offset = size - intercept(num_factors, num_latent)
                entry[s_hat] = offset - slope * mean
                entry[mse] = (offset ** 2 - 2 * offset * (1 + slope) * mean
                              + (1 + slope) ** 2 * square)
            references.append(entry)
    return references


def k_hat_lines(rows):
    """One line per (method, dynamics, s): k_hat per seed and its mean against the true
    k = F - s, e.g. "HGVAE, s = 1: k_hat = 5.98 (seeds: 5.98), true k = F - s = 7 - 1 = 6"."""
    groups = {}
    for row in rows:
        if _is_number(row.get("k_hat_mean")):
            groups.setdefault((row["method"], row.get("dynamics", "exact"), row["s_true"]),
                              []).append(row)
    lines = []
    for (method, dynamics, num_shared), group in groups.items():
        values = [row["k_hat_mean"] for row in group]
        line = (f"{method_label(dict(method=method, dynamics=dynamics))}, s = {num_shared}: "
                f"k_hat = {statistics.fmean(values):.2f} (seeds: "
                + ", ".join(f"{value:.2f}" for value in values) + ")")
        num_factors = group[0].get("num_factors")
        if num_shared >= 0 and _is_number(num_factors):
            line += (f", true k = F - s = {num_factors} - {num_shared} = "
                     f"{num_factors - num_shared}")
        lines.append(line)
    return lines


def _is_number(value):
    return isinstance(value, (int, float)) and not math.isnan(value)


def format_value(value, digits=3):
    """A number for the console: `digits` decimals; "n/a" for None or NaN."""
    return f"{value:.{digits}f}" if _is_number(value) else "n/a"


def _csv_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def method_label(entry):
    """The table/plot name of a method (or reference) entry; "dlib pairs" marks that dynamics."""
    name = METHOD_NAMES.get(entry["method"], entry["method"])
    return name + (", dlib pairs" if entry.get("dynamics", "exact") != "exact" else "")


def _cell(entry, key):
    if entry.get(key) is None:
        return "n/a"
    if entry["seeds"] in (1, None) or entry.get(key + "_std") is None:
        return f"{entry[key]:.2f}"
    return f"{entry[key]:.2f} ± {entry[key + '_std']:.2f}"


def write_outputs(out_dir, rows, summary, references=()):
    """`results.csv` (one row per run; empty cells where a metric is missing), `results.md`
    (mean ± std over seeds, the mean alone for one seed; the reference rows; the paper's Table 1
    layout) and `s_hat.png`; returns the markdown."""
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(row.get(column)) for column in COLUMNS])
    atomic_write(os.path.join(out_dir, "results.csv"), table.getvalue())
    lines = ["| method | s | seeds | s_hat = F - k_hat | MSE | s_hat = d - k_hat (paper) "
             "| MSE (paper) | shared score | independent score | MIG | DCI dis. | SAP "
             "| modularity |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for entry in list(summary) + sorted(references, key=lambda entry: entry["s_true"]):
        cells = " | ".join(_cell(entry, key) for key in SUMMARIZED)
        seeds = "–" if entry["seeds"] is None else entry["seeds"]
        lines.append(f"| {method_label(entry)} | {entry['s_true']} | {seeds} | {cells} |")
    lines += ["", "Paper's Table 1 layout: independent / shared score (adjusted balanced accuracy, "
              "mean and standard deviation over seeds) per s.", ""] + table1_lines(summary)
    text = "\n".join(lines)
    atomic_write(os.path.join(out_dir, "results.md"), text + "\n")
    plot_s_hat(out_dir, summary, references)
    return text


def table1_lines(summary):
    """Methods as rows, `s = ...: independent | shared` column pairs (the paper's Table 1)."""
    values_of_s = sorted({entry["s_true"] for entry in summary})
    labels = sorted({(entry["method"], entry["dynamics"]) for entry in summary},
                    key=lambda key: (list(METHOD_NAMES).index(key[0])
                                     if key[0] in METHOD_NAMES else len(METHOD_NAMES), key))
    lines = ["| method | " + " | ".join(f"s = {s}: independent | s = {s}: shared"
                                        for s in values_of_s) + " |",
             "|---|" + "---:|---:|" * len(values_of_s)]
    for method, dynamics in labels:
        cells = []
        for num_shared in values_of_s:
            found = [entry for entry in summary if (entry["method"], entry["dynamics"],
                                                    entry["s_true"]) == (method, dynamics,
                                                                         num_shared)]
            cells += ([_cell(found[0], "independent_score"), _cell(found[0], "shared_score")]
                      if found else ["–", "–"])
        lines.append(f"| {method_label(dict(method=method, dynamics=dynamics))} | "
                     + " | ".join(cells) + " |")
    return lines


def plot_s_hat(out_dir, summary, references=()):
    """s_hat = F - k_hat vs s, and MSE(s, s_hat) vs s under the paper's definition d - k_hat
    (paper Fig. 2) and under F - k_hat; the reference estimators as grey lines."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import numpy as np  # pylint: disable=import-outside-toplevel
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4))
    keys = sorted({(entry["method"], entry["dynamics"]) for entry in summary})
    width = 0.8 / max(len(keys), 1)
    for index, (method, dynamics) in enumerate(keys):
        entries = [entry for entry in summary
                   if (entry["method"], entry["dynamics"]) == (method, dynamics)]
        s_true = np.array([entry["s_true"] for entry in entries], float)
        label = method_label(entries[0])
        colour = METHOD_COLOURS.get(method)
        left.errorbar(s_true + (index - 1) * 0.08, [entry["s_hat_mean"] for entry in entries],
                      yerr=[entry["s_hat_mean_std"] for entry in entries], marker="o",
                      capsize=3, label=label, color=colour)
        shift = (index - (len(keys) - 1) / 2) * width
        for axis, key in ((middle, "mse_s_latent"), (right, "mse_s")):
            axis.bar(s_true + shift, [np.nan if entry[key] is None else entry[key]
                                      for entry in entries], width, label=label, color=colour)
    for name, style in zip(REFERENCES, ("--", ":", "-."), strict=False):
        entries = sorted((entry for entry in references if entry["method"] == name
                          and entry["dynamics"] == "exact"), key=lambda entry: entry["s_true"])
        if entries:
            s_true = [entry["s_true"] for entry in entries]
            for axis, key in ((middle, "mse_s_latent"), (right, "mse_s")):
                axis.plot(s_true, [entry[key] for entry in entries], color="gray",
                          linestyle=style, marker="x", label=name)
    limits = [min(entry["s_true"] for entry in summary) - 0.5,
              max(entry["s_true"] for entry in summary) + 0.5]
    left.plot(limits, limits, color="gray", linewidth=1, label="s_hat = s")
    left.set(xlabel="true s (shared factors)", ylabel="estimated s_hat = F - k_hat",
             title="Estimated number of shared factors")
    middle.set(xlabel="true s", ylabel="MSE(s, d - k_hat)",
               title="MSE, paper's s_hat = d - k_hat (Fig. 2)")
    right.set(xlabel="true s", ylabel="MSE(s, F - k_hat)", title="MSE, s_hat = F - k_hat")
    for axis in (left, middle, right):
        axis.legend(fontsize=7)
    figure.tight_layout()
    _save_figure(figure, os.path.join(out_dir, "s_hat.png"))
    plt.close(figure)


def _save_figure(figure, path):
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    atomic_write(path, image.getvalue())


def read_training_scalars(model_dir, tag):
    """`(steps, values)` of a scalar summary from a run's training event files (empty if none;
    TensorFlow, quiet, is imported only when there are event files). A file cut short (a run killed
    while writing it) gives the points before the cut."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    paths = sorted(glob.glob(os.path.join(model_dir, "tf_checkpoint", "events.out.tfevents.*")))
    points = {}
    if paths:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
        tf.get_logger().setLevel("ERROR")  # summary_iterator's deprecation warning
    for path in paths:
        try:
            for event in tf.train.summary_iterator(path):
                for value in event.summary.value:
                    if value.tag == tag:
                        points[event.step] = value.simple_value
        except tf.errors.DataLossError:  # truncated record: keep what was read
            pass
    steps = sorted(points)
    return np.array(steps), np.array([points[step] for step in steps])


def plot_k_hat_training(out_dir, runs, num_factors=None):
    """k_hat (latent dimensions kept per view) during training, one panel per s, with the true
    k = F - s where `num_factors` F is given: `OUT/k_hat_training.png`; nothing is written if no
    run has the summaries."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    values_of_s = sorted({num_shared for _, num_shared, _ in runs})
    figure, axes = plt.subplots(1, len(values_of_s), figsize=(4 * len(values_of_s), 3.5),
                                squeeze=False, sharey=True)
    plotted = False
    for method, num_shared, seed in runs:
        steps, k_hat = read_training_scalars(run_dir(out_dir, method, num_shared, seed), "k_hat")
        if not len(steps):
            continue
        axis = axes[0, values_of_s.index(num_shared)]
        axis.plot(steps, k_hat, color=METHOD_COLOURS.get(method), marker=".",
                  linestyle=("-", "--", ":")[seed % 3],
                  label=f"{METHOD_NAMES.get(method, method)} seed {seed}")
        plotted = True
    if not plotted:
        plt.close(figure)
        return
    for axis, num_shared in zip(axes[0], values_of_s, strict=True):
        if num_factors is not None:
            axis.axhline(num_factors - num_shared, color="gray", linestyle="--", linewidth=1,
                         label="true k = F - s")
        axis.set(xlabel="training step", title=f"s = {num_shared}")
    axes[0, 0].set_ylabel("k_hat (independent dims)")
    axes[0, -1].legend(fontsize=7)
    figure.tight_layout()
    _save_figure(figure, os.path.join(out_dir, "k_hat_training.png"))
    plt.close(figure)


def _last_line(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    return lines[-1] if lines else "no output"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mvhg_sweep",
                                     description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--methods", nargs="+", default=["label", "ada", "hg"],
                        choices=sorted(METHOD_NAMES))
    parser.add_argument("--num_shared", nargs="+", type=int, default=[0, 1, 3, 5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--gin_config", action="append", default=None,
                        help="extra gin files (paths or short names) after base.gin and the method "
                             "file (default: procedural.gin and cpu_small.gin)")
    parser.add_argument("--gin_bindings", action="append", default=[])
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at a time")
    parser.add_argument("--report_only", action="store_true",
                        help="no training: rebuild the outputs from the finished runs' "
                             "evaluation.json (run folders or OUT/runs/*.json)")
    args = parser.parse_args(argv)
    from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
    try:
        gin_configs = ([configs.find_gin_file(name) for name in args.gin_config]
                       if args.gin_config is not None else DEFAULT_CONFIGS)
    except configs.ConfigError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        parser.exit(2, f"{parser.prog}: error: --out_dir {args.out_dir} is a file: give a folder "
                       "(it is created if missing).\n")
    try:
        os.makedirs(args.out_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=args.out_dir):
            pass
    except OSError as error:
        parser.exit(2, f"{parser.prog}: error: --out_dir {args.out_dir}: cannot write there "
                       f"({error.strerror}); give a folder you can write to.\n")
    runs = [(method, num_shared, seed) for num_shared in args.num_shared
            for seed in args.seeds for method in args.methods]
    if not args.report_only and runs:  # a config error would fail every run: say it once
        try:
            _weak_training().gin_config_str(*run_config(*runs[0], gin_configs, args.gin_bindings))
        except configs.ConfigError as error:
            parser.exit(2, f"{parser.prog}: error: {error}\n")
    start = time.time()

    def collect(index, run):
        method, num_shared, seed = run
        if args.report_only:
            print(f"[sweep {index}/{len(runs)}] {method} s={num_shared} seed={seed}", flush=True)
            try:
                return read_report(args.out_dir, method, num_shared, seed)
            except CorruptReport as error:
                return error
        print(f"[sweep {index}/{len(runs)}, {time.time() - start:.0f} s] {method} s={num_shared} "
              f"seed={seed} (progress: {run_dir(args.out_dir, method, num_shared, seed)}.log)",
              flush=True)
        try:
            return run_one(args.out_dir, method, num_shared, seed, gin_configs, args.gin_bindings)
        except subprocess.CalledProcessError:
            return None
        except CorruptReport as error:
            return error

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        reports = list(pool.map(collect, range(1, len(runs) + 1), runs))
    rows, failed = [], []
    for (method, num_shared, seed), report in zip(runs, reports, strict=True):
        name = f"{method} s={num_shared} seed={seed}"
        if report is None and args.report_only:
            print(f"    {name}: no evaluation.json: left out", flush=True)
            continue
        if isinstance(report, CorruptReport):
            failed.append(run_dir(args.out_dir, method, num_shared, seed))
            print(f"    {name} CORRUPT: {report}", flush=True)
            continue
        if report is None:
            failed.append(run_dir(args.out_dir, method, num_shared, seed))
            print(f"    {name} FAILED: {_last_line(failed[-1] + '.log')} (see {failed[-1]}.log)",
                  flush=True)
            continue
        rows.append(dict(with_both_definitions(report), method=method, seed=seed,
                         s_true=num_shared, **flatten_dlib_scores(report)))
        print(f"    {name}: k_hat = {format_value(report.get('k_hat_mean'), 2)}, "
              f"s_hat = {format_value(report['s_hat_mean'], 2)}, "
              f"mse_s = {format_value(report['mse_s'], 2)}, "
              f"shared score = {format_value(report['shared_score'])}, "
              f"independent score = {format_value(report['independent_score'])}", flush=True)
    if rows:
        print(write_outputs(args.out_dir, rows, summarize(rows), reference_rows(rows)))
        plot_k_hat_training(args.out_dir, runs, rows[0].get("num_factors"))
        print("\n".join(k_hat_lines(rows)))
    if failed:
        raise SystemExit(f"{len(failed)} run(s) failed or corrupt: {', '.join(failed)}")


if __name__ == "__main__":
    main()
