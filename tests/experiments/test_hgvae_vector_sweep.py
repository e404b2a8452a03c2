# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""experiments/hgvae_vector_sweep.py --report_only: the summary table, the targets and the plot
from archived runs (no training)."""
import json
import os

import hgvae_vector_sweep

from disentanglement_ext import sweep


def archive(out, variant, num_shared, seed, k_hat, independent_scores):
    folder = hgvae_vector_sweep.variant_dir(str(out), variant, 7)
    method = hgvae_vector_sweep.VARIANTS[variant][0]
    path = sweep.archived_report(folder, f"{method}_s{num_shared}_seed{seed}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(dict(s_true=num_shared, num_factors=7, num_latent=7, k_hat_mean=k_hat,
                       s_hat_mean=7 - k_hat, mse_s=(7 - k_hat - num_shared) ** 2,
                       shared_score=0.5, independent_score=0.6, factor_score=0.9,
                       independent_scores=independent_scores,
                       disentanglement_lib={"mig": {"discrete_mig": 0.3}},
                       training_steps=20000), handle)


def test_report_only_writes_the_summary_with_the_targets(tmp_path):
    k_hat = {(1, 0): 6.2, (1, 1): 5.6, (5, 0): 2.5, (5, 1): 3.4}   # seed 1 off by 1.4 at s = 5
    for (num_shared, seed), value in k_hat.items():
        archive(tmp_path, "hg_per_dimension", num_shared, seed, value, [0.8] * 7)
        archive(tmp_path, "ada", num_shared, seed, 1.5, [0.8] * 6 + [0.9])
    hgvae_vector_sweep.main(["--out", str(tmp_path), "--variants", "hg_per_dimension", "ada",
                             "--num_latent", "7", "--num_shared", "1", "5", "--seeds", "0", "1",
                             "--report_only"])
    with open(tmp_path / "summary.md", encoding="utf-8") as handle:
        summary = handle.read()
    assert "| hg_per_dimension | 7 | 20000 | 1 | 6 | 5.90 ± 0.30 | 6.20, 5.60 |" in summary
    assert "| hg_per_dimension | 7 | 20000 | 5 | 2 | 2.95 ± 0.45 | 2.50, 3.40 |" in summary
    assert ("- hg_per_dimension, d = 7: within 1 of F - s: yes; strictly decreasing: yes; "
            "monotone seeds: 2/2; shared score > 0.1 at s >= 1: yes; independent score per "
            "factor >= AdaVAE's: no, factors 6 (0.80 < 0.90)") in summary
    assert (tmp_path / "k_hat_vs_s.png").stat().st_size > 0
    assert (tmp_path / "hg_per_dimension_d7" / "results.md").exists()   # the sweep's own table
