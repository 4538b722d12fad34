"""``prm_bon`` (PRM-BoN): at each step keep the candidate next step with the highest PRM potential,
argmax_c V(prefix + c), V(s) = E[R | s] (ties at random).

Paper (docs/tmc_model.md §5): every child of the TMC node is scored with V from 15 fresh Monte-Carlo continuations
(V of TASK1); one greedy walk per output. Here: M sampled next steps stand in for the children (see
:mod:`harness.select.walk`), V comes from the configured source (``mc:*`` = the paper's estimator with
``n_mc`` rollouts; ``prm`` = a learned PRM; ``oracle``/``orm`` score the prefix text as written).
"""

from __future__ import annotations

from .orm_bon import argmax_random
from .walk import walks

LEVEL = "step"


def rule(v, h, cands, rng):
    return argmax_random(v, rng)


def run(ctx, sampler, reward, rng, cfg, key):
    cand, _ = walks(ctx, sampler, reward, rng, cfg.lam, cfg.m, cfg.max_steps, key, rule)[0]
    return cand
