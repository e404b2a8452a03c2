# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Throughput and peak memory of the relaxed (Gumbel-softmax) MVHG sampler, forward and backward.

For each configuration (c, m per class, n, batch) with class weights omega = linspace(0.5, 3, c),
`RelaxedMultivariateHypergeometric(..., temperature=0.5, hard=True)` draws `sample(batch)` with
one parameter set, for methods "exact" and "merged", eagerly, in a tf.function and under XLA
(tf.function(jit_compile=True)). "fwd" times the sample alone; "fwd+bwd" also takes the
gradient of sum(counts * w) (w random and fixed) with respect to a logits tf.Variable.

In the same run, beside them:
  - "per row": logits of shape [rows, c] (a different parameter set per row, the Keras layer's
    case) and `sample(1)`, exact and merged, in a tf.function and under XLA, forward and
    fwd+bwd, beside the paper code's rates (PAPER_PER_ROW, measured on this machine), at the four
    sizes of PER_ROW_CONFIGS (the per-row speed targets; `--per-row-only` runs just these);
  - numpy's central `Generator.multivariate_hypergeometric` on the same sizes (forward only;
    numpy has no noncentral sampler, so this is a speed reference, not the same distribution);
  - a lower bound for any per-class Gumbel-softmax sampler, under XLA (and in a plain
    tf.function, since XLA on CPU can be the slower of the two for elementwise work): Gumbel
    noise over [batch, c, m+1] plus one softmax, with the class logits log C(m, x) + x theta;
  - a memory-scaling check: exact, XLA, fwd+bwd, first configuration at batch 2,500 to 20,000,
    to show peak memory grows linearly in batch x sum(m) (not batch x m^2).

Each row runs in its own child process (as in bench_exact.py): peak memory is VmHWM minus the
resident memory just before the first (warm-up/compiling) call; a row's peak covers its forward
and its fwd+bwd measurement (the latter dominates). A child whose resident memory passes
`--memory-cap-gib` is killed and its row reads "exceeded" (the other rows still run). Rates are
samples (count vectors) per second, from the median call after one warm-up call. `--quick` uses
tiny sizes and runs all TensorFlow rows in a single child, so its memory numbers are not isolated
(smoke run only).

Run: `.venv/bin/python benchmarks/bench_relaxed.py [--quick] [--per-row-only]
[--memory-cap-gib 8]` (about 10-15 minutes in full on a 2-core CPU). Writes
`benchmarks/results/bench_relaxed.json` and `.md` (`bench_relaxed_per_row.*` with
`--per-row-only`).
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_exact import RESULTS  # noqa: E402  (after the path fix)
from bench_exact import _memory_kib  # noqa: E402  (after the path fix)
from bench_exact import _time_calls  # noqa: E402  (after the path fix)

# (c, m per class, n, batch).
CONFIGS = [(3, 200, 180, 10000), (10, 256, 256, 256), (2, 10, 10, 10000)]
QUICK_CONFIGS = [(3, 20, 18, 200)]
# (c, m per class, n, rows) with one logits row per sample, and the paper's released code on
# them (fwd+bwd rows/s, peak memory; measured on this machine when the per-row targets were set).
PER_ROW_CONFIGS = [(3, 200, 180, 10000), (10, 256, 256, 256), (10, 10, 10, 4096),
                   (2, 10, 10, 10000)]
QUICK_PER_ROW_CONFIGS = [(3, 20, 18, 300), (2, 10, 10, 1000)]
PAPER_PER_ROW = {(3, 200, 180, 10000): "~1.2k rows/s, ~6.7 GB",
                 (10, 256, 256, 256): "~200 rows/s, ~0.8 GB",
                 (10, 10, 10, 4096): "~26.9k rows/s", (2, 10, 10, 10000): "~180k rows/s"}
PAPER_PER_ROW_RATE = {(3, 200, 180, 10000): 1200., (10, 256, 256, 256): 200.,
                      (10, 10, 10, 4096): 26900., (2, 10, 10, 10000): 180000.}
PER_ROW_MODES = ["function", "xla"]
SCALING_BATCHES = [2500, 5000, 10000, 20000]
QUICK_SCALING_BATCHES = [100, 400]
METHODS = ["exact", "merged"]
MODES = ["eager", "function", "xla"]
TEMPERATURE = 0.5
PAPER_REFERENCE_PER_SECOND = 1600   # the paper's implementation, fwd+bwd, CPU, first config
TARGET_PER_SECOND = 50000           # exact, compiled, fwd+bwd, first config


