"""The sweep skips complete runs and writes its table and plot (no training: runs are faked)."""

import json
import os

import numpy as np

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
    import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
    with tf.Graph().as_default():  # the estimator's TF 1 summaries, as a run writes them
        writer = tf.summary.FileWriter(os.path.join(sweep.run_dir(out_dir, "hg", 3, 0),
                                                    "tf_checkpoint"))
        for step in (1, 101, 201):
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(
                tag="k_hat", simple_value=step / 20.)]), step)
        writer.close()
    steps, k_hat = sweep.read_training_scalars(sweep.run_dir(out_dir, "hg", 3, 0), "k_hat")
    assert list(steps) == [1, 101, 201]
    np.testing.assert_allclose(k_hat, [0.05, 5.05, 10.05], rtol=1e-6)
    sweep.main(["--out_dir", out_dir, "--methods", "label", "hg", "--num_shared", "1", "3",
                "--seeds", "0", "1"])
    with open(os.path.join(out_dir, "results.md"), encoding="utf-8") as handle:
        table = handle.read()
    assert ("| HGVAE | 3 | 2 | 3.25 ± 0.25 | 0.12 ± 0.12 | 0.50 ± 0.00 | n/a | 0.05 ± 0.05 | n/a "
            "| n/a | n/a |") in table
    with open(os.path.join(out_dir, "results.csv"), encoding="utf-8") as handle:
        assert len(handle.read().strip().splitlines()) == 1 + 8
    assert os.path.getsize(os.path.join(out_dir, "s_hat.png")) > 0
    assert os.path.getsize(os.path.join(out_dir, "k_hat_training.png")) > 0
