# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The sweep skips complete runs and writes its table and plots (no training: runs are faked)."""

import csv
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
from matplotlib import pyplot as plt

from disentanglement_ext import sweep


def fake_run(out_dir, method, num_shared, seed, **report):
    run = sweep.run_dir(out_dir, method, num_shared, seed)
    os.makedirs(run)
    with open(os.path.join(run, "evaluation.json"), "w", encoding="utf-8") as handle:
        json.dump(dict(dict(s_hat_mean=1., mse_s=0., shared_score=0.5, independent_score=None,
                            reconstruction_loss=1.0, train_seconds=2.0), **report), handle)
    return run


def test_sweep_collects_complete_runs_into_table_and_plot(tmp_path, monkeypatch, capfd):
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
    assert "deprecated" not in capfd.readouterr().err   # quiet
    assert list(steps) == [1, 101, 201]
    np.testing.assert_allclose(k_hat, [0.05, 5.05, 10.05], rtol=1e-6)
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figures to inspect them
    sweep.main(["--out_dir", out_dir, "--methods", "label", "hg", "--num_shared", "1", "3",
                "--seeds", "0", "1"])
    with open(os.path.join(out_dir, "results.md"), encoding="utf-8") as handle:
        table = handle.read()
    assert ("| HGVAE | 3 | 2 | 3.25 ± 0.25 | 0.12 ± 0.12 | n/a | n/a | 0.50 ± 0.00 | n/a "
            "| 0.05 ± 0.05 | n/a | n/a | n/a |") in table
    with open(os.path.join(out_dir, "results.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and "None" not in str(rows)
    assert rows[0]["independent_score"] == "" and rows[0]["dci"] == ""   # missing: empty
    assert rows[0]["reconstruction_loss"] == "0.333333"                    # 6 significant digits
    assert os.path.getsize(os.path.join(out_dir, "s_hat.png")) > 0
    assert os.path.getsize(os.path.join(out_dir, "k_hat_training.png")) > 0
    # one colour per method in both plots
    s_hat_figure, k_hat_figure = [f for f in figures if hasattr(f, "axes")]
    left, middle, right = s_hat_figure.axes
    colours = {line.get_label(): line.get_color() for line in left.lines
               if line.get_marker() == "o"}
    colours.update({container.get_label(): container.patches[0].get_facecolor()
                    for container in right.containers})
    colours.update({line.get_label(): line.get_color() for axis in k_hat_figure.axes
                    for line in axis.lines})
    from matplotlib.colors import to_rgba  # pylint: disable=import-outside-toplevel
    colours.update({container.get_label(): container.patches[0].get_facecolor()
                    for container in middle.containers})
    for method, colour in sweep.METHOD_COLOURS.items():
        for label, used in colours.items():
            if label.startswith(sweep.METHOD_NAMES[method]):
                assert to_rgba(used) == to_rgba(colour), label


def test_one_seed_has_no_spread_and_console_numbers_are_rounded(tmp_path, capsys):
    fake_run(str(tmp_path), "hg", 3, 0, s_hat_mean=2.123456, shared_score=0.987654321)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "3", "--seeds", "0"])
    output = capsys.readouterr().out
    assert "shared score = 0.988, independent score = n/a" in output
    assert "| HGVAE | 3 | 1 | 2.12 | 0.00 | n/a | n/a | 0.99 | n/a |" in output
    assert "±" not in output


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
    assert ("label s=3 seed=0 FAILED: Use --overwrite to retrain it from scratch"
            in capsys.readouterr().out)
    with open(run + ".log", encoding="utf-8") as handle:
        assert "-model.batch_size = 32\n+model.batch_size = 16\n" in handle.read()


