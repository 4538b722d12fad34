"""``orm`` / ``prm``: a learned reward model (:class:`.probe.LinearRM` on :class:`.features.PolicyFeatures`).

ORM: R(o) = P(correct | question, o), trained on 0/1 grades of sample-store rows of a TRAIN split.
PRM: V(prefix) = the probe's value of the prefix, trained on soft Math-Shepherd labels V_MC(prefix).
Both score any text the same way, so the ORM also scores prefixes (V = R(prefix as written)) and the PRM
also scores complete completions (R = V(whole completion)); h = exp(lam V) (a point value, see the package
docstring). Trained by ``tmc rm train`` (:mod:`harness.select.rm_train`).
"""

from __future__ import annotations

import numpy as np

from ..types import Candidate, ProblemCtx


class LearnedReward:
    needs_sampler = False

    def __init__(self, rm, name: str):
        if rm.featurizer is None:
            raise ValueError("LearnedReward: the reward model has no featurizer (set rm.featurizer)")
        self.rm, self.name = rm, name

    def outcome(self, ctx: ProblemCtx, cands: list[Candidate]) -> np.ndarray:
        if not cands:
            return np.zeros(0)
        x = self.rm.featurizer([ctx.prompt] * len(cands), [c.text for c in cands])
        return self.rm.predict(x)

    def values(self, ctx: ProblemCtx, prefixes: list[Candidate], lam: float, sampler=None, key: str = ""):
        v = self.outcome(ctx, prefixes)
        return v, np.exp(lam * v)
