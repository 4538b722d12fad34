"""Exact DP quantities against brute-force path enumeration (and Monte Carlo for pass@K)."""

import itertools

import numpy as np
import pytest

from tmc_theory import exact
from tmc_theory.generate import random_tmc
from tmc_theory.tmc import paper_tmc


def _tmcs():
    return [paper_tmc(), random_tmc(depth=5, width=3, n_tasks=2, low_weight=0.3, seed=7)]


def brute_conditional(tmc, task, prefix, fn):
    """E[fn(R_out(o)) | prefix] by enumerating every continuation of ``prefix`` (true TMC)."""
    allp = tmc.enumerate_paths(prefix[0])
    match = np.all(allp[:, : len(prefix)] == np.array(prefix), axis=1)
    cont = allp[match]
    # conditional probability of the continuation given the prefix
    w = np.ones(len(cont))
    for l in range(len(prefix) - 1, tmc.n_layers - 1):
        w *= tmc.kernels[l][cont[:, l], cont[:, l + 1]]
    r = exact.r_out(tmc, task, cont)
    return float((w * fn(r)).sum())


@pytest.mark.parametrize("ti", [0, 1])
def test_V_and_h_against_enumeration(ti):
    tmc = _tmcs()[ti]
    for task in tmc.tasks:
        for length in range(1, tmc.n_layers + 1):
            prefixes = np.array(list(itertools.product(*[range(w) for w in tmc.widths[:length]])))
            V = exact.prm_potential(tmc, task, prefixes)
            for lam in (0.5, 4.0):
                h = exact.doob_h(tmc, task, prefixes, lam)
                for p, v, hh in zip(prefixes, V, h):
                    assert v == pytest.approx(brute_conditional(tmc, task, p, lambda r: r), abs=1e-14)
                    assert hh == pytest.approx(brute_conditional(tmc, task, p, lambda r: np.exp(lam * r)),
                                               rel=1e-13)
    # R_DPRM -> V as lam -> 0, and the full path potential equals R_out
    pre = tmc.enumerate_paths()
    np.testing.assert_allclose(exact.prm_potential(tmc, tmc.tasks[0], pre), exact.r_out(tmc, tmc.tasks[0], pre))
    np.testing.assert_allclose(exact.rdprm(tmc, tmc.tasks[0], pre[:, :2], 1e-7),
                               exact.prm_potential(tmc, tmc.tasks[0], pre[:, :2]), atol=1e-7)


def test_marginals_distribution_entropy_coverage():
    rng = np.random.default_rng(0)
    tmc = _tmcs()[1]
    ks = [rng.dirichlet(np.ones(k.shape[1]), size=k.shape[0]) for k in tmc.kernels]
    sd = rng.dirichlet(np.ones(tmc.widths[0]))
    paths, p = exact.path_distribution(ks, sd)
    np.testing.assert_array_equal(paths, tmc.enumerate_paths())
    np.testing.assert_allclose(p, sd[paths[:, 0]] * tmc.path_prob(paths, ks))
    marg = exact.state_marginals(ks, sd)
    for l in range(tmc.n_layers):
        np.testing.assert_allclose(marg[l], np.bincount(paths[:, l], weights=p, minlength=tmc.widths[l]))
    assert exact.path_entropy(ks, sd) == pytest.approx(float(-(p * np.log(p)).sum()), rel=1e-12)
    for task in tmc.tasks:
        cov = exact.coverage(tmc, task, ks, sd)
        ref = exact.coverage_of_distribution(tmc, task, p)
        for k in cov:
            assert cov[k] == pytest.approx(ref[k], abs=1e-13)


def brute_pass(tmc, task, q, K):
    """E_C[1 - (1 - q(C))^K] by enumerating every subset C of the valid paths."""
    allp = tmc.enumerate_paths()
    valid = np.flatnonzero((allp[:, 0] == task.start) & (allp[:, -1] == task.target))
    r = exact.r_out(tmc, task, allp[valid])
    tot = 0.0
    for bits in itertools.product([0, 1], repeat=len(valid)):
        b = np.array(bits, bool)
        pc = np.prod(np.where(b, r, 1 - r))
        tot += pc * (1 - (1 - q[valid][b].sum()) ** K)
    return tot


