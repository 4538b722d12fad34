"""RL-rej: REINFORCE that skips easy instances (docs/tmc_model.md §4).

paper:    draw an instance ``C``; draw ``T = rej_tries`` paths from the CURRENT model; if any is in ``C`` the
          instance is easy and skipped; otherwise a FRESH path ``o ~ q`` gets the REINFORCE update
          ``lr * R(o; C) grad log q(o)`` (the reference code draws the fresh path after the check).
          Drawing the ``T`` checks at once is equivalent in distribution to stopping at the first success.
expected: derivation. Given ``C``, the checks and the fresh path are independent, and
          ``P(no check in C | C) = (1 - q(C))^T`` with ``q(C) = sum_{p in C} q(p)``. Hence
          ``E[update] = E_C[(1 - q(C))^T sum_o q(o) 1{o in C} grad log q(o)]
                      = sum_o q(o) w(o) grad log q(o)``,  ``w(o) = E_C[1{o in C} (1 - q(C))^T]``.
          ``C`` holds each valid path independently w.p. ``R_out`` (population) — ``w`` is computed exactly by
          :func:`~tmc_theory.finetune.common.set_weights_population` (enumeration of the ``2^m`` sets for small
          ``m``, else exact non-negative joint-moment recursion, ``O(m T^2)``) — or ``C`` is uniform over the
          given instance set (empirical, ``O(n m)``). Cost is in the number ``m`` of valid paths (the instances
          already enumerate them), not ``O(#edges)`` like REINFORCE.
RL-rej has no separate textbook form (rejection sampling of solved prompts, as in the paper).
"""

from __future__ import annotations

import numpy as np

from ..sampling import sample_paths
from .common import apply_update, expected_runner, instance_weighted_grad, sampled_grad, set_weights_population


def paper_step(pol, ctx, rng) -> None:
    cfg = ctx.cfg
    ks = pol.kernels()
    b, T = cfg.batch_size, cfg.rej_tries
    idx = rng.integers(0, len(ctx.instances), size=b)
    if T > 0:
        checks = sample_paths(ks, ctx.task.start, rng, b * T)
        solved = ctx.instances.reward(checks, np.repeat(idx, T)).reshape(b, T).max(axis=1) > 0
    else:
        solved = np.zeros(b, dtype=bool)
    paths = sample_paths(ks, ctx.task.start, rng, b)
    r = ctx.instances.reward(paths, idx) * (~solved)
    coef = np.repeat(r[:, None], paths.shape[1] - 1, axis=1) / b
    apply_update(pol.logits, sampled_grad(ks, paths, coef), cfg.lr)


def g_coeffs(T: int) -> np.ndarray:
    """``g(p) = (1 - p)^T`` as ``c[0, T] = 1``."""
    c = np.zeros((1, T + 1))
    c[0, T] = 1.0
    return c


def expected_grad(pol, ctx) -> list[np.ndarray]:
    ks = pol.kernels()
    return instance_weighted_grad(ks, ctx.instances, g_coeffs(ctx.cfg.rej_tries), ctx.cfg.instance_dist)


def expected_step(pol, ctx, rng=None) -> None:
    apply_update(pol.logits, expected_grad(pol, ctx), ctx.cfg.lr)


def paper_run(pol, ctx, rng, n_steps: int) -> None:
    """``n_steps`` paper iterations, fast path (same update as :func:`paper_step`; batch_size 1): each iteration
    draws T = rej_tries checks and the fresh path at once (independent), updating only if no check solved it."""
    from .common import paper_fast_run

    T = ctx.cfg.rej_tries

    def update(P, paths, r, lr):
        if r[T] and not r[:T].any():
            P.update_path(paths[T], P.row_probs(paths[T]), np.ones(P.L1), lr)

    paper_fast_run(pol, ctx, rng, n_steps, paper_step, T + 1, update)

paper_step.run = paper_run


def _padded_weights(q, et, cfg):
    c = g_coeffs(cfg.rej_tries)
    return et.valid_flow(q, lambda qv: set_weights_population(qv, et.r_out, c))


expected_runner(_padded_weights)(expected_step)  # fast multi-step path (population mode)
