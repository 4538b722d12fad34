"""Shared gradient machinery for the six fine-tuning methods (tabular softmax policy, docs/tmc_model.md §3).

Conventions (all methods):

* The learner is :class:`~tmc_theory.policy.TabularPolicy`: ``q_l(s'|s) = softmax(logits[l][s, :])[s']``, so
  ``d log q_l(s'|s) / d logits[l][s, :] = onehot(s') - q_l(.|s)``.
* Every update in this package is a *score-function* update: a sum over transitions ``(l, s, s')`` of a
  coefficient ``c`` times ``grad log q_l(s'|s)``. Collecting the coefficients per edge into
  ``N_l[s, s'] = sum c`` gives the gradient ``G_l = N_l - rowsum(N_l)[:, None] * q_l`` (:func:`grad_from_edge_weights`).
  Sampled updates scatter their coefficients into ``N`` (:func:`edge_weights_from_paths`); expected updates
  compute ``N_l[s, s'] = E[c * 1{o_l = s, o_{l+1} = s'}]`` exactly.
* Exact expectations use layer-wise forward/backward messages (:func:`forward_messages`,
  :func:`backward_messages`) with element-wise products of the policy kernels ``q`` and the TRUE kernels ``P``:
  ``R_out(o) = prod_l P_l(o_l, o_{l+1}) / Z`` factorises over edges, so
  ``E_{o~q}[R_out(o) 1{edge}] = a_l(s) q_l(s,s') P_l(s,s') b_{l+1}(s') / Z`` with ``a`` the forward message of
  ``q*P`` from the task start and ``b`` the backward message of ``q*P`` into the target. Cost ``O(#edges)``.
* Methods whose update depends on the random instance ``C`` *jointly* (RL-rej, GRPO, textbook RAFT) need
  ``w(o) = E_C[1{o in C} g(q(C))]`` for a polynomial ``g`` written as ``sum_ab c_ab p^a (1-p)^b`` with
  ``c_ab >= 0``; :func:`set_weights_population` computes it exactly (see its docstring) and
  :func:`set_weights_empirical` averages over a fixed instance set.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..exact import backward_power
from ..tmc import TMC, Task


class FinetuneError(ValueError):
    """Bad fine-tuning input: names the field and the allowed values."""


# ---------------------------------------------------------------------------------------------------------
# score-function gradients
# ---------------------------------------------------------------------------------------------------------
def grad_from_edge_weights(kernels: Sequence[np.ndarray], N: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``G_l = N_l - rowsum(N_l) q_l``: gradient w.r.t. the logits of ``sum_edges N * log q``."""
    return [n - n.sum(axis=1, keepdims=True) * q for n, q in zip(N, kernels)]


def edge_weights_from_paths(paths: np.ndarray, coef: np.ndarray, widths: Sequence[int]) -> list[np.ndarray]:
    """Scatter per-transition coefficients ``coef`` ``(n, L-1)`` of ``paths`` ``(n, L)`` into ``N_l`` matrices."""
    paths = np.atleast_2d(paths)
    coef = np.asarray(coef, float).reshape(len(paths), -1)
    out = []
    for l in range(len(widths) - 1):
        w0, w1 = widths[l], widths[l + 1]
        flat = paths[:, l] * w1 + paths[:, l + 1]
        out.append(np.bincount(flat, weights=coef[:, l], minlength=w0 * w1).reshape(w0, w1))
    return out


def sampled_grad(kernels: Sequence[np.ndarray], paths: np.ndarray, coef: np.ndarray) -> list[np.ndarray]:
    """``sum_i sum_l coef[i, l] grad log q_l(o_{i,l+1} | o_{i,l})`` for sampled paths."""
    widths = [kernels[0].shape[0]] + [k.shape[1] for k in kernels]
    return grad_from_edge_weights(kernels, edge_weights_from_paths(paths, coef, widths))


