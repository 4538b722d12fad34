"""harness.analyze.seed_table: rules x seeds at one step, paired against a reference rule of the same seed."""

from __future__ import annotations

import json

import pytest

from harness.analyze import seed_table as st


def _report(folder, step: int, counts: list[int], n: int = 4, entropy: float | None = None):
    """A checkpoints_metrics.json (and cot_forms.json) with problem p<j> solved counts[j] of n times."""
    folder.mkdir(parents=True)
    pp = {f"p{j}": {"n": n, "c": c} for j, c in enumerate(counts)}
    (folder / "checkpoints_metrics.json").write_text(json.dumps({"steps": {str(step): {"per_problem": pp}}}))
    if entropy is not None:
        (folder / "cot_forms.json").write_text(json.dumps({str(step): {"entropy_bits": entropy}}))
    return str(folder)


def test_rows_pairs_and_seed_summary(tmp_path):
    # seed 1: the rule lifts every problem from 0/4 to 4/4 (CI above 0); seed 2: identical counts (CI = [0, 0])
    g1 = _report(tmp_path / "g1", 50, [0] * 8, entropy=1.0)
    g2 = _report(tmp_path / "g2", 50, [2] * 8, entropy=2.0)
    r1 = _report(tmp_path / "r1", 50, [4] * 8, entropy=3.5)
    r2 = _report(tmp_path / "r2", 50, [2] * 8, entropy=2.5)
    res = st.build([("G", "1", g1), ("G", "2", g2), ("R", "1", r1), ("R", "2", r2)], 50, "G", n_boot=200)
    rows = {(r["rule"], r["seed"]): r for r in res["rows"]}
    g2row = rows[("G", "2")]
    assert g2row["pass@1"] == pytest.approx(0.5) and g2row["pass@n"] == pytest.approx(1.0)
    assert (g2row["solved"], g2row["at_0"], g2row["at_n"]) == (8, 0, 0) and "vs_ref" not in g2row
    assert rows[("G", "1")]["at_0"] == 8 and rows[("R", "1")]["at_n"] == 8
    v1, v2 = rows[("R", "1")]["vs_ref"], rows[("R", "2")]["vs_ref"]
    assert v1["k1"]["diff"] == pytest.approx(1.0) and v1["kn"]["lo"] == pytest.approx(1.0)
    assert {k: v2["k1"][k] for k in ("diff", "lo", "hi", "p_exact", "discordant")} == {
        "diff": 0.0, "lo": 0.0, "hi": 0.0, "p_exact": 1.0, "discordant": 0}
    assert v1["form_entropy_bits"] == pytest.approx(2.5)
    # seed 1, k = 1: 8 problems all +1 -> sign test 2/2^8; k = 4 (n): 8 problems 0 -> solved: the same p.
    # Holm over the 4 per-seed comparisons (two of them p = 1): 4 x 2/256 for both small ones
    assert v1["k1"]["p_exact"] == pytest.approx(2 / 256) and v1["kn"]["p_exact"] == pytest.approx(2 / 256)
    assert v1["k1"]["p_holm"] == pytest.approx(4 * 2 / 256) and v2["kn"]["p_holm"] == pytest.approx(1.0)
    (s,) = res["summary"]
    assert s["k1"]["per_seed"] == pytest.approx([1.0, 0.0]) and s["k1"]["mean"] == pytest.approx(0.5)
    # t-interval over 2 seeds: 0.5 -+ t_{0.975,1} sd / sqrt 2 = 0.5 -+ 12.706 x 0.7071 / 1.4142 = 0.5 -+ 6.353;
    # Holm of the two t p-values (k = 1 and k = n, both 0.5): 2 x 0.5 = 1
    assert (s["k1"]["t_lo"], s["k1"]["t_hi"]) == pytest.approx((0.5 - 6.3531, 0.5 + 6.3531), abs=1e-3)
    assert s["k1"]["t_p"] == pytest.approx(0.5, abs=1e-9)  # t = 1 on 1 df: two-sided p = 0.5
    assert s["k1"]["t_p_holm"] == pytest.approx(1.0) and s["k1"]["per_seed_p_exact"] == pytest.approx([2 / 256, 1])
    assert (s["k1"]["above"], s["k1"]["across"], s["k1"]["below"]) == (1, 1, 0)
    assert s["form_entropy_bits"]["per_seed"] == pytest.approx([2.5, 0.5])
    md = st.render(res)
    assert "| R | 1 | 1.000 | 1.000 | 8 | 0 | 8 | 3.50 | +1.000 [+1.000, +1.000] p 0.0078 (Holm 0.031) |" in md
    assert "| R | 1, 2 | +0.500 [-5.853, +6.853] | 0.5 (1) | +1.000 (0.0078), +0.000 (1) | 1 / 1 / 0 |" in md
    assert "warning, R seed 1, k = 1: only 8 discordant" in md


def test_pairs_only_common_problems_and_keeps_missing_entropy_empty(tmp_path):
    g = _report(tmp_path / "g", 10, [0, 0, 4])
    r = _report(tmp_path / "r", 10, [4, 4])  # p2 absent: compared over p0, p1 only
    res = st.build([("G", "0", g), ("R", "0", r)], 10, "G", n_boot=50)
    v = res["rows"][1]["vs_ref"]
    assert v["problems"] == 2 and v["k1"]["diff"] == pytest.approx(1.0)
    assert res["summary"][0]["form_entropy_bits"] is None
    assert "| G | 0 | 0.333 | 0.333 | 1 | 2 | 1 |  |" in st.render(res)


def test_bad_input_names_the_problem(tmp_path):
    g = _report(tmp_path / "g", 50, [1, 2])
    r = _report(tmp_path / "r", 50, [1, 2])
    with pytest.raises(SystemExit, match=r"no step 40; steps present: \[50\]"):
        st.build([("G", "1", g)], 40, "G")
    with pytest.raises(SystemExit, match="no --run 'G' 2 to pair it with"):
        st.build([("G", "1", g), ("R", "2", r)], 50, "G")
    with pytest.raises(SystemExit, match="--ref 'X' names no --run"):
        st.build([("G", "1", g)], 50, "X")
    with pytest.raises(SystemExit, match="no checkpoints_metrics.json"):
        st.build([("G", "1", str(tmp_path / "missing"))], 50, "G")
    with pytest.raises(SystemExit, match="given twice"):
        st.build([("G", "1", g), ("G", "1", r)], 50, "G")


def test_main_prints_tables_and_writes_json(tmp_path, capsys):
    g = _report(tmp_path / "g", 50, [0, 4])
    _report(tmp_path / "r", 50, [4, 4])
    out = tmp_path / "t.json"
    assert st.main(["--step", "50", "--ref", "G", "--boot", "50", "--run", "G", "1", g,
                    "--run", "R", "1", str(tmp_path / "r" / "checkpoints_metrics.json"), "--json", str(out)]) == 0
    assert "| rule - G | seeds |" in capsys.readouterr().out
    summary = json.loads(out.read_text())["summary"][0]["kn"]
    assert summary["per_seed"] == pytest.approx([0.5]) and summary["t_lo"] is None  # one seed: no t-interval