def test_both_definitions_of_s_hat_from_a_run_without_the_paper_s():
    """An exact-s run evaluated before d - k_hat was recorded: its MSE under the paper's
    definition follows from F - k_hat; checked against per-pair values."""
    k_hat = np.array([9., 10., 4., 7.5])
    num_factors, num_latent, s = 7, 10, 3
    report = dict(s_true=s, num_factors=num_factors, num_latent=num_latent,
                  s_hat_mean=float(np.mean(num_factors - k_hat)),
                  mse_s=float(np.mean((num_factors - k_hat - s) ** 2)))
    both = sweep.with_both_definitions(report)
    np.testing.assert_allclose(both["s_hat_latent_mean"], np.mean(num_latent - k_hat))
    np.testing.assert_allclose(both["mse_s_latent"], np.mean((num_latent - k_hat - s) ** 2))
    assert both["s_pairs_mean"] == 3 and both["s_pairs_sq_mean"] == 9
    recorded = dict(report, mse_s_latent=1.5, s_pairs_mean=2.5, s_pairs_sq_mean=7.)
    assert sweep.with_both_definitions(recorded)["mse_s_latent"] == 1.5   # recorded: kept
    assert "mse_s_latent" not in sweep.with_both_definitions(dict(report, s_true=-1))


def test_reference_rows_match_the_issue_and_random_s():
    rows = [dict(method="hg", dynamics="exact", s_true=s, num_factors=7, num_latent=10,
                 s_pairs_mean=float(s), s_pairs_sq_mean=float(s * s)) for s in (0, 1, 3, 5)]
    references = {(entry["method"], entry["s_true"]): entry
                  for entry in sweep.reference_rows(rows)}
    # Under the paper's s_hat = d - k_hat a constant k_hat = d scores 0 / 1 / 9 / 25 and the
    # oracle k_hat = F - s scores 9 everywhere (the issue's numbers).
    for s, expected in zip((0, 1, 3, 5), (0, 1, 9, 25), strict=True):
        constant_d = references[("constant k_hat = d", s)]
        assert constant_d["mse_s_latent"] == expected and constant_d["s_hat_latent_mean"] == 0
        assert constant_d["mse_s"] == (7 - 10 - s) ** 2 and constant_d["s_hat_mean"] == -3
        oracle = references[("oracle k_hat = F - s", s)]
        assert oracle["mse_s_latent"] == 9 and oracle["mse_s"] == 0 and oracle["s_hat_mean"] == s
        one = references[("constant k_hat = 1", s)]
        assert one["mse_s"] == (6 - s) ** 2 and one["mse_s_latent"] == (9 - s) ** 2
    # Random s per pair: the moments of s give the constant estimators' MSE exactly.
    s_pairs = np.random.RandomState(0).randint(1, 7, size=1000).astype(float)
    row = dict(method="ada", dynamics="dlib", s_true=-1, num_factors=7, num_latent=10,
               s_pairs_mean=s_pairs.mean(), s_pairs_sq_mean=np.mean(s_pairs ** 2))
    constant_one = [entry for entry in sweep.reference_rows([row])
                    if entry["method"] == "constant k_hat = 1"][0]
    np.testing.assert_allclose(constant_one["mse_s"], np.mean((6 - s_pairs) ** 2))
    np.testing.assert_allclose(constant_one["mse_s_latent"], np.mean((9 - s_pairs) ** 2))
    assert constant_one["dynamics"] == "dlib"


def test_report_only_rebuilds_tables_from_archived_runs(tmp_path, capsys):
    """No run folders, only OUT/runs/*.json: both definitions, reference rows, Table 1 layout."""
    os.makedirs(tmp_path / "runs")
    for method in ("label_dlib", "hg"):
        for s in (0, 3):
            report = dict(s_true=s, num_factors=7, num_latent=10, s_hat_mean=7. - 9.,
                          mse_s=(7 - 9 - s) ** 2, shared_score=0.1 * s, independent_score=0.3,
                          k_hat_mean=9.)
            with open(sweep.archived_report(str(tmp_path), f"{method}_s{s}_seed0"), "w",
                      encoding="utf-8") as handle:
                json.dump(report, handle)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "label_dlib", "hg", "ada",
                "--num_shared", "0", "3", "--seeds", "0", "--report_only"])
    output = capsys.readouterr().out
    assert "    ada s=0 seed=0: no evaluation.json: left out" in output
    with open(tmp_path / "results.md", encoding="utf-8") as handle:
        table = handle.read()
    # s_hat = F - k_hat = -2, MSE (-2 - 3)^2 = 25; d - k_hat = 1, MSE (1 - 3)^2 = 4.
    assert "| HGVAE | 3 | 1 | -2.00 | 25.00 | 1.00 | 4.00 | 0.30 | 0.30 |" in table
    assert "| constant k_hat = d | 3 | – | -3.00 | 36.00 | 0.00 | 9.00 | n/a |" in table
    assert "| oracle k_hat = F - s | 0 | – | 0.00 | 0.00 | 3.00 | 9.00 | n/a |" in table
    assert ("| method | s = 0: independent | s = 0: shared | s = 3: independent | "
            "s = 3: shared |") in table
    assert "| LabelVAE (changed factor) | 0.30 | 0.00 | 0.30 | 0.30 |" in table
    assert not os.path.exists(tmp_path / "hg_s0_seed0")   # nothing trained


