# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""benchmarks/bench_side_by_side.py: argument errors, a tiny run of our contenders that a rerun
skips, the tables, and (where the paper's code is beside the checkout) the paper's TF graph."""
import fcntl
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "benchmarks", "bench_side_by_side.py")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_side_by_side  # noqa: E402  pylint: disable=wrong-import-position

PAPER_CODE = os.environ.get("MVHG_PAPER_CODE",
                            os.path.join(ROOT, "..", "shared", "paper_code"))


def _run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("args, flag", [
    ([], "--paper-code"),
    (["--contenders", "paper_tf"], "--paper-code"),
    (["--paper-code", os.devnull, "--contenders", "paper_tf_masks"], "--paper-code"),
    (["--paper-code", os.path.dirname(SCRIPT), "--contenders", "paper_tf"], "--paper-code"),
    (["--contenders", "exact_xla,nope"], "--contenders"),
    (["--contenders", "exact_xla", "--sizes", "2,5,11,8"], "--sizes"),
])
def test_argument_errors_name_the_flag(args, flag):
    result = _run(*args)
    assert result.returncode == 2
    assert flag in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_paper_pt_needs_a_torch_interpreter(tmp_path):
    paper = tmp_path / "paper"
    (paper / "mvhg").mkdir(parents=True)
    for name in ("tf_fmvhg.py", "pt_fmvhg.py"):
        (paper / "mvhg" / name).write_text("")
    result = _run("--paper-code", str(paper), "--contenders", "paper_pt")
    assert result.returncode == 2 and "--torch-python" in result.stderr
    result = _run("--paper-code", str(paper), "--contenders", "paper_pt",
                  "--torch-python", str(tmp_path / "none"))
    assert result.returncode == 2 and "--torch-python" in result.stderr


def test_ours_tiny_run_writes_results_and_a_rerun_skips_done_cells(tmp_path):
    args = ["--contenders", "exact_function,merged_function", "--sizes", "2,5,4,8",
            "--repeats", "1", "--out-dir", str(tmp_path)]
    result = _run(*args)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "side_by_side.json", encoding="utf-8") as handle:
        report = json.load(handle)
    cells = report["cells"]
    assert sorted(cells) == ["2,5,4,8/exact_function", "2,5,4,8/merged_function"]
    for cell in cells.values():
        assert cell["status"] == "ok", cell.get("error")
        assert cell["fraction_rows_sum_not_n"] == 0 and cell["grad_finite_fraction"] == 1
        assert len(cell["times_s"]) == 1 and cell["peak_rss_mib"] > 0
    table = (tmp_path / "side_by_side.md").read_text(encoding="utf-8")
    assert "| (2, 5, 4, 8) |" in table and "exact / merged" in table
    assert not [name for name in os.listdir(tmp_path) if ".tmp" in name]

    again = _run(*args)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("done before, skipped") == 2
    with open(tmp_path / "side_by_side.json", encoding="utf-8") as handle:
        rerun = json.load(handle)
    assert rerun["cells"] == cells and len(rerun["runs"]) == 2


def test_the_float32_tables_contender_runs_the_linear_space_tables(tmp_path):
    """At (3, 40, 40), K W = 1681 >= 1024: the float32 convolutions are the ones timed."""
    result = _run("--contenders", "exact32_function", "--sizes", "3,40,40,8", "--repeats", "1",
                  "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "side_by_side.json", encoding="utf-8") as handle:
        cell = json.load(handle)["cells"]["3,40,40,8/exact32_function"]
    assert cell["status"] == "ok", cell.get("error")
    assert cell["fraction_rows_sum_not_n"] == 0 and cell["grad_finite_fraction"] == 1
    assert "exact f32 / merged" in (tmp_path / "side_by_side.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("limit, status, shown", [
    (["--cap-gib", "0.05"], "over cap", "over cap (0.05 GiB)"),
    (["--time-limit", "0.5"], "timeout", "timeout (0.5 s)"),
])
def test_a_child_over_its_cap_or_time_limit_is_killed_and_reported(tmp_path, limit, status,
                                                                    shown):
    result = _run("--contenders", "exact_xla", "--sizes", "2,5,4,8", "--repeats", "1",
                  "--out-dir", str(tmp_path), *limit)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "side_by_side.json", encoding="utf-8") as handle:
        assert json.load(handle)["cells"]["2,5,4,8/exact_xla"]["status"] == status
    assert shown in (tmp_path / "side_by_side.md").read_text(encoding="utf-8")


def test_tables_show_failures_ratios_and_paper_validity():
    common = dict(size=[2, 5, 4, 8], measured_at="2026-12-05T10:00:00", wall_s=3.,
                  load_average_at_start=[1.5, 1., 1.])

    def ok(name, rate, invalid=0.):
        return dict(common, contender=name, status="ok", median_rows_per_s=rate,
                    best_rows_per_s=rate, peak_rss_mib=100., rss_before_timed_mib=90.,
                    warmup_s=1., fraction_rows_sum_not_n=invalid, rows_checked=16,
                    grad_finite_fraction=1.)
    cells = [ok("paper_tf", 100., invalid=0.05), ok("paper_pt", 50.),
             ok("exact_function", 80.), ok("exact_xla", 200.), ok("merged_function", 400.),
             ok("exact32_function", 300.),
             dict(common, contender="paper_tf_masks", status="over cap", cap_gib=16.)]
    report = dict(cells={bench_side_by_side._key(cell["size"], cell["contender"]): cell
                         for cell in cells},
                  machine=dict(summary="x86_64, 2 cores"), paper_code=None, project={},
                  runs=[dict(started="t0", command="cmd", load_average_start=[1., 1., 1.])])
    args = SimpleNamespace(threads=2, cap_gib=16., time_limit=600., repeats=5)
    table = bench_side_by_side._markdown(report, args)
    assert "over cap (16 GiB)" in table and "load average 1.5-1.5" in table
    # exact: XLA is the faster mode; exact / paper PT, exact / masks (n/a), merged / paper TF
    # counts, exact / merged, exact f32 / masks (n/a), exact f32 / merged, paper TF rows whose
    # counts do not sum to n.
    assert ("| (2, 5, 4, 8) | 4.00 (XLA) | n/a | 4.00 (fn) | 0.50 (XLA/fn) | n/a | 0.75 (fn/fn) "
            "| 5.0% |") in table


def test_a_done_cell_is_rerun_when_settings_or_limits_change():
    args = SimpleNamespace(cap_gib=16., time_limit=600.)
    settings = dict(repeats=5, threads=2, temperature=0.5)
    assert bench_side_by_side._is_done(dict(status="ok", settings=settings), settings, args)
    assert not bench_side_by_side._is_done(dict(status="ok", settings=dict(settings, repeats=1)),
                                           settings, args)
    assert not bench_side_by_side._is_done(dict(status="failed", settings=settings), settings,
                                           args)
    over = dict(status="over cap", settings=settings, cap_gib=8.)
    assert not bench_side_by_side._is_done(over, settings, args)
    assert bench_side_by_side._is_done(dict(over, cap_gib=16.), settings, args)
    slow = dict(status="timeout", settings=settings, time_limit_s=600.)
    assert bench_side_by_side._is_done(slow, settings, args)


def test_the_cpu_lock_is_held_around_a_child(tmp_path):
    path = str(tmp_path / "cpu.lock")
    with bench_side_by_side._cpu_lock(path) as waited, open(path) as other:
        assert waited >= 0
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path) as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.skipif(not os.path.isfile(os.path.join(PAPER_CODE, "mvhg", "tf_fmvhg.py")),
                    reason="the paper's code is not beside this checkout")
def test_paper_tf_tiny_run_leaves_the_paper_folder_alone(tmp_path):
    before = sorted(os.listdir(os.path.join(PAPER_CODE, "mvhg")))
    result = _run("--paper-code", PAPER_CODE, "--contenders", "paper_tf_masks",
                  "--sizes", "3,5,4,8", "--repeats", "1", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "side_by_side.json", encoding="utf-8") as handle:
        report = json.load(handle)
    cell = report["cells"]["3,5,4,8/paper_tf_masks"]
    assert cell["status"] == "ok", cell.get("error")
    assert cell["fetched_masks"] and cell["code"].startswith(os.path.abspath(PAPER_CODE))
    assert report["paper_code"]["sha256"]
    assert sorted(os.listdir(os.path.join(PAPER_CODE, "mvhg"))) == before
