"""PPO (docs/tmc_model.md §4).

paper:    the reference code's update on ONE sampled path, per transition ``l``:
          ``theta += lr * (1 + eps * sign(A_l)) * A_l * grad log q_l(o_{l+1}|o_l)``, ``eps = 0.2``, with
          ``A_l = Qhat - Vhat``: ``Qhat`` = mean of ``R_out(prefix + o_{l+1} + cont)`` over ``ppo_mc = 15`` fresh
          true-TMC continuations (the Monte-Carlo PRM potential of the prefix after the step) and
          ``Vhat = sum_s q_l(s|o_l) R_out(prefix + s + ONE true-TMC continuation)``. DEPARTURES from textbook PPO:
          the old policy is reset every step so the ratio is always 1 and clipping never binds (the update is
          ``A + eps*|A|``: an extra push up on every sampled edge); the advantage comes from the true-TMC PRM (an
          oracle process reward), not a learned critic; the 0/1 verifiable reward and the instance are unused.
expected: the expectation over on-policy paths with the EXACT advantage (the ``ppo_mc -> inf`` limit of
          ``Qhat``; ``Vhat`` is unbiased already). With ``V(prefix) = P(prefix) B2(o_l) / Z`` (``B2`` = backward
          message of the squared true kernels),
          ``A_l = P(prefix)/Z * a_l(o_l, o_{l+1})``, ``a_l(s,s') = P_l(s,s') B2_{l+1}(s') - sum_u q_l(s,u) P_l(s,u)
          B2_{l+1}(u)``,
          so ``sign(A_l) = sign(a_l)`` and the edge weight is
          ``N_l(s,s') = F_l(s) q_l(s,s') (1 + eps sign a_l) a_l / Z`` with ``F`` the forward message of ``q*P``:
          ``O(#edges)``. Not exact w.r.t. the MC noise of ``Qhat``: ``E|Ahat| > |E Ahat|``, so the paper's
          ``eps*|A|`` term is somewhat larger in the stochastic runs.
textbook: PPO with a real ratio: per iteration ``batch_size`` instances x ``group_size`` on-policy paths,
          advantage ``A_l = R(o; C) - V_old(o_{<=l})`` (Monte-Carlo return, gamma = GAE-lambda = 1) with an
          ORACLE critic ``V_old(prefix) = E_{q_old}[R_out | prefix]`` (exact, by a backward message of ``q_old*P``;
          departure: no learned value network), then ``ppo_epochs`` full-batch gradient steps on the clipped
          surrogate ``mean_i sum_l min(r A, clip(r, 1-eps, 1+eps) A)``, ``r = q_theta / q_old``.
expected_textbook: each epoch takes the exact gradient of the EXPECTED clipped surrogate under ``q_old``.
          The ratio is edge-local, so a transition is clipped iff (A > 0 and r > 1+eps) or (A < 0 and r < 1-eps);
          with ``R`` in {0,1} and ``V`` in [0,1], ``A > 0`` iff ``R = 1``. The needed
          ``E[R(1-V) 1{edge}]`` and ``E[(1-R) V 1{edge}]`` factorise over edges (forward messages of ``q*P`` and
          ``q*P^2``, backward messages of ``q*P``): ``O(#edges)`` per epoch (``instance_dist="empirical"`` scatters
          over the enumerated valid paths instead).
"""

from __future__ import annotations

import numpy as np

from ..exact import backward_power
from ..sampling import sample_paths
from .common import (apply_update, backward_messages, edge_weights_from_paths, expected_runner, forward_messages,
                     grad_from_edge_weights, mc_potential, prefix_true_prob, sampled_grad, task_normaliser,
                     transition_logprobs, valid_path_probs)


def mc_advantages(tmc, task, kernels, paths, n_mc, rng) -> np.ndarray:
    """The reference code's Monte-Carlo ``A_l = Qhat - Vhat`` for each path and transition, ``(n, L-1)``."""
    n, L = paths.shape
    out = np.empty((n, L - 1))
    for l in range(L - 1):
        q = mc_potential(tmc, task, paths[:, : l + 2], n_mc, rng)
        W = kernels[l].shape[1]
        kids = np.empty((n * W, l + 2), dtype=np.int64)
        kids[:, : l + 1] = np.repeat(paths[:, : l + 1], W, axis=0)
        kids[:, l + 1] = np.tile(np.arange(W), n)
        one = mc_potential(tmc, task, kids, 1, rng).reshape(n, W)
        v = (kernels[l][paths[:, l]] * one).sum(axis=1)
        out[:, l] = q - v
    return out


