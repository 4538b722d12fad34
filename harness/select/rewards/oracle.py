"""``oracle``: the instance's verifier -- the project's grader with the gold answer (``harness.grading``).

R(o) = 1 if the grader marks ``o`` correct else 0; a completion cut at the token limit gets
:func:`harness.grading.truncation_rule` (its GSM8K last-number match does not count), as in sampling.
"""

from __future__ import annotations

import numpy as np

from ..types import Candidate, ProblemCtx


class OracleReward:
    name = "oracle"
    needs_sampler = False

    def outcome(self, ctx: ProblemCtx, cands: list[Candidate]) -> np.ndarray:
        from harness.grading import grade, truncation_rule

        out = []
        for c in cands:
            g = truncation_rule(grade(ctx.benchmark, c.text, ctx.gold), truncated=not c.finished)
            out.append(float(g.correct))
        return np.array(out, dtype=float)

    def values(self, ctx: ProblemCtx, prefixes: list[Candidate], lam: float, sampler=None, key: str = ""):
        v = self.outcome(ctx, prefixes)
        return v, np.exp(lam * v)
