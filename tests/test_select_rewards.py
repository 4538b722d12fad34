"""Reward sources: the soft-label probe, its metrics, the oracle, save/load (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.select.rewards import REWARDS, make_reward
from harness.select.rewards.oracle import OracleReward
from harness.select.rewards.probe import LinearRM, auc, ece, fit_soft_logistic, report
from harness.select.types import Candidate, ProblemCtx


def test_soft_labels_stay_soft():
    """Constant features, labels 0.3: the BCE optimum predicts 0.3 (a 0/1 cast would predict 0)."""
    x = np.ones((50, 3))
    w, b, mu, sd = fit_soft_logistic(x, np.full(50, 0.3), l2=1e-3)
    p = LinearRM(w, b, mu, sd, "prm").predict(x)
    assert np.allclose(p, 0.3, atol=1e-4)


def test_probe_recovers_a_logistic_law():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    y = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))     # soft labels from a known law
    w, b, mu, sd = fit_soft_logistic(x, y, l2=1e-6)
    coef = w / sd
    assert np.allclose(coef, [2.0, -1.0, 0.0], atol=0.05)
    assert abs((b - coef @ mu) - 0.5) < 0.05          # z = coef . x + (b - coef . mu)
    p = LinearRM(w, b, mu, sd, "orm").predict(x)
    assert np.abs(p - y).max() < 0.02
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_soft_logistic(x, y * 2, 0.01)


def test_auc_ece_and_report():
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert auc(np.zeros(3), np.ones(3)) is None
    # bin [0.2, 0.3): p 0.25 for two rows with y 0, 1 -> |0.5 - 0.25|; bin [0.9, 1]: p 0.95, y 1 -> 0.05
    assert np.isclose(ece(np.array([0, 1, 1]), np.array([0.25, 0.25, 0.95])), (2 * 0.25 + 0.05) / 3)
    r = report(np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.7, 0.4]), 0.5)
    assert r["auc"] == 1.0 and r["log_loss"] < r["log_loss_base_rate"] == pytest.approx(np.log(2))


def test_linear_rm_round_trips(tmp_path):
    rm = LinearRM([1.0, -2.0], 0.3, [0.1, 0.2], [1.0, 2.0], "orm", {"model": "m", "train_prompt_sha1": ["ab"]})
    rm.save(tmp_path / "rm")
    back = LinearRM.load(tmp_path / "rm")
    x = np.array([[0.5, 1.0], [2.0, -1.0]])
    assert back.kind == "orm" and back.meta["model"] == "m" and np.allclose(back.predict(x), rm.predict(x))
    with pytest.raises(Exception, match="tmc rm train"):
        LinearRM.load(tmp_path)


def test_oracle_is_the_grader_with_the_truncation_rule():
    ctx = ProblemCtx("p", "Q", "18")
    o = OracleReward()
    r = o.outcome(ctx, [Candidate("so #### 18", 5, True), Candidate("it is 18", 5, True),
                        Candidate("it is 18", 5, False), Candidate("#### 18.00", 5, False),
                        Candidate("#### 17", 5, True)])
    assert r.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    v, h = o.values(ctx, [Candidate("#### 18", 3, True)], 0.5)
    assert v[0] == 1.0 and np.isclose(h[0], np.exp(0.5))


def test_make_reward_names_what_is_missing():
    assert set(REWARDS) == {"oracle", "orm", "mc:oracle", "mc:orm", "prm"}
    assert make_reward("mc:oracle", n_mc=3).n_mc == 3
    with pytest.raises(Exception, match="tmc rm train"):
        make_reward("orm")
    with pytest.raises(Exception, match="tmc rm train"):
        make_reward("prm")


def test_l2_chosen_by_folds_of_problems_not_of_rows():
    """Each problem's 8 rows share a problem-specific feature vector and a random problem-level label: a probe can
    memorise problems but nothing generalises to new ones. Folds of problems see that and take the largest penalty;
    folds of rows (the mutation: groups = row index) would reward memorising and take the smallest."""
    from harness.select.rm_train import choose_l2

    rng = np.random.default_rng(0)
    n_prob, d = 40, 60
    centres, labels = rng.normal(size=(n_prob, d)), rng.integers(0, 2, n_prob).astype(float)
    groups = np.repeat(np.arange(n_prob), 8)
    x = centres[groups] + 0.05 * rng.normal(size=(len(groups), d))
    y = labels[groups]
    grid = [1e-4, 1e-2, 1.0, 100.0]
    l2, cv = choose_l2(x, y, groups, grid, 4, 0)
    assert l2 == 100.0 and cv["folds"] == 4 and len(cv["cv_log_loss"]) == 4
    l2_rows, _ = choose_l2(x, y, np.arange(len(y)), grid, 4, 0)
    assert l2_rows < 1.0


def test_examples_cache_key_follows_the_rows_contents():
    """OUT/examples.npz is reused only for the same rows: a store re-sampled in place with as many rows (one
    completion or grade changed) gets another key; the same rows, in another DataFrame object, the same key."""
    pd = pytest.importorskip("pandas")
    from harness.select.rm_train import RMTrainConfig, examples_key

    cfg = RMTrainConfig(runs=["runs/a"], kind="orm")
    rows = {"problem_id": ["p1", "p1", "p2"], "sample_idx": [0, 1, 0], "prompt": ["q1", "q1", "q2"],
            "completion": ["2+2=4", "2+2=5", "3*3=9"], "correct": [True, False, True]}
    df = pd.DataFrame(rows)
    key = examples_key(cfg, df, "m")
    assert examples_key(cfg, pd.DataFrame({k: list(v) for k, v in rows.items()}), "m") == key
    changed = df.copy()
    changed.loc[1, "completion"] = "2+2=6"
    regraded = df.copy()
    regraded.loc[1, "correct"] = True
    assert len({key, examples_key(cfg, changed, "m"), examples_key(cfg, regraded, "m"),
                examples_key(cfg, df, "other-model")}) == 4
