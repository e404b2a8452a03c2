# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`mvhg_clustering.compare`: two folders of runs paired run by run, on result files made here
with known scores (the differences checked by hand)."""
import json

import pytest

from mvhg_clustering import compare
from mvhg_clustering import run as run_lib


def _write(folder, name, acc, nmi, start, **config):
    folder.mkdir(exist_ok=True)
    result = dict(dict.fromkeys(run_lib.RESULT_KEYS),
                  config={"version": int(name.split("_v")[1].split("_")[0]), "lr_decay": 1.0,
                          "out": str(folder), **config},
                  scores={"acc": acc, "nmi": nmi, "ari": 0.}, init_gmm_scores={"acc": start})
    (folder / name).write_text(json.dumps(result))


def test_pairs_runs_by_name_and_reports_differences_settings_and_the_unpaired(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for seed, (acc_a, acc_b) in enumerate([(0.70, 0.75), (0.72, 0.71), (0.60, 0.66)]):
        _write(a, f"m_v100_uniform_s{seed}.json", acc_a, 0.5, 0.6)
        _write(b, f"m_v100_uniform_s{seed}.json", acc_b, 0.6, 0.6, lr_decay=0.9)
    _write(a, "m_v80_uniform_s0.json", 0.5, 0.5, 0.5)
    _write(b, "m_v80_uniform_s0.json", 0.4, 0.5, 0.5, lr_decay=0.9)
    _write(a, "m_v100_capacity_s0.json", 0.5, 0.5, 0.5)  # A only
    (b / "notes.json").write_text("{}")  # not a run's name: not read
    entries = compare.paired_differences(compare.load_runs(a), compare.load_runs(b))
    assert [(e["arm"], e["seeds"]) for e in entries] == [("m_v100_uniform", [0, 1, 2]),
                                                         ("m_v80_uniform", [0])]
    acc = entries[0]["ACC"]
    assert acc["difference"] == pytest.approx((0.1 / 3, 0.03785939), abs=1e-7)  # +.05 -.01 +.06
    assert acc["a"][0] == pytest.approx(2.02 / 3) and acc["b_higher"] == 2
    assert entries[0]["NMI"]["difference"][0] == pytest.approx(0.1)
    assert entries[0]["GMM start ACC"]["b_higher"] == 0
    assert entries[1]["ACC"]["difference"] == pytest.approx((-0.1, None))
    assert compare.main([str(a), str(b), "--out", str(tmp_path / "c.md")]) == 0
    out = capsys.readouterr().out
    assert out == (tmp_path / "c.md").read_text()
    assert ("| m_v100_uniform | 0,1,2 | 0.673 ± 0.064 | 0.707 ± 0.045 | +0.033 ± 0.038 | 2/3 |"
            in out)
    assert "Settings that differ: lr_decay: 1.0 -> 0.9." in out
    assert "In A only (1): m_v100_capacity_s0.json." in out and "In B only" not in out


def test_a_folder_without_runs_or_with_a_broken_one_stops_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "a", "m_v100_uniform_s0.json", 0.5, 0.5, 0.5)
    for folder, message in ((tmp_path / "empty", "holds no run results"),
                            (tmp_path / "a", "run result")):
        if folder.name == "a":
            (folder / "m_v100_uniform_s1.json").write_text("{")
        with pytest.raises(SystemExit) as stop:
            compare.main([str(tmp_path / "a"), str(folder)])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and message in err and err.count("\n") == 1, err
