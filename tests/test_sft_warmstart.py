"""scripts/sft_warmstart.py: the strategy draw, the completion text, and one end-to-end run on the tiny model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("sft_warmstart", ROOT / "scripts" / "sft_warmstart.py")
ws = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ws)


def _rec(k: int) -> dict:
    return {"strategies": [{"name": f"s{i}", "steps": [], "solution": f"1 + {i} = <<1+{i}={1 + i}>>{1 + i}\n#### 9"}
                           for i in range(k)]}


def test_completion_text_drops_calculator_annotations_only():
    assert ws.completion_text("3 * 4 = <<3*4=12>>12\n12 + 15 = <<12+15=27>>27\n#### 27\n") == \
        "3 * 4 = 12\n12 + 15 = 27\n#### 27"


def test_the_draw_follows_the_mix_and_never_picks_a_missing_strategy():
    recs = [_rec(2) for _ in range(3000)] + [_rec(3) for _ in range(1000)] + [_rec(1) for _ in range(50)]
    c = ws.choose_strategies(recs, 0.75, seed=0)
    first = sum(x == 0 for x in c[:4000]) / 4000
    assert abs(first - 0.75) < 4 * (0.75 * 0.25 / 4000) ** 0.5      # the nominal mix, within 4 standard errors
    assert all(x in (0, 1) for x in c[:3000]) and set(c[3000:4000]) == {0, 1, 2}
    assert all(x == 0 for x in c[4000:])                             # one strategy: always it
    assert ws.choose_strategies(recs, 1.0, 0)[:4000] == [0] * 4000
    assert 0 not in ws.choose_strategies(recs, 0.0, 0)[:4000]
    assert c == ws.choose_strategies(recs, 0.75, seed=0)             # reproducible
    with pytest.raises(SystemExit, match="--mix"):
        ws.choose_strategies(recs, 1.5, 0)


def test_a_file_without_strategies_is_refused_with_its_line(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text(json.dumps({"question": "q", "answer": "#### 1"}) + "\n")
    with pytest.raises(SystemExit, match=r"x.jsonl:1: record has no 'strategies'"):
        ws.read_records(f)


def test_end_to_end_on_the_tiny_model_writes_a_loadable_model_and_the_draw(tiny_model_dir, tmp_path):
    rows = []
    for i in range(6):
        sol = [{"name": "a", "steps": [], "solution": f"{i} + 1 = <<{i}+1={i + 1}>>{i + 1}\n#### {i + 1}"},
               {"name": "b", "steps": [], "solution": f"1 + {i} = <<1+{i}={i + 1}>>{i + 1}\n#### {i + 1}"}]
        rows.append({"question": f"What is {i} plus 1?", "answer": sol[0]["solution"], "strategies": sol})
    data = tmp_path / "ms.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "ws"
    assert ws.main(["--data", str(data), "--model", str(tiny_model_dir), "--epochs", "1", "--batch", "3",
                    "--out", str(out), "--threads", "1"]) == 0
    meta = json.loads((out / "warmstart.json").read_text())
    assert meta["n_problems"] == 6 and set(meta["strategy_by_problem"].values()) <= {"a", "b"}
    assert meta["template"] == "completion" and meta["train_loss"] > 0
    from transformers import AutoModelForCausalLM
    assert not any("lora" in k for k in AutoModelForCausalLM.from_pretrained(out).state_dict())   # merged
    with pytest.raises(SystemExit, match="already holds"):
        ws.main(["--data", str(data), "--model", str(tiny_model_dir), "--out", str(out)])
