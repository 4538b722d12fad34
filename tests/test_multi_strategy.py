"""scripts/make_multi_strategy.py: the multi-strategy task (issue 27, item 5) is reproducible, train and test are
disjoint, the committed files are what the script writes, every record loads and grades as GSM8K, and every strategy
of a problem is a correct computation of the gold answer through different intermediate quantities."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

from harness.testing.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script("make_multi_strategy")


def test_committed_files_are_the_scripts_output(tmp_path):
    _script().main(["--out", str(tmp_path)])  # the defaults that wrote data/multi_strategy
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_text() == (ROOT / "data" / "multi_strategy" / name).read_text(), name


def test_reproducible_and_disjoint():
    s = _script()
    assert s.make(120, 40, seed=5) == s.make(120, 40, seed=5)
    assert s.make(120, 40, seed=5) != s.make(120, 40, seed=6)
    train, test = s.make(300, 100, seed=3)
    assert not {r["question"] for r in train} & {r["question"] for r in test}
    assert {r["family"] for r in test} == set(s.FAMILIES)


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


def test_every_strategy_reaches_the_gold_answer_by_other_quantities():
    from harness.data import load_problems
    from harness.grading import grade

    path = ROOT / "data" / "multi_strategy" / "test.jsonl"
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
                assert v == Fraction(value) and v.denominator == 1 and 0 < v <= 90, (raw["question"], expr)
                # every number a step uses is in the question or an earlier step's value
            assert s["steps"][-1][1] == p.answer, (raw["question"], s["name"])
            assert s["solution"].endswith(f"#### {p.answer}")
            values.append({v for _, v in s["steps"][:-1]})
        assert len({frozenset(v) for v in values}) == len(values), raw["question"]  # different intermediates
        assert grade("gsm8k", p.solution, p.answer).correct
        assert not grade("gsm8k", f"#### {int(p.answer) + 1}", p.answer).correct


def test_step_operands_come_from_the_question_or_earlier_steps():
    for raw in map(json.loads, (ROOT / "data" / "multi_strategy" / "train.jsonl").read_text().splitlines()[:300]):
        given = set(re.findall(r"\d+", raw["question"]))
        for s in raw["strategies"]:
            known = set(given)
            for expr, value in s["steps"]:
                used = set(re.findall(r"\d+", expr))
                # the scale factor's and the per-person totals' operands come from the question or earlier steps
                assert used <= known, (raw["question"], s["name"], expr)
                known.add(value)
