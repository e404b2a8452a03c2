"""Throughput and peak memory of the exact MultivariateHypergeometric sampler and log_prob.

Each (task, configuration, mode) runs in its own child process, so its peak resident memory can be
read from /proc (VmHWM) and compared with the resident memory before the timed work started.
numpy's central `Generator.multivariate_hypergeometric` runs on the same sizes in the same run.

Run: `make bench` (or `.venv/bin/python benchmarks/bench_exact.py [--quick]`).
Writes `benchmarks/results/bench_exact.json` and `.md`.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

# (c, m per class, n, batch): the sampling sizes; omega_i = linspace(0.5, 3, c).
CONFIGS = [(3, 200, 180, 100000), (10, 256, 256, 10000)]
LOG_PROB_POINTS = 100000
MODES = ["eager", "function", "xla"]
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
    """One measurement in this process; prints a JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    c, m, n, batch = CONFIGS[config_index]
    result = dict(task=task, c=c, m=m, n=n, batch=batch, mode=mode)
    if task == "numpy_central":
        rng = np.random.default_rng(0)
        baseline = _memory_kib("VmRSS")
        seconds = _time_calls(lambda: rng.multivariate_hypergeometric([m] * c, n, size=batch),
                              min_seconds)
        items = batch
    else:
        import tensorflow as tf
        import tfp_mvhg
        weights = tf.constant(np.linspace(0.5, 3.0, c), tf.float32)
        dist = tfp_mvhg.MultivariateHypergeometric([float(m)] * c, float(n), weights=weights)
        if task == "sample":
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


def markdown(rows):
    lines = ["| task | (c, m, n, batch) | mode | per second | ms / call | peak RSS above start (MiB) |",
             "|---|---|---|---:|---:|---:|"]
    for row in rows:
        size = f"({row['c']}, {row['m']}, {row['n']}, {row['batch']})"
        lines.append(f"| {row['task']} | {size} | {row['mode']} | {row['per_second']:,.0f} | "
                     f"{1000 * row['seconds_per_call']:.2f} | {row['peak_above_start_mib']:.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing (smoke run)")
    parser.add_argument("--child", nargs=3, metavar=("TASK", "CONFIG", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    min_seconds = 0.3 if args.quick else 2.0
    if args.child:
        run_child(args.child[0], int(args.child[1]), args.child[2], min_seconds)
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
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
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
