# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""benchmarks/accuracy_exact.py writes where it is told (default runs/), never over the committed
results."""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import accuracy_exact  # noqa: E402  pylint: disable=wrong-import-position

COMMITTED = os.path.join(ROOT, "benchmarks", "results", "accuracy_exact.json")


def test_writes_the_chosen_output_and_keeps_the_committed_results(tmp_path, monkeypatch):
    with open(COMMITTED, "rb") as handle:
        committed = handle.read()
    report = accuracy_exact.main(["--configs", "2", "--out", str(tmp_path / "a" / "out.json")])
    with open(tmp_path / "a" / "out.json", encoding="utf-8") as handle:
        assert json.load(handle) == report and report["configs"] == 2
    monkeypatch.chdir(tmp_path)
    accuracy_exact.main(["--configs", "1"])
    assert (tmp_path / "runs" / "accuracy_exact.json").exists()
    with open(COMMITTED, "rb") as handle:
        assert handle.read() == committed