def _per_row_jobs(quick):
    """The per-row (distinct logits) measurements: exact and merged, tf.function and XLA."""
    return [dict(kind="per_row", config=list(config), method=method, mode=mode,
                 passes=["fwd", "fwd_bwd"], min_repeats=1)
            for config in (QUICK_PER_ROW_CONFIGS if quick else PER_ROW_CONFIGS)
            for mode in PER_ROW_MODES for method in METHODS]


def _jobs(quick, per_row_only):
    """Every measurement, as a JSON-able dict; each runs in a child process."""
    if per_row_only:
        return _per_row_jobs(quick)
    configs = QUICK_CONFIGS if quick else CONFIGS
    jobs = []
    for config in configs:
        jobs.append(dict(kind="numpy_central", config=config, mode="numpy", passes=["fwd"]))
        jobs += [dict(kind="relaxed", config=config, method=method, mode=mode,
                      passes=["fwd", "fwd_bwd"]) for method in METHODS for mode in MODES]
        jobs += [dict(kind="gumbel_lower_bound", config=config, mode=mode,
                      passes=["fwd", "fwd_bwd"]) for mode in ("function", "xla")]
    jobs += _per_row_jobs(quick)
    c, m, n, _ = configs[0]
    for batch in (QUICK_SCALING_BATCHES if quick else SCALING_BATCHES):
        jobs.append(dict(kind="memory_scaling", config=[c, m, n, batch], method="exact",
                         mode="xla", passes=["fwd_bwd"]))
    return jobs


def _build(job):
    """The forward and fwd+bwd callables of a job, each taking a seed; and samples per call."""
    import numpy as np
    c, m, n, batch = job["config"]
    if job["kind"] == "numpy_central":
        rng = np.random.default_rng(0)
        return dict(fwd=lambda seed: rng.multivariate_hypergeometric([m] * c, n, size=batch)), batch

    import tensorflow as tf

    import tfp_mvhg
    theta = np.log(np.linspace(0.5, 3.0, c)).astype(np.float32)
    loss_weights = tf.constant(np.random.default_rng(1).normal(size=c).astype(np.float32))
    if job["kind"] == "per_row":  # one parameter set per row: logits [batch, c]
        theta = theta + np.random.default_rng(2).normal(0., 0.1, size=(batch, c)).astype(np.float32)
    logits = tf.Variable(theta, name="logits")

    if job["kind"] == "gumbel_lower_bound":
        positions = tf.range(m + 1, dtype=tf.float32)
        log_binomial = tf.constant(
            [[math.lgamma(m + 1) - math.lgamma(x + 1) - math.lgamma(m - x + 1)
              for x in range(m + 1)]] * c, tf.float32)                              # [c, m+1]

        def forward(seed):
            alpha = log_binomial + logits[:, None] * positions                      # [c, m+1]
            uniforms = tf.random.stateless_uniform([batch, c, m + 1], seed=seed,
                                                   minval=1e-7, maxval=1.)
            gumbels = -tf.math.log(-tf.math.log(uniforms))
            one_hots = tf.nn.softmax((alpha + gumbels) / TEMPERATURE, axis=-1)
            return tf.reduce_sum(one_hots * positions, axis=-1)                     # [batch, c]
        num_samples = batch
    else:
        dist = tfp_mvhg.RelaxedMultivariateHypergeometric(
            [float(m)] * c, float(n), TEMPERATURE, logits=logits, hard=True,
            method=job["method"])
        # per row: a batch of `batch` parameter sets, one sample each ([1, batch, c]).
        sample_size = 1 if job["kind"] == "per_row" else batch

        def forward(seed):
            return dist.sample(sample_size, seed=seed)
        num_samples = batch

    def forward_backward(seed):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(forward(seed) * loss_weights)
        return tape.gradient(loss, logits)

    fns = dict(fwd=forward, fwd_bwd=forward_backward)
    if job["mode"] != "eager":
        fns = {name: tf.function(fn, jit_compile=(job["mode"] == "xla"))
               for name, fn in fns.items()}
    return fns, num_samples


