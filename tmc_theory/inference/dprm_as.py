"""DPRM-AS (docs/tmc_model.md §5): at each layer SAMPLE a child with probability prop. to exp(lam R_DPRM(prefix +
child)) = h(prefix + child). Paper convention: NO base-probability factor. InferenceConfig(base_factor=True) gives the
textbook Doob h-transform p(c | s) h(prefix + c) / h(prefix).

Reward-model values: fresh Monte-Carlo estimates with cfg.n_mc true-TMC continuations for every child of
every walk (cfg.estimator="mc", the paper) or exact values ("exact"); :func:`exact_distribution` uses
exact values. Rewards of cfg.reward_task (paper: TASK1 for every task), walks from cfg.start.
"""

from __future__ import annotations

from .common import InferenceConfig, walker_selector

KIND = "h"


def _rule(cfg: InferenceConfig) -> str:
    return "proportional_base" if cfg.base_factor else "proportional"


exact_distribution, sample_batch, sample, exact_pass_at_k = walker_selector(KIND, _rule)