def apply_update(logits: list[np.ndarray], grad: Sequence[np.ndarray], lr: float) -> None:
    """In place: ``logits += lr * grad`` (gradient ASCENT on the method's objective)."""
    for x, g in zip(logits, grad):
        x += lr * g


def transition_logprobs(kernels: Sequence[np.ndarray], paths: np.ndarray) -> np.ndarray:
    """``log q_l(o_{l+1} | o_l)`` for each path and transition, shape ``(n, L-1)``."""
    paths = np.atleast_2d(paths)
    return np.stack([np.log(np.maximum(k[paths[:, l], paths[:, l + 1]], 1e-300))
                     for l, k in enumerate(kernels)], axis=1)


# ---------------------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------------------
def forward_messages(weights: Sequence[np.ndarray], start: int) -> list[np.ndarray]:
    """``a_0 = onehot(start)``, ``a_{l+1} = a_l @ W_l`` (sum over prefixes of the product of edge weights)."""
    a = np.zeros(weights[0].shape[0])
    a[start] = 1.0
    out = [a]
    for w in weights:
        a = a @ w
        out.append(a)
    return out


def backward_messages(weights: Sequence[np.ndarray], target: int | None) -> list[np.ndarray]:
    """``b_{L-1} = onehot(target)`` (all ones if ``target`` is None), ``b_l = W_l @ b_{l+1}``."""
    b = np.zeros(weights[-1].shape[1])
    if target is None:
        b[:] = 1.0
    else:
        b[target] = 1.0
    out = [b]
    for w in reversed(weights):
        b = w @ b
        out.append(b)
    return out[::-1]


def task_normaliser(tmc: TMC, task: Task) -> float:
    """``Z = P(o_{L-1} = t | o_0 = s)`` under the true TMC (``R_out = P / Z``)."""
    return float(backward_power(tmc.kernels, task.target)[0][task.start])


