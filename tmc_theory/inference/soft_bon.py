"""Soft-BoN (docs/tmc_model.md §5): N distinct base samples, resampled prop. to ``exp(lam R_out)``.

Paper procedure, per call: draw base paths (true TMC, uniform start under the paper's convention) discarding
duplicates until ``N = 15`` DISTINCT paths are collected; weight each by ``exp(lam R_out(o))`` (``R_out`` of
``cfg.reward_task``, the paper uses TASK1 rewards for every task); draw ``K`` with replacement.

Sampling: the ordered list of first appearances of an i.i.d. sequence from ``q`` has the law of an
exponential race — arrival times ``T_j ~ Exp(rate q_j)`` independent, ordered ascending (the first-arrival
order of a Poisson process with rates ``q_j``, whose jump chain is the i.i.d. sequence). So the N distinct
candidates are the N smallest ``E_j / q_j`` — exactly the paper's process, vectorised over candidate sets.
If fewer than N paths have positive probability, all of them form the set (the paper's loop would not end).

Exact output distribution: ``P(S)`` for every N-subset ``S`` by a dynamic programme over subsets
(``f(T + j) += f(T) q_j / (1 - q(T))``, cost ``O(2^n n)`` for ``n`` positive-probability paths, so ``n <= 22``),
then ``P(o) = sum_S P(S) 1[o in S] w(o) / w(S)``.
"""

from __future__ import annotations

import numpy as np

from .. import exact
from tmc_core.config import ConfigError
from .common import InferenceConfig, as_task, reward_task, start_dist

MAX_EXACT_PATHS = 22
MAX_EXACT_SETS = 200_000


def _base(tmc, task, cfg, base_kernels):
    ks = tmc.kernels if base_kernels is None else base_kernels
    paths, q = exact.path_distribution(ks, start_dist(tmc, task, cfg))
    w = np.exp(cfg.lam * exact.r_out(tmc, reward_task(tmc, task, cfg), paths))
    return paths, q, w


def sample_batch(tmc, task, cfg: InferenceConfig | None, n_sets: int, k: int, rng, base_kernels=None) -> np.ndarray:
    """``(n_sets, k, L)``: one fresh candidate set per row, ``k`` draws with replacement from it."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    paths, q, w = _base(tmc, task, cfg, base_kernels)
    N = cfg.n_candidates
    if cfg.distinct:
        pos = np.flatnonzero(q > 0)
        n_keep = min(N, len(pos))
        t = rng.standard_exponential((n_sets, len(pos))) / q[pos][None, :]
        cand = pos[np.argpartition(t, n_keep - 1, axis=1)[:, :n_keep]] if n_keep < len(pos) else \
            np.broadcast_to(pos, (n_sets, len(pos)))
    else:
        c = np.cumsum(q)
        cand = np.minimum(np.searchsorted(c, rng.random((n_sets, N)) * c[-1], side="right"), len(q) - 1)
    cw = np.cumsum(w[cand], axis=1)
    u = rng.random((n_sets, k)) * cw[:, -1:]
    pick = np.minimum((u[:, :, None] >= cw[:, None, :]).sum(axis=2), cand.shape[1] - 1)
    return paths[np.take_along_axis(cand, pick, axis=1)]


def sample(tmc, task, cfg: InferenceConfig | None, k: int, rng, base_kernels=None) -> np.ndarray:
    return sample_batch(tmc, task, cfg, 1, k, rng, base_kernels)[0]


_CACHE: dict = {}


def candidate_sets(q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact law of the set of the first ``n`` distinct draws from ``q``: ``(members (S, m) bool, P(S))``.

    Results are memoised on ``(q, n)`` (a small cache: the same base law serves every task and pass@K).
    """
    key = (np.asarray(q, float).tobytes(), int(n))
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = _candidate_sets(np.asarray(q, float), int(n))
    mem, p = _CACHE[key]
    return mem.copy(), p.copy()


def _candidate_sets(q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    pos = np.flatnonzero(q > 0)
    m = len(pos)
    if n >= m:
        mem = np.zeros((1, len(q)), dtype=bool)
        mem[0, pos] = True
        return mem, np.ones(1)
    if m > MAX_EXACT_PATHS:
        raise ConfigError(f"soft_bon exact: {m} paths with positive probability and N={n} < {m}; the exact subset "
                          f"programme allows at most {MAX_EXACT_PATHS}; use the Monte-Carlo sampler")
    qp = q[pos] / q[pos].sum()
    size = 1 << m
    masks = np.arange(size)
    bits = ((masks[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
    pop = bits.sum(axis=1)
    qT = bits @ qp
    f = np.zeros(size)
    f[0] = 1.0
    onebit = 1 << np.arange(m)
    for c in range(n):
        level = masks[pop == c]
        free = ~bits[level]                                  # (n_level, m): bit j not yet in T
        contrib = (f[level] / np.maximum(1.0 - qT[level], 1e-300))[:, None] * qp[None, :]
        targets = level[:, None] | onebit[None, :]
        f += np.bincount(targets[free], weights=contrib[free], minlength=size)
    final = masks[pop == n]
    if len(final) > MAX_EXACT_SETS:
        raise ConfigError(f"soft_bon exact: {len(final)} candidate sets exceed {MAX_EXACT_SETS}; use Monte Carlo")
    mem = np.zeros((len(final), len(q)), dtype=bool)
    mem[:, pos] = bits[final]
    return mem, f[final]


def _check_exact(cfg: InferenceConfig):
    if not cfg.distinct:
        raise ConfigError("soft_bon exact: only distinct=true (the paper's procedure) has an exact form; "
                          "allowed: distinct=true, or use the Monte-Carlo sampler")


def exact_distribution(tmc, task, cfg: InferenceConfig | None = None, base_kernels=None) -> np.ndarray:
    """``P(o) = sum_S P(S) 1[o in S] w(o) / w(S)`` over ``tmc.enumerate_paths()``."""
    cfg = cfg or InferenceConfig()
    _check_exact(cfg)
    task = as_task(tmc, task)
    _, q, w = _base(tmc, task, cfg, base_kernels)
    mem, ps = candidate_sets(q, cfg.n_candidates)
    ws = mem * w[None, :]
    return (ps[:, None] * ws / ws.sum(axis=1, keepdims=True)).sum(axis=0)


def exact_pass_at_k(tmc, task, cfg: InferenceConfig | None, k, base_kernels=None, instances=None):
    """``1 - sum_S P(S) E_C[(1 - q_S(C))^K]``: the K draws are i.i.d. GIVEN the candidate set ``S``."""
    from .common import iid_pass_at_k

    cfg = cfg or InferenceConfig()
    _check_exact(cfg)
    task = as_task(tmc, task)
    _, q, w = _base(tmc, task, cfg, base_kernels)
    mem, ps = candidate_sets(q, cfg.n_candidates)
    total = 0.0
    for row, p in zip(mem, ps):
        qs = np.where(row, w, 0.0)
        total = total + p * np.asarray(iid_pass_at_k(tmc, task, qs / qs.sum(), k, instances))
    return float(total) if np.ndim(k) == 0 else total
