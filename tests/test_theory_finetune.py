"""Fine-tuning methods: expected updates vs sampled ones, the closed-form tilt, qualitative claims.

The methods and their paper / textbook variants: docs/tmc_model.md §4."""

from __future__ import annotations

import numpy as np
import pytest

from tmc_core.config import ConfigError, from_dict
from tmc_theory.exact import coverage, path_distribution
from tmc_theory.finetune import common, grpo, grpo_kl, raft, rl_rej
from tmc_theory.finetune.run import FinetuneConfig, StepContext, finetune, policy_coverage
from tmc_theory.generate import random_tmc
from tmc_theory.instances import draw_instances
from tmc_theory.policy import TabularPolicy
from tmc_theory.registry import RegistryError, get_finetune_variant
from tmc_theory.tmc import paper_tmc


def _setup(seed=0, n_inst=40):
    tmc = random_tmc(depth=4, width=3, seed=seed, low_weight=0.3)
    task = tmc.tasks[0]
    rng = np.random.default_rng(seed)
    pol = TabularPolicy([np.log(k) + 0.3 * rng.standard_normal(k.shape) for k in tmc.kernels])
    inst = draw_instances(tmc, task, n_inst, rng)
    return tmc, task, pol, inst


def _delta(pol, fn, ctx, rng):
    p = pol.copy()
    fn(p, ctx, rng)
    return np.concatenate([(a - b).ravel() for a, b in zip(p.logits, pol.logits)]) / ctx.cfg.lr


@pytest.mark.parametrize("method,sampled,expected,extra", [
    ("reinforce", "paper", "expected", {}),
    ("raft", "paper", "expected", {}),
    ("rl_rej", "paper", "expected", {"rej_tries": 3}),
    ("ppo", "paper", "expected", {"ppo_eps": 0.0, "ppo_mc": 3}),   # eps = 0: update linear in the MC advantage
    ("grpo", "paper", "expected", {"group_size": 4}),
    ("raft", "textbook", "expected_textbook", {"group_size": 3}),
    ("ppo", "textbook", "expected_textbook", {"ppo_epochs": 1, "group_size": 2}),
    ("grpo_kl", "textbook", "expected_textbook", {"group_size": 4, "beta": 0.5}),
])
def test_expected_update_is_mean_of_sampled_updates(method, sampled, expected, extra):
    tmc, task, pol, inst = _setup()
    K, M = 8, 2500 if method != "ppo" else 800
    grouped = method == "grpo" or sampled == "textbook"  # batch_size instances x group_size samples each
    bs = M // 4 if grouped else M
    cfg_s = FinetuneConfig(method=method, variant=sampled, lr=1.0, batch_size=bs, instance_dist="empirical", **extra)
    cfg_e = FinetuneConfig(method=method, variant=expected, lr=1.0, instance_dist="empirical", **extra)
    ref = [k.copy() for k in pol.kernels()]
    ctx_s = StepContext(tmc, task, inst, cfg_s, ref)
    ctx_e = StepContext(tmc, task, inst, cfg_e, ref)
    rng = np.random.default_rng(1)
    fs = get_finetune_variant(method, sampled)
    samples = np.stack([_delta(pol, fs, ctx_s, rng) for _ in range(K)])
    exp = _delta(pol, get_finetune_variant(method, expected), ctx_e, None)
    mean, se = samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(K)
    assert np.abs(exp).max() > 1e-3  # a non-trivial update
    assert np.all(np.abs(mean - exp) <= 5 * se + 2e-3), (np.abs(mean - exp) / (se + 1e-12)).max()


