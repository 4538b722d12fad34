"""The TMC model: the paper's instance (path table, R_out), the random generator, pretraining, instances."""

import numpy as np
import pytest

from tmc_theory import exact
from tmc_theory.generate import random_tmc
from tmc_theory.instances import draw_instances, enumerate_valid_paths
from tmc_theory.pretrain import PretrainConfig, kl_to_tmc, pretrain
from tmc_theory.tmc import EASY, HARD, paper_tmc

# docs/tmc_model.md §1, published path table: (task, path, type, P(path | start), R_out)
PAPER_PATHS = [
    ("TASK1", (0, 0, 0, 0), EASY, 0.413223, 0.727995),
    ("TASK1", (0, 0, 1, 0), HARD, 0.075131, 0.132363),
    ("TASK1", (0, 1, 0, 0), HARD, 0.004132, 0.007280),
    ("TASK1", (0, 1, 1, 0), HARD, 0.075131, 0.132363),
    ("TASK2", (1, 0, 0, 1), EASY, 0.413223, 0.955691),
    ("TASK2", (1, 0, 1, 1), HARD, 0.007513, 0.017376),
    ("TASK2", (1, 1, 0, 1), HARD, 0.004132, 0.009557),
    ("TASK2", (1, 1, 1, 1), HARD, 0.007513, 0.017376),
]


def test_paper_kernels():
    t = paper_tmc()
    hi, lo = 1 / 1.1, 0.1 / 1.1
    np.testing.assert_allclose(t.kernels[0], [[hi, lo], [hi, lo]])
    np.testing.assert_allclose(t.kernels[1], [[hi, lo], [lo, hi]])
    np.testing.assert_allclose(t.kernels[2], [[0.5, 0.5], [hi, lo]])


@pytest.mark.parametrize("task, path, typ, p, r", PAPER_PATHS)
def test_paper_path_table(task, path, typ, p, r):
    t = paper_tmc()
    path = np.array([path])
    assert round(float(t.path_prob(path)[0]), 6) == p
    assert round(float(exact.r_out(t, task, path)[0]), 6) == r
    assert t.classify(path, task)[0] == typ


def test_paper_valid_paths_are_exactly_the_table():
    t = paper_tmc()
    for task in t.tasks:
        vp = enumerate_valid_paths(t, task)
        assert sorted(map(tuple, vp)) == sorted(p[1] for p in PAPER_PATHS if p[0] == task.name)
        np.testing.assert_allclose(exact.r_out(t, task, vp).sum(), 1.0)
        # every other path is invalid with R_out = 0
        allp = t.enumerate_paths()
        inv = t.classify(allp, task) == 2
        assert np.all(exact.r_out(t, task, allp[inv]) == 0)


def test_random_tmc_structure():
    t = random_tmc(depth=6, width=4, n_tasks=3, high_weight=1.0, low_weight=0.2, c_size=1, seed=3)
    assert t.n_layers == 6 and t.widths == [4] * 6
    for k in t.kernels:
        np.testing.assert_allclose(k.sum(axis=1), 1.0)
    for i, task in enumerate(t.tasks):
        assert (task.start, task.target) == (i, i)
        easy = np.array([[i] + [0] * 4 + [i]])       # shared states: easy path through state 0
        assert t.path_is_easy(easy)[0]
    # state 0 of the last hidden layer is forced towards all three targets -> three high children
    assert t.high[-1][0].sum() == 3
    # free states get exactly c_size high children
    assert all(h[1:].sum(axis=1).max() <= 1 for h in t.high[1:-1])
    # same seed -> same instance, other seed -> (almost surely) another
    assert all(np.array_equal(a, b) for a, b in zip(t.high, random_tmc(6, 4, 3, 1.0, 0.2, 1, seed=3).high))


def test_random_tmc_unshared_and_weights():
    t = random_tmc(depth=4, width=3, n_tasks=2, c_size=1, seed=0, shared_states=False, low_weight=0.1)
    assert t.path_is_easy(np.array([[0, 0, 0, 0], [1, 1, 1, 1]])).all()
    assert all(h.sum(axis=1).max() == 1 for h in t.high)     # no conflicts without shared states
    np.testing.assert_allclose(np.sort(t.kernels[0][0]), [0.1 / 1.2, 0.1 / 1.2, 1 / 1.2])


def test_pretrain_sgd_close_to_tmc_and_exact_equal():
    t = paper_tmc()
    pol = pretrain(t, PretrainConfig(), np.random.default_rng(0))
    kl = kl_to_tmc(t, pol)
    assert 0 < kl < 0.02          # docs/tmc_model.md §3: KL about 0.004
    ex = pretrain(t, PretrainConfig(method="exact"))
    for a, b in zip(ex.kernels(), t.kernels):
        np.testing.assert_allclose(a, b, atol=1e-12)
    # fewer steps -> further from the TMC
    short = pretrain(t, PretrainConfig(phases=[(50, 0.05)]), np.random.default_rng(0))
    assert kl_to_tmc(t, short) > kl


def test_instances_frequencies_and_reward():
    t = paper_tmc()
    task = t.task("TASK1")
    inst = draw_instances(t, task, 4000, np.random.default_rng(1))
    assert len(inst) == 4000
    freq = inst.in_C.mean(axis=0)
    se = np.sqrt(inst.r_out * (1 - inst.r_out) / 4000)
    assert np.all(np.abs(freq - inst.r_out) < 5 * se + 1e-9)
    # reward: 1 iff the path is valid and in C; invalid paths never rewarded
    allp = t.enumerate_paths()
    for i in range(5):
        r = inst.reward(allp, i)
        expect = np.array([tuple(p) in {tuple(v) for v, c in zip(inst.valid_paths, inst.in_C[i]) if c} for p in allp])
        np.testing.assert_array_equal(r, expect.astype(float))
    r = inst.reward(allp[:3], np.array([0, 1, 2]))
    assert r.shape == (3,)