def reward_edge_flow(tmc: TMC, task: Task, kernels: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``E_{o~q}[R_out(o) 1{o_l = s, o_{l+1} = s'}]`` for every edge, by forward/backward messages of ``q*P``."""
    z = task_normaliser(tmc, task)
    w = [q * p for q, p in zip(kernels, tmc.kernels)]
    a = forward_messages(w, task.start)
    b = backward_messages(w, task.target)
    if z <= 0:
        return [np.zeros_like(x) for x in w]
    return [a[l][:, None] * w[l] * b[l + 1][None, :] / z for l in range(len(w))]


def state_visits(kernels: Sequence[np.ndarray], start: int) -> list[np.ndarray]:
    """``d_l(s) = P_q(o_l = s | o_0 = start)``, l = 0..L-1."""
    return forward_messages(kernels, start)


# ---------------------------------------------------------------------------------------------------------
# PRM potential and outcome reward under the true TMC (also used by PPO and the GRPO-KL tilt)
# ---------------------------------------------------------------------------------------------------------
def prefix_true_prob(tmc: TMC, task: Task, prefixes: np.ndarray) -> np.ndarray:
    """``[o_0 = s] P(o_0..o_l | o_0)`` under the true TMC."""
    prefixes = np.atleast_2d(prefixes)
    p = (prefixes[:, 0] == task.start).astype(float)
    for l in range(prefixes.shape[1] - 1):
        p = p * tmc.kernels[l][prefixes[:, l], prefixes[:, l + 1]]
    return p


def r_out_paths(tmc: TMC, task: Task, paths: np.ndarray) -> np.ndarray:
    """``R_out(o) = [valid] P(o | s) / Z`` (docs/tmc_model.md §2)."""
    paths = np.atleast_2d(paths)
    z = task_normaliser(tmc, task)
    return np.where(paths[:, -1] == task.target, prefix_true_prob(tmc, task, paths) / max(z, 1e-300), 0.0)


def mc_potential(tmc: TMC, task: Task, prefixes: np.ndarray, n_cont: int, rng: np.random.Generator) -> np.ndarray:
    """The paper's Monte-Carlo PRM estimate: mean of ``R_out(prefix + cont)`` over ``n_cont`` FRESH true-TMC
    continuations per prefix (no caching). A full path returns its exact ``R_out``."""
    from ..sampling import sample_next

    prefixes = np.atleast_2d(prefixes)
    n, lp = prefixes.shape
    L = tmc.n_layers
    if lp == L:
        return r_out_paths(tmc, task, prefixes)
    full = np.empty((n * n_cont, L), dtype=np.int64)
    full[:, :lp] = np.repeat(prefixes, n_cont, axis=0)
    for l in range(lp - 1, L - 1):
        full[:, l + 1] = sample_next(tmc.kernels[l], full[:, l], rng)
    return r_out_paths(tmc, task, full).reshape(n, n_cont).mean(axis=1)


# ---------------------------------------------------------------------------------------------------------
# E_C[1{o in C} g(q(C))] for instance-coupled updates
# ---------------------------------------------------------------------------------------------------------
def g_eval(c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``g(p) = sum_ab c[a, b] p^a (1-p)^b``."""
    p = np.asarray(p, float)
    A, B = c.shape
    pa = p[..., None] ** np.arange(A)
    yb = (1.0 - p)[..., None] ** np.arange(B)
    return np.einsum("...a,ab,...b->...", pa, c, yb)


def set_weights_empirical(q_valid: np.ndarray, in_C: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``w(o) = (1/n) sum_i 1{o in C_i} g(q(C_i))`` over a fixed instance set (exact for that set)."""
    inc = in_C.astype(float)
    qc = np.clip(inc @ q_valid, 0.0, 1.0)
    return (g_eval(c, qc)[:, None] * inc).mean(axis=0)


def _fact(n: int) -> np.ndarray:
    f = np.ones(n)
    for i in range(1, n):
        f[i] = f[i - 1] * i
    return f


def set_weights_population(q_valid: np.ndarray, pi: np.ndarray, c: np.ndarray,
                           enumerate_max: int = 14) -> np.ndarray:
    """``w(o) = E_C[1{o in C} g(q(C))]`` exactly, ``C`` holding valid path ``j`` independently w.p. ``pi_j``.

    ``g(p) = sum_ab c_ab p^a (1-p)^b`` with ``c >= 0``. Two exact routes:

    * ``m <= enumerate_max``: enumerate all ``2^m`` sets ``C`` (``O(2^m m)``).
    * otherwise the moment route, with only non-negative terms (no cancellation): given ``o in C``,
      ``q(C) = q_o + P`` and ``1 - q(C) = Y`` with ``P = sum_{j != o} B_j q_j`` and
      ``Y = q_rest + sum_{j != o} (1 - B_j) q_j`` (``q_rest`` = mass off the valid paths), so
      ``w(o) = pi_o sum_ab c_ab sum_t C(a,t) q_o^(a-t) E[P^t Y^b]``. The joint moments ``E[P^t Y^b]`` of the
      independent items are built by the recursion
      ``M'[t,b] = pi_j sum_u C(t,u) q_j^u M[t-u,b] + (1-pi_j) sum_u C(b,u) q_j^u M[t,b-u]`` over prefix and suffix
      item sets — implemented with the exponential generating function ``F(s,t) = e^{q_rest t} prod_j
      (pi_j e^{q_j s} + (1 - pi_j) e^{q_j t})`` (coefficients ``E[P^a Y^b]/(a! b!)``, all >= 0) built by a
      batched pairwise product tree, and the leave-one-out series ``F / f_o`` by batched series division.
      Cost ``O(m (A B)^2)`` flops in ``O(A B log m)`` numpy calls for degrees ``A, B``.
    """
    q = np.asarray(q_valid, float)
    pi = np.clip(np.asarray(pi, float), 0.0, 1.0)
    c = np.asarray(c, float)
    if np.any(c < 0):
        raise FinetuneError("set_weights_population: coefficients c must be >= 0")
    m = len(q)
    if m <= enumerate_max:
        sets = ((np.arange(2 ** m)[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
        pset = np.prod(np.where(sets, pi[None, :], 1.0 - pi[None, :]), axis=1)
        qc = np.clip(sets.astype(float) @ q, 0.0, 1.0)
        return (pset * g_eval(c, qc)) @ sets
    A, B = c.shape
    q_rest = max(1.0 - float(q.sum()), 0.0)
    fa, fb = _fact(A), _fact(B)
    # exponential generating function of (P, Y) over ALL items: F(s, t) = e^{q_rest t} prod_j f_j(s, t),
    # f_j = pi_j e^{q_j s} + (1 - pi_j) e^{q_j t}; coefficient [a, b] = E[P^a Y^b] / (a! b!).
    f = np.zeros((m, A, B))
    f[:, :, 0] += pi[:, None] * q[:, None] ** np.arange(A)[None, :] / fa[None, :]
    f[:, 0, :] += (1.0 - pi)[:, None] * q[:, None] ** np.arange(B)[None, :] / fb[None, :]
    F = _series_prod_all(f)
    rest = np.zeros((1, A, B))
    rest[0, 0, :] = q_rest ** np.arange(B) / fb
    F = _series_mul(F[None], rest)[0]
    # leave-one-out: F_{-o} = F / f_o (f_o has constant term 1 and only pure-s / pure-t terms)
    Mo = _series_div_axes(F, f[:, 1:, 0], f[:, 0, 1:], m)
    Mo = Mo * fa[None, :, None] * fb[None, None, :]  # E[P^t Y^b] without item o
    # E[(q_o + P)^a Y^b] = sum_t C(a,t) q_o^(a-t) E[P^t Y^b]
    ta = np.arange(A)
    binom = np.array([[fa[a] / (fa[t] * fa[a - t]) if t <= a else 0.0 for t in range(A)] for a in range(A)])
    d = ta[:, None] - ta[None, :]
    qd = np.where(d[None] >= 0, q[:, None, None] ** np.maximum(d, 0)[None], 0.0) * binom[None]  # (m, a, t)
    Eab = np.einsum("oat,otb->oab", qd, Mo)
    return pi * np.einsum("oab,ab->o", Eab, c)


def _series_mul(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Truncated product of bivariate series ``(k, A, B)`` (coefficients [a, b] of s^a t^b), batched."""
    _, A, B = X.shape
    Z = np.zeros(np.broadcast_shapes(X.shape, Y.shape))
    for t in range(A):
        for u in range(B):
            x = X[:, t, u]
            if np.any(x):
                Z[:, t:, u:] += x[:, None, None] * Y[:, : A - t, : B - u]
    return Z


def _series_prod_all(f: np.ndarray) -> np.ndarray:
    """Product of all ``m`` series by a pairwise tree (log2 m batched products)."""
    while len(f) > 1:
        if len(f) % 2:
            one = np.zeros((1,) + f.shape[1:])
            one[0, 0, 0] = 1.0
            f = np.concatenate([f, one])
        f = _series_mul(f[0::2], f[1::2])
    return f[0]


def _series_div_axes(F: np.ndarray, fs: np.ndarray, ft: np.ndarray, m: int) -> np.ndarray:
    """``G_o = F / f_o`` with ``f_o = 1 + sum_i fs[o, i-1] s^i + sum_j ft[o, j-1] t^j`` (batched over ``o``)."""
    A, B = F.shape
    G = np.zeros((m, A, B))
    for a in range(A):
        for b in range(B):
            v = np.full(m, F[a, b])
            if a:
                v -= (fs[:, :a] * G[:, a - 1::-1, b]).sum(axis=1)
            if b:
                v -= (ft[:, :b] * G[:, a, b - 1::-1]).sum(axis=1)
            G[:, a, b] = v
    return G


def valid_path_probs(kernels: Sequence[np.ndarray], valid_paths: np.ndarray) -> np.ndarray:
    """``q(o | o_0)`` for each valid path (rows of ``valid_paths``)."""
    p = np.ones(len(valid_paths))
    for l, k in enumerate(kernels):
        p = p * k[valid_paths[:, l], valid_paths[:, l + 1]]
    return p


def instance_weighted_grad(kernels: Sequence[np.ndarray], instances, c: np.ndarray,
                           instance_dist: str) -> list[np.ndarray]:
    """Exact ``E_C E_{o~q}[1{o in C} g(q(C)) grad log q(o)]`` (``g`` from ``c``, see :func:`g_eval`).

    ``instance_dist = "population"``: ``C`` drawn from the instance distribution (each valid path in ``C`` w.p.
    ``R_out``); ``"empirical"``: ``C`` uniform over the given instance set. Scatters ``q(o) w(o)`` over the valid
    paths' edges (cost ``O(m L)`` plus the weights).
    """
    vp = instances.valid_paths
    qv = valid_path_probs(kernels, vp)
    if instance_dist == "population":
        w = set_weights_population(qv, instances.r_out, c)
    elif instance_dist == "empirical":
        w = set_weights_empirical(qv, instances.in_C, c)
    else:
        raise FinetuneError(f"instance_dist: {instance_dist!r} not allowed; allowed: population, empirical")
    widths = [kernels[0].shape[0]] + [k.shape[1] for k in kernels]
    coef = np.repeat((qv * w)[:, None], vp.shape[1] - 1, axis=1)
    return grad_from_edge_weights(kernels, edge_weights_from_paths(vp, coef, widths))


def empirical_reward_flow(kernels: Sequence[np.ndarray], instances) -> list[np.ndarray]:
    """``E_{o~q}[Rhat(o) 1{edge}]`` with ``Rhat(o) = mean_i 1{o in C_i}`` (REINFORCE/RAFT, empirical mode)."""
    vp = instances.valid_paths
    qv = valid_path_probs(kernels, vp)
    rhat = instances.in_C.astype(float).mean(axis=0)
    widths = [kernels[0].shape[0]] + [k.shape[1] for k in kernels]
    coef = np.repeat((qv * rhat)[:, None], vp.shape[1] - 1, axis=1)
    return edge_weights_from_paths(vp, coef, widths)


# ---------------------------------------------------------------------------------------------------------
# fast multi-step runners for the single-path paper updates (no per-layer Python matrices; ~25 numpy calls
# per iteration). Same update rules as the step functions; sampling by Gumbel-max (same distribution).
# ---------------------------------------------------------------------------------------------------------
class Padded:
    """All layers' logits in one tensor ``T[l, s, s']`` (``-inf`` on padded next states, 0 on padded rows)."""

    def __init__(self, logits: Sequence[np.ndarray]):
        self.L1 = len(logits)
        self.wmax = max(max(x.shape) for x in logits)
        self.shapes = [x.shape for x in logits]
        self.T = np.zeros((self.L1, self.wmax, self.wmax))
        for l, x in enumerate(logits):
            self.T[l, :, x.shape[1]:] = -np.inf
            self.T[l, : x.shape[0], : x.shape[1]] = x
        self.layers = np.arange(self.L1)

    def write_back(self, logits: list[np.ndarray]) -> None:
        for l, (a, b) in enumerate(self.shapes):
            logits[l][...] = self.T[l, :a, :b]

    def sample(self, start: int, n: int, gumbel: np.ndarray) -> np.ndarray:
        """``n`` paths from ``start`` using Gumbel noise ``(n, L1, wmax)``."""
        out = np.empty((n, self.L1 + 1), dtype=np.int64)
        out[:, 0] = start
        for l in range(self.L1):
            out[:, l + 1] = (self.T[l, out[:, l]] + gumbel[:, l]).argmax(axis=1)
        return out

    def row_probs(self, path: np.ndarray) -> np.ndarray:
        """``q_l(. | o_l)`` along one path, ``(L1, wmax)``."""
        rows = self.T[self.layers, path[:-1]]
        e = np.exp(rows - rows.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def update_path(self, path: np.ndarray, probs: np.ndarray, coef: np.ndarray, lr: float) -> None:
        """``T[l, o_l] += lr * coef_l * (onehot(o_{l+1}) - q_l(.|o_l))`` for every transition of one path."""
        g = -probs * coef[:, None]
        g[self.layers, path[1:]] += coef
        self.T[self.layers, path[:-1]] += lr * g


class TaskTables:
    """Constants of (true TMC, task, instances) used by the fast runners."""

    def __init__(self, tmc: TMC, task: Task, instances=None):
        self.tmc, self.task = tmc, task
        self.z = task_normaliser(tmc, task)
        self.logP = Padded([np.log(np.maximum(k, 1e-300)) for k in tmc.kernels])
        w = tmc.widths
        self.radix = np.zeros(tmc.n_layers, dtype=np.int64)
        mult = 1
        for l in range(tmc.n_layers - 2, 0, -1):
            self.radix[l] = mult
            mult *= w[l]
        self.in_C = None if instances is None else instances.in_C

    def rewards(self, paths: np.ndarray, idx) -> np.ndarray:
        """``R(o; C_idx)`` via the valid-path mixed-radix index (same order as ``Instances``)."""
        valid = (paths[:, 0] == self.task.start) & (paths[:, -1] == self.task.target)
        j = paths @ self.radix
        return np.where(valid, self.in_C[idx, j], False).astype(float)

    def r_out(self, paths: np.ndarray) -> np.ndarray:
        lp = self.logP.T[self.logP.layers[None, :], paths[:, :-1], paths[:, 1:]].sum(axis=1)
        valid = (paths[:, 0] == self.task.start) & (paths[:, -1] == self.task.target)
        return np.where(valid, np.exp(lp) / max(self.z, 1e-300), 0.0)

    def complete(self, paths: np.ndarray, plen: np.ndarray, rng: np.random.Generator | None,
                 gumbel: np.ndarray | None = None) -> np.ndarray:
        """Fill positions ``>= plen`` of each row with a fresh true-TMC continuation (in place; returns it).
        ``gumbel`` ``(n, L-1, wmax)``: pre-drawn noise (else drawn from ``rng``)."""
        n, L = paths.shape
        g = rng.gumbel(size=(n, L - 1, self.logP.wmax)) if gumbel is None else gumbel
        first = int(plen.min())
        for j in range(max(first, 1), L):
            nxt = (self.logP.T[j - 1, paths[:, j - 1]] + g[:, j - 1]).argmax(axis=1)
            paths[:, j] = np.where(plen <= j, nxt, paths[:, j])
        return paths


def task_tables(ctx) -> TaskTables:
    """Cached :class:`TaskTables` on the step context."""
    tt = getattr(ctx, "_tables", None)
    if tt is None:
        tt = TaskTables(ctx.tmc, ctx.task, ctx.instances)
        ctx._tables = tt
    return tt


class ExpectedTables:
    """Padded constants for the fast expected-dynamics runners: true kernels ``P`` (zero-padded to
    ``(L1, W, W)``), ``Z``, the squared-kernel backward message ``B2`` and the valid paths' flat edge ids."""

    def __init__(self, tmc: TMC, task: Task, instances=None):
        ks = tmc.kernels
        self.L1 = len(ks)
        self.W = max(max(k.shape) for k in ks)
        self.P = np.zeros((self.L1, self.W, self.W))
        for l, k in enumerate(ks):
            self.P[l, : k.shape[0], : k.shape[1]] = k
        self.z = max(task_normaliser(tmc, task), 1e-300)
        self.start, self.target = task.start, task.target
        self.B2 = self.backward(self.P ** 2)
        self.vp_flat = None
        if instances is not None:
            vp = instances.valid_paths
            ls = np.arange(self.L1)[None, :]
            self.vp_flat = (ls * self.W + vp[:, :-1]) * self.W + vp[:, 1:]
            self.r_out = instances.r_out

    def forward(self, Wt: np.ndarray) -> np.ndarray:
        a = np.zeros((self.L1 + 1, self.W))
        a[0, self.start] = 1.0
        for l in range(self.L1):
            a[l + 1] = a[l] @ Wt[l]
        return a

    def backward(self, Wt: np.ndarray) -> np.ndarray:
        b = np.zeros((self.L1 + 1, self.W))
        b[-1, self.target] = 1.0
        for l in range(self.L1 - 1, -1, -1):
            b[l] = Wt[l] @ b[l + 1]
        return b

    def reward_flow(self, q: np.ndarray) -> np.ndarray:
        """Padded ``E[R_out 1{edge}]`` (see :func:`reward_edge_flow`)."""
        w = q * self.P
        return self.forward(w)[:-1, :, None] * w * self.backward(w)[1:, None, :] / self.z

    def valid_flow(self, q: np.ndarray, weights_fn) -> np.ndarray:
        """Padded ``sum_o q(o) w(o) 1{edge in o}`` over the valid paths, ``w = weights_fn(q_valid)``."""
        qv = q.reshape(-1)[self.vp_flat].prod(axis=1)
        w = weights_fn(qv)
        return np.bincount(self.vp_flat.ravel(), weights=np.repeat(qv * w, self.L1),
                           minlength=self.L1 * self.W * self.W).reshape(self.L1, self.W, self.W)


def padded_softmax(T: np.ndarray) -> np.ndarray:
    e = np.exp(T - T.max(axis=2, keepdims=True))
    return e / e.sum(axis=2, keepdims=True)


def expected_runner(edge_weights):
    """Build a fast multi-step runner for an expected variant: ``edge_weights(q, tables, cfg) -> N`` (padded);
    each step is ``T += lr * (N - rowsum(N) q)``. Falls back to the step function in empirical mode."""
    def make(step_fn):
        def run(pol, ctx, rng, n_steps: int) -> None:
            if ctx.cfg.instance_dist != "population":
                for _ in range(n_steps):
                    step_fn(pol, ctx, rng)
                return
            et = getattr(ctx, "_etables", None)
            if et is None:
                et = ctx._etables = ExpectedTables(ctx.tmc, ctx.task, ctx.instances)
            P = Padded(pol.logits)
            lr = ctx.cfg.lr
            for _ in range(n_steps):
                q = padded_softmax(P.T)
                N = edge_weights(q, et, ctx.cfg)
                P.T += lr * (N - N.sum(axis=2, keepdims=True) * q)
            P.write_back(pol.logits)
        step_fn.run = run
        return step_fn
    return make


def paper_fast_run(pol, ctx, rng, n_steps: int, step, n_paths: int, update) -> None:
    """Shared fast path of the single-path paper methods (REINFORCE, RAFT, RL-rej) for ``batch_size = 1``.

    Per iteration ``t``: instance ``idx[t]``, ``n_paths`` independent paths from the task start (Gumbel-max on
    the padded logits), their verifiable rewards ``r``, then ``update(P, paths, r, lr)`` edits the padded
    logits in place. Draw order (all instance indices, then all Gumbel noise) is fixed, so a seed gives the
    same run as before this helper existed. ``batch_size != 1`` falls back to ``step`` (the method's
    ``paper_step``) ``n_steps`` times.
    """
    if ctx.cfg.batch_size != 1:
        for _ in range(n_steps):
            step(pol, ctx, rng)
        return
    P, tt, lr = Padded(pol.logits), task_tables(ctx), ctx.cfg.lr
    idx = rng.integers(0, len(ctx.instances), size=n_steps)
    g = rng.gumbel(size=(n_steps, n_paths, P.L1, P.wmax))
    for t in range(n_steps):
        paths = P.sample(ctx.task.start, n_paths, g[t])
        update(P, paths, tt.rewards(paths, idx[t]), lr)
    P.write_back(pol.logits)
