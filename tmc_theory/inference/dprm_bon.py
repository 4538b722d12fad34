"""DPRM-BoN (docs/tmc_model.md §5): same walk as PRM-BoN with the Doob reward R_DPRM(prefix + child) = (1/lam) log
h(prefix + child), h = E[exp(lam R_out) | prefix] (argmax R_DPRM = argmax h).

Reward-model values: fresh Monte-Carlo estimates with cfg.n_mc true-TMC continuations for every child of
every walk (cfg.estimator="mc", the paper) or exact values ("exact"); :func:`exact_distribution` uses
exact values. Rewards of cfg.reward_task (paper: TASK1 for every task), walks from cfg.start.
"""

from __future__ import annotations

from .common import InferenceConfig, walker_selector

KIND = "h"


def _rule(cfg: InferenceConfig) -> str:
    return "argmax"


exact_distribution, sample_batch, sample, exact_pass_at_k = walker_selector(KIND, _rule)
