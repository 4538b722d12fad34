"""Inference-time selectors: qualitative claims of the paper, Monte-Carlo samplers vs exact distributions."""

import numpy as np
import pytest

from tmc_theory import exact
from tmc_theory.generate import random_tmc
from tmc_theory.inference import base, dprm_as, dprm_bon, orm_bon, prm_bon, soft_bon
from tmc_theory.inference.common import InferenceConfig
from tmc_theory.tmc import paper_tmc

PAPER = {"reward_task": "TASK1"}          # the paper's convention: TASK1 rewards for every task
UNIFORM = {"reward_task": "TASK1", "start": "uniform"}


def cov(tmc, task, mod, **kw):
    return exact.coverage_of_distribution(tmc, task, mod.exact_distribution(tmc, task, InferenceConfig(**kw)))


def mc_cov(tmc, task, mod, n_sets, k, seed=0, **kw):
    paths = mod.sample_batch(tmc, task, InferenceConfig(**kw), n_sets, k, np.random.default_rng(seed))
    cls = tmc.classify(paths.reshape(-1, tmc.n_layers), task)
    return {lab: float(np.mean(cls == i)) for i, lab in enumerate(("easy", "hard", "invalid"))}


def test_prm_and_dprm_bon_mostly_easy_on_task1():
    t = paper_tmc()
    for mod in (prm_bon, dprm_bon):
        assert cov(t, "TASK1", mod, **PAPER)["easy"] > 0.95
        assert mc_cov(t, "TASK1", mod, 200, 30, **PAPER)["easy"] > 0.95   # fresh 15-continuation estimates
        # TASK2 scored with TASK1 rewards: every potential is 0 -> uniform random walk
        c = cov(t, "TASK2", mod, **PAPER)
        assert c == pytest.approx({"easy": 0.125, "hard": 0.375, "invalid": 0.5})


def test_hard_mass_ordering_dprm_as_soft_bon_base():
    t = paper_tmc()
    for task in ("TASK1", "TASK2"):
        h_as = cov(t, task, dprm_as, **PAPER)["hard"]
        h_soft = cov(t, task, soft_bon, **UNIFORM)["hard"]
        h_base = cov(t, task, base, **UNIFORM)["hard"]
        assert h_as > h_soft > h_base
        m_as = mc_cov(t, task, dprm_as, 200, 30, **PAPER)["hard"]
        m_soft = mc_cov(t, task, soft_bon, 200, 30, **UNIFORM)["hard"]
        m_base = mc_cov(t, task, base, 200, 30, **UNIFORM)["hard"]
        assert m_as > m_soft > m_base


def _tv(p, q):
    return 0.5 * np.abs(p - q).sum()


def _empirical(tmc, paths):
    ids = np.ravel_multi_index(paths.reshape(-1, tmc.n_layers).T, tmc.widths)
    return np.bincount(ids, minlength=int(np.prod(tmc.widths))) / ids.size


@pytest.mark.parametrize("mod", [base, soft_bon, orm_bon, prm_bon, dprm_bon, dprm_as])
@pytest.mark.parametrize("conv", [{}, UNIFORM])
def test_sampler_matches_exact_distribution(mod, conv):
    """Monte-Carlo sampler with EXACT reward-model values == exact distribution (TV within MC noise)."""
    # Soft-BoN's exact subset programme needs <= 22 paths: use the paper's 16-path instance for it
    t = paper_tmc() if mod is soft_bon else random_tmc(depth=4, width=3, n_tasks=2, low_weight=0.3, seed=2)
    cfg = InferenceConfig(estimator="exact", **conv)
    for task in t.tasks:
        kw = {"k": 10} if mod is orm_bon else {}     # ORM-BoN returns the top 10 of N = 15
        p = mod.exact_distribution(t, task, cfg, **kw)
        assert p.sum() == pytest.approx(1.0)
        emp = _empirical(t, mod.sample_batch(t, task, cfg, 2000, 10, np.random.default_rng(1)))
        assert _tv(p, emp) < 0.03