def paper_step(pol, ctx, rng) -> None:
    cfg = ctx.cfg
    ks = pol.kernels()
    b = cfg.batch_size
    paths = sample_paths(ks, ctx.task.start, rng, b)
    A = mc_advantages(ctx.tmc, ctx.task, ks, paths, cfg.ppo_mc, rng)
    coef = (1.0 + cfg.ppo_eps * np.where(A >= 0, 1.0, -1.0)) * A / b
    apply_update(pol.logits, sampled_grad(ks, paths, coef), cfg.lr)


def exact_edge_advantage(tmc, task, kernels) -> list[np.ndarray]:
    """``a_l(s,s')`` with ``A_l = P(prefix)/Z * a_l`` (module docstring)."""
    b2 = backward_power(tmc.kernels, task.target, 2.0)
    out = []
    for l, (q, P) in enumerate(zip(kernels, tmc.kernels)):
        qv = P * b2[l + 1][None, :]
        out.append(qv - (q * qv).sum(axis=1, keepdims=True))
    return out


def expected_grad(pol, ctx) -> list[np.ndarray]:
    tmc, task, eps = ctx.tmc, ctx.task, ctx.cfg.ppo_eps
    ks = pol.kernels()
    z = task_normaliser(tmc, task)
    F = forward_messages([q * P for q, P in zip(ks, tmc.kernels)], task.start)
    a = exact_edge_advantage(tmc, task, ks)
    N = [F[l][:, None] * ks[l] * (1.0 + eps * np.where(a[l] >= 0, 1.0, -1.0)) * a[l] / z for l in range(len(ks))]
    return grad_from_edge_weights(ks, N)


def expected_step(pol, ctx, rng=None) -> None:
    apply_update(pol.logits, expected_grad(pol, ctx), ctx.cfg.lr)


# ---------------------------------------------------------------------------------------------------------
# textbook PPO
# ---------------------------------------------------------------------------------------------------------
def oracle_values(tmc, task, old_kernels, paths) -> np.ndarray:
    """``V_old(o_{<=l}) = E_{q_old}[R_out | prefix] = P(prefix) c_l(o_l) / Z`` for ``l = 0..L-2``, ``(n, L-1)``."""
    z = task_normaliser(tmc, task)
    c = backward_messages([q * P for q, P in zip(old_kernels, tmc.kernels)], task.target)
    n, L = paths.shape
    out = np.empty((n, L - 1))
    for l in range(L - 1):
        out[:, l] = prefix_true_prob(tmc, task, paths[:, : l + 1]) * c[l][paths[:, l]] / max(z, 1e-300)
    return out


def clipped_coef(A, logq, logq_old, eps) -> np.ndarray:
    """Per-transition coefficient on ``grad log q`` of ``min(r A, clip(r) A)``: ``r A`` where unclipped, else 0."""
    r = np.exp(logq - logq_old)
    clipped = ((A > 0) & (r > 1.0 + eps)) | ((A < 0) & (r < 1.0 - eps))
    return np.where(clipped, 0.0, r * A)


def textbook_step(pol, ctx, rng) -> None:
    cfg = ctx.cfg
    old = pol.kernels()
    b, g = cfg.batch_size, cfg.group_size
    idx = np.repeat(rng.integers(0, len(ctx.instances), size=b), g)
    paths = sample_paths(old, ctx.task.start, rng, b * g)
    R = ctx.instances.reward(paths, idx)
    A = R[:, None] - oracle_values(ctx.tmc, ctx.task, old, paths)
    lq_old = transition_logprobs(old, paths)
    for _ in range(cfg.ppo_epochs):
        ks = pol.kernels()
        coef = clipped_coef(A, transition_logprobs(ks, paths), lq_old, cfg.ppo_eps) / (b * g)
        apply_update(pol.logits, sampled_grad(ks, paths, coef), cfg.lr)


def _expected_adv_parts(ctx, old):
    """``(pos, neg)`` edge weights ``E_old[A^+ 1{edge}]`` and ``E_old[A^- 1{edge}]`` (population or empirical)."""
    tmc, task = ctx.tmc, ctx.task
    z = task_normaliser(tmc, task)
    qP = [q * P for q, P in zip(old, tmc.kernels)]
    F1 = forward_messages(qP, task.start)
    c = backward_messages(qP, task.target)
    L1 = len(old)
    X3 = [F1[l][:, None] * c[l][:, None] * old[l] / z for l in range(L1)]  # E[V_l 1{edge}]
    if ctx.cfg.instance_dist == "population":
        F2 = forward_messages([q * P * P for q, P in zip(old, tmc.kernels)], task.start)
        X1 = [F1[l][:, None] * qP[l] * c[l + 1][None, :] / z for l in range(L1)]
        X2 = [F2[l][:, None] * c[l][:, None] * qP[l] * c[l + 1][None, :] / z ** 2 for l in range(L1)]
    else:  # empirical: Rhat(o) = mean_i 1{o in C_i} on the enumerated valid paths
        inst = ctx.instances
        vp = inst.valid_paths
        w = valid_path_probs(old, vp) * inst.in_C.astype(float).mean(axis=0)
        V = oracle_values(tmc, task, old, vp)
        X1 = edge_weights_from_paths(vp, np.repeat(w[:, None], L1, axis=1), tmc.widths)
        X2 = edge_weights_from_paths(vp, w[:, None] * V, tmc.widths)
    pos = [x1 - x2 for x1, x2 in zip(X1, X2)]
    neg = [-(x3 - x2) for x3, x2 in zip(X3, X2)]
    return pos, neg


