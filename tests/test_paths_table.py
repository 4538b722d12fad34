"""harness.paths.table and `tmc paths`: shares and their CIs, the correctness rule, easy / common / rare / wrong
labels, hard problems, and the command on a hand-built sample store. The clustering is a local stand-in (the set of
numbers a completion writes), so these tests do not need the package core."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from harness.paths.table import (
    PathTableConfig,
    clopper_pearson_interval,
    path_is_correct,
    path_table,
    problem_paths,
    question_of,
    unseen_upper_bound,
    wilson_interval,
)


def by_numbers(question: str, completions: list[str]) -> list[int]:
    """Stand-in clustering: same set of numbers = same path; ids numbered in order of first appearance."""
    ids: dict[frozenset, int] = {}
    return [ids.setdefault(frozenset(re.findall(r"\d+", c)), len(ids)) for c in completions]


def roles(rows):
    return {r["path_id"]: r["role"] for r in rows}


def test_shares_roles_and_easy_status():
    # 8 samples: path 0 x5 (4 correct), path 1 x2 (both correct), path 2 x1 (wrong)
    labels = [0, 1, 0, 0, 2, 0, 1, 0]
    ok = [True, True, True, False, False, True, True, True]
    rows = problem_paths("p", labels, ok, PathTableConfig(rare_threshold=0.25))
    assert [r["path_id"] for r in rows] == [0, 1, 2]  # by count
    assert [r["share"] for r in rows] == [5 / 8, 2 / 8, 1 / 8]
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert [r["n_correct"] for r in rows] == [4, 2, 0] and rows[0]["correct_frac"] == pytest.approx(0.8)
    assert roles(rows) == {0: "easy", 1: "common", 2: "wrong"}  # 2/8 = 0.25 is not below 0.25
    assert {r["status"] for r in rows} == {"easy"}
    rows = problem_paths("p", labels, ok, PathTableConfig(rare_threshold=0.3))
    assert roles(rows) == {0: "easy", 1: "rare", 2: "wrong"}
    for r in rows:
        assert r["share_lo"] <= r["share"] <= r["share_hi"]


def test_the_modal_correct_path_is_easy_even_when_a_wrong_path_is_larger():
    labels = [3, 3, 3, 3, 7, 7, 7, 9]
    ok = [False] * 4 + [True] * 3 + [True]
    rows = problem_paths("p", labels, ok, PathTableConfig())
    assert roles(rows) == {3: "wrong", 7: "easy", 9: "rare"}
    assert [r["modal_correct"] for r in rows] == [False, True, False]


def test_hard_problem_all_correct_paths_rare():
    labels = [0, 0, 0, 0, 0, 0, 1, 2]  # one big wrong path, two singletons that are correct
    ok = [False] * 6 + [True, True]
    rows = problem_paths("p", labels, ok, PathTableConfig(rare_threshold=0.25))
    assert roles(rows) == {0: "wrong", 1: "rare", 2: "rare"}
    assert {r["status"] for r in rows} == {"hard"}
    assert rows[1]["modal_correct"] and not rows[2]["modal_correct"]  # tie: the path seen first is modal
    # the same problem with a threshold below 1/8: the modal correct path is easy, the problem no longer hard
    rows = problem_paths("p", labels, ok, PathTableConfig(rare_threshold=0.1))
    assert roles(rows) == {0: "wrong", 1: "easy", 2: "common"} and rows[0]["status"] == "easy"


def test_unsolved_and_no_correct_path():
    assert problem_paths("p", [0, 0, 1], [False] * 3, PathTableConfig())[0]["status"] == "unsolved"
    rows = problem_paths("p", [0, 0, 0, 1], [True, False, False, False], PathTableConfig())
    assert roles(rows) == {0: "wrong", 1: "wrong"} and rows[0]["status"] == "no_correct_path"
    rows = problem_paths("p", [0, 0, 0, 1], [True, False, False, False], PathTableConfig(correct_rule="any"))
    assert roles(rows) == {0: "easy", 1: "wrong"}


@pytest.mark.parametrize("n_correct, count, majority, any_, all_", [
    (0, 3, False, False, False), (1, 3, False, True, False), (2, 3, True, True, False), (1, 2, True, True, False),
    (3, 3, True, True, True), (0, 0, False, False, False)])
def test_correctness_rule(n_correct, count, majority, any_, all_):
    assert path_is_correct(n_correct, count, "majority") is majority
    assert path_is_correct(n_correct, count, "any") is any_
    assert path_is_correct(n_correct, count, "all") is all_


@pytest.mark.parametrize("m, n", [(0, 8), (1, 8), (4, 8), (8, 8), (3, 17), (1, 64)])
def test_intervals_match_scipy(m, n):
    from scipy.stats import binomtest

    if m == 0 or m == n:
        w = ((0.0, 3.8415 / (n + 3.8415)) if m == 0 else (n / (n + 3.8415), 1.0))  # closed form at the edges
        assert wilson_interval(m, n) == pytest.approx(w, abs=1e-4)
    ref = binomtest(m, n).proportion_ci(0.95, method="wilson")
    assert wilson_interval(m, n) == pytest.approx((ref.low, ref.high), abs=1e-9)
    ref = binomtest(m, n).proportion_ci(0.90, method="exact")
    assert clopper_pearson_interval(m, n, 0.90) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_unseen_bound_is_the_zero_count_upper_limit():
    from scipy.stats import binomtest

    for n in (1, 8, 16, 64, 300):
        b = unseen_upper_bound(n)
        assert (1 - b) ** n == pytest.approx(0.05)  # P(0 hits in n | mass b) = alpha
        assert b == pytest.approx(binomtest(0, n).proportion_ci(0.90, method="exact").high)  # one-sided 95%
    assert unseen_upper_bound(300) == pytest.approx(3 / 300, rel=0.02)  # rule of three


def test_config_errors():
    from tmc_core.config import ConfigError, from_dict

    with pytest.raises(ConfigError, match="rare_threshold: 0 is not allowed"):
        PathTableConfig(rare_threshold=0)
    with pytest.raises(ConfigError, match="correct_rule.*allowed values: majority, any, all"):
        from_dict(PathTableConfig, {"correct_rule": "most"})


def test_question_of_strips_the_template():
    from harness.data import Problem
    from harness.data.prompts import user_message

    p = Problem(id="x", question="Tom has 3 bags of 4 apples. How many apples?", answer="12", solution="",
                benchmark="gsm8k")
    chat = "<|im_start|>system\nYou are SmolLM 2.<|im_end|>\n<|im_start|>user\n" + user_message(p, "chat") + \
        "<|im_end|>\n<|im_start|>assistant\n"
    assert question_of(chat) == p.question
    assert question_of(user_message(p, "completion")) == p.question
    assert question_of("free text 12") == "free text 12" and question_of(None) == ""


def _df():
    rows = []
    texts = {"a": ["3*4=12 #### 12"] * 5 + ["3+3+3+3=12 #### 12", "3*4=13 #### 13", ""],
             "b": ["2+2=4 #### 4"] * 6 + ["2*5=10 #### 10", "1+1+1+7=10 #### 10"]}
    gold = {"a": "12", "b": "10"}
    for pid, comps in texts.items():
        for i, c in enumerate(comps):
            rows.append({"problem_id": pid, "sample_idx": i, "step": 0, "prompt": f"question {pid}", "completion": c,
                         "correct": c.endswith(f"#### {gold[pid]}")})
    return pd.DataFrame(rows)


def test_path_table_of_a_frame():
    t = path_table(_df(), PathTableConfig(), cluster_fn=by_numbers)
    assert t.groupby("problem_id")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    a, b = t[t.problem_id == "a"], t[t.problem_id == "b"]
    assert a["role"].tolist() == ["easy", "rare", "wrong", "wrong"] and a["count"].tolist() == [5, 1, 1, 1]
    assert b["role"].tolist() == ["wrong", "rare", "rare"] and set(b["status"]) == {"hard"}
    assert (t["description"] == "").all() and a["example"].iloc[0] == "3*4=12 #### 12"
    seen = []
    path_table(_df(), cluster_fn=lambda q, c: seen.append(q) or by_numbers(q, c))
    assert seen == ["question a", "question b"]
    with pytest.raises(ValueError, match="returned 1 labels for 8 completions"):
        path_table(_df(), cluster_fn=lambda q, c: [0])


def _store(path, df):
    from harness.store import SampleStore

    st = SampleStore.open(path, {"n": 8}, "h")
    st.write_batch(df.to_dict("records"))


def test_tmc_paths_command(tmp_path, monkeypatch, capsys):
    from harness.cli import main
    from harness.paths import table

    monkeypatch.setattr(table, "default_cluster_fn", lambda: by_numbers)
    monkeypatch.setattr(table, "default_describe_fn",
                        lambda: (lambda q, c: f"nums {sorted(set(re.findall(r'[0-9]+', c)))}"))
    run = tmp_path / "run"
    _store(run, _df())
    assert main(["paths", str(run), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "paths: 100%" in captured.err and "2/2" in captured.err  # the progress bar over problems, on stderr
    assert "| 2 | 1 | 1 | 0 | 0 |" in text and "## Hard problems (1" in text and "nums ['1', '10', '7']" in text
    t = pd.read_parquet(tmp_path / "out" / "paths.parquet")
    assert len(t) == 7 and set(t["run_id"]) == {"run"} and set(t["step"]) == {0}
    s = json.loads((tmp_path / "out" / "paths_summary.json").read_text())
    assert s["hard_problems"] == ["b"] and s["status_counts"]["easy"] == 1 and s["n_samples"] == 16
    assert s["per_problem"]["a"]["mass"] == pytest.approx({"easy": 5 / 8, "common": 0, "rare": 1 / 8, "wrong": 2 / 8})
    assert s["mean_mass"]["wrong"] == pytest.approx((2 / 8 + 6 / 8) / 2) and s["config"]["ci"] == "wilson"
    assert (tmp_path / "out" / "paths_summary.md").read_text().startswith("# Path table: run, step 0")
    # the threshold and rule are options; default out folder is RUN/paths
    assert main(["paths", str(run), "--rare-threshold", "0.1", "--ci", "clopper_pearson", "--no-progress"]) == 0
    assert "paths:" not in capsys.readouterr().err
    s = json.loads((run / "paths" / "paths_summary.json").read_text())
    assert s["hard_problems"] == [] and s["config"] == {"rare_threshold": 0.1, "ci": "clopper_pearson",
                                                         "confidence": 0.95, "correct_rule": "majority"}


def test_tmc_paths_errors(tmp_path, monkeypatch, capsys):
    from harness.cli import main
    from harness.paths import table

    monkeypatch.setattr(table, "default_cluster_fn", lambda: by_numbers)
    assert main(["paths", str(tmp_path / "nope")]) == 2
    assert "nope: no such folder" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["paths", str(tmp_path / "plain")]) == 2
    assert "not a sample run (no samples/ folder)" in capsys.readouterr().err
    (tmp_path / "empty" / "samples").mkdir(parents=True)
    assert main(["paths", str(tmp_path / "empty")]) == 2
    assert "holds no samples yet" in capsys.readouterr().err
    df = _df()
    _store(tmp_path / "two", pd.concat([df, df.assign(step=10)]))
    assert main(["paths", str(tmp_path / "two")]) == 2
    assert "several steps [0, 10]; choose one with --step" in capsys.readouterr().err
    assert main(["paths", str(tmp_path / "two"), "--step", "10"]) == 0
    capsys.readouterr()
    _store(tmp_path / "bare", df.drop(columns=["completion", "prompt"]))
    assert main(["paths", str(tmp_path / "bare")]) == 2
    assert "has no completion texts" in capsys.readouterr().err
    assert main(["paths", "--describe"]) == 0 and "rare_threshold: float = 0.25" in capsys.readouterr().out
