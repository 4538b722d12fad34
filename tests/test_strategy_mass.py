"""tmc analyze strategy_mass on small synthetic stores whose completions are the records' own strategy solutions, so
every share, difference, p-value and seed interval is known by construction (computed here from the design table,
independently of the module)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analyze import strategy_mass as sm
from harness.data.ids import file_tag
from harness.store import SampleStore

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "multi_strategy" / "test.jsonl"
TRAIN = ROOT / "data" / "multi_strategy" / "train.jsonl"
RECS = [json.loads(x) for x in DATA.read_text().splitlines()]
PROMPT = 'Solve the following math problem step by step. Write the final answer as a number on the last line in the ' \
         'form "#### N".\n\nQuestion: {q}\nAnswer:'

# per problem (lines 0, 1, 2 of test.jsonl), n = 8: (easy, rare, correct_other, wrong); wrong samples are the RARE
# strategy's solution with a wrong final answer (so dropping the correctness filter moves them to "rare")
BASE = {0: (5, 1, 0, 2), 1: (4, 2, 1, 1), 2: (2, 0, 0, 6)}
RUNS = {  # run folder -> step -> design
    "grpo_s0": {8: {0: (7, 0, 0, 1), 1: (6, 1, 0, 1), 2: (4, 0, 0, 4)}, 16: {0: (8, 0, 0, 0), 1: (8, 0, 0, 0),
                                                                               2: (8, 0, 0, 0)}},
    "grpo_s1": {8: {0: (6, 1, 0, 1), 1: (5, 2, 0, 1), 2: (3, 1, 0, 4)}, 16: {0: (7, 0, 0, 1), 1: (6, 1, 0, 1),
                                                                               2: (5, 0, 0, 3)}},
}


def texts(rec: dict, design) -> list[tuple[str, bool]]:
    easy, rare = rec["strategies"][0]["solution"], rec["strategies"][1]["solution"]
    gold = rec["strategies"][0]["steps"][-1][1]
    slipped = rare.rsplit("#### ", 1)[0] + "#### 999"
    e, r, o, w = design
    return [(easy, True)] * e + [(rare, True)] * r + [(f"#### {gold}", True)] * o + [(slipped, False)] * w


def rows(design: dict, step: int, data: Path = DATA, recs=RECS, split: str = "test") -> list[dict]:
    tag = file_tag(data)
    out = []
    for i, d in design.items():
        for j, (t, ok) in enumerate(texts(recs[i], d)):
            out.append({"problem_id": f"gsm8k/{tag}/{split}/{i}", "sample_idx": j, "step": step, "completion": t,
                        "prompt": PROMPT.format(q=recs[i]["question"]), "correct": ok})
    return out


def write(path: Path, rows_: list[dict]) -> Path:
    SampleStore.open(path, {"n": 8}, "h").write_batch(rows_)
    return path


@pytest.fixture
def stores(tmp_path):
    base = write(tmp_path / "base_test", rows(BASE, 0))
    runs = []
    for name, steps in RUNS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "train_run.json").write_text("{}")
        write(tmp_path / name / "eval", [r for s, d in steps.items() for r in rows(d, s)])
        runs.append(tmp_path / name)
    return base, runs


def share(design: dict, k: int) -> np.ndarray:
    return np.array([d[k] / sum(d) for _, d in sorted(design.items())])


def brute_sign_flip(d) -> float:
    nz = [x for x in d if abs(x) > 1e-12]
    t = abs(sum(nz))
    pats = list(itertools.product((1, -1), repeat=len(nz)))
    return sum(abs(sum(s * x for s, x in zip(p, nz))) >= t - 1e-12 for p in pats) / len(pats) if nz else 1.0


def test_shares_per_step_are_the_design(stores):
    base, runs = stores
    records = sm.load_records(DATA)
    bl = sm.label_rows(sm.read_store(base), records, DATA)
    bshares = sm.problem_shares(bl)
    res = sm.analyse_store(sm.resolve_store(runs[0]), records, DATA, base_shares=bshares, n_boot=500)
    assert res["label"] == "grpo_s0" and sorted(res["steps"]) == [0, 8, 16]
    assert res["steps"][0]["source"] == "base"
    for step, design in [(0, BASE), (8, RUNS["grpo_s0"][8]), (16, RUNS["grpo_s0"][16])]:
        row = res["steps"][step]
        for k, c in enumerate(sm.CATEGORIES):
            assert row[c]["mean"] == pytest.approx(share(design, k).mean()), (step, c)
            assert row[c]["lo"] <= row[c]["mean"] <= row[c]["hi"]
        assert row["rare_present"] == sum(d[1] > 0 for d in design.values())
        assert row["n_problems"] == 3 and row["n_samples"] == 24
    assert sum(res["steps"][8][c]["mean"] for c in sm.CATEGORIES) == pytest.approx(1.0)


def test_paired_difference_and_exact_test_vs_base(stores):
    base, runs = stores
    records = sm.load_records(DATA)
    bshares = sm.problem_shares(sm.label_rows(sm.read_store(base), records, DATA))
    res = sm.analyse_store(runs[1], records, DATA, base_shares=bshares, n_boot=500)
    for step in (8, 16):
        design = RUNS["grpo_s1"][step]
        for k, c in ((1, "rare"), (0, "easy")):
            d = share(design, k) - share(BASE, k)
            vb = res["steps"][step]["vs_base"][c]
            assert vb["diff"] == pytest.approx(d.mean()) and vb["lo"] <= vb["diff"] <= vb["hi"]
            assert vb["test"]["p"] == pytest.approx(brute_sign_flip(d))
            assert vb["test"]["discordant"] == int((np.abs(d) > 0).sum())
    sub = [i for i, d in sorted(BASE.items()) if d[1] > 0]
    d = share(RUNS["grpo_s1"][16], 1)[sub] - share(BASE, 1)[sub]
    assert res["steps"][16]["vs_base"]["rare_on_base_rare"]["diff"] == pytest.approx(d.mean())
    assert res["steps"][16]["vs_base"]["rare_on_base_rare"]["n_problems"] == len(sub) == 2
    assert res["steps"][8]["vs_base"]["rare_present_base"] == 2
    assert res["steps"][16]["vs_base"]["rare_present_step"] == 1


def test_cli_writes_json_markdown_plots_and_seed_intervals(stores, tmp_path, capsys):
    from harness.cli import main

    base, runs = stores
    out = tmp_path / "out"
    ws = tmp_path / "warmstart.json"
    ws.write_text(json.dumps({"first_strategy_share": 0.6925}))
    assert main(["analyze", "strategy_mass", *map(str, runs), "--base", str(base), "--data", str(DATA),
                 "--warmstart", str(ws), "--out", str(out), "--n-boot", "300"]) == 0
    rep = json.loads((out / "strategy_mass.json").read_text())
    assert [r["label"] for r in rep["runs"]] == ["grpo_s0", "grpo_s1"]
    seeds = rep["seeds"]["grpo"]
    assert seeds["runs"] == ["grpo_s0", "grpo_s1"] and sorted(seeds["steps"], key=int) == ["8", "16"]
    for step in (8, 16):
        per_run = [(share(RUNS[r][step], 1) - share(BASE, 1)).mean() for r in ("grpo_s0", "grpo_s1")]
        t = seeds["steps"][str(step)]["rare"]
        m, sd = np.mean(per_run), np.std(per_run, ddof=1)
        half = stats.t.ppf(0.975, 1) * sd / math.sqrt(2)
        assert t["mean"] == pytest.approx(m) and t["lo"] == pytest.approx(m - half) and t["hi"] == pytest.approx(
            m + half)
    # the warm-start mix check: correct samples on a named strategy, the first strategy's share
    e = sum(d[0] for d in BASE.values())
    r = sum(d[1] for d in BASE.values())
    o = sum(d[2] for d in BASE.values())
    w = sum(d[3] for d in BASE.values())
    mix = rep["sft_mix"]
    assert mix["share_of_named"] == pytest.approx(e / (e + r)) and mix["lo"] <= mix["share_of_named"] <= mix["hi"]
    assert mix["share_of_correct"] == pytest.approx(e / (e + r + o))
    assert mix["share_of_named_all"] == pytest.approx(e / (e + r + w))  # the wrong ones follow the rare strategy
    for i, d in BASE.items():
        if d[0] + d[1]:
            assert mix["by_family"][RECS[i]["family"]]["share_of_named"] == pytest.approx(d[0] / (d[0] + d[1]))
    md = (out / "strategy_mass.md").read_text()
    assert md.count("| grpo_s0 |") == 3 and "| grpo | 2 | 16 |" in md and "drew the first strategy for 0.6925" in md
    assert (out / "strategy_mass_grpo_s0.png").stat().st_size > 0 and (out / "strategy_mass_grpo_s1.png").exists()
    assert "SFT mix check" in capsys.readouterr().out and rep["warnings"] == []


def test_a_store_with_its_own_step_0_and_train_problems(tmp_path):
    """A training-samples store on TRAIN lines 400+: rows are matched to records by the id's line index; its own
    step 0 is the base; steps without shared problems get no paired comparison."""
    recs = [json.loads(x) for x in TRAIN.read_text().splitlines()]
    design0 = {400: (3, 2, 0, 3), 401: (1, 0, 0, 7)}
    design1 = {402: (8, 0, 0, 0), 403: (0, 4, 0, 4)}
    store = write(tmp_path / "grpo_s0" / "train_samples", rows(design0, 0, TRAIN, recs, "train")
                  + rows(design1, 1, TRAIN, recs, "train"))
    res = sm.analyse_store(store, sm.load_records(TRAIN), TRAIN, n_boot=200)
    assert res["label"] == "grpo_s0/train_samples"
    assert res["steps"][0]["rare"]["mean"] == pytest.approx((2 / 8 + 0) / 2)
    assert res["steps"][1]["rare"]["mean"] == pytest.approx((0 + 4 / 8) / 2)
    assert res["steps"][1]["easy"]["mean"] == pytest.approx((1 + 0) / 2)
    assert res["steps"][1]["vs_base"] is None and res["steps"][0]["vs_base"]["rare"]["diff"] == 0


def test_wrong_data_file_and_foreign_prompt_are_clear_errors(stores, tmp_path):
    base, _ = stores
    with pytest.raises(ValueError, match="comes from source .* pass the data file the store was sampled from"):
        sm.label_rows(sm.read_store(base), sm.load_records(TRAIN), TRAIN)
    bad = rows({0: (1, 0, 0, 0)}, 0)
    bad[0]["prompt"] = "Question: something else"
    with pytest.raises(ValueError, match="does not contain line 0"):
        sm.label_rows(pd.DataFrame(bad), RECS, DATA)
    with pytest.raises(FileNotFoundError, match="not a sample store"):
        sm.resolve_store(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()  # reading never creates a store


def test_method_of_strips_the_seed():
    assert sm.method_of("grpo_kl_s12") == "grpo_kl" and sm.method_of("grpo_rej_s0/train_samples") == "grpo_rej"
    assert sm.method_of("base_test") == "base_test"


def test_a_decoding_mismatch_with_the_base_is_a_warning():
    base = sm.decoding(pd.DataFrame({"temperature": [0.7, 0.7], "top_p": [1.0, 1.0]}))
    same = sm.decoding(pd.DataFrame({"temperature": [0.7], "top_p": [1.0], "max_new_tokens": [64]}))
    other = sm.decoding(pd.DataFrame({"temperature": [0.6], "top_p": [0.95]}))
    assert sm.decoding_warning("r", same, base) is None
    w = sm.decoding_warning("r", other, base)
    assert "temperature [0.6] vs [0.7]" in w and "top_p [0.95] vs [1.0]" in w


def test_cli_bad_input_is_one_line_and_status_2(stores, tmp_path, capsys):
    base, _ = stores
    assert sm.main([str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert sm.main([str(base), "--data", str(TRAIN), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a sample store" in err[0] and "pass the data file" in err[1]
