"""``mc:<terminal>``: Monte-Carlo rollout values, Math-Shepherd's soft estimation (Wang et al. 2024).

For a prefix s that has not ended, sample ``n_mc`` continuations c_1..c_n from the policy (the selector's own
:class:`~harness.select.steps.StepSampler`, so their tokens count in the selector's compute), and

    V(s) = (1/n) sum_i R(s + c_i)            (the paper's likelihood PRM, E[R | prefix])
    h(s) = (1/n) sum_i exp(lam R(s + c_i))  (the paper's DPRM Doob value, E[exp(lam R) | prefix])

with R the terminal reward (``oracle`` or ``orm``). A prefix that has ended is scored by R itself. Estimates
are fresh on every call (the released TMC code cached them per prefix, which the paper's numbers do not show).
"""

from __future__ import annotations

import numpy as np

from ..types import Candidate, ProblemCtx


class MCReward:
    needs_sampler = True

    def __init__(self, terminal, n_mc: int, name: str):
        if n_mc < 1:
            raise ValueError(f"n_mc must be >= 1, got {n_mc}")
        self.terminal, self.n_mc, self.name = terminal, int(n_mc), name

    def outcome(self, ctx: ProblemCtx, cands: list[Candidate]) -> np.ndarray:
        return self.terminal.outcome(ctx, cands)

    def values(self, ctx: ProblemCtx, prefixes: list[Candidate], lam: float, sampler=None, key: str = ""):
        v = np.zeros(len(prefixes))
        h = np.zeros(len(prefixes))
        open_ = [i for i, p in enumerate(prefixes) if not sampler.at_limit(p)]
        done = [i for i in range(len(prefixes)) if i not in set(open_)]
        if done:
            r = self.terminal.outcome(ctx, [prefixes[i] for i in done])
            v[done], h[done] = r, np.exp(lam * r)
        if open_:
            rolls = sampler.complete(ctx.prompt, [prefixes[i] for i in open_], self.n_mc, f"{key}|mc")
            flat = [c for row in rolls for c in row]
            r = self.terminal.outcome(ctx, flat).reshape(len(open_), self.n_mc)
            v[open_], h[open_] = r.mean(axis=1), np.exp(lam * r).mean(axis=1)
        return v, h