def test_report_only_answers_without_tensorflow(tmp_path):
    """No run folders, so no event files to read: the report needs no TensorFlow (and its logs)."""
    os.makedirs(tmp_path / "runs")
    with open(sweep.archived_report(str(tmp_path), "hg_s3_seed0"), "w", encoding="utf-8") as handle:
        json.dump(dict(s_true=3, s_hat_mean=1., mse_s=4., shared_score=0.1,
                       independent_score=0.2), handle)
    code = ("import sys\nfrom disentanglement_ext import sweep\n"
            f"sweep.main(['--out_dir', {str(tmp_path)!r}, '--methods', 'hg', '--num_shared', '3', "
            "'--seeds', '0', '--report_only'])\nprint('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip().endswith("False") and "tensorflow" not in result.stderr


def test_finished_runs_are_archived(tmp_path):
    fake_run(str(tmp_path), "hg", 3, 0, s_hat_mean=2.5)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "3",
                "--seeds", "0"])
    with open(sweep.archived_report(str(tmp_path), "hg_s3_seed0"), encoding="utf-8") as handle:
        assert json.load(handle)["s_hat_mean"] == 2.5


def test_parallel_jobs_report_every_run_in_sweep_order(tmp_path, capsys):
    for seed in (0, 1, 2):
        fake_run(str(tmp_path), "label", 1, seed, s_hat_mean=1. + seed, k_hat_mean=6. - seed)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "label", "--num_shared", "1",
                "--seeds", "0", "1", "2", "--jobs", "3", "--report_only"])
    output = capsys.readouterr().out
    lines = [line for line in output.splitlines() if line.startswith("    label")]
    assert [line.split(":")[0] for line in lines] == [
        f"    label s=1 seed={seed}" for seed in (0, 1, 2)]
    assert "k_hat = 4.00, s_hat = 3.00" in lines[2]
    assert "| LabelVAE | 1 | 3 | 2.00 ± 0.82 |" in output


def test_the_last_lines_give_k_hat_against_the_true_k(tmp_path, capsys):
    for num_shared, values in ((1, (5.5, 6.5)), (5, (2.25, 1.75))):
        for seed, k_hat in enumerate(values):
            fake_run(str(tmp_path), "hg", num_shared, seed, k_hat_mean=k_hat, num_factors=7,
                     s_true=num_shared)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "1", "5",
                "--seeds", "0", "1", "--report_only"])
    assert capsys.readouterr().out.rstrip().splitlines()[-2:] == [
        "HGVAE, s = 1: k_hat = 6.00 (seeds: 5.50, 6.50), true k = F - s = 7 - 1 = 6",
        "HGVAE, s = 5: k_hat = 2.00 (seeds: 2.25, 1.75), true k = F - s = 7 - 5 = 2"]


