# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Smoke runs of the paper's experiments (`--quick`, into a temporary folder): they run end to end
and write their JSON, Markdown and plots. The full runs and their numbers are in the README."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


@pytest.mark.parametrize("script, stem", [("ks_study.py", "ks_study"),
                                          ("minimal_example.py", "minimal_example")])
def test_experiment_quick_run_writes_results(tmp_path, script, stem):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "experiments", script), "--quick", "--out",
         str(tmp_path)], capture_output=True, text=True, timeout=900, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / f"{stem}.json", encoding="utf-8") as handle:
        assert json.load(handle)
    assert (tmp_path / f"{stem}.md").stat().st_size > 0
    assert list(tmp_path.glob("*.png"))
