"""``tmc rm train`` and ``tmc bon --config configs/bon_tiny.yaml`` end to end on the tiny local model: every
selector with every reward source, results.json's structure, token accounting, resume, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from harness.cli import main as tmc

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["--set", "split=train", "--set", f"source={ROOT / 'data/easy_arith/train.jsonl'}", "--set", "limit=6"]


@pytest.fixture(scope="module")
def bon_run(tiny_model_dir, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("bon")
    assert tmc(["sample", "--config", str(ROOT / "configs/sample_tiny.yaml"), "--set", f"model={tiny_model_dir}",
                *TRAIN, "--out", str(d / "train_run"), "--no-progress"]) == 0
    for kind in ("orm", "prm"):
        assert tmc(["rm", "train", "--config", str(ROOT / "configs/rm_tiny.yaml"), "--set", f"runs=[{d / 'train_run'}]",
                    "--set", f"kind={kind}", "--out", str(d / kind)]) == 0
    args = ["bon", "--config", str(ROOT / "configs/bon_tiny.yaml"), "--set", f"sample.model={tiny_model_dir}",
            "--set", f"orm={d / 'orm'}", "--set", f"prm={d / 'prm'}", "--out", str(d / "out"), "--no-progress"]
    assert tmc(args) == 0
    return d, args


def test_every_selector_runs_with_every_reward(bon_run):
    from harness.select.registry import KEYS
    from harness.select.rewards import REWARDS

    d, _ = bon_run
    res = json.loads((d / "out" / "results.json").read_text())
    sel = res["selectors"]
    expected = set(KEYS) | {"dprm_as:doob"}
    assert set(sel) == expected
    for key, by_rw in sel.items():
        assert set(by_rw) == ({"none"} if key == "majority" else set(REWARDS))
        for e in by_rw.values():
            assert e["n_problems"] == 2 and set(e["pass_at_k"]) == {"1", "2"}
            for v in e["pass_at_k"].values():
                assert v["lo"] <= v["mean"] <= v["hi"]
            assert e["pass_at_k"]["1"]["mean"] <= e["pass_at_k"]["2"]["mean"]
            ps = e["path_shares"]
            assert ps["correct"] + ps["wrong"] == pytest.approx(1.0)
            if ps["scheme"] == "clusters":      # harness.paths is importable: easy + rare_correct = correct
                assert ps["easy"] + ps["rare_correct"] == pytest.approx(ps["correct"])
            else:
                assert ps["scheme"] == "grader_outcome" and ps["easy"] is None
            assert e["generated_tokens_per_run"] > 0
    assert "| soft_bon | orm |" in (d / "out" / "results.md").read_text()


def test_selections_are_graded_and_tokens_counted(bon_run):
    from harness.data import load_problems
    from harness.grading import grade, truncation_rule
    from harness.store import SampleStore

    d, _ = bon_run
    rows = [json.loads(x) for x in (d / "out" / "selections.jsonl").read_text().splitlines()]
    gold = {p.id: p.answer for p in load_problems("gsm8k", "test", source=str(ROOT / "data/easy_arith/test.jsonl"),
                                                  limit=2)}
    pool = SampleStore(d / "out" / "samples").read()
    texts = set(pool["completion"])
    for r in rows:
        g = truncation_rule(grade("gsm8k", r["text"], gold[r["problem_id"]]), truncated=not r["finished"])
        assert g.correct == r["correct"]
        if r["selector"] in ("soft_bon", "orm_bon", "majority", "weighted_majority"):
            assert r["text"] in texts            # outcome level: a pool completion
            # N = 4 candidates of a pool of 4: the run spent all four completions' tokens
            assert r["generated_tokens"] == int(pool[pool["problem_id"] == r["problem_id"]]["n_tokens"].sum())
    mc = [r["generated_tokens"] for r in rows if r["selector"] == "prm_bon" and r["reward"] == "mc:oracle"]
    plain = [r["generated_tokens"] for r in rows if r["selector"] == "prm_bon" and r["reward"] == "oracle"]
    assert sum(mc) > sum(plain)                  # rollouts are counted


def test_rerun_resumes_without_new_rows(bon_run):
    d, args = bon_run
    before = (d / "out" / "selections.jsonl").read_text()
    assert tmc(args) == 0
    assert (d / "out" / "selections.jsonl").read_text() == before


def test_refuses_reward_models_trained_on_the_evaluated_problems(bon_run, tiny_model_dir, capsys):
    d, _ = bon_run
    rm_json = json.loads((d / "orm" / "rm.json").read_text())
    assert rm_json["heldout_metrics"]["n"] > 0 and "ece" in rm_json["heldout_metrics"]
    code = tmc(["bon", "--config", str(ROOT / "configs/bon_tiny.yaml"), "--set", f"sample.model={tiny_model_dir}",
                "--set", f"samples_run={d / 'train_run'}", "--set", "sample.split=train", "--set",
                f"sample.source={ROOT / 'data/easy_arith/train.jsonl'}", "--set", "sample.max_new_tokens=24",
                "--set", "sample.limit=2", "--set", f"orm={d / 'orm'}", "--set", "rewards=[orm]",
                "--out", str(d / "bad"), "--no-progress"])
    assert code == 2 and "was trained on 2 of the evaluated problems" in capsys.readouterr().err
    assert tmc(["rm", "train", "--config", str(ROOT / "configs/rm_tiny.yaml"),
                "--set", f"runs=[{d / 'out' / 'samples'}]", "--out", str(d / "bad_rm")]) == 2
    assert "must learn from a train split" in capsys.readouterr().err


def test_soft_bon_over_distinct_paths_runs_and_counts_the_draws(bon_run):
    """soft_bon_candidates: distinct_paths on the same pool: a new output folder (config hash), every returned
    completion from the pool, and at least the N candidates' tokens spent (the run's N draws first, then more until
    N distinct paths). The tiny model's pool has distinct paths only, so the extra draws are tested in
    test_select_rules (first_distinct), the wiring here."""
    d, args = bon_run
    out = d / "distinct"
    a = [x if x != str(d / "out") else str(out) for x in args]
    assert tmc(a + ["--set", "selectors=[soft_bon]", "--set", "rewards=[oracle]",
                    "--set", "soft_bon_candidates=distinct_paths"]) == 0
    rows = [json.loads(x) for x in (out / "selections.jsonl").read_text().splitlines()]
    plain = [json.loads(x) for x in (d / "out" / "selections.jsonl").read_text().splitlines()]
    base = {(r["problem_id"], r["run"]): r["generated_tokens"] for r in plain
            if r["entry"] == "soft_bon" and r["reward"] == "oracle"}
    assert rows and all(r["generated_tokens"] >= base[(r["problem_id"], r["run"])] for r in rows)


def test_rm_train_reuses_its_examples_and_chooses_l2_by_grouped_cv(bon_run, capsys):
    """A second `tmc rm train` with another L2 setting reads OUT/examples.npz instead of re-rolling the MC labels;
    with l2_grid the penalty is chosen by cross-validation over training problems and recorded."""
    import shutil

    d, _ = bon_run
    shutil.copytree(d / "prm", d / "prm_cv")
    capsys.readouterr()
    assert tmc(["rm", "train", "--config", str(ROOT / "configs/rm_tiny.yaml"), "--set", f"runs=[{d / 'train_run'}]",
                "--set", "kind=prm", "--set", "l2_grid=[0.1, 10.0]", "--set", "cv_folds=2",
                "--out", str(d / "prm_cv")]) == 0
    assert "reusing the examples" in capsys.readouterr().out
    meta = json.loads((d / "prm_cv" / "rm.json").read_text())
    first = json.loads((d / "prm" / "rm.json").read_text())
    assert meta["l2"] in (0.1, 10.0) and len(meta["l2_cv"]["cv_log_loss"]) == 2
    assert meta["n_examples"] == first["n_examples"] and meta["rollout_generated_tokens"] == first[
        "rollout_generated_tokens"]


def test_bon_writes_its_figures_and_the_bars_are_the_path_shares(bon_run):
    from harness.select.plots import share_bars

    d, _ = bon_run
    res = json.loads((d / "out" / "results.json").read_text())
    assert res["plots"] == ["pass_at_k.png", "path_shares.png"]
    for name in res["plots"]:
        assert (d / "out" / name).stat().st_size > 1000
    bars = {label: (segs, tok) for label, segs, tok in share_bars(res)}
    e = res["selectors"]["orm_bon"]["oracle"]
    segs, tok = bars["orm_bon:oracle"]
    assert sum(segs.values()) == pytest.approx(1.0)
    assert segs["wrong"] == pytest.approx(e["path_shares"]["wrong"])
    assert tok == round(e["generated_tokens_per_run"]) and "majority" in bars
