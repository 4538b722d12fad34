"""``orm_bon`` (ORM-BoN): return the candidate with the highest outcome reward, argmax_i R(o_i) (ties at random).

Paper (docs/tmc_model.md §5): N = 15 base paths ranked by R_out, the top K returned (K = 30 > N, so all 15: its
pass@30 is the base model's). Here one completion is returned per selector run (the usual Best-of-N); R is
the configured reward source (the paper's R_out is a population ORM: ``orm``; ``oracle`` = the verifier).
"""

from __future__ import annotations

import numpy as np

LEVEL = "outcome"


def argmax_random(scores: np.ndarray, rng: np.random.Generator, rtol: float = 1e-12) -> int:
    """Index of a maximal score, ties (within ``rtol``) broken uniformly at random."""
    s = np.asarray(scores, float)
    mx = s.max()
    ties = np.flatnonzero(s >= mx - rtol * max(abs(mx), 1e-300))
    return int(ties[rng.integers(len(ties))])


def choose(rewards: np.ndarray, rng: np.random.Generator, lam: float = 0.0, **_) -> int:
    return argmax_random(rewards, rng)
