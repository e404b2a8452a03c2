# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs killed anywhere (SIGKILL at the runner's fault points, `files.fault_point`) and rerun end
with the outputs of an uninterrupted run; truncated files are redone, not trusted."""
import json
import os
import subprocess
import sys

import pytest

from disentanglement_ext import files
from disentanglement_ext import weak_training

VECTOR = ["base", "label", "vector"]
TINY = ["model.training_steps = 40", "model.batch_size = 16", "model.eval_steps = 1",
        "evaluate_weak.num_train = 200", "evaluate_weak.num_test = 100", "model.num_shared = 3",
        "dlib_metrics.metrics = ['mig']", "mig.num_train = 200"]
IMAGES = ["base", "label", "procedural", "cpu_small"]
TINY_IMAGES = ["model.training_steps = 4", "model.batch_size = 8", "model.eval_steps = 1",
               "evaluate_weak.num_train = 120", "evaluate_weak.num_test = 80",
               "model.num_shared = 3", "dlib_metrics.metrics = []",
               "visualizations.num_animations = 1", "visualizations.num_frames = 2",
               "visualizations.num_points_irs = 100"]


def run(model_dir, configs, bindings, fault=""):
    """`python -m disentanglement_ext.train_weak` with `$MVHG_FAULT_INJECTION = fault`: (return
    code, output)."""
    command = [sys.executable, "-m", "disentanglement_ext.train_weak", "--model_dir", model_dir]
    command += [arg for name in configs for arg in ("--gin_config", name)]
    command += [arg for binding in bindings for arg in ("--gin_bindings", binding)]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=dict(os.environ, MVHG_FAULT_INJECTION=fault,
                                     TF_CPP_MIN_LOG_LEVEL="3"))
    return result.returncode, result.stdout + result.stderr


def outputs(model_dir):
    """The run's files, relative; TensorFlow's event files (named by time and host) left out."""
    found = set()
    for folder, _, names in os.walk(model_dir):
        for name in names:
            if not name.startswith("events.out.tfevents."):
                found.add(os.path.relpath(os.path.join(folder, name), model_dir))
    return found


def assert_nothing_corrupt(model_dir):
    for name in outputs(model_dir):
        if name.endswith(".json"):
            assert files.read_json(os.path.join(model_dir, name)) is not None, name


def test_a_run_killed_at_every_stage_ends_like_an_uninterrupted_one(tmp_path):
    reference = str(tmp_path / "reference")
    weak_training.train_with_gin(reference, False, VECTOR, TINY)
    model_dir = str(tmp_path / "killed")
    # Each rerun resumes the previous kill and is killed at the next point.
    for fault in ("checkpoint", "export", "metric_mig", "write evaluation.json",
                  "visualizations"):
        code, output = run(model_dir, VECTOR, TINY, fault)
        assert code == -9 and "Traceback" not in output, (fault, output)
        assert "complete; skipping" not in output, fault
        assert_nothing_corrupt(model_dir)
        if fault == "export":  # training resumed from the checkpoint of step 4 (40 // 10)
            assert "step 5/40" in output and "step 1/40" not in output
        if fault == "write evaluation.json":  # half written, never renamed
            assert not os.path.exists(os.path.join(model_dir, "evaluation.json"))
            assert os.path.exists(os.path.join(model_dir, "evaluation.json.tmp"))
        if fault == "visualizations":  # the report of the metric stage redone before
            assert "metric mig" not in output
    code, output = run(model_dir, VECTOR, TINY)
    assert code == 0 and "Traceback" not in output and "[train_weak] done in" in output
    assert "metric mig" not in output and "[train_weak] training" not in output  # missing only
    assert outputs(model_dir) == outputs(reference)
    assert os.path.isfile(os.path.join(model_dir, "stages", "visualizations.json"))
    evaluation = files.read_json(os.path.join(model_dir, "evaluation.json"))
    assert evaluation.keys() == files.read_json(os.path.join(reference, "evaluation.json")).keys()
    assert weak_training.train_with_gin(model_dir, False, VECTOR, TINY) is None   # complete

    # A truncated evaluation.json is rebuilt from the stage markers, a truncated metric result
    # is recomputed.
    path = os.path.join(model_dir, "evaluation.json")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text[:len(text) // 2])
    assert weak_training.train_with_gin(model_dir, False, VECTOR, TINY) == json.loads(text)
    mig = os.path.join(model_dir, "metrics", "mean", "mig", "results", "json",
                       "evaluation_results.json")
    with open(mig, "r+", encoding="utf-8") as handle:
        handle.truncate(10)
    report = weak_training.train_with_gin(model_dir, False, VECTOR, TINY)
    assert report["disentanglement_lib"]["mig"] == evaluation["disentanglement_lib"]["mig"]
    assert_nothing_corrupt(model_dir)


def test_a_run_killed_in_its_visualizations_makes_them_on_the_rerun(tmp_path):
    """Before stage markers, a run killed after evaluation.json was skipped as complete and never
    had its visualizations."""
    reference = str(tmp_path / "reference")
    weak_training.train_with_gin(reference, False, IMAGES, TINY_IMAGES)
    model_dir = str(tmp_path / "killed")
    code, output = run(model_dir, IMAGES, TINY_IMAGES, "visualizations")
    assert code == -9 and "Traceback" not in output and "visualizations ->" in output
    stamp = os.path.getmtime(os.path.join(model_dir, "evaluation.json"))
    code, output = run(model_dir, IMAGES, TINY_IMAGES)
    assert code == 0 and "Traceback" not in output, output
    assert "visualizations ->" in output and "[train_weak] training" not in output
    assert os.path.getmtime(os.path.join(model_dir, "evaluation.json")) == stamp
    assert outputs(model_dir) == outputs(reference)
    assert os.path.getsize(os.path.join(model_dir, "visualizations", "reconstructions",
                                        "reconstructions.jpg")) > 0


def test_checkpoints_every_tenth_of_the_steps_and_every_few_minutes(monkeypatch):
    """A run shorter than 1000 steps checkpointed only at its end: killed at step 150 of 400, its
    rerun began at step 1."""
    assert [weak_training.checkpoint_every(steps) for steps in (5, 40, 400, 30000)] == [
        1, 4, 40, 1000]
    clock = [0.]
    monkeypatch.setattr(weak_training.time, "time", lambda: clock[0])
    timer = weak_training.StepsOrSecondsTimer(40, weak_training.CHECKPOINT_SECS)
    timer.update_last_triggered_step(0)
    assert not timer.should_trigger_for_step(39) and timer.should_trigger_for_step(40)
    clock[0] = weak_training.CHECKPOINT_SECS - 1.
    assert not timer.should_trigger_for_step(39)
    clock[0] = weak_training.CHECKPOINT_SECS
    assert timer.should_trigger_for_step(1)       # the seconds bound, before the steps bound
    assert not timer.should_trigger_for_step(0)   # nothing new to save
    timer.update_last_triggered_step(1)
    assert not timer.should_trigger_for_step(2)


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / "report.json")
    files.atomic_write_json(path, {"s_hat_mean": 1.})

    def interrupt(name):
        if name == "write report.json":
            raise KeyboardInterrupt

    monkeypatch.setattr(files, "fault_point", interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_json(path, {"s_hat_mean": 2., "mse_s": [1., 2., 3.]})
    assert files.read_json(path) == {"s_hat_mean": 1.}
    assert files.read_json(path + ".tmp") is None   # half written
    monkeypatch.undo()
    files.atomic_write_json(path, {"s_hat_mean": 3.})
    assert files.read_json(path) == {"s_hat_mean": 3.} and not os.path.exists(path + ".tmp")
