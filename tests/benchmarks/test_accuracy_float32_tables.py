# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""benchmarks/accuracy_float32_tables.py: its total-variation bound is 0 for equal tables and
positive for perturbed ones, and a small run writes its report within the stated bound."""
import json
import os
import sys

import numpy as np
import tensorflow as tf

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import accuracy_float32_tables as study  # noqa: E402  pylint: disable=wrong-import-position

from tfp_mvhg.internal import suffix_tables  # noqa: E402  pylint: disable=wrong-import-position


def test_expected_conditional_tv_is_zero_for_equal_tables_and_sees_a_perturbation():
    num = tf.constant([[20., 15., 18.]], tf.float64)
    logits = tf.constant([[0.5, -0.2, 0.1]], tf.float64)
    tables = suffix_tables.suffix_log_tables(num, logits, 31, 21, first=1)
    assert study.expected_conditional_tv(num, logits, tables, tables, 30, 21)[0] == 0.
    # q_1 tilted by 1e-3 at every other k: class 0's conditionals move by about 1e-3 / 4.
    bump = np.zeros(tables.shape)
    bump[0, ::2] = 1e-3
    moved = study.expected_conditional_tv(num, logits, tables + bump, tables, 30, 21)[0]
    assert 1e-5 < moved < 1e-3


def test_a_small_run_is_within_the_stated_bound(tmp_path):
    out = tmp_path / "a.json"
    assert study.main(["--configs", "1", "--rows", "2", "--out", str(out)]) == 0
    with open(out, encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["within_stated_bound"] and len(report["large"]) == 4
    assert "stated" in (tmp_path / "a.md").read_text(encoding="utf-8")
