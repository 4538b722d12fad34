"""harness.analyze.regrade: fresh grades vs stored flags, and pass@k under the strict and lenient truncation rules."""

from __future__ import annotations

import json

import pytest

from harness.data import load_problems
from harness.store import SampleStore
from harness.analyze import regrade as rg


def _run(tmp_path):
    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}", "answer": f"so #### {i + 5}"}) + "\n" for i in range(3)))
    run = tmp_path / "run"
    st = SampleStore.open(run, {"benchmark": "gsm8k", "split": "test", "source": str(data)}, "h")
    pid = [p.id for p in load_problems("gsm8k", source=str(data))]  # ids of the store's (current) id scheme
    rows = []
    # problem 0 (gold 5): an explicit answer, and a cut completion whose last number is 5 (lenient only)
    # problem 1 (gold 6): a finished flexible match, and a wrong answer stored as correct (a stale flag)
    # problem 2 (gold 7): no number at all, twice
    for i, comps in {0: [("#### 5", "stop", True), ("so 2 + 3 = 5", "length", False)],
                     1: [("it is 6.", "stop", True), ("#### 9", "stop", True)],
                     2: [("no idea", "stop", False), ("none", "length", False)]}.items():
        rows += [{"problem_id": pid[i], "sample_idx": j, "step": 0, "completion": c, "finish_reason": f, "correct": ok}
                 for j, (c, f, ok) in enumerate(comps)]
    st.write_batch(rows)
    return run


def test_regrade_counts_stale_flags_and_truncation_rules(tmp_path):
    r = rg.regrade(_run(tmp_path))
    assert r["problems"] == 3 and r["n"] == 2 and r["cut_at_limit"] == 2
    assert r["agreement_with_stored"]["ok"] == {"samples": 3, "agree": 2}  # the stale "#### 9" flag
    assert r["agreement_with_stored"]["truncated"] == {"samples": 1, "agree": 1}
    assert r["correct_samples_strict"] == 2 and r["correct_samples_lenient"] == 3 and r["correct_samples_stored"] == 3
    assert r["pass_at_k"]["strict"]["1"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)
    assert r["pass_at_k"]["lenient"]["1"] == pytest.approx((2 / 2 + 1 / 2 + 0) / 3)
    assert r["pass_at_k"]["lenient"]["2"] == pytest.approx(2 / 3)


def test_first_n_problems_and_cli(tmp_path, capsys):
    run = _run(tmp_path)
    assert rg.regrade(run, first=1)["problems"] == 1
    out = tmp_path / "r.json"
    assert rg.main([str(run), "--first", "2", "--json", str(out)]) == 0
    assert "| lenient | 3 |" in capsys.readouterr().out and json.loads(out.read_text())["problems"] == 2
