"""The five inference-time selectors with the pretrained TMC-LM as the base sampler (exact output distributions).

``tmc_theory.registry.INFERENCE[key].exact`` computes each selector's exact output distribution given
``base_kernels``. The transformer conditions on its whole prefix, so its distribution is not exactly Markov; we pass
its Markov projection (:func:`harness.tmclm.measure.markov_kernels`, same one-step pair marginals) and report the
KL from the transformer's distribution to that projection (``non_markov_kl``) so the loss of the hand-over is
visible. Which selector uses what (docs/tmc_model.md §5):

* Soft-BoN, ORM-BoN: the base sampler's path distribution (uniform start under the paper's convention: the
  projection of the ``<any>`` prompt) + the TRUE TMC's ``R_out`` as the reward model;
* PRM-BoN, DPRM-BoN, DPRM-AS: the TRUE TMC's ``V`` and ``h`` (exact values = the N -> infinity limit of the paper's
  fresh 15-continuation estimates) walked from the task's start; the base sampler matters only through tie-breaks /
  the optional base factor, so these rows should equal the true-TMC rows (a check, not a finding).

``conventions = "paper"``: every task is scored with the first task's rewards and Soft-/ORM-BoN start uniformly
(docs/tmc_model.md §5); ``"textbook"``: each task's own rewards and start. Each selector is run twice, with the TMC-LM
and with the true TMC as base sampler, so the table isolates what the learned base changes. Soft-BoN's exact form
enumerates candidate sets (<= 22 paths with positive probability); beyond that a Monte-Carlo estimate
(``mc_sets`` candidate sets) is reported and flagged.
"""

from __future__ import annotations

import numpy as np

from .measure import markov_kernels, non_markov_kl, task_metrics


def inference_config(tmc, key: str, n_bon: int, lam: float, conventions: str = "paper"):
    from tmc_theory.inference.common import InferenceConfig

    paper = conventions == "paper"
    return InferenceConfig(
        n_candidates=n_bon, n_mc=15, lam=lam, reward_task=tmc.tasks[0].name if paper else None,
        start="uniform" if (paper and key in ("soft_bon", "orm_bon")) else "task",
    )


def selector_distribution(tmc, key: str, task, cfg, base_kernels, mc_sets: int = 4000,
                          seed: int = 0) -> tuple[np.ndarray, str]:
    """Exact output distribution over ``tmc.enumerate_paths()``; ``(q, "exact")`` or ``(q, "mc")``."""
    from tmc_theory.registry import INFERENCE

    entry = INFERENCE[key]
    try:
        return np.asarray(entry.exact(tmc, task, cfg, base_kernels=base_kernels), float), "exact"
    except Exception:  # noqa: BLE001 - e.g. Soft-BoN exact beyond 22 paths: Monte-Carlo instead
        rng = np.random.default_rng(seed)
        paths = tmc.enumerate_paths()
        idx = {tuple(p): i for i, p in enumerate(paths)}
        q = np.zeros(len(paths))
        for _ in range(mc_sets // 50):
            for p in entry.sample(tmc, task, cfg, 50, rng, base_kernels=base_kernels):
                q[idx[tuple(int(s) for s in p)]] += 1
        return q / q.sum(), "mc"


def run_inference(tmc, probs_by_prompt: dict[str, np.ndarray], keys, n_bon: int = 15, lam: float = 0.5,
                  k: int = 30, conventions: str = "paper") -> dict:
    """Metrics of every selector for every task, TMC-LM base vs true-TMC base."""
    base_lm = markov_kernels(tmc, probs_by_prompt["<any>"])
    out = {"base_kernels_non_markov_kl": non_markov_kl(tmc, probs_by_prompt["<any>"]), "conventions": conventions,
           "selectors": {}}
    for key in keys:
        cfg = inference_config(tmc, key, n_bon, lam, conventions)
        rec = {}
        for t in tmc.tasks:
            q_lm, how_lm = selector_distribution(tmc, key, t, cfg, base_lm)
            q_true, how_true = selector_distribution(tmc, key, t, cfg, None)
            rec[t.name] = {"tmclm_base": task_metrics(tmc, t, q_lm, k), "true_base": task_metrics(tmc, t, q_true, k),
                           "method": how_lm if how_lm == how_true else f"{how_lm}/{how_true}"}
        out["selectors"][key] = rec
    return out
