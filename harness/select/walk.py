"""Step-wise walks shared by ``prm_bon``, ``dprm_bon``, ``dprm_as`` and ``dvts``.

A walk starts from the empty prefix; at each step it asks the :class:`~harness.select.steps.StepSampler` for M
candidate next steps (sampled from the policy -- the paper scores EVERY child of the TMC node, a real LLM has
too many, so the M sampled steps stand in for the children), scores ``prefix + step`` with the reward source
(V and h), and lets ``rule(v, h, cands, rng) -> index`` pick one. It stops when the chosen prefix ends (eos or
the token limit); after ``max_steps`` steps the rest is one plain continuation from the policy (stated
departure: the paper's TMC has a fixed depth). ``n_walks`` independent walks run batched (one generate call
per step for all of them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .types import Candidate


def walks(ctx, sampler, reward, rng: np.random.Generator, lam: float, m: int, max_steps: int, key: str,
          rule: Callable, n_walks: int = 1) -> list[tuple[Candidate, float]]:
    """``n_walks`` walks; returns (final candidate, V of its last chosen step) per walk."""
    cur = [Candidate("", 0, False) for _ in range(n_walks)]
    score = [float("nan")] * n_walks
    for t in range(max_steps):
        live = [i for i in range(n_walks) if not sampler.at_limit(cur[i])]
        if not live:
            break
        props = sampler.next_steps(ctx.prompt, [cur[i] for i in live], m, f"{key}|t{t}")
        flat = [c for row in props for c in row]
        v, h = reward.values(ctx, flat, lam, sampler, f"{key}|t{t}")
        for j, i in enumerate(live):
            sl = slice(j * m, (j + 1) * m)
            pick = rule(v[sl], h[sl], props[j], rng)
            cur[i], score[i] = props[j][pick], float(v[sl][pick])
    rest = [i for i in range(n_walks) if not sampler.at_limit(cur[i])]
    if rest:
        ends = sampler.complete(ctx.prompt, [cur[i] for i in rest], 1, f"{key}|end")
        for i, row in zip(rest, ends):
            cur[i] = row[0]
        v, _ = reward.values(ctx, [cur[i] for i in rest], lam, sampler, f"{key}|endv")
        for i, vi in zip(rest, v):
            score[i] = float(vi)
    return list(zip(cur, score))
