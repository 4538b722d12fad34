"""Pretraining the tabular softmax learner on the true TMC (docs/tmc_model.md §3).

Paper protocol (``method="sgd"``): init ``theta ~ 0.1 N(0, 1)``; cross-entropy SGD on single paths sampled
from the TRUE TMC with a uniform start state, 2000 steps at lr 0.05 then 500 steps at lr 0.025. One step on
path ``o`` updates every transition: ``logits[l][o_l, :] += lr (onehot(o_{l+1}) - p_theta(. | o_l))``.
The paths do not depend on the model, so all of them are drawn at once (vectorised); only the parameter update
loops over steps. ``method="exact"`` is "infinite-data" pretraining: ``logits = log P`` (learner = true TMC).
"""

from __future__ import annotations

from typing import Literal

from dataclasses import dataclass, field

import numpy as np

from tmc_core.config import check_literals, doc
from .policy import TabularPolicy
from .sampling import sample_paths, uniform_starts
from .tmc import TMC


@dataclass
class PretrainConfig:
    method: Literal["sgd", "exact"] = field(default="sgd", metadata=doc(
        "sgd = the paper's two-phase single-path SGD (docs/tmc_model.md §3); exact = logits log P (learner = TMC)"))
    phases: list[tuple[int, float]] = field(default_factory=lambda: [(2000, 0.05), (500, 0.025)], metadata=doc(
        "(steps, learning rate) per SGD phase; paper: 2000 steps at 0.05 then 500 at 0.025"))
    init_scale: float = field(default=0.1, metadata=doc("init theta ~ init_scale * N(0, 1); paper 0.1"))

    def __post_init__(self):
        from tmc_core.config import ConfigError

        check_literals(self)
        if self.init_scale < 0:
            raise ConfigError(f"init_scale: must be >= 0, got {self.init_scale}")
        for i, (s, lr) in enumerate(self.phases):
            if s < 0 or lr < 0:
                raise ConfigError(f"phases[{i}]: steps and lr must be >= 0, got ({s}, {lr})")


def sgd_pretrain(tmc: TMC, rng: np.random.Generator, phases=((2000, 0.05), (500, 0.025)),
                 init_scale: float = 0.1) -> TabularPolicy:
    """The paper's SGD pretraining (module doc). Returns a new policy."""
    pol = TabularPolicy.random_init(tmc.widths, rng, init_scale)
    total = int(sum(s for s, _ in phases))
    if total == 0:
        return pol
    paths = sample_paths(tmc.kernels, uniform_starts(tmc.widths[0], total, rng), rng)
    lrs = np.concatenate([np.full(int(s), float(lr)) for s, lr in phases])
    # all layers in one padded tensor T[l, s, s'] (padding -inf -> probability 0): one update per step
    w = tmc.widths
    L1, wmax = len(w) - 1, max(w)
    T = np.full((L1, wmax, wmax), -np.inf)
    for l, x in enumerate(pol.logits):
        T[l, : x.shape[0], : x.shape[1]] = x
    layer = np.arange(L1)
    src, dst = paths[:, :-1], paths[:, 1:]
    for t in range(total):
        s = src[t]
        rows = T[layer, s]
        z = np.exp(rows - rows.max(axis=1, keepdims=True))
        g = -z / z.sum(axis=1, keepdims=True)
        g[layer, dst[t]] += 1.0
        T[layer, s] = rows + lrs[t] * g
    pol = TabularPolicy([T[l, : w[l], : w[l + 1]].copy() for l in range(L1)])
    return pol


def pretrain(tmc: TMC, cfg: PretrainConfig | None = None, rng: np.random.Generator | None = None) -> TabularPolicy:
    """Pretrain by ``cfg.method``: ``"sgd"`` (paper) or ``"exact"`` (``TabularPolicy.from_kernels``)."""
    cfg = cfg or PretrainConfig()
    if cfg.method == "exact":
        return TabularPolicy.from_kernels(tmc.kernels)
    if rng is None:
        rng = np.random.default_rng(0)
    return sgd_pretrain(tmc, rng, cfg.phases, cfg.init_scale)


def kl_to_tmc(tmc: TMC, policy: TabularPolicy, start_dist: np.ndarray | None = None) -> float:
    """Path-level ``KL(P_TMC || p_theta)`` with the given start distribution (default uniform)."""
    from .exact import state_marginals

    sd = np.full(tmc.widths[0], 1.0 / tmc.widths[0]) if start_dist is None else start_dist
    marg = state_marginals(tmc.kernels, sd)
    kl = 0.0
    for l, (p, q) in enumerate(zip(tmc.kernels, policy.kernels())):
        with np.errstate(divide="ignore", invalid="ignore"):
            row = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0).sum(axis=1)
        kl += float(marg[l] @ row)
    return kl