def truncate(path):
    with open(path, "r+", encoding="utf-8") as handle:
        handle.truncate(len(handle.read()) // 2)


def test_a_truncated_run_file_is_reported_corrupt_and_not_archived(tmp_path, monkeypatch, capsys):
    """The sweep copied a truncated evaluation.json over the good archive, then crashed on it."""
    import pytest  # pylint: disable=import-outside-toplevel
    run = fake_run(str(tmp_path), "hg", 3, 0, s_hat_mean=2.5)
    arguments = ["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "3", "--seeds", "0"]
    sweep.main(arguments)
    archive = sweep.archived_report(str(tmp_path), "hg_s3_seed0")
    with open(archive, encoding="utf-8") as handle:
        archived = handle.read()
    truncate(os.path.join(run, "evaluation.json"))
    # Not complete now, so the run is started again; here it leaves the file as it is.
    monkeypatch.setattr(sweep.subprocess, "run", lambda *args, **kwargs: None)
    with pytest.raises(SystemExit, match="1 run.* failed or corrupt"):
        sweep.main(arguments)
    assert (f"    hg s=3 seed=0 CORRUPT: {run}/evaluation.json is not valid JSON (a truncated "
            f"write?); {archive} is kept") in capsys.readouterr().out
    with open(archive, encoding="utf-8") as handle:
        assert handle.read() == archived
    sweep.main(arguments + ["--report_only"])   # the archived copy stands in
    output = capsys.readouterr().out
    assert f"{run}/evaluation.json is not valid JSON (a truncated write?): passed over" in output
    assert "| HGVAE | 3 | 1 | 2.50 |" in output
    truncate(archive)
    with pytest.raises(SystemExit, match="1 run.* failed or corrupt"):
        sweep.main(arguments + ["--report_only"])
    assert (f"    hg s=3 seed=0 CORRUPT: {run}/evaluation.json and {archive} are not valid JSON; "
            "rerun the sweep without --report_only to re-evaluate the run"
            ) in capsys.readouterr().out


def test_outputs_are_written_whole(tmp_path, monkeypatch):
    from disentanglement_ext import files  # pylint: disable=import-outside-toplevel
    fake_run(str(tmp_path), "hg", 3, 0)
    written = []
    monkeypatch.setattr(files, "fault_point", written.append)
    sweep.main(["--out_dir", str(tmp_path), "--methods", "hg", "--num_shared", "3", "--seeds",
                "0"])
    assert sorted(written) == ["write hg_s3_seed0.json", "write results.csv", "write results.md",
                               "write s_hat.png"]


def test_a_bad_command_line_is_one_line(tmp_path, capsys):
    """A bad gin file or binding failed every run, each with its traceback in its log."""
    import pytest  # pylint: disable=import-outside-toplevel
    (tmp_path / "bad.gin").write_text("model.training_steps = \n")
    (tmp_path / "file").write_text("")
    runs = ["--methods", "hg", "--num_shared", "3", "--seeds", "0"]
    for args, message in (
            (["--out_dir", str(tmp_path / "file")], f"--out_dir {tmp_path}/file is a file: give "
                                                    "a folder (it is created if missing)."),
            (["--out_dir", str(tmp_path / "sweep"), "--gin_config", str(tmp_path / "bad.gin")],
             f"gin file {tmp_path}/bad.gin, line 1: Unable to parse value in "
             "'model.training_steps ='. A binding is"),
            (["--out_dir", str(tmp_path / "sweep"), "--gin_bindings", "model.training_steps"],
             "--gin_bindings 'model.training_steps': Couldn't parse statement, expected ':' or "
             "'='. A binding is")):
        with pytest.raises(SystemExit) as exit_info:
            sweep.main(args + runs)
        error = capsys.readouterr().err
        assert exit_info.value.code == 2 and error.startswith("mvhg_sweep: error: " + message)
        assert error.count("\n") == 1 and "Traceback" not in error
    assert not os.path.exists(tmp_path / "sweep" / "hg_s3_seed0")


def test_a_truncated_event_file_gives_the_points_before_the_cut(tmp_path):
    import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
    folder = tmp_path / "run" / "tf_checkpoint"
    with tf.Graph().as_default():
        writer = tf.summary.FileWriter(str(folder))
        for step in range(1, 21):
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(
                tag="k_hat", simple_value=float(step))]), step)
        writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 30])          # a run killed while writing its last record
    steps, values = sweep.read_training_scalars(str(tmp_path / "run"), "k_hat")
    assert 10 < len(steps) < 20 and list(steps) == list(range(1, len(steps) + 1))
    np.testing.assert_array_equal(values, steps.astype(float))


def test_runs_are_checked_for_completion_one_at_a_time(monkeypatch):
    """`--jobs 2` checked two finished runs at once in one process, and gin's global config, locked
    by one check, crashed the other ("Attempted to modify locked Gin config")."""
    inside, most = [], []

    class Checker:
        @staticmethod
        def is_complete(*_):
            inside.append(1)
            most.append(len(inside))
            time.sleep(0.2)
            inside.pop()
            return True

    monkeypatch.setattr(sweep, "_weak_training", lambda: Checker)
    threads = [threading.Thread(target=sweep._is_complete, args=("run", [], []))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(most) == 3 and max(most) == 1