def test_fast_runner_matches_expected_update():
    """The multi-step fast runners (used by finetune) follow the same mean update: tiny lr, many steps."""
    tmc, task, pol, inst = _setup(seed=2)
    for method, extra, n in (("reinforce", {}, 20000), ("rl_rej", {"rej_tries": 2}, 20000),
                             ("raft", {}, 20000), ("ppo", {"ppo_eps": 0.0, "ppo_mc": 2}, 4000)):
        lr = 1e-7
        cfg = FinetuneConfig(method=method, variant="paper", lr=lr, steps=n, instance_dist="empirical", **extra)
        out, _ = finetune(tmc, task, pol, inst, cfg, np.random.default_rng(5))
        d = np.concatenate([(a - b).ravel() for a, b in zip(out.logits, pol.logits)]) / (lr * n)
        cfg_e = FinetuneConfig(method=method, variant="expected", lr=1.0, instance_dist="empirical", **extra)
        e = _delta(pol, get_finetune_variant(method, "expected"),
                   StepContext(tmc, task, inst, cfg_e, pol.kernels()), None)
        scale = np.abs(e).max()
        assert np.abs(d - e).max() < 0.12 * scale + 0.01, (method, np.abs(d - e).max(), scale)


def test_population_reward_flow_matches_enumeration():
    tmc, task, pol, _ = _setup(seed=3)
    ks = pol.kernels()
    start = np.eye(tmc.widths[0])[task.start]
    paths, q = path_distribution(ks, start)
    r = common.r_out_paths(tmc, task, paths)
    N = common.reward_edge_flow(tmc, task, ks)
    for l in range(len(ks)):
        M = np.zeros_like(ks[l])
        np.add.at(M, (paths[:, l], paths[:, l + 1]), q * r)
        np.testing.assert_allclose(N[l], M, atol=1e-12)


@pytest.mark.parametrize("c", [rl_rej.g_coeffs(5), grpo.g_coeffs(6, "group", 1e-4), raft.g_coeffs(4)])
def test_set_weights_moment_route_equals_enumeration(c):
    rng = np.random.default_rng(4)
    q = rng.dirichlet(np.ones(11)) * 0.8
    pi = rng.random(11)
    enum = common.set_weights_population(q, pi, c, enumerate_max=20)
    mom = common.set_weights_population(q, pi, c, enumerate_max=0)
    np.testing.assert_allclose(mom, enum, rtol=1e-9, atol=1e-13)
    # and against brute-force Monte Carlo over random sets C (independent check of the definition)
    sets = rng.random((200000, 11)) < pi
    qc = sets @ q
    mc = (common.g_eval(c, qc)[:, None] * sets).mean(axis=0)
    np.testing.assert_allclose(enum, mc, atol=0.02 * np.abs(enum).max() + 1e-3)


def test_closed_form_tilt_maximises_kl_objective():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = rng.integers(2, 7)
        p = rng.dirichlet(np.ones(n))
        A = rng.standard_normal(n)
        beta = float(rng.uniform(0.2, 3.0))
        q = grpo_kl.tilt(p, A, beta)
        best = grpo_kl.kl_objective(q, p, A, beta)
        for _ in range(50):
            pert = np.clip(q + 0.05 * rng.standard_normal(n) * q, 1e-12, None)
            pert /= pert.sum()
            assert grpo_kl.kl_objective(pert, p, A, beta) <= best + 1e-12
        # and the closed-form value: beta * log Z
        assert best == pytest.approx(beta * np.log((p * np.exp(A / beta)).sum()), rel=1e-9)


def test_sequence_tilt_beats_per_step_tilt_on_the_sequence_objective():
    tmc = paper_tmc()
    t1 = tmc.tasks[0]
    base = TabularPolicy.from_kernels(tmc.kernels)
    start = np.eye(2)[t1.start]
    paths, p = path_distribution(base.kernels(), start)
    A = 0.5 * common.r_out_paths(tmc, t1, paths)
    seq = grpo_kl.sequence_tilt_distribution(tmc, t1, base.kernels(), 0.5, 1.0)
    step = grpo_kl.TiltedPolicy(base.logits, tmc, 0.5, 1.0, 0).path_distribution(t1)
    keep = p > 0

    def obj(q):
        return grpo_kl.kl_objective(q[keep], p[keep], A[keep], 1.0)

    assert obj(seq) >= obj(step) - 1e-12
    rng = np.random.default_rng(0)
    for _ in range(30):
        pert = seq[keep] * np.exp(0.1 * rng.standard_normal(keep.sum()))
        full = np.zeros_like(seq)
        full[keep] = pert / pert.sum()
        assert obj(full) <= obj(seq) + 1e-12


