"""The sweep skips complete runs and writes its table and plot (no training: runs are faked)."""

import json
import os

from disentanglement_ext import sweep


def test_sweep_collects_complete_runs_into_table_and_plot(tmp_path):
    out_dir = str(tmp_path)
    for method in ("label", "hg"):
        for num_shared in (1, 3):
            for seed in (0, 1):
                run = sweep.run_dir(out_dir, method, num_shared, seed)
                os.makedirs(run)
                with open(os.path.join(run, "evaluation.json"), "w", encoding="utf-8") as handle:
                    json.dump(dict(s_hat_mean=num_shared + 0.5 * seed, mse_s=0.25 * seed,
                                   shared_score=0.5, independent_score=None,
                                   reconstruction_loss=1.0, train_seconds=2.0,
                                   disentanglement_lib={"mig": {"discrete_mig": 0.1 * seed}}),
                              handle)
    sweep.main(["--out_dir", out_dir, "--methods", "label", "hg", "--num_shared", "1", "3",
                "--seeds", "0", "1"])
    with open(os.path.join(out_dir, "results.md"), encoding="utf-8") as handle:
        table = handle.read()
    assert ("| HGVAE | 3 | 2 | 3.25 ± 0.25 | 0.12 ± 0.12 | 0.50 ± 0.00 | n/a | 0.05 ± 0.05 | n/a "
            "| n/a | n/a |") in table
    with open(os.path.join(out_dir, "results.csv"), encoding="utf-8") as handle:
        assert len(handle.read().strip().splitlines()) == 1 + 8
    assert os.path.getsize(os.path.join(out_dir, "s_hat.png")) > 0
