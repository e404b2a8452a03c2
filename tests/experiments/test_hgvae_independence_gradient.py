# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""experiments/hgvae_independence_gradient.py on a tiny trained LabelVAE run."""
import os

import hgvae_independence_gradient
import numpy as np
import pytest

from disentanglement_ext import configs
from disentanglement_ext import weak_training

CONFIGS = [os.path.join(configs.GIN_DIR, name)
           for name in ("base.gin", "label.gin", "procedural.gin", "cpu_small.gin")]
TINY = ["model.training_steps = 3", "model.batch_size = 8", "model.eval_steps = 1",
        "evaluate_weak.num_train = 100", "evaluate_weak.num_test = 60",
        "dlib_metrics.metrics = []", "label_aggregation.num_independent = 4",
        "visualizations.num_animations = 0"]


def test_gradient_by_rank_of_a_trained_run(tmp_path):
    run = str(tmp_path / "label")
    weak_training.train_with_gin(run, False, CONFIGS, TINY + ["model.num_shared = 3"])
    out = tmp_path / "out"
    rows = hgvae_independence_gradient.main(["--run", run, "--out", str(out),
                                             "--num_pairs", "20"])
    assert [row["rank"] for row in rows] == list(range(1, 11))
    assert all(np.isfinite(value) for row in rows for value in row.values())
    gammas = [row["gamma"] for row in rows]
    assert gammas == sorted(gammas, reverse=True)
    for row in rows[4:]:  # shared ranks (k = F - s = 4): paying the KL once makes sharing cheaper
        assert row["kl_once"] > row["kl_per_view"]
        assert row["total_once"] - row["total_per_view"] == pytest.approx(
            row["kl_once"] - row["kl_per_view"], rel=1e-4, abs=1e-6)
    with open(out / "results.md", encoding="utf-8") as handle:
        assert "| 4 (k) |" in handle.read()
    assert os.path.getsize(out / "gradient_by_rank.png") > 0

    random_s = str(tmp_path / "random_s")
    weak_training.train_with_gin(random_s, False, CONFIGS, TINY + ["model.num_shared = -1"])
    with pytest.raises(ValueError, match="random s per pair"):
        hgvae_independence_gradient.main(["--run", random_s, "--out", str(out)])
    with pytest.raises(ValueError, match="`--num_pairs`"):
        hgvae_independence_gradient.main(["--run", run, "--out", str(out), "--num_pairs", "0"])