def run_child(jobs, min_seconds):
    """The given jobs in this process, in order; prints one JSON line each."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for job in jobs:
        fns, num_samples = _build(job)
        if job["kind"] == "numpy_central":
            seed = None
        else:
            import tensorflow as tf
            seed = tf.constant([1, 2])
        result = dict(job)
        baseline = _memory_kib("VmRSS")
        result["baseline_rss_mib"] = baseline / 1024
        for name in job["passes"]:
            fn = fns[name]

            def call(fn=fn, seed=seed):
                out = fn(seed)
                return out.numpy() if hasattr(out, "numpy") else out
            seconds = _time_calls(call, min_seconds, job.get("min_repeats", 3))
            result[name] = dict(per_second=num_samples / seconds, seconds_per_call=seconds,
                                peak_above_start_mib=max(_memory_kib("VmHWM") - baseline, 0) / 1024)
        result["peak_rss_mib"] = _memory_kib("VmHWM") / 1024
        result["peak_above_start_mib"] = max(_memory_kib("VmHWM") - baseline, 0) / 1024
        print(json.dumps(result), flush=True)


def _label(row):
    if row["kind"] == "relaxed":
        return row["method"]
    if row["kind"] == "per_row":
        return f"{row['method']}, logits per row ([rows, c], sample(1))"
    if row["kind"] == "numpy_central":
        return "numpy central (reference, omega ignored)"
    return "lower bound: Gumbel [batch, c, m+1] + softmax"


def _failure(row):
    return "exceeded" if row.get("exceeded") else "failed"


def _rate(row, name):
    if "error" in row:
        return _failure(row)
    return f"{row[name]['per_second']:,.0f}" if name in row else "n/a"


def _peak(row):
    return _failure(row) if "error" in row else f"{row['peak_above_start_mib']:.0f}"


def per_row_markdown(rows, cap_gib):
    """Exact and merged side by side for each per-row size and mode, with the paper's code."""
    by_size = {}
    for row in rows:
        by_size.setdefault((tuple(row["config"]), row["mode"]), {})[row["method"]] = row
    lines = ["| (c, m_i, n, rows), logits per row | mode | exact fwd / fwd+bwd rows/s | "
             "exact peak MiB | merged fwd / fwd+bwd rows/s | merged peak MiB | "
             "exact fwd+bwd / paper | exact / merged fwd+bwd | paper code fwd+bwd |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for (config, mode), methods in by_size.items():
        cells = []
        for method in METHODS:
            row = methods.get(method)
            if row is None:
                cells += ["n/a", "n/a"]
            elif "error" in row:
                cells += [_failure(row), f"> {cap_gib * 1024:.0f}" if row.get("exceeded")
                          else "failed"]
            else:
                cells += [f"{_rate(row, 'fwd')} / {_rate(row, 'fwd_bwd')}", _peak(row)]
        rates = {method: methods[method]["fwd_bwd"]["per_second"] for method in METHODS
                 if method in methods and "fwd_bwd" in methods[method]}
        paper = PAPER_PER_ROW_RATE.get(config)
        cells.append(f"{rates['exact'] / paper:.2f}x" if "exact" in rates and paper else "n/a")
        cells.append(f"{rates['exact'] / rates['merged']:.2f}" if len(rates) == 2 else "n/a")
        lines.append(f"| {config} | {mode} | " + " | ".join(cells)
                     + f" | {PAPER_PER_ROW.get(config, 'n/a')} |")
    return "\n".join(lines)


def markdown(rows, scaling):
    lines = ["| (c, m, n, batch) | method | mode | fwd samples/s | fwd+bwd samples/s | peak MiB |",
             "|---|---|---|---:|---:|---:|"]
    for row in rows:
        c, m, n, batch = row["config"]
        lines.append(f"| ({c}, {m}, {n}, {batch}) | {_label(row)} | {row['mode']} | "
                     f"{_rate(row, 'fwd')} | {_rate(row, 'fwd_bwd')} | "
                     f"{_peak(row)} |")
    if scaling is None:
        return "\n".join(lines + ["", "Memory scaling: fewer than two rows succeeded."])
    c, m, n, _ = scaling["rows"][0]["config"]
    lines += ["", f"Memory scaling (exact, XLA, fwd+bwd, c={c}, m={m}, n={n}; "
              f"W = {scaling['window']}):", "",
              "| batch | peak MiB | fwd+bwd samples/s | (peak - intercept) / (batch x sum(m)), B |",
              "|---:|---:|---:|---:|"]
    for row in scaling["rows"]:
        batch = row["config"][3]
        above = (row["peak_above_start_mib"] - scaling["intercept_mib"]) * 2 ** 20
        lines.append(f"| {batch} | {row['peak_above_start_mib']:.0f} | "
                     f"{row['fwd_bwd']['per_second']:,.0f} | {above / (batch * c * m):.1f} |")
    lines += ["", f"Least-squares line: peak = {scaling['intercept_mib']:.0f} MiB + "
              f"{scaling['slope_bytes_per_sample']:,.0f} B x batch "
              f"({scaling['slope_bytes_per_sample'] / (c * m):.1f} B per sample per item of "
              f"sum(m); "
              f"R^2 = {scaling['r_squared']:.4f}). A batch x m^2 float32 tensor at batch "
              f"{scaling['rows'][-1]['config'][3]} would alone take "
              f"{scaling['rows'][-1]['config'][3] * c * m * m * 4 / 2 ** 20:,.0f} MiB."]
    return "\n".join(lines)


def _scaling_summary(rows):
    import numpy as np
    if len(rows) < 2:
        return None
    batches = np.array([row["config"][3] for row in rows], float)
    peaks = np.array([row["peak_above_start_mib"] for row in rows]) * 2 ** 20
    slope, intercept = np.polyfit(batches, peaks, 1)
    fitted = slope * batches + intercept
    total = np.sum((peaks - peaks.mean()) ** 2)
    r_squared = 1. - np.sum((peaks - fitted) ** 2) / total if total > 0 else 1.
    c, m, n, _ = rows[0]["config"]
    return dict(rows=rows, slope_bytes_per_sample=float(slope), intercept_mib=intercept / 2 ** 20,
                r_squared=float(r_squared), window=min(m, n) + 1,
                slope_bytes_per_sample_item=float(slope) / (c * m))


def _run(jobs, quick, cap_gib):
    """Runs `jobs` in one child; kills it if its resident memory passes `cap_gib` (polled every
    20 ms), and marks the jobs it did not finish as failed ("exceeded" when killed for memory)."""
    command = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(jobs)]
    if quick:
        command.append("--quick")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        exceeded = False
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
                    rss_kib = next((int(line.split()[1]) for line in status
                                    if line.startswith("VmRSS:")), 0)
            except OSError:  # the child just exited
                rss_kib = 0
            if rss_kib > cap_gib * 2 ** 20:
                process.kill()
                exceeded = True
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0:  # e.g. killed for memory: keep the rest of the run
        done = {row["index"] for row in rows}
        error = (f"resident memory above {cap_gib} GiB: killed" if exceeded
                 else f"child exit {process.returncode}: {stderr.strip()[-300:]}")
        rows += [dict(job, error=error, exceeded=exceeded) for job in jobs
                 if job["index"] not in done]
    return rows


