"""harness.paths.mass and its place in `tmc eval-checkpoints`: mass on the base's easy / rare / wrong / new paths
(sums to 1), distinct correct paths, rare-path survival with the unseen bound, pass@k on hard problems, the plot and
the tables. The clustering is a local stand-in (the set of numbers a completion writes)."""

from __future__ import annotations

import itertools
import json
import re

import pandas as pd
import pytest

from harness.paths.mass import CATEGORIES, checkpoint_path_mass, mass_table, path_mass, problem_mass
from harness.paths.table import PathTableConfig


def by_numbers(question: str, completions: list[str]) -> list[int]:
    """Same set of numbers = same path; ids in order of first appearance (so ids depend on the input order)."""
    ids: dict[frozenset, int] = {}
    return [ids.setdefault(frozenset(re.findall(r"\d+", c)), len(ids)) for c in completions]


EASY, RARE, WRONG = "3*4=12 #### 12", "4+4+4=12 #### 12", "3+4=7 #### 7"
NEW_OK, NEW_BAD = "2*6=12 #### 12", "#### 5"
BASE = [EASY] * 5 + [RARE] + [WRONG] * 2


def ok(texts, gold="12"):
    return [t.endswith(f"#### {gold}") for t in texts]


def test_problem_mass_categories_sum_to_one():
    cfg = PathTableConfig()
    step = [EASY] * 7 + [WRONG]
    r = problem_mass("p", "q", BASE, ok(BASE), step, ok(step), by_numbers, cfg)
    assert r["status"] == "easy" and r["mass"] == pytest.approx(
        {"easy": 7 / 8, "common": 0, "rare": 0, "wrong": 1 / 8, "new_correct": 0, "new_wrong": 0})
    assert r["rare"] == [{"path_id": 1, "base_share": 1 / 8, "step_count": 0, "step_share": 0.0,
                          "upper_bound": pytest.approx(1 - 0.05 ** (1 / 8))}]
    assert r["n_correct_paths"] == 1 and r["n_correct_paths_base"] == 2
    # step samples first in the clustering input would renumber paths: the union is base first, so ids are the base's
    step = [NEW_BAD, RARE, EASY, NEW_OK, RARE, NEW_OK, EASY, EASY]
    r = problem_mass("p", "q", BASE, ok(BASE), step, ok(step), by_numbers, cfg)
    assert r["mass"] == pytest.approx({"easy": 3 / 8, "common": 0, "rare": 2 / 8, "wrong": 0, "new_correct": 2 / 8,
                                       "new_wrong": 1 / 8})
    assert sum(r["mass"].values()) == pytest.approx(1.0)
    assert r["rare"][0]["step_count"] == 2 and r["rare"][0]["upper_bound"] is None and r["n_correct_paths"] == 3
    # a step with 32 samples: the bound uses the step's n
    step = [EASY] * 32
    r = problem_mass("p", "q", BASE, ok(BASE), step, ok(step), by_numbers, cfg)
    assert r["rare"][0]["upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 32)) and r["mass"]["easy"] == 1.0


def test_the_clustering_sees_base_and_step_together():
    calls = []

    def spy(q, comps):
        calls.append(list(comps))
        return by_numbers(q, comps)

    step = [NEW_OK] * 8
    problem_mass("p", "q", BASE, ok(BASE), step, ok(step), spy, PathTableConfig())
    assert calls == [BASE + step]


def _rows(pid, texts, gold, step):
    return [{"problem_id": pid, "sample_idx": i, "step": step, "prompt": f"question {pid}", "completion": t,
             "correct": t.endswith(f"#### {gold}")} for i, t in enumerate(texts)]


def brute(n, c, k):
    flags = [True] * c + [False] * (n - c)
    subs = list(itertools.combinations(range(n), k))
    return sum(any(flags[i] for i in s) for s in subs) / len(subs)


def frames():
    hard_base = ["1+1=2 #### 2"] * 6 + ["5+5=10 #### 10", "2*5=10 #### 10"]  # solved only by two rare paths
    base = pd.DataFrame(_rows("a", BASE, "12", 0) + _rows("h", hard_base, "10", 0)
                        + _rows("u", ["#### 1"] * 8, "9", 0))
    s10 = pd.DataFrame(_rows("a", [EASY] * 8, "12", 10)
                       + _rows("h", ["1+1=2 #### 2"] * 7 + ["5+5=10 #### 10"], "10", 10)
                       + _rows("u", ["#### 1"] * 8, "9", 10))
    return base, s10


def test_path_mass_over_problems_hard_pass_at_k_and_survival():
    base, s10 = frames()
    res = checkpoint_path_mass(base, {0: base, 10: s10}, cluster_fn=by_numbers)
    b, s = res[0], res[10]
    for r in (b, s):
        assert sum(r["mass"].values()) == pytest.approx(1.0) and r["n_problems"] == 3
        for p in r["per_problem"].values():
            assert sum(p["mass"].values()) == pytest.approx(1.0)
    # base on itself: a = 5/8 easy, 1/8 rare, 2/8 wrong; h = 2/8 rare, 6/8 wrong; u = all wrong
    assert b["mass"] == pytest.approx({"easy": 5 / 24, "common": 0, "rare": 3 / 24, "wrong": 16 / 24,
                                       "new_correct": 0, "new_wrong": 0})
    assert b["mass_base_solved"]["rare"] == pytest.approx((1 / 8 + 2 / 8) / 2) and b["n_base_solved"] == 2
    assert b["hard"]["problems"] == ["h"] and b["rare"]["n_base_rare"] == 3 and b["rare"]["survival"] == 1.0
    assert b["correct_paths"] == {"step": pytest.approx(4 / 3), "base": pytest.approx(4 / 3)}
    # step 10: a all easy, h keeps one rare path (1/8), loses the other; u unchanged
    assert s["mass"]["easy"] == pytest.approx(8 / 24) and s["mass"]["rare"] == pytest.approx(1 / 24)
    assert s["rare"]["n_seen"] == 1 and s["rare"]["survival"] == pytest.approx(1 / 3)
    assert {(u["problem_id"], u["base_share"]) for u in s["rare"]["unseen"]} == {("a", 1 / 8), ("h", 1 / 8)}
    assert s["rare"]["unseen_upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 8))
    hp = s["hard"]["pass_at_k"]
    assert sorted(hp, key=int) == ["1", "2", "4", "8"]
    for k in (1, 2, 4, 8):
        assert hp[str(k)]["base"] == pytest.approx(brute(8, 2, k))
        assert hp[str(k)]["step"] == pytest.approx(brute(8, 1, k))
        assert hp[str(k)]["diff"] == pytest.approx(brute(8, 1, k) - brute(8, 2, k))
    assert s["correct_paths"]["step"] == pytest.approx(2 / 3)
    table = mass_table(res, label="grpo").splitlines()
    assert table[2].startswith("| grpo | base | 3 | 0.208 | 0.000 | 0.125 | 0.667 |")
    assert "| 1 / 3 | 0.312 | 1 | 0.25 -> 0.12 | 1.00 -> 1.00 |" in table[3]


def test_a_threshold_makes_rare_paths_easy():
    base, s10 = frames()
    r = path_mass(base, s10, by_numbers, PathTableConfig(rare_threshold=0.1))
    assert r["hard"]["n"] == 0 and r["hard"]["pass_at_k"] == {} and r["rare"]["n_base_rare"] == 0


def _training_run(tmp_path, with_base=True, with_text=True):
    from harness.store import SampleStore

    run = tmp_path / "run"
    for s in (10, 20):
        (run / f"checkpoint-{s}").mkdir(parents=True)
        (run / f"checkpoint-{s}" / "adapter_config.json").write_text("{}")
    (run / "train_run.json").write_text(json.dumps({"method": "grpo", "model_path": "m", "config": {
        "model": "m", "benchmark": "gsm8k", "template": "chat", "max_completion_length": 64}}))
    base, s10 = frames()
    s20 = pd.DataFrame(_rows("a", [EASY] * 8, "12", 20) + _rows("h", ["1+1=2 #### 2"] * 8, "10", 20)
                       + _rows("u", ["#### 1"] * 8, "9", 20))
    st = SampleStore.open(run / "eval", {"n": 8}, "h")
    for f in ([base] if with_base else []) + [s10, s20]:
        st.write_batch(f.to_dict("records") if with_text else f.drop(columns=["completion"]).to_dict("records"))
    return run


def test_eval_checkpoints_reports_path_mass(tmp_path, monkeypatch, capsys):
    from harness.cli import main
    from harness.paths import table
    from harness.train.eval_checkpoints import build_parser, evaluate_checkpoints

    run = _training_run(tmp_path)
    rep = evaluate_checkpoints(run, build_parser().parse_args([str(run), "--steps"]), sampler=lambda *a: None,
                               cluster_fn=by_numbers)
    assert rep["paths"]["hard_problems"] == ["h"] and rep["paths"]["clustering"].endswith("by_numbers")
    saved = json.loads((run / "eval_report" / "checkpoints_metrics.json").read_text())
    pm = {s: saved["steps"][s]["path_mass"] for s in ("0", "10", "20")}
    assert pm["20"]["rare"]["n_seen"] == 0 and pm["20"]["mass"]["rare"] == 0 and pm["10"]["rare"]["n_seen"] == 1
    assert pm["20"]["hard"]["pass_at_k"]["8"]["step"] == 0.0
    assert (run / "eval_report" / "path_mass_vs_step.png").stat().st_size > 1000
    # the command prints the path-mass table (the default clustering, swapped for the stand-in)
    monkeypatch.setattr(table, "default_cluster_fn", lambda: by_numbers)
    assert main(["eval-checkpoints", str(run), "--steps"]) == 0
    out = capsys.readouterr().out
    assert "| grpo | base | 3 |" in out and "| grpo | 20 | 3 | 0.333 |" in out
    # --table: across runs
    assert main(["eval-checkpoints", str(run), "--table", str(run / "eval_report" / "checkpoints_metrics.json")]) == 0
    out = capsys.readouterr().out
    mass_part = out.split("| run | step | problems | easy |")[1]
    assert "| base | base | 3 |" in mass_part and mass_part.count("| grpo (run) | 20 |") == 2  # one row per report
    assert mass_part.count("| base |") == 1


def test_eval_checkpoints_path_mass_skips_with_a_reason(tmp_path):
    from harness.train.eval_checkpoints import build_parser, evaluate_checkpoints

    run = _training_run(tmp_path / "a", with_base=False)
    rep = evaluate_checkpoints(run, build_parser().parse_args([str(run), "--steps"]), sampler=lambda *a: None,
                               cluster_fn=by_numbers)
    assert "no base (step 0)" in rep["paths_skipped"] and "path_mass" not in rep["steps"][10]
    run = _training_run(tmp_path / "b", with_text=False)
    rep = evaluate_checkpoints(run, build_parser().parse_args([str(run), "--steps"]), sampler=lambda *a: None,
                               cluster_fn=by_numbers)
    assert "no completion texts" in rep["paths_skipped"]
    rep = evaluate_checkpoints(run, build_parser().parse_args([str(run), "--steps", "--no-paths"]),
                               sampler=lambda *a: None, cluster_fn=by_numbers)
    assert rep["paths_skipped"] == "--no-paths"


def test_categories_are_the_plots_stack():
    assert CATEGORIES == ("easy", "common", "rare", "wrong", "new_correct", "new_wrong")
