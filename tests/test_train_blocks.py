"""harness.analyze.train_blocks: which correct training completions get no credit under each method's rule."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from harness.analyze import train_blocks as tb


def test_grpo_gives_no_credit_only_in_all_correct_groups():
    assert tb.correct_zeroed(np.array([1, 1, 1, 1]), "grpo", 5).tolist() == [True] * 4
    assert tb.correct_zeroed(np.array([1, 0, 1, 1]), "grpo_kl", 5).tolist() == [False] * 4
    assert not tb.correct_zeroed(np.array([1, 1, 1, 1]), "reinforce", 5).any()


def test_leave_out_matches_the_trainers_rule():
    """Correct and zeroed by harness/analyze/train_blocks.py <=> r_i = 1 and leave_out_advantage gives 0 (rl_rej.py)."""
    from harness.train.advantages import leave_out_advantage

    rng = np.random.default_rng(0)
    for _ in range(50):
        r = (rng.random(8) < rng.random()).astype(float)
        a = leave_out_advantage(torch.tensor(r), 8, tries=5).numpy()
        assert tb.correct_zeroed(r, "leave_out", 5).tolist() == ((r > 0) & (a == 0)).tolist()
    # one correct completion and seven wrong: its five checks all fail, full credit
    assert not tb.correct_zeroed(np.array([1, 0, 0, 0, 0, 0, 0, 0.0]), "leave_out", 5).any()


def test_sample_stats_per_logged_step():
    rows = [(0, "a", [1, 1, 1, 1]), (0, "b", [0, 1, 0, 0]), (1, "a", [0, 0, 0, 0])]
    df = pd.DataFrame([{"step": s, "problem_id": p, "sample_idx": i, "reward": float(x)}
                       for s, p, rs in rows for i, x in enumerate(rs)])
    st = tb.sample_stats(df, "grpo", 5)
    assert st[1] == {"correct_zeroed": pytest.approx(4 / 5), "n_correct": 5, "all_correct_groups": 0.5,
                     "n_credited": 1, "credited_length": None}  # no n_tokens column
    assert st[2]["correct_zeroed"] is None and st[2]["all_correct_groups"] == 0.0


def test_credited_length_is_the_mean_length_of_positive_advantages():
    """Under leave_out (T = 2, G = 4) only a correct completion whose next two are wrong is credited."""
    rs, lens = [1, 0, 0, 1], [10, 50, 60, 30]  # i=0: checks 1,2 wrong -> credited; i=3: checks 0,1 -> 0 solved it
    df = pd.DataFrame([{"step": 0, "problem_id": "a", "sample_idx": i, "reward": float(r), "n_tokens": n}
                       for i, (r, n) in enumerate(zip(rs, lens))])
    st = tb.sample_stats(df, "leave_out", 2)
    assert st[1]["credited_length"] == (10.0, 1) and st[1]["n_credited"] == 1
    assert st[1]["correct_zeroed"] == pytest.approx(1 / 2)
    # GRPO credits both correct ones (positive group-normalised advantage)
    assert tb.sample_stats(df, "grpo", 2)[1]["credited_length"] == (40.0, 2)


def test_runs_sharing_a_method_are_labelled_by_folder():
    res = [{"run": "runs/train/a", "method": "rl_rej"}, {"run": "runs/train/b", "method": "rl_rej"},
           {"run": "runs/train/c", "method": "grpo"}]
    assert tb.labels(res) == ["a", "b", "grpo"]


def test_in_loop_rejection_rows_come_from_the_logged_metrics(tmp_path):
    run = tmp_path / "rej"
    run.mkdir()
    (run / "train_run.json").write_text(json.dumps({"config": {"method": "rl_rej", "rej_mode": "in_loop"}}))
    rows = [{"step": s, "loss": 0.0, "reward": 0.5, "rej/frac_rejected": f, "rej/unfilled": 0.0, "rej/kept_reward": k}
            for s, f, k in zip(range(1, 5), (0.0, 0.5, 0.25, 0.25), (0.5, 0.3, 0.2, 0.4))]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = tb.blocks(run, 2, 4)
    assert res["rule"] is None  # the store would hold rejected groups too: no credit statistics
    assert res["blocks"]["1–2"]["rejected"] == pytest.approx(0.25) and res["blocks"]["3–4"][
        "rejected"
    ] == pytest.approx(0.25)
    t = tb.table([res])
    assert "| groups rejected (in-loop), rl_rej | 0.25 | 0.25 |" in t and "left unfilled" in t
    assert "| reward of trained groups, rl_rej | 0.40 | 0.30 |" in t  # rej/kept_reward, not TRL's reward (0.50)


def test_a_problem_drawn_twice_in_a_step_is_two_groups():
    """An RL-rej refill can draw a problem again in the same step: sample_idx then runs on to G..2G-1
    (harness/train/callbacks.py) and those completions are a second group, not four more members of the first."""
    rs = [1, 1, 1, 1, 0, 1, 0, 0]  # draw 1 all correct; draw 2 mixed
    df = pd.DataFrame([{"step": 0, "problem_id": "a", "sample_idx": i, "reward": float(r)} for i, r in enumerate(rs)])
    st = tb.sample_stats(df, "grpo", 5, group_size=4)[1]
    assert st["all_correct_groups"] == 0.5 and st["n_credited"] == 1
    assert st["correct_zeroed"] == pytest.approx(4 / 5)
    # merged into one group of 8 (the old behaviour) every correct completion would get credit
    merged = tb.sample_stats(df, "grpo", 5)[1]
    assert merged["all_correct_groups"] == 0.0 and merged["correct_zeroed"] == 0.0
