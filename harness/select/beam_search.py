"""``beam_search`` (search-and-learn's PRM beam search): keep K = N / M beams; each step expands every live
beam into M candidate next steps, scores them with V (the configured source), moves the candidates that end
to the finished list and keeps the K best of the rest; stops when N completions have finished, no beam is
live, or after ``max_steps`` (the live beams are then completed by one plain continuation each). Returns the
finished completion with the highest V (``agg_strategy: last``). The first step expands the empty prefix
into N candidates, as search-and-learn starts from N copies of the prompt.
"""

from __future__ import annotations

import numpy as np

from .orm_bon import argmax_random
from .types import Candidate

LEVEL = "step"


def run(ctx, sampler, reward, rng, cfg, key):
    k = max(1, cfg.n_candidates // cfg.m)
    live = [Candidate("", 0, False)]
    done: list[tuple[Candidate, float]] = []
    for t in range(cfg.max_steps):
        if not live or len(done) >= cfg.n_candidates:
            break
        m = cfg.n_candidates if t == 0 else cfg.m
        props = [c for row in sampler.next_steps(ctx.prompt, live, m, f"{key}|t{t}") for c in row]
        v, _ = reward.values(ctx, props, cfg.lam, sampler, f"{key}|t{t}")
        order = np.lexsort((rng.random(len(props)), -v))
        live = []
        for i in order:
            if sampler.at_limit(props[i]):
                done.append((props[i], float(v[i])))
            elif len(live) < k:
                live.append(props[i])
    if live and len(done) < cfg.n_candidates:
        ends = [row[0] for row in sampler.complete(ctx.prompt, live, 1, f"{key}|end")]
        v, _ = reward.values(ctx, ends, cfg.lam, sampler, f"{key}|endv")
        done += list(zip(ends, map(float, v)))
    return done[argmax_random(np.array([s for _, s in done]), rng)][0]
