"""scripts/compare_steps.py: paired pass@k differences between two steps, histograms, lost/gained problems."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.testing.scripts import load_script

cs = load_script("compare_steps")


def _df(counts: dict[int, list[int]], n: int = 4) -> pd.DataFrame:
    return pd.DataFrame([{"step": s, "problem_id": f"p{j}", "sample_idx": i, "correct": i < c}
                         for s, cs_ in counts.items() for j, c in enumerate(cs_) for i in range(n)])


def test_squeeze_shows_in_paired_differences_and_histograms():
    # step 1 -> 2: p0 sharpens 2/4 -> 4/4, p1 is forgotten 2/4 -> 0/4; pass@1 unchanged, pass@4 falls
    r = cs.compare(_df({1: [2, 2], 2: [4, 0]}), 1, 2, n_boot=200)
    assert r["histogram_a"] == [0, 0, 2, 0, 0] and r["histogram_b"] == [1, 0, 0, 0, 1]
    assert r["lost"] == ["p1"] and r["gained"] == []
    d = r["pass_at_k_diff"]
    assert d["1"]["diff"] == pytest.approx(0.0)
    assert d["4"]["diff"] == pytest.approx(-0.5)  # pass@4: (1 + 1)/2 -> (1 + 0)/2
    assert d["4"]["lo"] <= -0.5 <= d["4"]["hi"]


def test_only_problems_of_both_steps_are_compared():
    df = _df({1: [1, 3], 2: [4]})
    r = cs.compare(df, 1, 2, n_boot=50)
    assert r["problems"] == 1 and r["pass_at_k_diff"]["1"]["diff"] == pytest.approx(0.75)


def test_step_b_can_come_from_another_run():
    a, b = _df({5: [2, 2]}), _df({5: [4, 1]})
    r = cs.compare(a, 5, 5, n_boot=50, df_b=b)
    assert r["histogram_a"] == [0, 0, 2, 0, 0] and r["histogram_b"] == [0, 1, 0, 0, 1]
    assert r["pass_at_k_diff"]["1"]["diff"] == pytest.approx(((4 - 2) + (1 - 2)) / 4 / 2)
