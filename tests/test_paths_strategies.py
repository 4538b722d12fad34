"""harness.paths.strategies.label_strategy: the ground-truth strategy of a multi-strategy completion, on hand-written
completions (each strategy of a few records, rewordings, a slip, both strategies written, the known failure modes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.paths.strategies import distinctive_values, label_strategy, numbers

ROOT = Path(__file__).resolve().parents[1]


def _records(name: str) -> list[dict]:
    return [json.loads(x) for x in (ROOT / "data" / "multi_strategy" / name).read_text().splitlines()]


TEST = _records("test.jsonl")
POOLED, PAGES, UNIT = TEST[0], TEST[1], TEST[2]  # per_person/pooled; total_read/day_by_day; unit_price/scale_factor


def lab(rec: dict, text) -> str:
    return label_strategy(rec["question"], text, rec["strategies"])


def test_the_records_are_the_ones_written_against():
    assert [s["name"] for s in POOLED["strategies"]] == ["per_person", "pooled"]
    assert "5 baskets with 4 cookies" in POOLED["question"] and "22 pages" in PAGES["question"]
    assert UNIT["question"].startswith("4 cookies cost 24 dollars")


@pytest.mark.parametrize("name", ["test.jsonl", "train.jsonl"])
def test_every_gold_solution_gets_its_own_strategy(name):
    for rec in _records(name):
        for s in rec["strategies"]:
            assert lab(rec, s["solution"]) == s["name"], (rec["question"], s["name"])


@pytest.mark.parametrize("rec,text,want", [
    (POOLED, "Max has 5 baskets x 4 = 20 cookies. Ivy has 2 * 4 = 8. Together 20 + 8 = 28 cookies.\n#### 28",
     "per_person"),
    (POOLED, "Ivy: 8 cookies. Max: 20 cookies. In total 28.\n#### 28", "per_person"),  # values only, other order
    (POOLED, "Together they fill 5 + 2 = 7 baskets, so 7 × 4 = 28 cookies.\n#### 28", "pooled"),
    (PAGES, "After day 1: 22 - 5 = 17 pages left. After day 2: 17 - 5 = 12.\n#### 12", "day_by_day"),
    (PAGES, "He reads 10 pages in total, leaving 12 pages.\n#### 12", "total_read"),
    (UNIT, "Each cookie costs $6.00, so 8 cookies cost 6 x 8 = $48.\n#### 48", "unit_price"),
    (UNIT, "8 cookies is 8/4 = 2 times as many, so they cost 24 * 2 = 48 dollars.\n#### 48", "scale_factor"),
])
def test_rewordings_keep_the_strategy(rec, text, want):
    assert lab(rec, text) == want


def test_a_slip_in_an_intermediate_is_other():
    assert lab(POOLED, "5 * 4 = 21\n2 * 4 = 8\n21 + 8 = 29\n#### 29") == "other"
    assert lab(PAGES, "22 - 5 = 16\n16 - 5 = 11\n#### 11") == "other"


def test_the_label_ignores_the_final_value_and_the_grade():
    """A completion on day_by_day whose LAST step slips is still day_by_day (the final value is not a feature);
    correctness is combined with the label elsewhere."""
    assert lab(PAGES, "22 - 5 = 17\n17 - 5 = 11\n#### 11") == "day_by_day"


def test_values_of_two_strategies_are_ambiguous():
    text = "5 * 4 = 20, 2 * 4 = 8, 20 + 8 = 28. Check: 5 + 2 = 7, 7 * 4 = 28.\n#### 28"
    assert lab(POOLED, text) == "ambiguous"


def test_restating_the_question_is_not_a_strategy():
    """An intermediate equal to a question number is not distinctive: strategy A of this record (its only
    intermediate, 6, is stated in the question) is never followed, so restating 6 does not make B ambiguous."""
    q = "Ann has 6 apples and buys 3 bags with 2 apples each. How many apples does she have?"
    strategies = [{"name": "bags_first", "steps": [["3 * 2", "6"], ["6 + 6", "12"]]},
                  {"name": "one_by_one", "steps": [["6 + 2", "8"], ["8 + 2", "10"], ["10 + 2", "12"]]}]
    assert distinctive_values(q, strategies[0]) == set()
    assert label_strategy(q, "Ann has 6 apples. 6 + 2 = 8, 8 + 2 = 10, 10 + 2 = 12.\n#### 12", strategies) \
        == "one_by_one"
    assert label_strategy(q, "3 * 2 = 6, 6 + 6 = 12\n#### 12", strategies) == "other"  # documented failure mode


def test_known_failure_modes_and_edge_cases():
    assert lab(POOLED, "twenty cookies and eight cookies: 28\n#### 28") == "other"  # number words are not read
    assert lab(POOLED, "120 and 80 and 7.0") == "pooled"  # 120 is not 20 (nor 80 8); 7.0 is 7
    assert lab(POOLED, "") == "other" and lab(POOLED, None) == "other" and lab(POOLED, float("nan")) == "other"
    assert numbers("$1,200.50 and 2.50 and -3") == {"1200.5", "2.5", "3"}
    with pytest.raises(ValueError, match="expected a dict with 'steps'"):
        label_strategy("q", "1 2", [{"name": "x"}])


def test_the_calibration_script_uses_the_package_matcher():
    from harness.testing.scripts import load_script

    cal = load_script("multi_strategy_calibration")
    assert cal.strategy_match is label_strategy
