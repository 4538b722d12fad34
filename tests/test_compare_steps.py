"""harness.analyze.compare_steps: paired pass@k differences between two steps, histograms, lost/gained problems."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.analyze import compare_steps as cs


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


def _report(path, counts: dict[int, list[int]], n: int = 4):
    import json

    steps = {str(st): {"per_problem": {f"p{j}": {"n": n, "c": c} for j, c in enumerate(cs_)}}
             for st, cs_ in counts.items()}
    path.write_text(json.dumps({"run": "r", "steps": steps}))
    return str(path)


def test_committed_reports_pair_like_the_sample_stores(tmp_path):
    """A checkpoints_metrics.json's per-problem {n, c} gives the same comparison as the store it came from."""
    counts = {1: [2, 2, 1], 2: [4, 0, 3]}
    other = {7: [3, 1, 0]}
    a, b = _report(tmp_path / "a.json", counts), _report(tmp_path / "b.json", other)
    from_rows = cs.compare(_df(counts), 1, 2, n_boot=300)
    from_json = cs.compare(cs.read_step(a, 1), 1, 2, n_boot=300, df_b=cs.read_step(a, 2))
    assert from_json == from_rows
    across = cs.compare(cs.read_step(a, 2), 2, 7, n_boot=300, df_b=cs.read_step(b, 7))
    assert across == cs.compare(_df(counts), 2, 7, n_boot=300, df_b=_df(other))
    assert cs.main([a, "--a", "1", "--b", "7", "--run-b", b, "--boot", "50"]) == 0


def test_report_without_counts_or_step_is_refused_by_name(tmp_path):
    import json

    old = tmp_path / "old.json"
    old.write_text(json.dumps({"steps": {"10": {"pass_at_k": {}}}}))
    with pytest.raises(SystemExit, match="old.json: step 10 has no per_problem counts"):
        cs.read_step(str(old), 10)
    with pytest.raises(SystemExit, match=r"old.json: no step 20; steps present: \[10\]"):
        cs.read_step(str(old), 20)


def test_exact_p_values_holm_and_the_few_discordant_warning(capsys):
    # 20 problems; step 2 forgets 4 of them (2/4 -> 0/4) and leaves 16 at 3/4: pass@4 sign test 4 lost / 0 gained
    r = cs.compare(_df({1: [2] * 4 + [3] * 16, 2: [0] * 4 + [3] * 16}), 1, 2, n_boot=200)
    d = r["pass_at_k_diff"]
    assert d["4"]["test"] == "sign (exact binomial)" and d["4"]["discordant"] == 4
    assert d["4"]["p_exact"] == pytest.approx(2 / 2 ** 4)
    assert d["1"]["test"] == "sign-flip (exact)" and d["1"]["p_exact"] == pytest.approx(2 / 2 ** 4)
    ps = sorted(v["p_exact"] for v in d.values())  # Holm over k = 1, 2, 4: three equal p -> 3 x 0.125
    assert [v["p_holm"] for v in d.values()] == pytest.approx([min(1, 3 * ps[0])] * 3)
    table = cs.render_diffs(d)
    assert "| 4 | -0.200 |" in table and "| 0.125 | sign (exact binomial) | 4 | 0.375 |" in table
    assert "warning, k = 4: only 4 discordant problem(s)" in table
