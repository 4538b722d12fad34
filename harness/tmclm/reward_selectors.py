"""The five selectors' EXACT output distributions with any reward source (:class:`.learned_rewards.Rewards`).

The theory's selectors (``tmc_theory.inference.<key>``) read the TRUE TMC's ``R_out`` / ``V`` / ``h``; here the same
equations take the rewards as tables, so a learned ORM/PRM or an instance reward can be plugged in. What is reused
from ``tmc_theory.inference``: the base path law (``exact.path_distribution`` with ``start_dist``), Soft-BoN's exact
candidate-set law (``soft_bon.candidate_sets``), and the walkers' exact tree expansion (``common.walk_distribution``
with the rule of each key). Equations (``q`` = base law, ``w = exp(lam r)``):

* ``soft_bon``: ``P(o) = sum_S P(S) 1[o in S] w(o) / w(S)`` over the sets ``S`` of the first N distinct base draws;
* ``orm_bon``: a uniform element of the top ``min(K, N)`` of N base draws by ``r`` (ties at random); for the paper's
  ``K = 30 > N = 15`` that is the base law itself (the reward does not matter), so ``orm_bon@1`` (top-1, ``K = 1``)
  is reported beside it: ``P(o) = q(o)/q_= * E[min(B, 1 - A) 1(A < 1)]`` with ``(A, B)`` the counts above / at the
  level of ``r(o)`` (the theory's formula, :func:`orm_topk_distribution`);
* ``prm_bon`` / ``dprm_bon``: from the start, the child with the largest ``V`` / ``h`` (uniform among ties);
* ``dprm_as``: child ``prop. to h`` (paper), or ``prop. to p(c | s) h`` with ``cfg.base_factor`` (textbook Doob).

A batched source (the oracle: one table per instance) gives one distribution per instance, shape ``(n_inst, n_paths)``.
With the theory's exact rewards these equal ``tmc_theory.registry.INFERENCE[key].exact`` (a test checks it).
"""

from __future__ import annotations

import importlib

import numpy as np

from tmc_theory import exact
from tmc_theory.inference.orm_bon import orm_topk_distribution

from .learned_rewards import Rewards

SELECTOR_KEYS = ("soft_bon", "orm_bon", "orm_bon@1", "prm_bon", "dprm_bon", "dprm_as")
_WALK_KIND = {"prm_bon": "V", "dprm_bon": "h", "dprm_as": "h"}


def base_law(tmc, task, cfg, base_kernels) -> np.ndarray:
    from tmc_theory.inference.common import start_dist

    ks = tmc.kernels if base_kernels is None else base_kernels
    return exact.path_distribution(ks, start_dist(tmc, task, cfg))[1]


def _one(tmc, key: str, task, cfg, base_kernels, rew: Rewards) -> np.ndarray:
    from tmc_theory.inference.common import start_dist, walk_distribution

    if key == "soft_bon":
        from tmc_theory.inference.soft_bon import candidate_sets

        if not cfg.distinct:
            from tmc_core.config import ConfigError

            raise ConfigError("soft_bon exact: only distinct=true (the paper's procedure) has an exact form")
        mem, ps = candidate_sets(base_law(tmc, task, cfg, base_kernels), cfg.n_candidates)
        ws = mem * np.exp(cfg.lam * rew.r)[None, :]
        return (ps[:, None] * ws / ws.sum(axis=1, keepdims=True)).sum(axis=0)
    if key in ("orm_bon", "orm_bon@1"):
        k = cfg.n_candidates if key == "orm_bon" else 1
        return orm_topk_distribution(base_law(tmc, task, cfg, base_kernels), rew.r, cfg.n_candidates, k)
    mod = importlib.import_module(f"tmc_theory.inference.{key}")
    return walk_distribution(tmc, start_dist(tmc, task, cfg), rew.score(tmc, _WALK_KIND[key]), mod._rule(cfg),
                             base_kernels)


def selector_distribution(tmc, key: str, task, cfg, base_kernels, rew: Rewards) -> np.ndarray:
    """Exact output law over ``tmc.enumerate_paths()``; ``(n_inst, n_paths)`` for a batched source."""
    if key not in SELECTOR_KEYS:
        from tmc_core.config import ConfigError

        raise ConfigError(f"selector {key!r} is not allowed; allowed values: {', '.join(SELECTOR_KEYS)}")
    if rew.batched:
        return np.stack([_one(tmc, key, task, cfg, base_kernels, rew.instance(i)) for i in range(len(rew.r))])
    return _one(tmc, key, task, cfg, base_kernels, rew)
