"""Learned population rewards for TMC-LM Best-of-N: convergence to the theory's R_out / V / h,
the selectors with exact rewards equal to harness.tmclm.inference's rows, and the consistency-bias metrics.

Numpy only except the last test (a tiny end-to-end ``tmc tmclm-bon`` run with torch).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.tmclm.bon_config import LearnedBonConfig
from harness.tmclm.bon_study import metrics
from harness.tmclm.inference import inference_config
from harness.tmclm.inference import selector_distribution as inference_row
from harness.tmclm.learned_rewards import (
    TrainingSet,
    edge_features,
    exact_rewards,
    fit_orm_logistic,
    fit_orm_tabular,
    fit_prm,
    instance_matrix,
    oracle_rewards,
    prefix_index,
    sample_training_set,
    tree_values,
)
from harness.tmclm.measure import markov_kernels, tmc_path_probs
from harness.tmclm.reward_selectors import selector_distribution
from tmc_theory import exact
from tmc_core.config import ConfigError
from tmc_theory.generate import random_tmc
from tmc_theory.inference.common import reward_task
from tmc_theory.instances import draw_instances
from tmc_theory.tmc import paper_tmc

LAM = 0.5


def _perturbed_joint(tmc, seed=0, scale=0.4):
    """A stand-in for the TMC-LM's path law (<any> prompt): the TMC's, multiplicatively perturbed, non-Markov."""
    rng = np.random.default_rng(seed)
    q = tmc_path_probs(tmc, None) * np.exp(scale * rng.standard_normal(len(tmc.enumerate_paths())))
    return q / q.sum()


def _all_prefixes(tmc, j):
    return np.unique(tmc.enumerate_paths()[:, :j], axis=0)


@pytest.mark.parametrize("make", [paper_tmc, lambda: random_tmc(4, 3, n_tasks=2, seed=3)])
def test_tree_values_equal_theory_V_and_h(make):
    tmc = make()
    for task in tmc.tasks:
        ex = exact_rewards(tmc, task, LAM)
        for j in range(1, tmc.n_layers + 1):
            pre = _all_prefixes(tmc, j)
            pi = prefix_index(tmc, pre)
            np.testing.assert_allclose(ex.V[j - 1][pi], exact.prm_potential(tmc, task, pre), atol=1e-14)
            np.testing.assert_allclose(ex.h[j - 1][pi], exact.doob_h(tmc, task, pre, LAM), rtol=1e-13)


def test_tree_values_joint_law_is_the_conditional_mean():
    """Non-Markov continuation law (the TMC-LM's): T(p) = sum_{o>p} q(o) t(o) / sum_{o>p} q(o), by brute force."""
    tmc = paper_tmc()
    q = _perturbed_joint(tmc)
    t = np.random.default_rng(1).random(len(q))
    paths = tmc.enumerate_paths()
    tv = tree_values(tmc, t, q)
    for j in range(1, tmc.n_layers + 1):
        for p in _all_prefixes(tmc, j):
            ext = np.all(paths[:, :j] == p, axis=1)
            assert tv[j - 1][prefix_index(tmc, p[None])[0]] == pytest.approx((q[ext] * t[ext]).sum() / q[ext].sum())


@pytest.mark.parametrize("conventions", ["paper", "textbook"])
def test_exact_rewards_reproduce_inference_rows(conventions):
    """The selectors with the theory's rewards plugged into the reward-table path == harness.tmclm.inference's rows
    (same base sampler: the Markov projection of a non-Markov stand-in for the TMC-LM)."""
    tmc = paper_tmc()
    base = markov_kernels(tmc, _perturbed_joint(tmc))
    for key in ("soft_bon", "orm_bon", "prm_bon", "dprm_bon", "dprm_as"):
        for task in tmc.tasks:
            cfg = inference_config(tmc, key, 15, LAM, conventions)
            rew = exact_rewards(tmc, reward_task(tmc, task, cfg), LAM)
            q_ref, how = inference_row(tmc, key, task, cfg, base)
            assert how == "exact"
            np.testing.assert_allclose(selector_distribution(tmc, key, task, cfg, base, rew), q_ref, atol=1e-13)
    # orm_bon@1: top-1 of N by R_out; with the true TMC base it is the theory's orm_bon exact law with k=1
    from tmc_theory.inference.orm_bon import exact_distribution as orm_exact

    cfg = inference_config(tmc, "orm_bon", 15, LAM, conventions)
    for task in tmc.tasks:
        rew = exact_rewards(tmc, reward_task(tmc, task, cfg), LAM)
        np.testing.assert_allclose(selector_distribution(tmc, "orm_bon@1", task, cfg, None, rew),
                                   orm_exact(tmc, task, cfg, k=1), atol=1e-13)


def _ts(tmc, n, rollouts="tmc", seed=0, m=15, task=0):
    return sample_training_set(tmc, tmc.tasks[task], _perturbed_joint(tmc), n, m, np.random.default_rng(seed),
                               rollouts)


def test_learned_orm_converges_to_population_R_out():
    """R_hat -> E_C[R(o; C)] = R_out(o), within binomial noise, and the error shrinks with n; the sampler (here a
    perturbed stand-in for the TMC-LM) does not bias it because C is drawn independently of the path."""
    tmc = paper_tmc()
    r = exact.r_out(tmc, tmc.tasks[0], tmc.enumerate_paths())
    errs = []
    for n in (2_000, 200_000):
        ts = _ts(tmc, n, m=1)
        est = fit_orm_tabular(len(r), ts, prior_strength=1.0)
        n_o = np.bincount(ts.sol_idx, minlength=len(r))
        seen = n_o > 50
        tol = 5 * np.sqrt(r * (1 - r) / np.maximum(n_o, 1)) + 2.0 / np.maximum(n_o, 1)
        assert np.all(np.abs(est - r)[seen] <= tol[seen])
        errs.append(float(np.sum(np.abs(est - r) * tmc_path_probs(tmc, None))))
    assert errs[1] < errs[0] / 3 and errs[1] < 2e-3


def test_orm_prior_is_the_documented_beta_posterior_mean():
    ts = TrainingSet(np.array([0, 0, 0, 1]), np.array([1.0, 1.0, 0.0, 0.0]), [], [])
    g = 0.5
    est = fit_orm_tabular(3, ts, prior_strength=2.0)
    np.testing.assert_allclose(est, [(2 + 2 * g) / (3 + 2), (0 + 2 * g) / (1 + 2), g])
    np.testing.assert_allclose(fit_orm_tabular(3, ts, prior_strength=0.0), [2 / 3, 0.0, g])


def test_learned_prm_converges_to_V_and_h():
    """Rollouts from the true TMC: V_hat (either terminal) -> V; h_hat with the learned ORM inside the exponential
    -> h; h_hat with 0/1 instance labels -> 1 + (e^lam - 1) V, which is NOT h (the documented limit; lam = 2 here
    so that the gap between the two limits is far above the sampling noise)."""
    lam = 2.0
    tmc = paper_tmc()
    task = tmc.tasks[0]
    ex = exact_rewards(tmc, task, lam)
    errs = {}
    for n in (1_000, 30_000):
        ts = _ts(tmc, n, "tmc")
        orm = fit_orm_tabular(len(ex.r), ts, 1.0)
        lab = fit_prm(tmc, ts, lam, 1.0, None)
        via = fit_prm(tmc, ts, lam, 1.0, orm)
        e = {"V_label": 0.0, "V_orm": 0.0, "h_orm": 0.0, "h_label_vs_affine": 0.0, "h_label_vs_h": 0.0}
        for j in range(1, tmc.n_layers):   # prefixes from the task's start (the walkers' queries), relative errors
            pre = _all_prefixes(tmc, j + 1)
            pi = prefix_index(tmc, pre[pre[:, 0] == task.start])
            aff = 1 + (np.exp(lam) - 1) * ex.V[j][pi]
            e["V_label"] = max(e["V_label"], np.abs(lab.V[j][pi] - ex.V[j][pi]).max())
            e["V_orm"] = max(e["V_orm"], np.abs(via.V[j][pi] - ex.V[j][pi]).max())
            e["h_orm"] = max(e["h_orm"], (np.abs(via.h[j][pi] - ex.h[j][pi]) / ex.h[j][pi]).max())
            e["h_label_vs_affine"] = max(e["h_label_vs_affine"], (np.abs(lab.h[j][pi] - aff) / aff).max())
            e["h_label_vs_h"] = max(e["h_label_vs_h"], (np.abs(lab.h[j][pi] - ex.h[j][pi]) / ex.h[j][pi]).max())
        errs[n] = e
    big, small = errs[30_000], errs[1_000]
    assert big["V_label"] < 0.02 and big["V_orm"] < 0.02 and big["h_orm"] < 0.05 and big["h_label_vs_affine"] < 0.02
    for k in ("V_label", "V_orm", "h_orm", "h_label_vs_affine"):
        assert big[k] < small[k]
    assert big["h_label_vs_h"] > 5 * big["h_orm"]       # instance labels inside exp(): not the paper's h


def test_learned_prm_with_lm_rollouts_converges_to_the_lm_continuation_value():
    """rollouts='tmclm': V_hat -> E_{cont ~ LM}[R_out | prefix] (tree_values with the LM's joint law)."""
    tmc = paper_tmc()
    task = tmc.tasks[0]
    q = _perturbed_joint(tmc)
    target = tree_values(tmc, exact.r_out(tmc, task, tmc.enumerate_paths()), q)
    ts = _ts(tmc, 30_000, "tmclm")
    lab = fit_prm(tmc, ts, LAM, 1.0, None)
    for j in (1, 2):
        pre = _all_prefixes(tmc, j + 1)
        pi = prefix_index(tmc, pre[pre[:, 0] == task.start])
        np.testing.assert_allclose(lab.V[j][pi], target[j][pi], atol=0.02)


def test_logistic_orm_recovers_a_logistic_truth():
    tmc = paper_tmc()
    X = edge_features(tmc)
    rng = np.random.default_rng(0)
    w = rng.normal(0, 1.0, X.shape[1])
    p = 1 / (1 + np.exp(-(X @ w - 0.5)))
    n = 200_000
    idx = rng.integers(0, len(p), n)
    y = (rng.random(n) < p[idx]).astype(float)
    est = fit_orm_logistic(tmc, TrainingSet(idx, y, [], []), l2=0.0)
    np.testing.assert_allclose(est, p, atol=0.02)


def test_logistic_on_one_hot_path_features_is_the_tabular_mle():
    """With one feature per path (saturated model) and no penalty the logistic ORM is the per-path label mean, for
    any per-path correct rate (here random ones, which edge features cannot represent): the ``head`` ORM's code
    path (``X`` given) fits what it is handed."""
    tmc = paper_tmc()
    rng = np.random.default_rng(4)
    P = len(tmc.enumerate_paths())
    p = rng.uniform(0.1, 0.9, P)
    idx = rng.integers(0, P, 100_000)
    ts = TrainingSet(idx, (rng.random(len(idx)) < p[idx]).astype(float), [], [])
    est = fit_orm_logistic(tmc, ts, l2=0.0, X=np.eye(P))
    np.testing.assert_allclose(est, fit_orm_tabular(P, ts, prior_strength=0.0), atol=2e-3)


def test_oracle_rewards_are_the_instance_indicator():
    tmc = paper_tmc()
    inst = draw_instances(tmc, "TASK1", 30, np.random.default_rng(0))
    M = instance_matrix(tmc, inst)
    paths = tmc.enumerate_paths()
    for i in range(30):
        correct = {tuple(p) for p in inst.valid_paths[inst.in_C[i]]}
        assert [float(tuple(p) in correct) for p in paths] == M[i].tolist()
    orc = oracle_rewards(tmc, inst, LAM)
    ex = exact_rewards(tmc, "TASK1", LAM)
    # the population average of the instance rewards over many instances is the population reward
    many = oracle_rewards(tmc, draw_instances(tmc, "TASK1", 20_000, np.random.default_rng(1)), LAM)
    np.testing.assert_allclose(many.V[1].mean(axis=0), ex.V[1], atol=0.01)
    assert orc.r.shape == (30, len(paths))


def test_metrics_and_the_consistency_bias():
    """Population rewards cannot see the instance: their easy share on instances whose easy path is wrong equals
    their unconditional easy share; the oracle PRM-BoN never returns the easy path there when C has a correct
    path. metrics() against a direct loop."""
    tmc = paper_tmc()
    task = tmc.tasks[0]
    inst = draw_instances(tmc, task, 300, np.random.default_rng(2))
    M = instance_matrix(tmc, inst)
    cfg = inference_config(tmc, "prm_bon", 15, LAM, "textbook")
    q_ex = selector_distribution(tmc, "prm_bon", task, cfg, None, exact_rewards(tmc, task, LAM))
    q_or = selector_distribution(tmc, "prm_bon", task, cfg, None, oracle_rewards(tmc, inst, LAM))
    m_ex, _, _, wrong = metrics(tmc, task, q_ex, M)
    m_or, acc_or, _, _ = metrics(tmc, task, q_or, M)
    easy = tmc.classify(tmc.enumerate_paths(), task) == 0
    assert m_ex["easy_when_wrong"] == pytest.approx(m_ex["easy"]) and m_ex["easy"] == pytest.approx(1.0)
    nonempty_wrong = wrong & (M.sum(axis=1) > 0)
    assert nonempty_wrong.any()
    assert np.all(q_or[nonempty_wrong][:, easy].sum(axis=1) == 0)
    assert np.all(acc_or[M.sum(axis=1) > 0] == pytest.approx(1.0))
    # direct loop
    loop_acc = np.mean([sum(q_or[i, o] * M[i, o] for o in range(M.shape[1])) for i in range(len(M))])
    assert m_or["acc"] == pytest.approx(loop_acc)
    assert m_or["acc"] > m_ex["acc"]


def test_bad_bon_config_is_one_clear_error():
    with pytest.raises(ConfigError, match="bon.n_train"):
        LearnedBonConfig(n_train=[0, 10])
    with pytest.raises(ConfigError, match="rollouts"):
        sample_training_set(paper_tmc(), paper_tmc().tasks[0], tmc_path_probs(paper_tmc(), None), 5, 2,
                            np.random.default_rng(0), "policy")


def test_cli_tiny_end_to_end(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from harness.cli import main

    sets = ["model.hidden_size=16", "model.num_hidden_layers=1", "model.num_attention_heads=2",
            "model.num_key_value_heads=1", "model.intermediate_size=32", "pretrain.steps=30",
            "pretrain.batch_size=64", "pretrain.warmup_steps=5", "pretrain.log_every=0", "bon.n_train=[5,40]",
            "bon.seeds=2", "bon.n_test_instances=20", "bon.bootstrap=50", "threads=1"]
    argv = ["tmclm-bon", "--out", str(tmp_path), "--quiet", "--no-plots"]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert max(v["max_abs_diff"] for v in res["consistency_check"].values()) < 1e-12
    rec = res["tasks"]["TASK1"]["selectors"]["prm_bon"]
    assert set(rec) >= {"exact", "oracle", "mc_label", "mc_orm", "logit", "head"}
    assert set(rec["mc_label"]["by_n"]) == {"5", "40"}
    assert (tmp_path / "table.md").read_text().count("| prm_bon |") >= 5


def test_prm_counts_a_rollout_only_from_its_start_prefix_on():
    """fit_prm on a hand-built training set: a rollout from prefix length j labels the prefixes of length >= j of
    its path (not the shorter ones, whose step came from the solution sampler); c = 0 is the plain mean with the
    parent as fallback; c = 1 shrinks to the parent (module docstring)."""
    tmc = paper_tmc()
    paths = [tuple(p) for p in tmc.enumerate_paths()]
    ix = {p: i for i, p in enumerate(paths)}
    ts = TrainingSet(np.array([ix[(0, 0, 0, 0)]]), np.array([0.0]),
                     [np.array([[ix[(0, 1, 1, 0)]]]), np.array([[ix[(0, 0, 1, 0)]]]), np.array([[ix[(0, 0, 0, 1)]]])],
                     [np.array([[1.0]]), np.array([[1.0]]), np.array([[0.0]])])

    def v(rew, *pre):
        return rew.V[len(pre) - 1][prefix_index(tmc, np.array([pre]))[0]]

    plain = fit_prm(tmc, ts, LAM, prior_strength=0.0)
    assert v(plain, 0) == 1.0                 # only the rollout started at length 1
    assert v(plain, 0, 0) == 1.0 and v(plain, 0, 1) == 1.0
    assert v(plain, 0, 0, 0) == 0.0 and v(plain, 0, 0, 1) == 1.0
    assert v(plain, 0, 0, 0, 0) == 0.0 and v(plain, 0, 0, 0, 1) == 0.0
    assert v(plain, 1) == 0.5 and v(plain, 1, 0) == 0.5     # unseen: the pooled leaf mean (2 of 4), then parent
    assert plain.h[0][0] == pytest.approx(np.exp(LAM))
    shrunk = fit_prm(tmc, ts, LAM, prior_strength=1.0)
    assert v(shrunk, 0) == pytest.approx((1.0 + 0.5) / 2)
    assert v(shrunk, 0, 0) == pytest.approx((1.0 + v(shrunk, 0)) / 2)
