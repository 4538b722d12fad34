"""``soft_bon`` (Soft-BoN): choose one of N candidates with probability exp(lam R(o_i)) / sum_j exp(lam R(o_j)).

Paper (docs/tmc_model.md §5): N = 15 DISTINCT base paths, resampled prop. to exp(lam R_out), lam = 0.5. Here: N
completions sampled from the policy; ``distinct`` merges identical texts first. Identical texts are rare, but
repeated reasoning PATHS are not: a frequent path holds several of the N seats, which the paper's set of N distinct
paths does not allow (measured: 0.451 against 0.398 on the multi-strategy base). The config field
``soft_bon_candidates: distinct_paths`` (harness.select.runner.first_distinct) gives the paper's set: pool draws
until N distinct reasoning-path clusters. R is the
configured reward source (the paper: the population ORM R_out; ``oracle`` gives the instance-reward version).
lam -> 0 is a uniform choice (plain sampling); lam -> inf is ORM-BoN.
"""

from __future__ import annotations

import numpy as np

LEVEL = "outcome"


def probabilities(rewards: np.ndarray, lam: float, keys: list | None = None) -> np.ndarray:
    """Choice probability of every candidate (duplicates by ``keys`` get 0 except their first occurrence)."""
    r = np.asarray(rewards, float)
    keep = np.ones(len(r), bool)
    if keys is not None:
        seen: set = set()
        for i, k in enumerate(keys):
            keep[i] = k not in seen
            seen.add(k)
    z = np.where(keep, lam * r, -np.inf)
    w = np.exp(z - z[keep].max())
    return w / w.sum()


def choose(rewards: np.ndarray, rng: np.random.Generator, lam: float, keys: list | None = None, **_) -> int:
    p = probabilities(rewards, lam, keys)
    return int(rng.choice(len(p), p=p))
