"""A sweep of weakly-supervised runs (methods x s x seeds), resumable, with a results table and plots.

    python -m disentanglement_ext.sweep --out_dir runs/cpu_small \
        [--methods label ada hg] [--num_shared 1 3 5] [--seeds 0 1] \
        [--gin_config gin_configs/procedural.gin --gin_config gin_configs/cpu_small.gin] \
        [--gin_bindings "model.training_steps = 1500"]

Each run is `python -m disentanglement_ext.train_weak` in its own process, writing to
`OUT/{method}_s{s}_seed{seed}`; runs whose `evaluation.json` exists are skipped, so an interrupted
sweep continues where it stopped. Afterwards `OUT/results.csv`, `OUT/results.md` (mean and
standard deviation over seeds; with disentanglement_lib's MIG, DCI disentanglement, SAP and
modularity where the runs computed them), `OUT/k_hat_training.png` (k_hat during training, from
the runs' TensorBoard summaries) and `OUT/s_hat.png` (estimated vs true s, paper Fig. 2) are written.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

GIN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gin_configs")
METHOD_NAMES = {"label": "LabelVAE", "ada": "AdaVAE", "hg": "HGVAE"}
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
    if not os.path.exists(result_file):
        files = [os.path.join(GIN_DIR, "base.gin"), os.path.join(GIN_DIR, f"{method}.gin")]
        files += list(gin_configs)
        bindings = [f"model.num_shared = {num_shared}", f"model.random_seed = {seed}"]
        bindings += list(gin_bindings)
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


def flatten_dlib_scores(report):
    """The `DLIB_COLUMNS` scores of an evaluation.json dict (None where not computed)."""
    scores = report.get("disentanglement_lib") or {}
    return {column: (scores.get(metric) or {}).get(score)
            for column, (metric, score) in DLIB_COLUMNS.items()}


def summarize(rows):
    """Mean and standard deviation over seeds per (method, s): list of dicts."""
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], row["s_true"]), []).append(row)
    summary = []
    for (method, num_shared), group in sorted(groups.items()):
        entry = dict(method=method, s_true=num_shared, seeds=len(group))
        for key in SUMMARIZED:
            values = np.array([row[key] for row in group if row.get(key) is not None], float)
            entry[key] = float(values.mean()) if len(values) else None
            entry[key + "_std"] = float(values.std()) if len(values) else None
        summary.append(entry)
    return summary


def write_outputs(out_dir, rows, summary):
    with open(os.path.join(out_dir, "results.csv"), "w", encoding="utf-8") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for row in rows:
            handle.write(",".join(str(row.get(column)) for column in COLUMNS) + "\n")

    def cell(entry, key):
        if entry[key] is None:
            return "n/a"
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
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    methods = sorted({entry["method"] for entry in summary})
    width = 0.8 / max(len(methods), 1)
    for index, method in enumerate(methods):
        entries = [entry for entry in summary if entry["method"] == method]
        s_true = np.array([entry["s_true"] for entry in entries], float)
        label = METHOD_NAMES.get(method, method)
        left.errorbar(s_true + (index - 1) * 0.08, [entry["s_hat_mean"] for entry in entries],
                      yerr=[entry["s_hat_mean_std"] for entry in entries], marker="o",
                      capsize=3, label=label)
        right.bar(s_true + (index - (len(methods) - 1) / 2) * width,
                  [entry["mse_s"] for entry in entries], width, label=label)
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
    colours = dict(zip(METHOD_NAMES, ("tab:blue", "tab:orange", "tab:green")))
    plotted = False
    for method, num_shared, seed in runs:
        steps, k_hat = read_training_scalars(run_dir(out_dir, method, num_shared, seed), "k_hat")
        if not len(steps):
            continue
        axis = axes[0, values_of_s.index(num_shared)]
        axis.plot(steps, k_hat, color=colours.get(method), linestyle=("-", "--", ":")[seed % 3],
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--methods", nargs="+", default=["label", "ada", "hg"],
                        choices=sorted(METHOD_NAMES))
    parser.add_argument("--num_shared", nargs="+", type=int, default=[1, 3, 5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--gin_config", action="append", default=None,
                        help="extra gin files after base.gin and the method file (default: "
                             "procedural.gin and cpu_small.gin)")
    parser.add_argument("--gin_bindings", action="append", default=[])
    args = parser.parse_args(argv)
    gin_configs = args.gin_config if args.gin_config is not None else DEFAULT_CONFIGS
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
            print(f"    FAILED: see {failed[-1]}.log; continuing", flush=True)
            continue
        rows.append(dict(report, method=method, seed=seed, s_true=num_shared,
                         **flatten_dlib_scores(report)))
        print(f"    s_hat = {report['s_hat_mean']:.2f}, mse_s = {report['mse_s']:.2f}, "
              f"shared score = {report['shared_score']}, "
              f"independent score = {report['independent_score']}", flush=True)
    if rows:
        print(write_outputs(args.out_dir, rows, summarize(rows)))
        plot_k_hat_training(args.out_dir, runs, rows[0].get("num_factors"))
    if failed:
        raise SystemExit(f"{len(failed)} run(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