@pytest.fixture(scope="module")
def paper_results():
    """Exact (expected-variant) fine-tuning on the paper's instance, exact pretraining, exact coverage."""
    tmc = paper_tmc()
    t1, t2 = tmc.tasks
    inst = draw_instances(tmc, t1, 200, np.random.default_rng(0))
    base = TabularPolicy.from_kernels(tmc.kernels)
    out = {"base": (coverage(tmc, t1, base.kernels(), np.eye(2)[0]), coverage(tmc, t2, base.kernels(), np.eye(2)[1])),
           "base_uniform": (coverage(tmc, t1, base.kernels(), np.full(2, 0.5)),)}
    for m in ("reinforce", "raft", "ppo", "rl_rej", "grpo_kl"):
        pol, _ = finetune(tmc, t1, base, inst, FinetuneConfig(method=m, variant="expected"), np.random.default_rng(0))
        out[m] = (policy_coverage(pol, tmc, t1), policy_coverage(pol, tmc, t2))
    return out


@pytest.mark.parametrize("m", ["reinforce", "raft", "ppo"])
def test_squeezing_methods_lose_hard_mass_and_forget_task2(paper_results, m):
    (c1, c2), (b1, b2) = paper_results[m], paper_results["base"]
    assert c1["hard"] < 0.5 * b1["hard"]       # rare correct CoTs squeezed out (paper: 3.4 / 2.3 / 5.4 vs base)
    assert c1["easy"] > 0.85                   # probability piles onto the easy CoT
    assert c2["easy"] < 0.1 * b2["easy"]       # TASK2's easy path collapses (shared state S3[0])


def test_rl_rej_and_grpo_kl_preserve_hard_mass(paper_results):
    b1 = paper_results["base"][0]
    bu = paper_results["base_uniform"][0]
    # RL-rej keeps TASK1 hard mass at least at the base model's level (same start state)
    assert paper_results["rl_rej"][0]["hard"] >= b1["hard"]
    # GRPO-KL: at least the paper's Base Model row (uniform start), and far above the squeezing methods.
    # (Against the base sampled from TASK1's start the exact tilt is slightly lower: ~13.8% vs 15.4%.)
    assert paper_results["grpo_kl"][0]["hard"] >= bu["hard"]
    assert paper_results["grpo_kl"][0]["hard"] > 3 * paper_results["reinforce"][0]["hard"]
    for m in ("rl_rej", "grpo_kl"):  # and TASK2's easy path survives
        assert paper_results[m][1]["easy"] > 0.5 * paper_results["base"][1]["easy"]


def test_unknown_method_or_variant_lists_allowed_names():
    with pytest.raises(RegistryError, match="allowed: .*reinforce.*grpo_kl"):
        get_finetune_variant("reinforc", "paper")
    with pytest.raises(RegistryError, match="allowed: paper, expected"):
        get_finetune_variant("reinforce", "textbook")
    with pytest.raises(ConfigError, match="method.*allowed values: reinforce, raft"):
        from_dict(FinetuneConfig, {"method": "dpo"}, "cfg.yaml")
    with pytest.raises(ConfigError, match="variant.*allowed values: paper, expected, textbook"):
        from_dict(FinetuneConfig, {"variant": "exact"}, "cfg.yaml")
    with pytest.raises(ConfigError, match="group_size"):
        FinetuneConfig(group_size=1)


def test_expected_textbook_grpo_refuses_multi_epoch():
    tmc, task, pol, inst = _setup()
    cfg = FinetuneConfig(method="grpo", variant="expected_textbook", grpo_epochs=2, steps=1)
    with pytest.raises(common.FinetuneError, match="grpo_epochs"):
        finetune(tmc, task, pol, inst, cfg, np.random.default_rng(0))


