"""REINFORCE with the 0/1 verifiable reward and no baseline (docs/tmc_model.md §4).

paper:    draw an instance ``C`` uniformly from the fine-tuning set, sample ONE path ``o ~ q`` from the task
          start, ``theta += lr * R(o; C) * sum_l grad log q_l(o_{l+1} | o_l)``. (Textbook REINFORCE; the paper
          does not depart from it, except for using no baseline and a batch of one.)
expected: ``theta += lr * E_C E_{o~q}[R(o; C) grad log q(o)]``. Since ``E_C[R(o; C)] = R_out(o)`` and ``R_out``
          factorises over edges (``prod P / Z``), the per-edge weight is
          ``N_l(s,s') = a_l(s) q_l(s,s') P_l(s,s') b_{l+1}(s') / Z`` (forward/backward messages of ``q*P``):
          ``O(#edges)`` time and memory, no path enumeration. ``instance_dist="empirical"`` replaces ``R_out`` by
          the mean reward over the given instance set (scatter over the enumerated valid paths).
"""

from __future__ import annotations

import numpy as np

from ..sampling import sample_paths
from .common import (apply_update, empirical_reward_flow, expected_runner, grad_from_edge_weights,
                     reward_edge_flow, sampled_grad)


def sampled_rewards(pol, ctx, rng, n):
    """Draw ``n`` instances and one on-policy path each; return ``(kernels, paths, rewards)``."""
    ks = pol.kernels()
    idx = rng.integers(0, len(ctx.instances), size=n)
    paths = sample_paths(ks, ctx.task.start, rng, n)
    return ks, paths, ctx.instances.reward(paths, idx)


def paper_step(pol, ctx, rng) -> None:
    """One paper REINFORCE iteration (``batch_size`` independent single-path updates, averaged)."""
    b = ctx.cfg.batch_size
    ks, paths, r = sampled_rewards(pol, ctx, rng, b)
    coef = np.repeat(r[:, None], paths.shape[1] - 1, axis=1) / b
    apply_update(pol.logits, sampled_grad(ks, paths, coef), ctx.cfg.lr)


def reward_flow(ks, ctx):
    """``E[R 1{edge}]`` under the configured instance distribution."""
    if ctx.cfg.instance_dist == "empirical":
        return empirical_reward_flow(ks, ctx.instances)
    return reward_edge_flow(ctx.tmc, ctx.task, ks)


def expected_grad(pol, ctx) -> list[np.ndarray]:
    ks = pol.kernels()
    return grad_from_edge_weights(ks, reward_flow(ks, ctx))


def expected_step(pol, ctx, rng=None) -> None:
    """One deterministic expected-gradient iteration."""
    apply_update(pol.logits, expected_grad(pol, ctx), ctx.cfg.lr)


def paper_run(pol, ctx, rng, n_steps: int) -> None:
    """``n_steps`` paper iterations, fast path (same update as :func:`paper_step`; batch_size 1)."""
    from .common import paper_fast_run

    def update(P, paths, r, lr):
        if r[0]:
            P.update_path(paths[0], P.row_probs(paths[0]), r[0] * np.ones(P.L1), lr)

    paper_fast_run(pol, ctx, rng, n_steps, paper_step, 1, update)

paper_step.run = paper_run


def _padded_weights(q, et, cfg):
    return et.reward_flow(q)


expected_runner(_padded_weights)(expected_step)  # fast multi-step path (population mode)
