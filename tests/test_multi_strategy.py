"""scripts/make_multi_strategy.py: the multi-strategy task, both levels (``standard`` ->
data/multi_strategy, ``easy`` -> data/multi_strategy_easy), is reproducible, train and test are disjoint, the
committed files are what the script writes, every record loads and grades as GSM8K, and every strategy of a problem
is a correct computation of the gold answer through different intermediate quantities."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from harness.testing.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
LEVELS = [("standard", "multi_strategy", 90), ("easy", "multi_strategy_easy", 84)]  # level, data folder, max value


def _script():
    return load_script("make_multi_strategy")


@pytest.mark.parametrize("level,folder,_", LEVELS)
def test_committed_files_are_the_scripts_output(tmp_path, level, folder, _):
    _script().main(["--out", str(tmp_path), "--level", level])  # the defaults that wrote data/<folder>
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_text() == (ROOT / "data" / folder / name).read_text(), name


@pytest.mark.parametrize("level", ["standard", "easy"])
def test_reproducible_and_disjoint(level):
    s = _script()
    assert s.make(120, 40, seed=5, level=level) == s.make(120, 40, seed=5, level=level)
    assert s.make(120, 40, seed=5, level=level) != s.make(120, 40, seed=6, level=level)
    train, test = s.make(300, 100, seed=3, level=level)
    assert not {r["question"] for r in train} & {r["question"] for r in test}
    assert {r["family"] for r in test} == set(s.LEVELS[level])


def test_unknown_level_is_one_clear_error():
    with pytest.raises(ValueError, match="level 'hard' is not one of"):
        _script().make(10, 5, seed=0, level="hard")


def test_easy_level_is_smaller_than_standard():
    """The easy level's point: factors and divisors single-digit, the question's numbers <= 21, at most 3 steps,
    every count >= 2 (plural wording), no question longer than 130 characters."""
    for raw in map(json.loads, (ROOT / "data" / "multi_strategy_easy" / "train.jsonl").read_text().splitlines()):
        nums = [int(x) for x in re.findall(r"\d+", raw["question"])]
        assert 2 <= min(nums) and max(nums) <= 21 and len(raw["question"]) <= 130, raw["question"]
        for s in raw["strategies"]:
            assert len(s["steps"]) <= 3
            for expr, _ in s["steps"]:
                for a, op, b in re.findall(r"(\d+) ([*/]) (\d+)", expr):
                    assert min(int(a), int(b)) <= 9 and (op != "/" or int(b) <= 9), (raw["question"], expr)


def _value(expr: str) -> Fraction:
    """An independent evaluator of the step expressions (not the script's): a tiny recursive-descent parser."""
    toks = re.findall(r"\d+|[-+*/()]", expr)
    pos = 0

    def atom():
        nonlocal pos
        t = toks[pos]
        pos += 1
        if t == "(":
            v = add()
            pos += 1
            return v
        return Fraction(int(t))

    def mul():
        nonlocal pos
        v = atom()
        while pos < len(toks) and toks[pos] in "*/":
            op = toks[pos]
            pos += 1
            v = v * atom() if op == "*" else v / atom()
        return v

    def add():
        nonlocal pos
        v = mul()
        while pos < len(toks) and toks[pos] in "+-":
            op = toks[pos]
            pos += 1
            v = v + mul() if op == "+" else v - mul()
        return v

    return add()


@pytest.mark.parametrize("_,folder,top", LEVELS)
def test_every_strategy_reaches_the_gold_answer_by_other_quantities(_, folder, top):
    from harness.data import load_problems
    from harness.grading import grade

    path = ROOT / "data" / folder / "test.jsonl"
    raws = [json.loads(line) for line in path.read_text().splitlines()]
    problems = load_problems("gsm8k", "test", source=str(path))
    assert len(problems) == len(raws) == 200
    for p, raw in zip(problems, raws):
        strategies = raw["strategies"]
        assert len(strategies) >= 2 and raw["answer"] == strategies[0]["solution"]
        values = []
        for s in strategies:
            for expr, value in s["steps"]:
                v = _value(expr)
                assert v == Fraction(value) and v.denominator == 1 and 0 < v <= top, (raw["question"], expr)
                # every number a step uses is in the question or an earlier step's value
            assert s["steps"][-1][1] == p.answer, (raw["question"], s["name"])
            assert s["solution"].endswith(f"#### {p.answer}")
            values.append({v for _, v in s["steps"][:-1]})
        assert len({frozenset(v) for v in values}) == len(values), raw["question"]  # different intermediates
        assert grade("gsm8k", p.solution, p.answer).correct
        assert not grade("gsm8k", f"#### {int(p.answer) + 1}", p.answer).correct


@pytest.mark.parametrize("_,folder,__", LEVELS)
def test_step_operands_come_from_the_question_or_earlier_steps(_, folder, __):
    for raw in map(json.loads, (ROOT / "data" / folder / "train.jsonl").read_text().splitlines()[:300]):
        given = set(re.findall(r"\d+", raw["question"]))
        for s in raw["strategies"]:
            known = set(given)
            for expr, value in s["steps"]:
                used = set(re.findall(r"\d+", expr))
                # the scale factor's and the per-person totals' operands come from the question or earlier steps
                assert used <= known, (raw["question"], s["name"], expr)
                known.add(value)


@pytest.mark.parametrize("_,folder,__", LEVELS)
def test_each_strategy_is_recognised_from_its_own_solution(_, folder, __):
    """Every strategy derives a value the question does not state and no other strategy writes, so the calibration's
    value-matching clustering (scripts/multi_strategy_calibration.py) names each gold solution's strategy; the
    generator's filter refuses a problem where one strategy's values are all written by the other."""
    cal = load_script("multi_strategy_calibration")
    s = _script()
    for raw in map(json.loads, (ROOT / "data" / folder / "test.jsonl").read_text().splitlines()):
        assert s.distinguishable(raw["question"], raw["strategies"])
        for st in raw["strategies"]:
            assert cal.strategy_match(raw["question"], st["solution"], raw["strategies"]) == st["name"]
    q = "A book has 20 pages. Zoe reads 5 pages every day for 3 days. How many pages are left to read?"
    ambiguous = [s.strategy("total_read", ["5 * 3", "20 - 15"]),
                 s.strategy("day_by_day", ["20 - 5", "15 - 5", "10 - 5"])]
    assert not s.distinguishable(q, ambiguous)
    assert cal.strategy_match(q, "20 - 5 = 15, 15 - 5 = 10, 10 - 5 = 5", ambiguous) == "ambiguous"
    assert cal.strategy_match(q, "I do not know", ambiguous) == "other"


def test_calibration_summary_on_a_store(tmp_path):
    import pandas as pd

    from harness.store import SampleStore

    cal = load_script("multi_strategy_calibration")
    raws = [json.loads(x) for x in (ROOT / "data" / "multi_strategy" / "test.jsonl").read_text().splitlines()[:2]]
    rows = []
    for i, raw in enumerate(raws):
        a, b = raw["strategies"][:2]
        gold = a["steps"][-1][1]
        texts = [a["solution"]] * 3 + [b["solution"]] + ["#### 0"] * (4 if i == 0 else 0) + \
            ([a["solution"]] * 4 if i == 1 else [])
        rows += [{"problem_id": f"gsm8k/test/{i}", "sample_idx": j, "step": 0,
                  "prompt": "Solve the following math problem step by step. Write the final answer as a number on the "
                            'last line in the form "#### N".\n\n' + raw["question"],
                  "completion": t, "correct": t.endswith(f"#### {gold}")} for j, t in enumerate(texts)]
    SampleStore.open(tmp_path / "run", {}, "h").write_batch(pd.DataFrame(rows).to_dict("records"))
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in raws))
    assert cal.main([str(tmp_path / "run"), "--data", str(data), "--out", str(tmp_path / "out")]) == 0
    res = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert res["mixed_groups"] == 1 and res["all_correct_groups"] == 1 and res["pass_at_1"] == 12 / 16
    assert res["pass_at_n"] == 1.0 and sum(f["c"] for f in res["by_family"].values()) == 12
    assert res["problems_solved_by_2plus_named_strategies"] == 2
    p0 = res["per_problem"]["gsm8k/test/0"]
    assert p0["strategies"] == {raws[0]["strategies"][0]["name"]: 3, raws[0]["strategies"][1]["name"]: 1, "other": 4}
    summary = json.loads((tmp_path / "out" / "paths" / "paths_summary.json").read_text())
    assert summary["per_problem"]["gsm8k/test/0"]["n_paths"] == 3 and summary["hard_problems"] == []
