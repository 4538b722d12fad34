"""``dvts`` (diverse verifier tree search, search-and-learn / Beeching et al. 2024): split the budget of N
into N / M independent subtrees; each is a greedy PRM walk over M candidate steps per step (PRM-BoN with
M proposals); return the subtree completion with the highest final PRM value V (search-and-learn scores a
completion by its last step, ``agg_strategy: last``). Here V comes from the configured source.
"""

from __future__ import annotations

import numpy as np

from .orm_bon import argmax_random
from .prm_bon import rule
from .walk import walks

LEVEL = "step"


def run(ctx, sampler, reward, rng, cfg, key):
    n_sub = max(1, cfg.n_candidates // cfg.m)
    res = walks(ctx, sampler, reward, rng, cfg.lam, cfg.m, cfg.max_steps, key, rule, n_walks=n_sub)
    i = argmax_random(np.nan_to_num(np.array([s for _, s in res]), nan=-np.inf), rng)
    return res[i][0]
