"""A sweep of weakly-supervised runs (methods x s x seeds), resumable, with a results table and plots.

    mvhg_sweep --out_dir runs/cpu_small [--methods label ada hg] [--num_shared 1 3 5] \
        [--seeds 0 1] [--gin_config procedural --gin_config cpu_small] \
        [--gin_bindings "model.training_steps = 1500"]

(or `python -m disentanglement_ext.sweep ...`). Each run is `mvhg_train_weak` in its own process,
writing to `OUT/{method}_s{s}_seed{seed}` and its progress to `OUT/{method}_s{s}_seed{seed}.log`;
runs whose `evaluation.json` exists and whose gin config is unchanged are skipped, so an
interrupted sweep continues where it stopped (a changed config is refused by the run, see
`weak_training`). Afterwards `OUT/results.csv`, `OUT/results.md` (mean and
standard deviation over seeds; with disentanglement_lib's MIG, DCI disentanglement, SAP and
modularity where the runs computed them), `OUT/k_hat_training.png` (k_hat during training, from
the runs' TensorBoard summaries) and `OUT/s_hat.png` (estimated vs true s, paper Fig. 2) are written.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time

from disentanglement_ext.configs import GIN_DIR

METHOD_NAMES = {"label": "LabelVAE", "ada": "AdaVAE", "hg": "HGVAE"}
# One colour per method in every plot of the sweep.
METHOD_COLOURS = {"label": "tab:blue", "ada": "tab:orange", "hg": "tab:green"}
DEFAULT_CONFIGS = [os.path.join(GIN_DIR, name) for name in ("procedural.gin", "cpu_small.gin")]
# disentanglement_lib scores shown in the table: column -> (metric, score name) in evaluation.json.
DLIB_COLUMNS = {"mig": ("mig", "discrete_mig"), "dci": ("dci", "disentanglement"),
                "sap": ("sap_score", "SAP_score"), "modularity": ("modularity_explicitness",
                                                                  "modularity_score")}
SUMMARIZED = ["s_hat_mean", "mse_s", "shared_score", "independent_score", *DLIB_COLUMNS]
COLUMNS = ["method", "s_true", "seed", "s_hat_mean", "mse_s", "shared_score", "independent_score",
           *DLIB_COLUMNS, "reconstruction_loss", "train_seconds"]


def run_dir(out_dir, method, num_shared, seed):
    return os.path.join(out_dir, f"{method}_s{num_shared}_seed{seed}")


def run_one(out_dir, method, num_shared, seed, gin_configs, gin_bindings, model_dir=None):
    """Trains one run in a child process unless it is complete; returns its evaluation dict.

    The run goes to `model_dir` (default `run_dir(out_dir, method, num_shared, seed)`), its
    progress to `model_dir + ".log"`."""
    model_dir = model_dir or run_dir(out_dir, method, num_shared, seed)
    result_file = os.path.join(model_dir, "evaluation.json")
    files, bindings = run_config(method, num_shared, seed, gin_configs, gin_bindings)
    if not (os.path.exists(result_file) and _config_unchanged(model_dir, files, bindings)):
        command = [sys.executable, "-m", "disentanglement_ext.train_weak", "--model_dir",
                   model_dir]
        command += [arg for path in files for arg in ("--gin_config", path)]
        command += [arg for binding in bindings for arg in ("--gin_bindings", binding)]
        os.makedirs(out_dir, exist_ok=True)
        with open(model_dir + ".log", "w", encoding="utf-8") as log:  # the run's progress
            subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    with open(result_file, encoding="utf-8") as handle:
        return json.load(handle)


def run_config(method, num_shared, seed, gin_configs, gin_bindings):
    """The gin files and bindings of one run: `(files, bindings)`."""
    files = [os.path.join(GIN_DIR, "base.gin"), os.path.join(GIN_DIR, f"{method}.gin")]
    bindings = [f"model.num_shared = {num_shared}", f"model.random_seed = {seed}"]
    return files + list(gin_configs), bindings + list(gin_bindings)


def _config_unchanged(model_dir, files, bindings):
    from disentanglement_ext import weak_training  # pylint: disable=import-outside-toplevel
    config = weak_training.gin_config_str(files, bindings)
    return not weak_training.config_changes(model_dir, config)


def flatten_dlib_scores(report):
    """The `DLIB_COLUMNS` scores of an evaluation.json dict (None where not computed)."""
    scores = report.get("disentanglement_lib") or {}
    return {column: (scores.get(metric) or {}).get(score)
            for column, (metric, score) in DLIB_COLUMNS.items()}


def summarize(rows):
    """Mean and (population) standard deviation over seeds per (method, s): list of dicts;
    None where no seed has the value."""
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], row["s_true"]), []).append(row)
    summary = []
    for (method, num_shared), group in sorted(groups.items()):
        entry = dict(method=method, s_true=num_shared, seeds=len(group))
        for key in SUMMARIZED:
            values = [float(row[key]) for row in group if _is_number(row.get(key))]
            entry[key] = statistics.fmean(values) if values else None
            entry[key + "_std"] = statistics.pstdev(values) if values else None
        summary.append(entry)
    return summary


def _is_number(value):
    return isinstance(value, (int, float)) and not math.isnan(value)


def format_value(value, digits=3):
    """A number for the console: `digits` decimals; "n/a" for None or NaN."""
    return f"{value:.{digits}f}" if _is_number(value) else "n/a"


def _csv_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def write_outputs(out_dir, rows, summary):
    """`results.csv` (one row per run; empty cells where a metric is missing), `results.md`
    (mean ± std over seeds; the mean alone for one seed) and `s_hat.png`; returns the table."""
    with open(os.path.join(out_dir, "results.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_csv_value(row.get(column)) for column in COLUMNS])

    def cell(entry, key):
        if entry[key] is None:
            return "n/a"
        if entry["seeds"] == 1:
            return f"{entry[key]:.2f}"
        return f"{entry[key]:.2f} ± {entry[key + '_std']:.2f}"

    lines = ["| method | s | seeds | s_hat | MSE(s, s_hat) | shared score | independent score "
             "| MIG | DCI dis. | SAP | modularity |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for entry in summary:
        cells = " | ".join(cell(entry, key) for key in SUMMARIZED)
        lines.append(f"| {METHOD_NAMES.get(entry['method'], entry['method'])} | "
                     f"{entry['s_true']} | {entry['seeds']} | {cells} |")
    with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    plot_s_hat(out_dir, summary)
    return "\n".join(lines)


def plot_s_hat(out_dir, summary):
    """Estimated vs true number of shared factors per method, and MSE(s, s_hat) (paper Fig. 2)."""
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    methods = sorted({entry["method"] for entry in summary})
    width = 0.8 / max(len(methods), 1)
    for index, method in enumerate(methods):
        entries = [entry for entry in summary if entry["method"] == method]
        s_true = np.array([entry["s_true"] for entry in entries], float)
        label = METHOD_NAMES.get(method, method)
        colour = METHOD_COLOURS.get(method)
        left.errorbar(s_true + (index - 1) * 0.08, [entry["s_hat_mean"] for entry in entries],
                      yerr=[entry["s_hat_mean_std"] for entry in entries], marker="o",
                      capsize=3, label=label, color=colour)
        right.bar(s_true + (index - (len(methods) - 1) / 2) * width,
                  [entry["mse_s"] for entry in entries], width, label=label, color=colour)
    limits = [min(entry["s_true"] for entry in summary) - 0.5,
              max(entry["s_true"] for entry in summary) + 0.5]
    left.plot(limits, limits, color="gray", linewidth=1, label="s_hat = s")
    left.set(xlabel="true s (shared factors)", ylabel="estimated s_hat = F - k_hat",
             title="Estimated number of shared factors")
    right.set(xlabel="true s", ylabel="MSE(s, s_hat)", title="MSE(s, s_hat) (lower is better)")
    left.legend()
    right.legend()
    figure.tight_layout()
    figure.savefig(os.path.join(out_dir, "s_hat.png"), dpi=110)
    plt.close(figure)


def read_training_scalars(model_dir, tag):
    """`(steps, values)` of a scalar summary from a run's training event files (empty if none)."""
    import glob  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
    points = {}
    for path in sorted(glob.glob(os.path.join(model_dir, "tf_checkpoint", "events.out.tfevents.*"))):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    points[event.step] = value.simple_value
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
    for axis, num_shared in zip(axes[0], values_of_s):
        if num_factors is not None:
            axis.axhline(num_factors - num_shared, color="gray", linestyle="--", linewidth=1,
                         label="true k = F - s")
        axis.set(xlabel="training step", title=f"s = {num_shared}")
    axes[0, 0].set_ylabel("k_hat (independent dims)")
    axes[0, -1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(os.path.join(out_dir, "k_hat_training.png"), dpi=110)
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
    parser.add_argument("--num_shared", nargs="+", type=int, default=[1, 3, 5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--gin_config", action="append", default=None,
                        help="extra gin files (paths or short names) after base.gin and the method "
                             "file (default: procedural.gin and cpu_small.gin)")
    parser.add_argument("--gin_bindings", action="append", default=[])
    args = parser.parse_args(argv)
    from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
    try:
        gin_configs = ([configs.find_gin_file(name) for name in args.gin_config]
                       if args.gin_config is not None else DEFAULT_CONFIGS)
    except configs.ConfigError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    runs = [(method, num_shared, seed) for num_shared in args.num_shared
            for seed in args.seeds for method in args.methods]
    rows, failed, start = [], [], time.time()
    for index, (method, num_shared, seed) in enumerate(runs, 1):
        print(f"[sweep {index}/{len(runs)}, {time.time() - start:.0f} s] {method} s={num_shared} "
              f"seed={seed}", flush=True)
        try:
            report = run_one(args.out_dir, method, num_shared, seed, gin_configs,
                             args.gin_bindings)
        except subprocess.CalledProcessError:
            failed.append(run_dir(args.out_dir, method, num_shared, seed))
            print(f"    FAILED: {_last_line(failed[-1] + '.log')} (see {failed[-1]}.log); "
                  "continuing", flush=True)
            continue
        rows.append(dict(report, method=method, seed=seed, s_true=num_shared,
                         **flatten_dlib_scores(report)))
        print(f"    s_hat = {format_value(report['s_hat_mean'], 2)}, "
              f"mse_s = {format_value(report['mse_s'], 2)}, "
              f"shared score = {format_value(report['shared_score'])}, "
              f"independent score = {format_value(report['independent_score'])}", flush=True)
    if rows:
        print(write_outputs(args.out_dir, rows, summarize(rows)))
        plot_k_hat_training(args.out_dir, runs, rows[0].get("num_factors"))
    if failed:
        raise SystemExit(f"{len(failed)} run(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