def test_history_and_tilted_policy_interface():
    tmc = paper_tmc()
    t1 = tmc.tasks[0]
    inst = draw_instances(tmc, t1, 20, np.random.default_rng(0))
    base = TabularPolicy.from_kernels(tmc.kernels)
    cfg = FinetuneConfig(method="reinforce", variant="expected", steps=50)
    pol, hist = finetune(tmc, t1, base, inst, cfg, np.random.default_rng(0), eval_every=20,
                         eval_fn=lambda s, p: {"easy": policy_coverage(p, tmc, t1)["easy"]})
    assert [h["step"] for h in hist] == [0, 20, 40, 50]
    assert hist[-1]["easy"] > hist[0]["easy"]
    assert base.logits[0][0, 0] == TabularPolicy.from_kernels(tmc.kernels).logits[0][0, 0]  # input untouched
    tp, _ = finetune(tmc, t1, base, inst, FinetuneConfig(method="grpo_kl"), np.random.default_rng(0))
    with pytest.raises(TypeError, match="not a Markov kernel"):
        tp.kernels()
    q = tp.path_distribution(t1)
    assert q.sum() == pytest.approx(1.0)
    paths = tp.sample(t1, 4000, np.random.default_rng(1))  # MC-tilt sampler close to the exact-V tilt
    emp = np.bincount(paths @ np.array([8, 4, 2, 1]), minlength=16) / 4000
    assert np.abs(emp - q).max() < 0.05


@pytest.mark.parametrize("method,variant", [("reinforce", "expected"), ("raft", "expected"), ("ppo", "expected"),
                                            ("rl_rej", "expected"), ("grpo", "expected"),
                                            ("raft", "expected_textbook")])
def test_fast_expected_runner_equals_step_function(method, variant):
    """finetune() uses padded multi-step runners for the expected dynamics; they must equal the plain steps."""
    tmc, task, pol, inst = _setup(seed=6)
    cfg = FinetuneConfig(method=method, variant=variant, steps=30, lr=0.2, group_size=4)
    fast, _ = finetune(tmc, task, pol, inst, cfg, np.random.default_rng(0))
    fn = get_finetune_variant(method, variant)
    assert hasattr(fn, "run")
    slow = pol.copy()
    ctx = StepContext(tmc, task, inst, cfg, pol.kernels())
    for _ in range(cfg.steps):
        fn(slow, ctx, None)
    for a, b in zip(fast.logits, slow.logits):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    assert max(np.abs(a - b).max() for a, b in zip(fast.logits, pol.logits)) > 1e-3


def test_paper_variants_show_the_same_qualitative_picture():
    """The stochastic paper-faithful updates (seeded): squeezing + forgetting for REINFORCE/RAFT/PPO; RL-rej and
    the MC GRPO-KL tilt keep several times more TASK1 hard mass (means over 3 seeds)."""
    tmc = paper_tmc()
    t1, t2 = tmc.tasks
    base = TabularPolicy.from_kernels(tmc.kernels)
    b1, b2 = coverage(tmc, t1, base.kernels(), np.eye(2)[0]), coverage(tmc, t2, base.kernels(), np.eye(2)[1])
    res = {}
    for m in ("reinforce", "raft", "ppo", "rl_rej", "grpo_kl"):
        hard, easy2 = [], []
        for seed in range(3):
            inst = draw_instances(tmc, t1, 200, np.random.default_rng(10 + seed))
            pol, _ = finetune(tmc, t1, base, inst, FinetuneConfig(method=m), np.random.default_rng(seed))
            if m == "grpo_kl":  # the MC tilt: estimate by sampling (fresh 15-continuation estimates)
                paths = pol.sample(t1, 3000, np.random.default_rng(seed))
                hard.append(np.mean(tmc.classify(paths, t1) == 1))
                paths = pol.sample(t2, 3000, np.random.default_rng(seed))
                easy2.append(np.mean(tmc.classify(paths, t2) == 0))
            else:
                hard.append(policy_coverage(pol, tmc, t1)["hard"])
                easy2.append(policy_coverage(pol, tmc, t2)["easy"])
        res[m] = (np.mean(hard), np.mean(easy2))
    for m in ("reinforce", "raft", "ppo"):
        assert res[m][0] < 0.6 * b1["hard"] and res[m][1] < 0.1 * b2["easy"], (m, res[m])
    for m in ("rl_rej", "grpo_kl"):
        assert res[m][0] > 2 * res["reinforce"][0] and res[m][1] > 0.5 * b2["easy"], (m, res[m])
