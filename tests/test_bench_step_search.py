"""Smoke run of scripts/bench_step_search.py on the tiny model: all three modes, plain matched to the search's
generated tokens (within M per problem), figures consistent with the counted tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")


def test_bench_step_search_runs_and_matches_tokens(tiny_model_dir, tmp_path):
    from harness.testing.scripts import load_script

    mod = load_script("bench_step_search")
    out = tmp_path / "b.json"
    assert mod.main(["--model", str(tiny_model_dir), "--problems", "2", "--m", "2", "--max-steps", "2",
                     "--max-step-tokens", "8", "--max-new-tokens", "24", "--threads", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    (rep,) = res["reps"]
    stop, cut, plain = rep["search_stop"], rep["search_cut"], rep["plain"]
    assert stop["generated_tokens"] > 0 and stop["generate_calls"] >= 2
    assert abs(plain["generated_tokens"] - stop["generated_tokens"]) < 2 * res["m"] * res["problems"]
    for x in (stop, cut, plain):
        assert x["tokens_per_s"] == pytest.approx(x["generated_tokens"] / x["seconds"], rel=0.01)
    assert Path(res["command"].split()[1]).name == "bench_step_search.py"
