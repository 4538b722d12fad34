"""GRPO: group-normalised advantages (Shao et al. 2024, DeepSeekMath; not in the paper's code, docs/tmc_model.md §4).

For a group of ``G`` paths for one instance ``C`` with 0/1 rewards ``R_i``:
``A_i = (R_i - mean(R)) / (std(R) + eps)`` (``grpo_scale="group"``, unbiased std and ``eps = 1e-4`` as TRL) or
``A_i = R_i - mean(R)`` (``"none"``, Dr. GRPO). Every transition of path ``i`` gets ``A_i / G`` (sum over tokens;
all paths have ``L-1`` tokens, so TRL's per-sequence length normalisation is a constant factor).

paper:    OUR CHOICE (the paper has no GRPO): the paper's conventions applied to GRPO — per iteration draw
          ``batch_size`` instances, ``G = group_size`` on-policy paths each, ONE gradient step
          ``theta += lr * mean_i A_i grad log q(o_i)`` (ratio 1, so the clip never binds; no KL).
          This is exactly textbook GRPO with one optimisation epoch per group (TRL's default num_iterations=1).
expected: exact. With ``k`` correct among ``G``, ``A(correct) = f+(k)``, ``A(incorrect) = f-(k)``. By symmetry
          ``E[update] = E_C E[A_1 grad log q(o_1)]``; given ``C`` and ``o_1``, the number of OTHER correct samples
          is Binomial(G-1, q(C)). Since ``sum_o q(o) grad log q(o) = 0``,
          ``E[update] = sum_o q(o) grad log q(o) E_C[1{o in C} g(q(C))]`` with the degree-(G-1) polynomial
          ``g(p) = sum_j Bin(j; G-1, p) (f+(j+1) - f-(j))`` — non-negative Bernstein coefficients, computed
          exactly by :func:`~tmc_theory.finetune.common.set_weights_population` (no cancellation).
textbook: groups as above, then ``grpo_epochs`` gradient steps on the clipped surrogate
          ``mean_i sum_l min(r A_i, clip(r, 1 +- eps) A_i)`` with ``r = q_theta / q_old`` (the clip binds only
          when ``grpo_epochs > 1``).
expected_textbook: equals ``expected`` for ``grpo_epochs = 1`` (ratio 1); for more epochs the expectation of the
          multi-epoch update is not computed (an error says so).
"""

from __future__ import annotations

import numpy as np

from ..sampling import sample_paths
from .common import FinetuneError, apply_update, expected_runner, instance_weighted_grad, sampled_grad, \
    set_weights_population, transition_logprobs
from .ppo import clipped_coef


def group_advantages(R: np.ndarray, scale: str, eps: float) -> np.ndarray:
    """``R`` ``(b, G)`` -> group-normalised advantages ``(b, G)``."""
    A = R - R.mean(axis=1, keepdims=True)
    if scale == "group":
        A = A / (R.std(axis=1, ddof=1, keepdims=True) + eps)
    return A


def sample_groups(pol, ctx, rng):
    cfg = ctx.cfg
    ks = pol.kernels()
    b, g = cfg.batch_size, cfg.group_size
    idx = np.repeat(rng.integers(0, len(ctx.instances), size=b), g)
    paths = sample_paths(ks, ctx.task.start, rng, b * g)
    R = ctx.instances.reward(paths, idx).reshape(b, g)
    A = group_advantages(R, cfg.grpo_scale, cfg.grpo_std_eps).reshape(-1)
    return ks, paths, A


def paper_step(pol, ctx, rng) -> None:
    cfg = ctx.cfg
    ks, paths, A = sample_groups(pol, ctx, rng)
    coef = np.repeat(A[:, None], paths.shape[1] - 1, axis=1) / len(paths)
    apply_update(pol.logits, sampled_grad(ks, paths, coef), cfg.lr)


def textbook_step(pol, ctx, rng, kl_beta: float = 0.0) -> None:
    """Clipped-surrogate GRPO over ``grpo_epochs``; ``kl_beta > 0`` adds the k3 KL penalty to the reference
    (gradient ``-kl_beta * (1 - q_ref/q_theta)`` per sampled token, as TRL: through the loss, samples fixed)."""
    cfg = ctx.cfg
    old, paths, A = sample_groups(pol, ctx, rng)
    n, L = paths.shape
    A2 = np.repeat(A[:, None], L - 1, axis=1)
    lq_old = transition_logprobs(old, paths)
    lq_ref = transition_logprobs(ctx.ref_kernels, paths) if kl_beta > 0 else None
    for _ in range(cfg.grpo_epochs):
        ks = pol.kernels()
        lq = transition_logprobs(ks, paths)
        coef = clipped_coef(A2, lq, lq_old, cfg.ppo_eps)
        if kl_beta > 0:
            coef = coef - kl_beta * (1.0 - np.exp(lq_ref - lq))
        apply_update(pol.logits, sampled_grad(ks, paths, coef / n), cfg.lr)


def advantage_tables(G: int, scale: str, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``f+(k)``, ``f-(k)`` for ``k = 0..G`` correct samples in a group of ``G``."""
    k = np.arange(G + 1, dtype=float)
    mean = k / G
    if scale == "group":
        std = np.sqrt(np.maximum(k * (G - k) / (G * (G - 1)), 0.0))
        den = std + eps
    else:
        den = np.ones_like(k)
    return (1.0 - mean) / den, (-mean) / den


def g_coeffs(G: int, scale: str, eps: float) -> np.ndarray:
    """``g(p) = sum_j Bin(j; G-1, p) d_j`` as ``c[j, G-1-j] = C(G-1, j) d_j``, ``d_j = f+(j+1) - f-(j) >= 0``."""
    fp, fm = advantage_tables(G, scale, eps)
    n = G - 1
    c = np.zeros((G, G))
    binom = 1.0
    for j in range(G):
        c[j, n - j] = binom * (fp[j + 1] - fm[j])
        binom = binom * (n - j) / (j + 1)
    return c


def expected_grad(pol, ctx) -> list[np.ndarray]:
    cfg = ctx.cfg
    ks = pol.kernels()
    return instance_weighted_grad(ks, ctx.instances, g_coeffs(cfg.group_size, cfg.grpo_scale, cfg.grpo_std_eps),
                                  cfg.instance_dist)


def expected_step(pol, ctx, rng=None) -> None:
    apply_update(pol.logits, expected_grad(pol, ctx), ctx.cfg.lr)


def expected_textbook_step(pol, ctx, rng=None) -> None:
    if ctx.cfg.grpo_epochs != 1:
        raise FinetuneError(f"grpo_epochs: expected_textbook GRPO is exact only for grpo_epochs = 1 "
                            f"(got {ctx.cfg.grpo_epochs}); use variant textbook for more epochs")
    expected_step(pol, ctx)


def _padded_weights(q, et, cfg):
    c = g_coeffs(cfg.group_size, cfg.grpo_scale, cfg.grpo_std_eps)
    return et.valid_flow(q, lambda qv: set_weights_population(qv, et.r_out, c))


expected_runner(_padded_weights)(expected_step)  # fast multi-step path (population mode)