def expected_textbook_step(pol, ctx, rng=None) -> None:
    cfg = ctx.cfg
    old = pol.kernels()
    pos, neg = _expected_adv_parts(ctx, old)
    for _ in range(cfg.ppo_epochs):
        ks = pol.kernels()
        N = []
        for l in range(len(ks)):
            r = ks[l] / np.maximum(old[l], 1e-300)
            N.append(r * (pos[l] * (r <= 1.0 + cfg.ppo_eps) + neg[l] * (r >= 1.0 - cfg.ppo_eps)))
        apply_update(pol.logits, grad_from_edge_weights(ks, N), cfg.lr)


def _mc_template(widths, n_mc):
    """Row layout of one iteration's Monte-Carlo batch: Q rows (``n_mc`` per transition, 1 at the last) and
    V rows (one per child of each transition)."""
    L = len(widths)
    plen, over, qg, vg, vs = [], [], [], [], []
    for l in range(L - 1):
        k = n_mc if l + 2 < L else 1
        for _ in range(k):
            for lst, v in ((plen, l + 2), (over, -1), (qg, l), (vg, -1), (vs, -1)):
                lst.append(v)
    for l in range(L - 1):
        for s in range(widths[l + 1]):
            for lst, v in ((plen, l + 2), (over, s), (qg, -1), (vg, l), (vs, s)):
                lst.append(v)
    a = {k: np.array(v) for k, v in dict(plen=plen, over=over, qg=qg, vg=vg, vs=vs).items()}
    a["qrows"] = np.flatnonzero(a["qg"] >= 0)
    a["vrows"] = np.flatnonzero(a["vg"] >= 0)
    a["qcount"] = np.bincount(a["qg"][a["qrows"]], minlength=L - 1).astype(float)
    a["opos"] = np.where(a["vg"] >= 0, a["vg"] + 1, 0)
    return a


def paper_run(pol, ctx, rng, n_steps: int) -> None:
    """``n_steps`` paper iterations, fast path (same update as :func:`paper_step`; batch_size 1)."""
    from .common import Padded, task_tables

    cfg = ctx.cfg
    if cfg.batch_size != 1:
        for _ in range(n_steps):
            paper_step(pol, ctx, rng)
        return
    P, tt = Padded(pol.logits), task_tables(ctx)
    tp = _mc_template(ctx.tmc.widths, cfg.ppo_mc)
    g = rng.gumbel(size=(n_steps, 1, P.L1, P.wmax))
    nrows, L1 = len(tp["plen"]), P.L1
    rows = np.arange(nrows)
    vrows, vg, vs = tp["vrows"], tp["vg"][tp["vrows"]], tp["vs"][tp["vrows"]]
    qrows, qg = tp["qrows"], tp["qg"][tp["qrows"]]
    has_over = tp["over"] >= 0
    orow, opos, oval = rows[has_over], tp["opos"][has_over], tp["over"][has_over]
    gc = rng.gumbel(size=(n_steps, nrows, L1, P.wmax))  # noise of all the Monte-Carlo continuations
    for t in range(n_steps):
        path = P.sample(ctx.task.start, 1, g[t])[0]
        pr = P.row_probs(path)
        full = np.repeat(path[None, :], nrows, axis=0)
        full[orow, opos] = oval
        tt.complete(full, tp["plen"], None, gc[t])
        R = tt.r_out(full)
        Q = np.bincount(qg, R[qrows], minlength=L1) / tp["qcount"]
        V = np.bincount(vg, pr[vg, vs] * R[vrows], minlength=L1)
        A = Q - V
        coef = (1.0 + cfg.ppo_eps * np.where(A >= 0, 1.0, -1.0)) * A
        P.update_path(path, pr, coef, cfg.lr)
    P.write_back(pol.logits)


paper_step.run = paper_run


def _padded_weights(q, et, cfg):
    qv = et.P * et.B2[1:, None, :]
    a = qv - (q * qv).sum(axis=2, keepdims=True)
    F = et.forward(q * et.P)
    return F[:-1, :, None] * q * (1.0 + cfg.ppo_eps * np.where(a >= 0, 1.0, -1.0)) * a / et.z


expected_runner(_padded_weights)(expected_step)  # fast multi-step path (population mode)
