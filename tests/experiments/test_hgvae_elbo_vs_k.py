# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""experiments/hgvae_elbo_vs_k.py --quick: tiny LabelVAE runs (k = 0, d), table, plot."""
import os

import hgvae_elbo_vs_k


def test_quick_run_writes_table_and_plot_and_skips_finished_runs(tmp_path):
    once = ["--gin_bindings", 'group_vae.shared_kl = "once"']
    rows = hgvae_elbo_vs_k.main(["--quick", "--out", str(tmp_path)] + once)
    assert [row["k"] for row in rows] == [0, 10]
    assert all(row["loss"] > row["reconstruction"] > 0 and row["loss_std"] == 0 for row in rows)
    with open(tmp_path / "results.md", encoding="utf-8") as handle:
        table = handle.read()
    assert "true k = F - s = 4" in table and table.count("\n| ") == 3   # header + 2 rows
    assert 'bindings: `group_vae.shared_kl = "once"`' in table
    with open(tmp_path / "k0_seed0" / "results" / "gin" / "train.gin", encoding="utf-8") as handle:
        assert "group_vae.shared_kl = 'once'" in handle.read()
    assert os.path.getsize(tmp_path / "elbo_vs_k.png") > 0
    stamp = os.path.getmtime(tmp_path / "k0_seed0" / "evaluation.json")
    assert hgvae_elbo_vs_k.main(["--quick", "--out", str(tmp_path)] + once) == rows
    assert os.path.getmtime(tmp_path / "k0_seed0" / "evaluation.json") == stamp
