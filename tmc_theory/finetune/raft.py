"""RAFT (reward-ranked fine-tuning), docs/tmc_model.md §4.

paper:    the reference code's update ``theta += lr * R(o; C) * (1 + log q_l(o_{l+1}|o_l)) * grad log q_l`` on one
          sampled path. DEPARTURE from textbook RAFT: the ``(1 + log q)`` factor is the gradient of
          ``q log q`` and is NEGATIVE for ``q < 1/e``, so a correct path through a rare edge pushes that edge
          down (it accelerates the squeezing onto easy CoTs).
expected: ``N_l(s,s') = E[R 1{edge}] (1 + log q_l(s,s'))`` with ``E[R 1{edge}]`` from forward/backward messages
          (as REINFORCE; ``O(#edges)``).
textbook: RAFT of Dong et al. (2023) = SFT on the best of ``k = group_size`` samples per prompt: per instance,
          sample ``k`` paths; if any is correct pick one correct sample uniformly (all correct ones tie at reward
          1) and take a cross-entropy step on it; the step is averaged over the ``batch_size`` prompts (prompts
          with no accepted sample contribute 0, so the expectation is linear).
expected_textbook: conditional on at least one success the kept sample is ``q`` restricted to ``C``, so
          ``E[update] = E_C[(1 - (1-q(C))^k) / q(C) * sum_{o in C} q(o) grad log q(o)]``, i.e. the per-path
          weight ``E_C[1{o in C} g(q(C))]`` with ``g(p) = sum_{j<k} (1-p)^j`` — exact
          (:func:`~tmc_theory.finetune.common.set_weights_population`).
"""

from __future__ import annotations

import numpy as np

from ..sampling import sample_paths
from .common import apply_update, expected_runner, grad_from_edge_weights, instance_weighted_grad, \
    sampled_grad, set_weights_population, transition_logprobs
from .reinforce import reward_flow, sampled_rewards


def paper_step(pol, ctx, rng) -> None:
    b = ctx.cfg.batch_size
    ks, paths, r = sampled_rewards(pol, ctx, rng, b)
    coef = r[:, None] * (1.0 + transition_logprobs(ks, paths)) / b
    apply_update(pol.logits, sampled_grad(ks, paths, coef), ctx.cfg.lr)


def expected_grad(pol, ctx) -> list[np.ndarray]:
    ks = pol.kernels()
    N = reward_flow(ks, ctx)
    return grad_from_edge_weights(ks, [n * (1.0 + np.log(np.maximum(q, 1e-300))) for n, q in zip(N, ks)])


def expected_step(pol, ctx, rng=None) -> None:
    apply_update(pol.logits, expected_grad(pol, ctx), ctx.cfg.lr)


def textbook_step(pol, ctx, rng) -> None:
    cfg = ctx.cfg
    ks = pol.kernels()
    b, k = cfg.batch_size, cfg.group_size
    idx = rng.integers(0, len(ctx.instances), size=b)
    paths = sample_paths(ks, ctx.task.start, rng, b * k)
    r = ctx.instances.reward(paths, np.repeat(idx, k)).reshape(b, k)
    keep = []
    for i in range(b):
        ok = np.flatnonzero(r[i] > 0)
        if ok.size:
            keep.append(i * k + int(rng.choice(ok)))
    if not keep:
        return
    sel = paths[np.array(keep)]
    coef = np.full((len(sel), sel.shape[1] - 1), 1.0 / b)
    apply_update(pol.logits, sampled_grad(ks, sel, coef), cfg.lr)


def g_coeffs(k: int) -> np.ndarray:
    """``g(p) = sum_{j<k} (1-p)^j`` as ``c[a=0, b=j] = 1``."""
    c = np.zeros((1, k))
    c[0, :] = 1.0
    return c


def expected_textbook_grad(pol, ctx) -> list[np.ndarray]:
    ks = pol.kernels()
    return instance_weighted_grad(ks, ctx.instances, g_coeffs(ctx.cfg.group_size), ctx.cfg.instance_dist)


def expected_textbook_step(pol, ctx, rng=None) -> None:
    apply_update(pol.logits, expected_textbook_grad(pol, ctx), ctx.cfg.lr)


def paper_run(pol, ctx, rng, n_steps: int) -> None:
    """``n_steps`` paper iterations, fast path (same update as :func:`paper_step`; batch_size 1)."""
    from .common import paper_fast_run

    def update(P, paths, r, lr):
        path = paths[0]
        if r[0]:
            pr = P.row_probs(path)
            coef = r[0] * (1.0 + np.log(np.maximum(pr[P.layers, path[1:]], 1e-300)))
            P.update_path(path, pr, coef, lr)

    paper_fast_run(pol, ctx, rng, n_steps, paper_step, 1, update)

paper_step.run = paper_run


def _padded_weights(q, et, cfg):
    return et.reward_flow(q) * (1.0 + np.log(np.maximum(q, 1e-300)))


def _padded_textbook_weights(q, et, cfg):
    c = g_coeffs(cfg.group_size)
    return et.valid_flow(q, lambda qv: set_weights_population(qv, et.r_out, c))


expected_runner(_padded_weights)(expected_step)  # fast multi-step paths (population mode)
expected_runner(_padded_textbook_weights)(expected_textbook_step)
