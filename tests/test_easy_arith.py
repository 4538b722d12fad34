"""scripts/make_easy_arith.py: the CPU GRPO task (docs/findings.md) is reproducible, its train and test
sets are disjoint, the committed files are what the script writes, and every record loads and grades as GSM8K."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.testing.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script("make_easy_arith")


def test_committed_files_are_the_scripts_output(tmp_path):
    _script().main(["--out", str(tmp_path)])  # the defaults that wrote data/easy_arith
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_text() == (ROOT / "data" / "easy_arith" / name).read_text(), name


def test_disjoint_and_gold_is_the_arithmetic():
    from harness.data import load_problems
    from harness.grading import grade

    train, test = _script().make(300, 100, seed=3)
    assert not {r["question"] for r in train} & {r["question"] for r in test}
    path = ROOT / "data" / "easy_arith" / "test.jsonl"
    problems = load_problems("gsm8k", "test", source=str(path))
    assert len(problems) == 200
    for p, raw in zip(problems, map(json.loads, path.read_text().splitlines())):
        a, op, b = re.match(r"(\d+) ([+-]) (\d+) =", raw["answer"]).groups()
        value = int(a) + int(b) if op == "+" else int(a) - int(b)
        assert p.answer == str(value) and value >= 1
        assert grade("gsm8k", f"So the answer is {value}.\n#### {value}", p.answer).correct
        assert not grade("gsm8k", f"#### {value + 1}", p.answer).correct
