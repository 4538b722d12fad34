"""DPRM-AS (spec section 5): at each layer SAMPLE a child with probability prop. to exp(lam R_DPRM(prefix + child)) = h(prefix + child). Paper convention: NO base-probability factor. InferenceConfig(base_factor=True) gives the textbook Doob h-transform p(c | s) h(prefix + c) / h(prefix).

Reward-model values: fresh Monte-Carlo estimates with cfg.n_mc true-TMC continuations for every child of
every walk (cfg.estimator="mc", the paper) or exact values ("exact"); :func:`exact_distribution` uses
exact values. Rewards of cfg.reward_task (paper: TASK1 for every task), walks from cfg.start.
"""

from __future__ import annotations

import numpy as np

from .common import (InferenceConfig, as_task, draw_starts, iid_pass_at_k, start_dist, walk_distribution,
                     walk_sample, walker_score)

KIND = "h"


def _rule(cfg: InferenceConfig) -> str:
    return "proportional_base" if cfg.base_factor else "proportional"


def exact_distribution(tmc, task, cfg: InferenceConfig | None = None, base_kernels=None) -> np.ndarray:
    """Probability of each path of tmc.enumerate_paths() with exact reward-model values."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    score = walker_score(tmc, task, cfg, KIND, None, estimator="exact")
    return walk_distribution(tmc, start_dist(tmc, task, cfg), score, _rule(cfg), base_kernels)


def sample_batch(tmc, task, cfg: InferenceConfig | None, n_sets: int, k: int, rng, base_kernels=None) -> np.ndarray:
    """(n_sets, k, L): n_sets * k independent walks, vectorised (fresh estimates for each)."""
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    score = walker_score(tmc, task, cfg, KIND, rng)
    paths = walk_sample(tmc, draw_starts(tmc, task, cfg, n_sets * k, rng), score, _rule(cfg), rng, base_kernels)
    return paths.reshape(n_sets, k, tmc.n_layers)


def sample(tmc, task, cfg: InferenceConfig | None, k: int, rng, base_kernels=None) -> np.ndarray:
    """(k, L) independent walks."""
    return sample_batch(tmc, task, cfg, 1, k, rng, base_kernels)[0]


def exact_pass_at_k(tmc, task, cfg: InferenceConfig | None, k, base_kernels=None, instances=None):
    """Walks are i.i.d., so 1 - E_C[(1 - q(C))^K] with q = :func:`exact_distribution`."""
    task = as_task(tmc, task)
    return iid_pass_at_k(tmc, task, exact_distribution(tmc, task, cfg, base_kernels), k, instances)