def test_orm_bon_top_k_smaller_than_n_exact_vs_mc():
    t = paper_tmc()
    cfg = InferenceConfig(reward_task="TASK1", start="uniform", n_candidates=6)
    for task in t.tasks:
        p = orm_bon.exact_distribution(t, task, cfg, k=2)
        paths = orm_bon.sample_batch(t, task, cfg, 40000, 2, np.random.default_rng(0))
        assert paths.shape == (40000, 2, 4)
        assert _tv(p, _empirical(t, paths)) < 0.01
    # K >= N: every base sample returned (ORM-BoN coverage = base coverage)
    assert orm_bon.sample(t, "TASK1", cfg, 30, np.random.default_rng(0)).shape == (6, 4)
    np.testing.assert_allclose(orm_bon.exact_distribution(t, "TASK1", cfg, k=30),
                               base.exact_distribution(t, "TASK1", cfg))


def _literal_soft_bon_sets(q, n, reps, rng):
    """The paper's loop: draw i.i.d. until n DISTINCT items, return the sets (frozensets)."""
    out = []
    for _ in range(reps):
        seen = set()
        while len(seen) < n:
            seen.update(rng.choice(len(q), size=n - len(seen), p=q).tolist())
        out.append(frozenset(seen))
    return out


def test_soft_bon_candidate_sets_dp_vs_literal_loop_and_race():
    q = np.array([0.4, 0.25, 0.2, 0.1, 0.04, 0.01])
    n = 3
    mem, ps = soft_bon.candidate_sets(q, n)
    assert ps.sum() == pytest.approx(1.0) and np.all(mem.sum(axis=1) == n)
    law = {frozenset(np.flatnonzero(m).tolist()): p for m, p in zip(mem, ps)}
    reps = 20000
    lit = _literal_soft_bon_sets(q, n, reps, np.random.default_rng(0))
    t = np.random.default_rng(1).standard_exponential((reps, len(q))) / q
    race = [frozenset(np.argsort(row)[:n].tolist()) for row in t]
    for S, p in law.items():
        se = np.sqrt(p * (1 - p) / reps)
        assert abs(np.mean([s == S for s in lit]) - p) < 5 * se + 1e-4
        assert abs(np.mean([s == S for s in race]) - p) < 5 * se + 1e-4


def test_dprm_as_textbook_doob_transform_is_sequence_tilt():
    """With the base factor, the walk p(c|s) h(prefix+c)/h(prefix) has law p(o) exp(lam R_out(o)) / Z."""
    t = random_tmc(depth=4, width=3, n_tasks=2, low_weight=0.3, seed=5)
    for task in t.tasks:
        cfg = InferenceConfig(base_factor=True, lam=2.0)
        p = dprm_as.exact_distribution(t, task, cfg)
        paths, base_p = exact.path_distribution(t.kernels, exact.start_distribution(3, task.start))
        ref = base_p * np.exp(2.0 * exact.r_out(t, task, paths))
        np.testing.assert_allclose(p, ref / ref.sum(), atol=1e-14)


def test_mc_estimates_are_fresh_and_unbiased():
    """Fresh 15-continuation estimates make some PRM-BoN walks take a hard edge (the paper's 0.87%); more
    continuations shrink the noise towards the exact walk (100% easy)."""
    t = paper_tmc()
    noisy = mc_cov(t, "TASK1", prm_bon, 400, 30, seed=3, reward_task="TASK1", n_mc=15)
    sharp = mc_cov(t, "TASK1", prm_bon, 400, 30, seed=3, reward_task="TASK1", n_mc=400)
    assert 0.002 < noisy["hard"] < 0.02
    assert sharp["hard"] < noisy["hard"]


@pytest.mark.parametrize("mod, conv", [(base, UNIFORM), (soft_bon, UNIFORM), (orm_bon, UNIFORM),
                                       (prm_bon, PAPER), (dprm_as, PAPER)])
def test_exact_pass_at_k_vs_monte_carlo(mod, conv):
    from tmc_theory.instances import draw_instances

    t = paper_tmc()
    cfg = InferenceConfig(estimator="exact", **conv)
    rng = np.random.default_rng(0)
    n = 3000
    for task in t.tasks:
        inst = draw_instances(t, task, n, rng)
        paths = mod.sample_batch(t, task, cfg, n, 30, rng)
        hit = inst.reward(paths.reshape(-1, 4), np.repeat(np.arange(n), paths.shape[1])).reshape(n, -1)
        mc = hit.max(axis=1).mean()
        ex = mod.exact_pass_at_k(t, task, cfg, 30)
        assert abs(mc - ex) < 4 * np.sqrt(ex * (1 - ex) / n) + 1e-3
