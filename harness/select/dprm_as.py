"""``dprm_as`` (DPRM-AS): SAMPLE the next step with probability prop. to exp(lam R_DPRM) = h, two forms:

* ``form: paper`` -- the paper's rule (docs/tmc_model.md §5: "sample a child prop. to exp(lam R_DPRM(prefix +
  child)), no base-probability factor"): the M sampled steps are merged into their DISTINCT texts (the
  children found) and one is drawn with P(c) = h(c) / sum_{c' distinct} h(c'); how often the policy proposed
  a step does not count.
* ``form: doob`` -- the exact Doob h-transform p(c | s) h(s + c) / h(s), base-weighted: each of the M i.i.d.
  draws c_1..c_M ~ p(. | s) is chosen with probability h(c_i) / sum_j h(c_j) (duplicates keep their
  multiplicity). That is sampling-importance-resampling: P(c) = E[n_c h(c) / sum_j n_j h(c_j)] -> p(c) h(c) /
  sum_c' p(c') h(c') as M -> inf (the finite-M bias is the one of self-normalised importance sampling).

Other departures as in :mod:`harness.select.prm_bon` (M sampled steps for the children; h a rollout mean
only for the ``mc:*`` sources).
"""

from __future__ import annotations

import numpy as np

from .walk import walks

LEVEL = "step"
FORMS = ("paper", "doob")


def probabilities(h: np.ndarray, keys: list, form: str) -> np.ndarray:
    """Choice probability of each of the M draws under ``form`` (see module docstring)."""
    h = np.asarray(h, float)
    if form == "doob":
        return h / h.sum()
    if form != "paper":
        raise ValueError(f"dprm_as form {form!r}; allowed: {', '.join(FORMS)}")
    first: dict = {}
    w = np.zeros(len(h))
    for i, k in enumerate(keys):
        if k not in first:
            first[k] = i
            w[i] = h[i]
    return w / w.sum()


def make_rule(form: str):
    def rule(v, h, cands, rng):
        p = probabilities(h, [c.text for c in cands], form)
        return int(rng.choice(len(p), p=p))

    return rule


def run(ctx, sampler, reward, rng, cfg, key, form: str | None = None):
    rule = make_rule(form or cfg.dprm_as_form)
    cand, _ = walks(ctx, sampler, reward, rng, cfg.lam, cfg.m, cfg.max_steps, key, rule)[0]
    return cand
