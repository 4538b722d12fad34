"""``tmc report``: input detection, crossover K, and a self-contained page from synthetic runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.report import build_parser, crossover, kind_of, run


def test_crossover_is_the_first_k_where_the_base_reaches_the_method():
    ks = [1, 2, 4, 8]
    assert crossover([0.1, 0.3, 0.6, 0.9], [0.5, 0.6, 0.6, 0.7], ks) == 4
    assert crossover([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], ks) is None
    assert crossover([0.5], [0.4], [1]) == 1


def test_report_from_synthetic_checkpoints_and_eval(tmp_path):
    rng = np.random.default_rng(0)

    def pp(p, n=8):
        return {f"q{i}": {"n": n, "c": int(rng.binomial(n, x))} for i, x in enumerate(p)}

    p0 = rng.beta(0.5, 3.0, 60)
    # a "squeezed" checkpoint: half the problems near-certain, the others never solved
    p1 = np.where(p0 > np.median(p0), 0.95, 0.0)
    ck = tmp_path / "checkpoints_metrics.json"
    ck.write_text(json.dumps({"run": "r", "method": "grpo", "steps": {"0": {"per_problem": pp(p0)},
                                                                      "10": {"per_problem": pp(p1)}}}))
    ev = tmp_path / "metrics.json"
    ev.write_text(json.dumps({"runs": {"base": {"per_problem": pp(p0, 16)}}}))
    assert kind_of(ck) == "checkpoints" and kind_of(ev) == "eval"
    with pytest.raises(ValueError, match="not a TMC-LM run folder"):
        kind_of(tmp_path)
    out = tmp_path / "rep"
    assert run(build_parser().parse_args([str(ck), str(ev), "--out", str(out)])) == 0
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "crossover K measured" in md and "| 10 |" in md
    assert html.count("data:image/png;base64,") == 2 and "src='passk" not in html     # self-contained
    row = next(line for line in md.splitlines() if line.startswith("| 10 |"))
    assert row.split("|")[4].strip() != "none"      # the base overtakes the squeezed checkpoint within k <= 8
