# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Seconds for each console command to answer --help (best of N runs, in fresh processes).

    .venv/bin/python benchmarks/bench_cli_help.py [--repeats 5]

Target: under a second each, since no command imports TensorFlow before its arguments are parsed
(tests/disentanglement_ext/test_cli.py checks the imports).
"""
import argparse
import os
import subprocess
import sys
import time

COMMANDS = ("mvhg_train_weak", "mvhg_sweep", "mvhg_dlib", "mvhg_clustering")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scripts = os.path.dirname(sys.executable)
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeats}")
    for command in COMMANDS:
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            subprocess.run([os.path.join(scripts, command), "--help"], capture_output=True,
                           check=True)
            seconds.append(time.perf_counter() - start)
        best = min(seconds)
        print(f"{command:18s} {best:6.2f} s  {'ok' if best < 1. else 'ABOVE 1 s TARGET'}")


if __name__ == "__main__":
    main()
