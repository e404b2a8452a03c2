# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Two folders of clustering runs paired run by run: B - A.

    python -m mvhg_clustering.compare A_RUNS B_RUNS [--out compare.md]

Reads the result JSONs that `mvhg_clustering.run` writes in the two folders and pairs the runs
with the same name (dataset, version, prior, options, seed). Per name without the seed, over its
paired seeds: the scores of A and of B (`scores`: the held-out images where the runs hold some
out), mean ± std (ddof 1), the paired difference B - A, mean ± std, and in how many seeds B is
higher; for ACC, NMI and the GMM start's ACC. Then the settings whose values differ between the
two sides (`config`, less where a run was written and how often it was evaluated) and the runs
found on one side only. Prints the markdown; `--out` also writes it.
"""

import argparse
import glob
import os
import re
import sys

import numpy as np

from disentanglement_ext import files
from mvhg_clustering import data as data_lib
from mvhg_clustering import metrics
from mvhg_clustering import run as run_lib

__all__ = ["load_runs", "paired_differences", "setting_differences", "markdown", "main"]

# (label, where in a result) of the compared scores
SCORES = (("ACC", ("scores", "acc")), ("NMI", ("scores", "nmi")),
          ("GMM start ACC", ("init_gmm_scores", "acc")))
_NAME = re.compile(r"(?P<arm>.+)_s(?P<seed>\d+)\.json")


def load_runs(folder):
    """`{file name: result}` of the run results `*_s{seed}.json` in `folder`; raises ValueError
    if there are none and `data.CorruptFile` for a broken one."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        if _NAME.fullmatch(os.path.basename(path)):
            runs[os.path.basename(path)] = run_lib.read_result(path)
    if not runs:
        raise ValueError(f"{folder} holds no run results (NAME_s{{seed}}.json)")
    return runs


def _score(result, where):
    return float(result[where[0]][where[1]])


def paired_differences(runs_a, runs_b):
    """`[{"arm", "seeds", label: {"a", "b", "difference": (mean, std), "b_higher": int}}]`, one
    entry per run name without its seed that both sides have, by version (100 first) and name."""
    arms = {}
    for name in sorted(set(runs_a) & set(runs_b)):
        match = _NAME.fullmatch(name)
        arms.setdefault(match["arm"], []).append((int(match["seed"]), name))
    entries = []
    for arm, seeds in arms.items():
        names = [name for _, name in sorted(seeds)]
        entry = {"arm": arm, "seeds": sorted(seed for seed, _ in seeds),
                 "version": runs_a[names[0]]["config"].get("version", 100)}
        for label, where in SCORES:
            a = np.array([_score(runs_a[name], where) for name in names])
            b = np.array([_score(runs_b[name], where) for name in names])
            entry[label] = {"a": metrics.mean_std(a), "b": metrics.mean_std(b),
                            "difference": metrics.mean_std(b - a), "b_higher": int(np.sum(b > a))}
        entries.append(entry)
    return sorted(entries, key=lambda entry: (-entry["version"], entry["arm"]))


def setting_differences(runs_a, runs_b):
    """`{setting: (values in A, values in B)}` (sorted lists of reprs) for the runs' settings
    (`run.stored_settings` of their `config`) whose values differ between the sides (not those
    of `run.NOT_COMPARED`)."""
    values = []
    for runs in (runs_a, runs_b):
        side = {}
        for result in runs.values():
            settings = run_lib.stored_settings(result.get("config") or {}, "uniform", "digits")
            for key, value in settings.items():
                if key not in run_lib.NOT_COMPARED:
                    side.setdefault(key, set()).add(repr(value))
        values.append(side)
    return {key: (sorted(values[0].get(key, ())), sorted(values[1].get(key, ())))
            for key in sorted(set(values[0]) | set(values[1]))
            if values[0].get(key) != values[1].get(key)}


def markdown(folder_a, folder_b, runs_a, runs_b):
    """The comparison as markdown (module docstring)."""
    entries = paired_differences(runs_a, runs_b)
    lines = [f"# B - A, paired by run\n\nA: `{folder_a}`\n\nB: `{folder_b}`\n"]
    if entries:
        header = "| run | seeds |"
        for label, _ in SCORES:
            header += f" {label} A | {label} B | B − A | B higher |"
        lines += [header, "|---|---|" + "---:|" * (4 * len(SCORES))]
        for entry in entries:
            row = f"| {entry['arm']} | {','.join(map(str, entry['seeds']))} |"
            for label, _ in SCORES:
                scores = entry[label]
                row += (f" {metrics.format_mean_std(scores['a'])} | "
                        f"{metrics.format_mean_std(scores['b'])} | "
                        f"{metrics.format_mean_std(scores['difference'], sign='+')} | "
                        f"{scores['b_higher']}/{len(entry['seeds'])} |")
            lines.append(row)
    else:
        lines.append("No run is in both folders.")
    differences = setting_differences(runs_a, runs_b)
    lines.append("\nSettings that differ: " + ("; ".join(
        f"{key}: {', '.join(a) or '(none)'} -> {', '.join(b) or '(none)'}"
        for key, (a, b) in differences.items()) or "none") + ".")
    for side, runs, other in (("A", runs_a, runs_b), ("B", runs_b, runs_a)):
        alone = sorted(set(runs) - set(other))
        if alone:
            lines.append(f"\nIn {side} only ({len(alone)}): " + ", ".join(alone) + ".")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("a", help="folder of the runs A")
    parser.add_argument("b", help="folder of the runs B")
    parser.add_argument("--out", help="also write the markdown here")
    args = parser.parse_args(argv)
    try:
        runs_a, runs_b = load_runs(args.a), load_runs(args.b)
    except (ValueError, data_lib.DataError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    text = markdown(args.a, args.b, runs_a, runs_b)
    sys.stdout.write(text)
    if args.out:
        files.atomic_write(args.out, text.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
