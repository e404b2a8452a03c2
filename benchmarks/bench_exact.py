# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Throughput and peak memory of the exact MultivariateHypergeometric sampler and log_prob.

Each (task, configuration, mode) runs in its own child process, so its peak resident memory can be
read from /proc (VmHWM) and compared with the resident memory before the timed work started.
numpy's central `Generator.multivariate_hypergeometric` runs on the same sizes in the same run.

Run: `make bench` (or `.venv/bin/python benchmarks/bench_exact.py [--quick]`).
Writes `benchmarks/results/bench_exact.json` and `.md`.

`--per-row` instead times `sample()` of a batch of distinct parameter sets (logits ~ N(0, 1) per
row, one draw each: the Keras-layer case) at the PER_ROW sizes, beside numpy's central sampler
drawing as many samples of one parameter set, one child per (size, mode) killed above
`--memory-cap-gib` (default 1.5 here); writes `bench_exact_per_row.json` and `.md`.

`--large-n` instead times log_prob (100 points), mean and sample(100) once each (after nothing:
the first call, tracing included) at the LARGE_N sizes, and the covariance at the
COVARIANCE_SIZES (c = 50), one child per (task, size), killed above
`--memory-cap-gib` resident memory or after `--time-limit` seconds ("exceeded" / "timed out");
writes `bench_exact_large_n.json` and `.md`.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

# (c, m per class, n, batch): the target sampling sizes; omega_i = linspace(0.5, 3, c).
CONFIGS = [(3, 200, 180, 100000), (10, 256, 256, 10000)]
LOG_PROB_POINTS = 100000
# (c, m per class, n): the large-n target cases (n = 10^5), and n = 10^4 for scale.
LARGE_N = [(3, 10000, 10000), (3, 100000, 100000), (10, 100000, 100000)]
LARGE_N_TASKS = ["log_prob", "mean", "sample"]
# (c, m per class, n): the covariance with many classes (the target: c = 50).
COVARIANCE_SIZES = [(50, 20, 200), (50, 100, 1000)]
MODES = ["eager", "function", "xla"]
# (c, m per class, n, rows): distinct parameters per row (`--per-row`), the sizes of the
# side-by-side benchmark against the paper's code.
PER_ROW = [(3, 200, 180, 10000), (10, 256, 256, 256), (10, 10, 10, 4096), (2, 10, 10, 10000),
           (2, 10, 10, 64)]
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _memory_kib(field):
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _time_calls(fn, min_seconds, min_repeats=3):
    """Median seconds per call after one warm-up call."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repeats or time.perf_counter() - start < min_seconds:
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    times.sort()
    return times[len(times) // 2]


def run_child(task, config_index, mode, min_seconds):
    """One measurement in this process; prints a JSON line. Tasks: numpy_central, sample,
    log_prob (CONFIGS); numpy_per_row, sample_per_row (PER_ROW)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    per_row = task.endswith("_per_row")
    c, m, n, batch = (PER_ROW if per_row else CONFIGS)[config_index]
    result = dict(task=task, c=c, m=m, n=n, batch=batch, mode=mode)
    if task in ("numpy_central", "numpy_per_row"):
        rng = np.random.default_rng(0)
        baseline = _memory_kib("VmRSS")
        seconds = _time_calls(lambda: rng.multivariate_hypergeometric([m] * c, n, size=batch),
                              min_seconds)
        items = batch
    else:
        import tensorflow as tf

        import tfp_mvhg
        if per_row:
            logits = np.random.default_rng(0).normal(size=(batch, c))
            dist = tfp_mvhg.MultivariateHypergeometric([float(m)] * c, float(n), logits=logits)
        else:
            weights = tf.constant(np.linspace(0.5, 3.0, c), tf.float32)
            dist = tfp_mvhg.MultivariateHypergeometric([float(m)] * c, float(n), weights=weights)
        if per_row:
            items = batch

            def work(seed):
                return dist.sample(seed=seed)
        elif task == "sample":
            items = batch

            def work(seed):
                return dist.sample(batch, seed=seed)
        else:
            items = LOG_PROB_POINTS
            points = dist.sample(LOG_PROB_POINTS, seed=(0, 0))

            def work(seed):
                del seed
                return dist.log_prob(points)
        if mode != "eager":
            work = tf.function(work, jit_compile=(mode == "xla"))
        seed = tf.constant([1, 2])
        baseline = _memory_kib("VmRSS")
        seconds = _time_calls(lambda: work(seed).numpy(), min_seconds)
    result.update(per_second=items / seconds, seconds_per_call=seconds,
                  peak_rss_mib=_memory_kib("VmHWM") / 1024,
                  peak_above_start_mib=max(_memory_kib("VmHWM") - baseline, 0) / 1024)
    print(json.dumps(result))


