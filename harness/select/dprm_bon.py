"""``dprm_bon`` (DPRM-BoN): the PRM-BoN walk with the Doob reward R_DPRM(s) = (1/lam) log h(s),
h(s) = E[exp(lam R) | s]; keep argmax_c R_DPRM(prefix + c) (= argmax h, ties at random).

As lam -> 0, R_DPRM -> V (PRM-BoN); with 0/1 rewards h = 1 + V (e^lam - 1) is increasing in V, so DPRM-BoN
and PRM-BoN pick the same step whenever R is binary and h is estimated from the same rollouts. Real-LLM
departures as in :mod:`harness.select.prm_bon`; h is a rollout mean only for the ``mc:*`` sources (the
others give exp(lam V), which makes DPRM-BoN identical to PRM-BoN).
"""

from __future__ import annotations

import numpy as np

from .orm_bon import argmax_random
from .walk import walks

LEVEL = "step"


def r_dprm(h: np.ndarray, lam: float) -> np.ndarray:
    """R_DPRM = (1/lam) log h."""
    return np.log(np.asarray(h, float)) / lam


def make_rule(lam: float):
    def rule(v, h, cands, rng):
        return argmax_random(r_dprm(h, lam), rng)

    return rule


def run(ctx, sampler, reward, rng, cfg, key):
    cand, _ = walks(ctx, sampler, reward, rng, cfg.lam, cfg.m, cfg.max_steps, key, make_rule(cfg.lam))[0]
    return cand
