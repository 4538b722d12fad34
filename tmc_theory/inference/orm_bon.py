"""ORM-BoN (docs/tmc_model.md §5): draw N base samples, return the top ``K`` by outcome reward ``R_out``.

Paper: N = 15 true-TMC samples (uniform start under its convention), ranked by ``R_out`` of TASK1 (for every
task), top ``K = 30`` returned — since ``K > N`` that is all 15, so ORM-BoN's coverage equals the base
sampler's. Returns ``min(K, N)`` paths per call; ties in ``R_out`` are broken uniformly at random.

Exact output law (a uniformly chosen element of the returned list, ``M = min(K, N)``): for a path ``o`` at
reward level ``r`` with ``q_>`` the base mass strictly above ``r`` and ``q_=`` the mass at ``r``,
``P(o) = q(o) / q_= * E[min(B, M - A) 1(A < M)] / M`` with ``(A, B)`` the multinomial counts of the N draws
above / at the level (exact sum over ``(A, B)``).
"""

from __future__ import annotations

import numpy as np

from .. import exact
from tmc_core.config import ConfigError
from ..sampling import sample_paths
from .common import InferenceConfig, as_task, draw_starts, iid_pass_at_k, reward_task, start_dist


def sample_batch(tmc, task, cfg: InferenceConfig | None, n_sets: int, k: int, rng, base_kernels=None) -> np.ndarray:
    """``(n_sets, min(k, N), L)``: per set, the top-``k`` of N fresh base samples by ``R_out``."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    ks = tmc.kernels if base_kernels is None else base_kernels
    N = cfg.n_candidates
    paths = sample_paths(ks, draw_starts(tmc, task, cfg, n_sets * N, rng), rng).reshape(n_sets, N, -1)
    r = exact.r_out(tmc, reward_task(tmc, task, cfg), paths.reshape(n_sets * N, -1)).reshape(n_sets, N)
    order = np.lexsort((rng.random((n_sets, N)), -r), axis=1)[:, : min(k, N)]
    return np.take_along_axis(paths, order[:, :, None], axis=1)


def sample(tmc, task, cfg: InferenceConfig | None, k: int, rng, base_kernels=None) -> np.ndarray:
    return sample_batch(tmc, task, cfg, 1, k, rng, base_kernels)[0]


def exact_distribution(tmc, task, cfg: InferenceConfig | None = None, base_kernels=None,
                       k: int | None = None) -> np.ndarray:
    """Law of a uniform element of the returned top-``min(k, N)`` list (``k=None``: ``k = N``, all)."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    ks = tmc.kernels if base_kernels is None else base_kernels
    paths, q = exact.path_distribution(ks, start_dist(tmc, task, cfg))
    N = cfg.n_candidates
    M = N if k is None else min(int(k), N)
    if M >= N:
        return q
    r = exact.r_out(tmc, reward_task(tmc, task, cfg), paths)
    return orm_topk_distribution(q, r, N, M)


def orm_topk_distribution(q: np.ndarray, r: np.ndarray, n: int, k: int) -> np.ndarray:
    """Law of a uniform element of the top ``min(k, n)`` of ``n`` i.i.d. draws from ``q`` ranked by reward ``r``
    (ties at a reward level share its slots in proportion to ``q``): for each level, the multinomial law of
    (a above it, b at it, n - a - b below) gives the expected number of its paths among the top k."""
    from scipy.special import gammaln

    N = int(n)
    M = min(int(k), N)
    if M >= N:
        return np.asarray(q, float).copy()
    levels = np.unique(r[q > 0])
    a = np.arange(N + 1)[:, None]
    b = np.arange(N + 1)[None, :]
    ok = a + b <= N
    gain = np.where(ok & (a < M), np.minimum(b, M - a), 0).astype(float)
    out = np.zeros_like(q, dtype=float)
    for lev in levels:
        at = np.isclose(r, lev, rtol=1e-12, atol=0.0) & (q > 0)
        qa, qe = float(q[(r > lev) & ~at].sum()), float(q[at].sum())
        qr = max(1.0 - qa - qe, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = (gammaln(N + 1) - gammaln(a + 1) - gammaln(b + 1) - gammaln(np.maximum(N - a - b, 0) + 1)
                    + a * np.log(qa if qa > 0 else 1e-300) * (a > 0) + b * np.log(qe) * (b > 0)
                    + (N - a - b) * np.log(qr if qr > 0 else 1e-300) * ((N - a - b) > 0))
        pmf = np.where(ok, np.exp(logp), 0.0)
        if qa == 0:
            pmf = np.where(a == 0, pmf, 0.0)
        if qr == 0:
            pmf = np.where(a + b == N, pmf, 0.0)
        out[at] = q[at] / qe * float((pmf * gain).sum()) / M
    return out


def exact_pass_at_k(tmc, task, cfg: InferenceConfig | None, k, base_kernels=None, instances=None):
    """For ``K >= N`` the output is the N i.i.d. base samples: ``1 - E_C[(1 - q(C))^N]``."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    ks_ = np.atleast_1d(k)
    if np.any(ks_ < cfg.n_candidates):
        raise ConfigError(f"orm_bon exact pass@K: implemented for K >= N (the paper's K=30 > N=15); got K={k}, "
                          f"N={cfg.n_candidates}; allowed: K >= n_candidates, or use the Monte-Carlo sampler")
    base = exact.path_distribution(tmc.kernels if base_kernels is None else base_kernels, start_dist(tmc, task, cfg))[1]
    res = iid_pass_at_k(tmc, task, base, cfg.n_candidates, instances)
    return float(res) if np.ndim(k) == 0 else np.full(len(ks_), float(res))