def run_large_n_child(task, config_index):
    """One large-n measurement (the first call, tracing included) in this process; a JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    import tfp_mvhg
    c, m, n = (COVARIANCE_SIZES if task == "covariance" else LARGE_N)[config_index]
    dist = tfp_mvhg.MultivariateHypergeometric(
        [float(m)] * c, float(n), logits=tf.constant(np.log(np.linspace(0.5, 3.0, c))))
    points = np.full([100, c], n // c, np.float64)
    points[:, 0] += n - points[0].sum()
    work = dict(log_prob=lambda: dist.log_prob(points), mean=dist.mean,
                sample=lambda: dist.sample(100, seed=(1, 2)), covariance=dist.covariance)[task]
    baseline = _memory_kib("VmRSS")
    begin = time.perf_counter()
    value = work().numpy()
    print(json.dumps(dict(task=task, c=c, m=m, n=n, seconds=time.perf_counter() - begin,
                          peak_above_start_mib=max(_memory_kib("VmHWM") - baseline, 0) / 1024,
                          finite=bool(np.all(np.isfinite(value))))))


def _run_capped(command, cap_gib, time_limit):
    """Runs `command`; kills it above `cap_gib` resident memory or after `time_limit` seconds.
    Returns (stdout, status): status is "ok", "exceeded", "timed out" or "exit CODE"."""
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, text=True)
        begin, status = time.perf_counter(), None
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status", encoding="ascii") as proc_status:
                    rss_kib = next((int(line.split()[1]) for line in proc_status
                                    if line.startswith("VmRSS:")), 0)
            except OSError:
                rss_kib = 0
            if rss_kib > cap_gib * 2 ** 20:
                status = "exceeded"
            elif time.perf_counter() - begin > time_limit:
                status = "timed out"
            if status:
                process.kill()
                process.wait()
                break
            time.sleep(0.02)
        out.seek(0)
        stdout = out.read()
    if status is None:
        status = "ok" if process.returncode == 0 else f"exit {process.returncode}"
    return stdout, status


def _capped_rows(jobs, args):
    """Runs each `(command, fallback row, describe)` job in a capped child (`_run_capped`): its
    JSON line, or the fallback row, with `status`; prints `describe(row)` per job."""
    rows = []
    for command, fallback, describe in jobs:
        stdout, status = _run_capped(command, args.memory_cap_gib, args.time_limit)
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        row = json.loads(lines[-1]) if status == "ok" and lines else dict(fallback)
        row["status"] = status
        rows.append(row)
        print(describe(row), flush=True)
    return rows


def large_n(args):
    """The `--large-n` table."""
    load_start = os.getloadavg()
    sizes = [(task, index, size) for task in LARGE_N_TASKS for index, size in enumerate(LARGE_N)]
    sizes += [("covariance", index, size) for index, size in enumerate(COVARIANCE_SIZES)]

    def describe(row):
        return (f"{row['task']} (c, m, n) = {(row['c'], row['m'], row['n'])}: {row['status']}"
                + (f", {row['seconds']:.1f} s, peak +{row['peak_above_start_mib']:.0f} MiB"
                   if row["status"] == "ok" else ""))

    rows = _capped_rows([([sys.executable, os.path.abspath(__file__), "--large-n-child", task,
                           str(index)], dict(task=task, c=c, m=m, n=n), describe)
                         for task, index, (c, m, n) in sizes], args)
    load_end = os.getloadavg()
    lines = [f"Machine: {_machine()}; load average {load_start[0]:.1f} at start, {load_end[0]:.1f} "
             f"at end. Command: `.venv/bin/python benchmarks/bench_exact.py --large-n "
             f"--memory-cap-gib {args.memory_cap_gib:g} --time-limit {args.time_limit:g}`. "
             "omega = linspace(0.5, 3, c); one call each, tracing included.", "",
             "| task | (c, m_i, n) | seconds | peak RSS above start (MiB) |", "|---|---|---:|---:|"]
    for row in rows:
        ok = row["status"] == "ok"
        seconds = f"{row['seconds']:.1f}" if ok else (
            f"> {args.time_limit:g} (timed out)" if row["status"] == "timed out" else row["status"])
        peak = f"{row['peak_above_start_mib']:.0f}" if ok else (
            f"> {args.memory_cap_gib * 1024:.0f}" if row["status"] == "exceeded" else "")
        lines.append(f"| {row['task']} | ({row['c']}, {row['m']}, {row['n']}) | {seconds} | "
                     f"{peak} |")
    _write_results("bench_exact_large_n", dict(
        machine=_machine(), load_average_start=load_start, load_average_end=load_end,
        memory_cap_gib=args.memory_cap_gib, time_limit_seconds=args.time_limit, rows=rows), lines)


def per_row(args):
    """The `--per-row` table: rate and peak memory of `sample()` with distinct rows, capped."""
    load_start = os.getloadavg()
    sizes = [(task, index, mode) for index in range(len(PER_ROW))
             for task, mode in [("numpy_per_row", "numpy")]
             + [("sample_per_row", mode) for mode in MODES]]

    def describe(row):
        return (f"{row['task']} {(row['c'], row['m'], row['n'], row['batch'])} {row['mode']}: "
                f"{row['status']}" + (f", {row['per_second']:,.0f}/s, peak "
                                      f"{row['peak_rss_mib']:.0f} MiB"
                                      if row["status"] == "ok" else ""))

    quick = ["--quick"] if args.quick else []
    rows = _capped_rows([([sys.executable, os.path.abspath(__file__), "--child", task, str(index),
                           mode] + quick,
                          dict(zip(("c", "m", "n", "batch"), PER_ROW[index], strict=True),
                               task=task, mode=mode), describe)
                         for task, index, mode in sizes], args)
    load_end = os.getloadavg()
    numpy_rate = {(row["c"], row["m"], row["n"], row["batch"]): row["per_second"]
                  for row in rows if row["task"] == "numpy_per_row" and row["status"] == "ok"}
    lines = [f"Machine: {_machine()}; load average {load_start[0]:.1f} at start, "
             f"{load_end[0]:.1f} at end. Command: `.venv/bin/python benchmarks/bench_exact.py "
             f"--per-row --memory-cap-gib {args.memory_cap_gib:g}`. One exact draw per row of "
             "distinct logits ~ N(0, 1); numpy: its central sampler, as many draws of one "
             "parameter set. Peak: the child's whole resident memory (TensorFlow included).", "",
             "| (c, m, n, rows) | mode | draws / s | / numpy's | ms / call | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|"]
    for row in rows:
        size = (row["c"], row["m"], row["n"], row["batch"])
        if row["status"] != "ok":
            lines.append(f"| {size} | {row['mode']} | {row['status']} | | | "
                         + (f"> {args.memory_cap_gib * 1024:.0f}" if row["status"] == "exceeded"
                            else "") + " |")
            continue
        ratio = row["per_second"] / numpy_rate[size] if size in numpy_rate else float("nan")
        lines.append(f"| {size} | {row['mode']} | {row['per_second']:,.0f} | {ratio:.2f} | "
                     f"{1000 * row['seconds_per_call']:.2f} | {row['peak_rss_mib']:.0f} |")
    _write_results("bench_exact_per_row", dict(
        machine=_machine(), load_average_start=load_start, load_average_end=load_end,
        memory_cap_gib=args.memory_cap_gib, rows=rows), lines)


def _write_results(stem, report, lines):
    """Writes `RESULTS/{stem}.json` (`report`) and `.md` (`lines`), and prints the lines."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{stem}.json"), "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    with open(os.path.join(RESULTS, f"{stem}.md"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def _machine():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def markdown(rows):
    lines = ["| task | (c, m, n, batch) | mode | per second | ms / call "
             "| peak RSS above start (MiB) |",
             "|---|---|---|---:|---:|---:|"]
    for row in rows:
        size = f"({row['c']}, {row['m']}, {row['n']}, {row['batch']})"
        lines.append(f"| {row['task']} | {size} | {row['mode']} | {row['per_second']:,.0f} | "
                     f"{1000 * row['seconds_per_call']:.2f} | {row['peak_above_start_mib']:.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing (smoke run)")
    parser.add_argument("--large-n", action="store_true",
                        help="only the large-n cases (m_i and n up to 10^5), capped")
    parser.add_argument("--per-row", action="store_true",
                        help="only sample() with distinct parameters per row, capped")
    parser.add_argument("--memory-cap-gib", type=float, default=None,
                        help="--large-n, --per-row: kill a child above this resident memory "
                             "(default 2, per-row 1.5)")
    parser.add_argument("--time-limit", type=float, default=120.,
                        help="--large-n: kill a child after this many seconds (%(default)s)")
    parser.add_argument("--child", nargs=3, metavar=("TASK", "CONFIG", "MODE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--large-n-child", nargs=2, metavar=("TASK", "CONFIG"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    min_seconds = 0.3 if args.quick else 2.0
    if args.child:
        run_child(args.child[0], int(args.child[1]), args.child[2], min_seconds)
        return
    if args.large_n_child:
        run_large_n_child(args.large_n_child[0], int(args.large_n_child[1]))
        return
    if args.memory_cap_gib is None:
        args.memory_cap_gib = 1.5 if args.per_row else 2.
    if args.per_row:
        per_row(args)
        return
    if args.large_n:
        large_n(args)
        return
    jobs = [("numpy_central", i, "numpy") for i in range(len(CONFIGS))]
    jobs += [(task, i, mode) for task in ("sample", "log_prob")
             for i in range(len(CONFIGS)) for mode in MODES]
    rows = []
    for number, (task, index, mode) in enumerate(jobs, 1):
        command = [sys.executable, os.path.abspath(__file__), "--child", task, str(index), mode]
        if args.quick:
            command.append("--quick")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(f"[{number}/{len(jobs)}] {task} {CONFIGS[index]} {mode}: "
              f"{rows[-1]['per_second']:,.0f}/s, peak +{rows[-1]['peak_above_start_mib']:.0f} MiB",
              flush=True)
    machine = _machine()
    report = dict(machine=machine, quick=args.quick, rows=rows)
    numpy_rate = {row["c"]: row["per_second"] for row in rows if row["task"] == "numpy_central"}
    for row in rows:
        if row["task"] == "sample":
            row["numpy_central_over_ours"] = numpy_rate[row["c"]] / row["per_second"]
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "bench_exact.json"), "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    table = markdown(rows)
    with open(os.path.join(RESULTS, "bench_exact.md"), "w", encoding="utf-8") as out:
        out.write(f"Machine: {machine}. Command: `make bench`.\n\n{table}\n")
    print(table)
    for row in rows:
        if row["task"] == "sample":
            print(f"numpy central / ours ({row['c']} classes, {row['mode']}): "
                  f"{row['numpy_central_over_ours']:.2f}x (target: at most 3x)")


if __name__ == "__main__":
    main()
