"""PRM-BoN (docs/tmc_model.md §5): from the start state, at each layer pick the child with the highest PRM potential
V(prefix + child) = E[R_out | prefix + child] (random tie-break); K independent walks. Exact V makes TASK1 100% easy;
the paper's 99.13 / 0.87 come from the Monte-Carlo noise of the 15-continuation estimates.

Reward-model values: fresh Monte-Carlo estimates with cfg.n_mc true-TMC continuations for every child of
every walk (cfg.estimator="mc", the paper) or exact values ("exact"); :func:`exact_distribution` uses
exact values. Rewards of cfg.reward_task (paper: TASK1 for every task), walks from cfg.start.
"""

from __future__ import annotations

from .common import InferenceConfig, walker_selector

KIND = "V"


def _rule(cfg: InferenceConfig) -> str:
    return "argmax"


exact_distribution, sample_batch, sample, exact_pass_at_k = walker_selector(KIND, _rule)
