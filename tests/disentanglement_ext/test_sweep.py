"""The sweep skips complete runs and writes its table and plots (no training: runs are faked)."""

import csv
import json
import os

from matplotlib import pyplot as plt
import numpy as np

from disentanglement_ext import sweep


def fake_run(out_dir, method, num_shared, seed, **report):
    run = sweep.run_dir(out_dir, method, num_shared, seed)
    os.makedirs(run)
    with open(os.path.join(run, "evaluation.json"), "w", encoding="utf-8") as handle:
        json.dump(dict(dict(s_hat_mean=1., mse_s=0., shared_score=0.5, independent_score=None,
                            reconstruction_loss=1.0, train_seconds=2.0), **report), handle)
    return run


def test_sweep_collects_complete_runs_into_table_and_plot(tmp_path, monkeypatch):
    out_dir = str(tmp_path)
    for method in ("label", "hg"):
        for num_shared in (1, 3):
            for seed in (0, 1):
                fake_run(out_dir, method, num_shared, seed, s_hat_mean=num_shared + 0.5 * seed,
                         mse_s=0.25 * seed, reconstruction_loss=1 / 3,
                         disentanglement_lib={"mig": {"discrete_mig": 0.1 * seed}})
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
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figures to inspect them
    sweep.main(["--out_dir", out_dir, "--methods", "label", "hg", "--num_shared", "1", "3",
                "--seeds", "0", "1"])
    with open(os.path.join(out_dir, "results.md"), encoding="utf-8") as handle:
        table = handle.read()
    assert ("| HGVAE | 3 | 2 | 3.25 ± 0.25 | 0.12 ± 0.12 | 0.50 ± 0.00 | n/a | 0.05 ± 0.05 | n/a "
            "| n/a | n/a |") in table
    with open(os.path.join(out_dir, "results.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and "None" not in str(rows)
    assert rows[0]["independent_score"] == "" and rows[0]["dci"] == ""   # missing: empty
    assert rows[0]["reconstruction_loss"] == "0.333333"                    # 6 significant digits
    assert os.path.getsize(os.path.join(out_dir, "s_hat.png")) > 0
    assert os.path.getsize(os.path.join(out_dir, "k_hat_training.png")) > 0
    # one colour per method in both plots
    s_hat_figure, k_hat_figure = [f for f in figures if hasattr(f, "axes")]
    left, right = s_hat_figure.axes
    colours = {line.get_label(): line.get_color() for line in left.lines if line.get_marker() == "o"}
    colours.update({container.get_label(): container.patches[0].get_facecolor()
                    for container in right.containers})
    colours.update({line.get_label(): line.get_color() for axis in k_hat_figure.axes
                    for line in axis.lines})
    from matplotlib.colors import to_rgba  # pylint: disable=import-outside-toplevel
    for method, colour in sweep.METHOD_COLOURS.items():
        for label, used in colours.items():
            if label.startswith(sweep.METHOD_NAMES[method]):
                assert to_rgba(used) == to_rgba(colour), label


def test_one_seed_has_no_spread_and_console_numbers_are_rounded(tmp_path, capsys):
    fake_run(str(tmp_path), "hg", 3, 0, s_hat_mean=2.123456, shared_score=0.987654321)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "3", "--seeds", "0"])
    output = capsys.readouterr().out
    assert "shared score = 0.988, independent score = n/a" in output
    assert "| HGVAE | 3 | 1 | 2.12 | 0.00 | 0.99 | n/a |" in output and "±" not in output


def test_a_finished_run_with_a_changed_config_is_not_reported_as_new(tmp_path, capsys):
    import pytest  # pylint: disable=import-outside-toplevel
    from disentanglement_ext import weak_training  # pylint: disable=import-outside-toplevel
    run = fake_run(str(tmp_path), "label", 3, 0)
    files, bindings = sweep.run_config("label", 3, 0, sweep.DEFAULT_CONFIGS, [])
    with open(os.path.join(run, weak_training.CONFIG_FILE), "w", encoding="utf-8") as handle:
        handle.write(weak_training.gin_config_str(files, bindings))
    arguments = ["--out_dir", str(tmp_path), "--methods", "label", "--num_shared", "3",
                 "--seeds", "0"]
    sweep.main(arguments)  # unchanged: skipped
    assert "| LabelVAE | 3 | 1 | 1.00 |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="1 run"):
        sweep.main(arguments + ["--gin_bindings", "model.batch_size = 16"])
    assert "FAILED: Use --overwrite to retrain it from scratch" in capsys.readouterr().out
    with open(run + ".log", encoding="utf-8") as handle:
        assert "-model.batch_size = 32\n+model.batch_size = 16\n" in handle.read()