def _describe(row):
    if "error" in row:
        return f"{row['kind']} {tuple(row['config'])} FAILED: {row['error']}"
    rates = ", ".join(f"{name} {row[name]['per_second']:,.0f}/s"
                      for name in ("fwd", "fwd_bwd") if name in row)
    return (f"{row['kind']} {tuple(row['config'])} {row.get('method', '')} {row['mode']}: "
            f"{rates}, peak +{row['peak_above_start_mib']:.0f} MiB")


def _machine():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def _write_per_row(rows, args, start, load_start):
    """`bench_relaxed_per_row.json` and `.md` for a `--per-row-only` run."""
    seconds, load_end = time.perf_counter() - start, os.getloadavg()
    report = dict(machine=_machine(), quick=args.quick, temperature=TEMPERATURE,
                  runtime_seconds=seconds, load_average_start=load_start,
                  load_average_end=load_end, memory_cap_gib=args.memory_cap_gib, rows=rows)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "bench_relaxed_per_row.json"), "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    table = per_row_markdown(rows, args.memory_cap_gib)
    header = (f"Machine: {_machine()}; load average {load_start[0]:.1f} at start, "
              f"{load_end[0]:.1f} at end; run took {seconds:.0f} s. Command: "
              f"`.venv/bin/python benchmarks/bench_relaxed.py --per-row-only"
              f"{' --quick' if args.quick else ''}`. tf.function and XLA, "
              f"temperature {TEMPERATURE}, hard=True, sample(1) of logits [rows, c] = "
              "log linspace(0.5, 3, c) + N(0, 0.1). "
              f"Peak MiB: VmHWM above the resident memory before the first call.")
    with open(os.path.join(RESULTS, "bench_relaxed_per_row.md"), "w", encoding="utf-8") as out:
        out.write(f"{header}\n\n{table}\n")
    print(table)
    print(f"runtime {seconds:.0f} s, load average {load_start} -> {load_end}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, short timing (smoke run)")
    parser.add_argument("--per-row-only", action="store_true",
                        help="only the per-row (distinct logits) sizes, exact and merged")
    parser.add_argument("--memory-cap-gib", type=float, default=8.,
                        help="kill a child above this resident memory (default: %(default)s)")
    parser.add_argument("--child", metavar="JOBS_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    min_seconds = 0.1 if args.quick else 2.0
    if args.child:
        run_child(json.loads(args.child), min_seconds)
        return
    start, load_start = time.perf_counter(), os.getloadavg()
    jobs = [dict(job, index=index)
            for index, job in enumerate(_jobs(args.quick, args.per_row_only))]
    if args.quick:  # one child for numpy, one for all TensorFlow jobs: fast, memory not isolated
        groups = [[job for job in jobs if job["kind"] == "numpy_central"],
                  [job for job in jobs if job["kind"] != "numpy_central"]]
        groups = [group for group in groups if group]
    else:
        groups = [[job] for job in jobs]
    rows = []
    for group in groups:
        for row in _run(group, args.quick, args.memory_cap_gib):
            rows.append(row)
            print(f"[{len(rows)}/{len(jobs)}] {_describe(row)}", flush=True)
    rows.sort(key=lambda row: row["index"])
    per_row = [row for row in rows if row["kind"] == "per_row"]
    if args.per_row_only:
        _write_per_row(per_row, args, start, load_start)
        return
    main_rows = [row for row in rows if row["kind"] not in ("memory_scaling", "per_row")]
    scaling = _scaling_summary([row for row in rows
                                if row["kind"] == "memory_scaling" and "error" not in row])
    seconds, load_end = time.perf_counter() - start, os.getloadavg()
    machine = _machine()
    first = tuple(QUICK_CONFIGS[0] if args.quick else CONFIGS[0])
    compiled_exact = [row["fwd_bwd"]["per_second"] for row in main_rows
                      if row["kind"] == "relaxed" and tuple(row["config"]) == first
                      and row["method"] == "exact" and row["mode"] != "eager"
                      and "error" not in row] or [float("nan")]
    report = dict(machine=machine, quick=args.quick, temperature=TEMPERATURE,
                  runtime_seconds=seconds, load_average_start=load_start,
                  load_average_end=load_end, rows=main_rows, memory_scaling=scaling,
                  per_row=per_row,
                  target=dict(config=first, best_compiled_exact_fwd_bwd=max(compiled_exact),
                              target_per_second=TARGET_PER_SECOND,
                              paper_reference_per_second=PAPER_REFERENCE_PER_SECOND))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "bench_relaxed.json"), "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    table = markdown(main_rows, scaling) + "\n\n" + per_row_markdown(per_row, args.memory_cap_gib)
    summary = (f"Best compiled exact fwd+bwd at {first}: {max(compiled_exact):,.0f} samples/s "
               f"(target >= {TARGET_PER_SECOND:,}; the paper's implementation: about "
               f"{PAPER_REFERENCE_PER_SECOND:,}).")
    header = (f"Machine: {machine}; load average {load_start[0]:.1f} at start, "
              f"{load_end[0]:.1f} at end; run took {seconds:.0f} s. Command: "
              f"`.venv/bin/python benchmarks/bench_relaxed.py{' --quick' if args.quick else ''}`. "
              f"Temperature {TEMPERATURE}, hard=True, omega = linspace(0.5, 3, c). Peak MiB: "
              f"VmHWM above the resident memory before the first call (includes compilation).")
    with open(os.path.join(RESULTS, "bench_relaxed.md"), "w", encoding="utf-8") as out:
        out.write(f"{header}\n\n{table}\n\n{summary}\n")
    print(table)
    print(summary)
    print(f"runtime {seconds:.0f} s, load average {load_start} -> {load_end}")


if __name__ == "__main__":
    main()