@pytest.mark.parametrize("ti", [0, 1])
def test_expected_pass_at_k_against_subset_enumeration(ti):
    tmc = [paper_tmc(), random_tmc(depth=4, width=3, n_tasks=3, low_weight=0.3, seed=7)][ti]
    if ti == 1:   # 9 valid paths per task -> 512 subsets
        assert len(tmc.enumerate_paths(0)) // tmc.widths[-1] == 9
    rng = np.random.default_rng(ti)
    q = rng.dirichlet(np.ones(len(tmc.enumerate_paths())) * 0.5)
    for task in tmc.tasks:
        ks = [1, 2, 7, 30]
        got = exact.expected_pass_at_k(tmc, task, q, ks)
        for K, g in zip(ks, got):
            assert g == pytest.approx(brute_pass(tmc, task, q, K), rel=1e-11, abs=1e-14)
        assert exact.expected_pass_at_k(tmc, task, q, 5) == pytest.approx(got[1] * 0 + brute_pass(tmc, task, q, 5))


def test_expected_pass_at_k_unnormalised_keeps_missing_mass_as_a_miss():
    """normalise=False: q sums to s < 1 and the rest is an outcome that is never correct. Brute force: append
    that outcome as an extra (never valid) path and enumerate every instance set."""
    tmc = paper_tmc()
    rng = np.random.default_rng(3)
    q = rng.dirichlet(np.ones(len(tmc.enumerate_paths()))) * 0.7
    for task in tmc.tasks:
        got = exact.expected_pass_at_k(tmc, task, q, [1, 4, 16], normalise=False)
        ref = [brute_pass(tmc, task, q, K) for K in (1, 4, 16)]  # brute_pass never renormalises
        np.testing.assert_allclose(got, ref, rtol=1e-11)
        norm = exact.expected_pass_at_k(tmc, task, q, [1, 4, 16])
        np.testing.assert_allclose(norm, [brute_pass(tmc, task, q / q.sum(), K) for K in (1, 4, 16)], rtol=1e-11)
        assert np.all(got < norm)  # the missing 30 % only ever misses
    with pytest.raises(exact.TMCError, match="sum to <= 1"):
        exact.expected_pass_at_k(tmc, tmc.tasks[0], q / 0.5, 2, normalise=False)


def test_expected_pass_at_k_monte_carlo_and_large_k():
    tmc = paper_tmc()
    task = tmc.task("TASK1")
    paths, q = exact.path_distribution(tmc.kernels, np.array([0.5, 0.5]))
    rng = np.random.default_rng(0)
    n = 20000
    r = exact.r_out(tmc, task, paths)
    inC = rng.random((n, len(paths))) < r[None, :]
    K = 10
    draws = rng.choice(len(paths), size=(n, K), p=q)
    mc = np.mean(np.take_along_axis(inC, draws, axis=1).any(axis=1))
    ex = exact.expected_pass_at_k(tmc, task, q, K)
    assert abs(mc - ex) < 4 * np.sqrt(ex * (1 - ex) / n)
    # monotone in K and bounded by P(C meets the support) for huge K (no cancellation at K = 256)
    curve = exact.expected_pass_at_k(tmc, task, q, np.arange(1, 257))
    assert np.all(np.diff(curve) >= -1e-15) and curve[-1] <= 1 - np.prod(1 - r[q > 0]) + 1e-12
    assert curve[-1] == pytest.approx(brute_pass(tmc, task, q, 256), rel=1e-10)


def test_pass_at_k_given_instances():
    q = np.array([0.5, 0.2, 0.0])
    inC = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], bool)
    got = exact.pass_at_k_given_instances(q, inC, [1, 3])
    np.testing.assert_allclose(got, [(0.5 + 0.2) / 3, (1 - 0.5 ** 3 + 1 - 0.8 ** 3) / 3])
