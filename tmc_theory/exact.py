"""Exact TMC quantities by layer-wise dynamic programming (forward / backward messages).

Notation (docs/tmc_model.md §1-§2): kernels ``P_l`` of shape ``(W_l, W_{l+1})``; a path ``o = (o_0..o_{L-1})``;
``P(o | o_0) = prod_l P_l[o_l, o_{l+1}]``. For a task with start ``s`` and target ``t``:

* ``Z = (P_0 P_1 ... P_{L-2})[s, t]`` — the probability that a path from ``s`` ends at ``t``;
* ``R_out(o) = P(o | s) / Z`` for valid ``o`` (``o_0 = s``, ``o_{L-1} = t``), else 0 — the paper's ORM
  (population reward) ``E_C[R(o; C)]`` when each valid path is in ``C`` with probability ``R_out``;
* PRM potential ``V(prefix) = E[R_out(o) | prefix]`` under the TRUE TMC continuation:
  ``V(o_0..o_l) = [o_0 = s] P(o_0..o_l | s) / Z * B2_l(o_l)`` with the backward message of the
  element-wise squared kernels ``B2_l = (P_l^2 P_{l+1}^2 ... P_{L-2}^2)[:, t]`` (because
  ``E[P(cont) | o_l] = sum_cont P(cont)^2``);
* Doob potential ``h(prefix) = E[exp(lam R_out(o)) | prefix] = 1 + sum_{n>=1} (lam a)^n / n! * B_{n+1}(o_l)``
  with ``a = [o_0 = s] P(prefix | s) / Z`` and ``B_{n+1}`` the backward message of ``P^(n+1)`` (element-wise
  power). ``R_out <= 1`` so the series converges like ``exp(lam)``; it is truncated once a term is below
  ``1e-17`` of the running sum, which is exact to machine precision.

Everything is linear in the number of edges per message; :func:`path_distribution` enumerates (it is the
"probability of each path" output the inference modules need) and is only used on enumerable TMCs.

Path order everywhere: that of :meth:`TMC.enumerate_paths` (all start states, lexicographic, i.e. the C-order
ravel of the array ``(W_0, W_1, ..., W_{L-1})``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .tmc import TMC, Task, TMCError


# ---------------------------------------------------------------------------------------------------------
# forward quantities
# ---------------------------------------------------------------------------------------------------------
def state_marginals(kernels: Sequence[np.ndarray], start_dist: np.ndarray) -> list[np.ndarray]:
    """``P(o_l = s)`` for ``l = 0..L-1``: forward messages ``m_{l+1} = m_l P_l``."""
    m = np.asarray(start_dist, dtype=float)
    out = [m]
    for k in kernels:
        m = m @ k
        out.append(m)
    return out


def path_distribution(kernels: Sequence[np.ndarray], start_dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All paths ``(N, L)`` (order of ``TMC.enumerate_paths()``) and their probabilities ``start(o_0) P(o|o_0)``.

    Built by broadcasting ``p[..., s, s'] = p[..., s] * P_l[s, s']`` layer by layer (memory ``O(N)``).
    """
    p = np.asarray(start_dist, dtype=float)
    for k in kernels:
        p = p[..., :, None] * k
    widths = p.shape
    grids = np.indices(widths).reshape(len(widths), -1).T
    return grids.astype(np.int64), p.ravel()


def start_distribution(width0: int, start: int | str) -> np.ndarray:
    """Start distribution: ``"uniform"`` over layer 0, or a one-hot on state ``start``."""
    if isinstance(start, str):
        if start != "uniform":
            raise TMCError(f"start: {start!r} is not allowed; allowed values: uniform or a layer-0 state index")
        return np.full(width0, 1.0 / width0)
    if not (0 <= int(start) < width0):
        raise TMCError(f"start: state {start} not in layer 0 (allowed 0..{width0 - 1})")
    d = np.zeros(width0)
    d[int(start)] = 1.0
    return d


def path_entropy(kernels: Sequence[np.ndarray], start_dist: np.ndarray) -> float:
    """Shannon entropy (nats) of the path distribution: ``H(o_0) + sum_l sum_s P(o_l=s) H(P_l[s, :])``."""
    def h(p):
        p = np.asarray(p, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)

    marg = state_marginals(kernels, start_dist)
    total = float(h(marg[0]))
    for l, k in enumerate(kernels):
        total += float(marg[l] @ h(k))
    return total


# ---------------------------------------------------------------------------------------------------------
# backward messages, R_out, V, h
# ---------------------------------------------------------------------------------------------------------
def backward_power(kernels: Sequence[np.ndarray], target: int, power: float = 1.0) -> list[np.ndarray]:
    """``B_l(s) = sum over continuations from (layer l, state s) ending at target of prod P^power``.

    ``B_{L-1} = onehot(target)``; ``B_l = (P_l ** power) @ B_{l+1}``. Returns ``[B_0, ..., B_{L-1}]``.
    """
    b = np.zeros(kernels[-1].shape[1])
    b[target] = 1.0
    out = [b]
    for k in reversed(kernels):
        b = (k ** power) @ b if power != 1.0 else k @ b
        out.append(b)
    return out[::-1]


def task_normaliser(tmc: TMC, task: Task) -> float:
    """``Z = P(o_{L-1} = t | o_0 = s)`` under the true TMC."""
    return float(backward_power(tmc.kernels, task.target)[0][task.start])


def _as_task(tmc: TMC, task) -> Task:
    return task if isinstance(task, Task) else tmc.task(task)


def _prefix_weight(tmc: TMC, task: Task, prefixes: np.ndarray) -> np.ndarray:
    """``a = [o_0 = s] P(o_0..o_l | o_0) / Z`` for each prefix row."""
    prefixes = np.atleast_2d(np.asarray(prefixes, dtype=np.int64))
    if prefixes.shape[1] > tmc.n_layers:
        raise TMCError(f"prefix length {prefixes.shape[1]} exceeds the {tmc.n_layers} layers")
    z = task_normaliser(tmc, task)
    if z <= 0:
        return np.zeros(len(prefixes))
    p = np.ones(len(prefixes))
    for l in range(prefixes.shape[1] - 1):
        p = p * tmc.kernels[l][prefixes[:, l], prefixes[:, l + 1]]
    return np.where(prefixes[:, 0] == task.start, p / z, 0.0)


def r_out(tmc: TMC, task: Task | str | int, paths: np.ndarray) -> np.ndarray:
    """``R_out(o) = P(o | s) / Z`` for valid paths of ``task``, 0 for invalid ones (docs/tmc_model.md §2)."""
    task = _as_task(tmc, task)
    paths = np.atleast_2d(np.asarray(paths, dtype=np.int64))
    a = _prefix_weight(tmc, task, paths)
    return np.where(paths[:, -1] == task.target, a, 0.0)


def prm_potential(tmc: TMC, task: Task | str | int, prefixes: np.ndarray) -> np.ndarray:
    """PRM potential ``V(prefix) = E[R_out(o) | prefix]`` (true-TMC continuation), for prefixes ``(n, l+1)``.

    ``V = a * B2_l(o_l)``, ``B2`` the backward message of the squared kernels. A full path gives ``R_out``.
    """
    task = _as_task(tmc, task)
    prefixes = np.atleast_2d(np.asarray(prefixes, dtype=np.int64))
    l = prefixes.shape[1] - 1
    b2 = backward_power(tmc.kernels, task.target, 2.0)[l]
    return _prefix_weight(tmc, task, prefixes) * b2[prefixes[:, -1]]


def doob_h(tmc: TMC, task: Task | str | int, prefixes: np.ndarray, lam: float,
           tol: float = 1e-17, max_terms: int = 100_000) -> np.ndarray:
    """Doob potential ``h(prefix) = E[exp(lam R_out(o)) | prefix]`` by the exact power series.

    ``h = sum_cont P(cont) exp(lam a P(cont) [end = t]) = 1 + sum_{n>=1} (lam a)^n / n! B_{n+1}(o_l)`` where
    ``B_{n+1}`` is the backward message of the kernels raised element-wise to ``n+1``. Terms are added until
    every prefix's term is below ``tol`` times its running sum (machine precision for ``tol = 1e-17``).
    For ``lam = 0`` returns 1. The paper's ``lam = 0.5`` needs ~15 terms.
    """
    task = _as_task(tmc, task)
    prefixes = np.atleast_2d(np.asarray(prefixes, dtype=np.int64))
    l = prefixes.shape[1] - 1
    x = lam * _prefix_weight(tmc, task, prefixes)
    last = prefixes[:, -1]
    total = np.ones(len(prefixes))
    coef = np.ones(len(prefixes))
    for n in range(1, max_terms + 1):
        coef = coef * x / n
        bn = backward_power(tmc.kernels, task.target, float(n + 1))[l][last]
        term = coef * bn
        total = total + term
        if np.all(np.abs(term) <= tol * np.abs(total)) and n >= 2:
            break
        if not np.any(coef):
            break
    return total


def rdprm(tmc: TMC, task, prefixes: np.ndarray, lam: float) -> np.ndarray:
    """Doob reward ``R_DPRM(prefix) = (1/lam) log h(prefix)`` (docs/tmc_model.md §2); ``lam -> 0`` gives ``V``."""
    if lam == 0:
        return prm_potential(tmc, task, prefixes)
    return np.log(doob_h(tmc, task, prefixes, lam)) / lam


# ---------------------------------------------------------------------------------------------------------
# coverage and pass@K
# ---------------------------------------------------------------------------------------------------------
def coverage(tmc: TMC, task: Task | str | int, kernels: Sequence[np.ndarray] | None = None,
             start_dist: np.ndarray | None = None) -> dict[str, float]:
    """Exact easy / hard / invalid shares of a Markov sampler (``kernels``, ``start_dist``) for ``task``.

    ``valid = start(s) (P_0 ... P_{L-2})[s, t]``; ``easy = start(s) (P_0*H_0 ... )[s, t]`` with ``H_l`` the
    high-edge masks; ``hard = valid - easy``; ``invalid = 1 - valid``. Default: the true TMC from the task start.
    """
    task = _as_task(tmc, task)
    ks = tmc.kernels if kernels is None else [np.asarray(k, float) for k in kernels]
    sd = start_distribution(tmc.widths[0], task.start) if start_dist is None else np.asarray(start_dist, float)
    bv = np.zeros(tmc.widths[-1])
    bv[task.target] = 1.0
    be = bv.copy()
    for k, h in zip(reversed(ks), reversed(tmc.high)):
        bv = k @ bv
        be = (k * h) @ be
    valid = float(sd[task.start] * bv[task.start])
    easy = float(sd[task.start] * be[task.start])
    return {"easy": easy, "hard": max(valid - easy, 0.0), "invalid": max(1.0 - valid, 0.0)}


def coverage_of_distribution(tmc: TMC, task: Task | str | int, probs: np.ndarray,
                             paths: np.ndarray | None = None) -> dict[str, float]:
    """Easy / hard / invalid shares of an arbitrary distribution over ``paths`` (default all paths)."""
    task = _as_task(tmc, task)
    paths = tmc.enumerate_paths() if paths is None else paths
    cls = tmc.classify(paths, task)
    probs = np.asarray(probs, float)
    tot = probs.sum()
    return {name: float(probs[cls == i].sum() / tot) for i, name in enumerate(("easy", "hard", "invalid"))}


def valid_path_index(tmc: TMC, paths: np.ndarray) -> np.ndarray:
    """Index of each path among a task's valid paths (mixed radix over the middle layers 1..L-2).

    The order matches :func:`tmc_theory.instances.enumerate_valid_paths`. Start/target are NOT checked.
    """
    paths = np.atleast_2d(np.asarray(paths, dtype=np.int64))
    w = tmc.widths
    idx = np.zeros(len(paths), dtype=np.int64)
    for l in range(1, tmc.n_layers - 1):
        idx = idx * w[l] + paths[:, l]
    return idx


def binomial_matrix(k: int) -> np.ndarray:
    """``B[i, t] = C(i, t)`` for ``0 <= t <= i <= k`` as floats (exact up to 2^53, fine to k ~ 1000)."""
    b = np.zeros((k + 1, k + 1))
    b[:, 0] = 1.0
    for i in range(1, k + 1):
        b[i, 1:i + 1] = b[i - 1, 0:i] + b[i - 1, 1:i + 1]
    return b


def miss_moments(q: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """``E_C[(1 - q(C))^i]`` for ``i = 0..k`` where ``C`` contains item ``j`` independently w.p. ``r_j``.

    Write ``Y = 1 - q(C) = q_rest + sum_j (1 - B_j) q_j`` with ``q_rest = 1 - sum_j q_j`` and independent
    ``B_j ~ Bernoulli(r_j)``: a sum of independent NON-NEGATIVE terms, so the moment recursion
    ``E[(Y + T)^i] = sum_t C(i, t) E[Y^(i-t)] E[T^t]``, ``E[T^t] = (1 - r_j) q_j^t`` (``t >= 1``) has only
    positive terms (no cancellation). Exact; cost ``O(m k^2)`` for ``m`` items with ``0 < r_j, q_j > 0``.
    """
    q = np.asarray(q, float)
    r = np.clip(np.asarray(r, float), 0.0, 1.0)
    q_rest = max(1.0 - float(q.sum()), 0.0)
    # items never in C contribute their full mass deterministically
    det = (r <= 0) | (q <= 0)
    q_rest += float(q[det & (r <= 0)].sum())
    keep = ~det
    q, r = q[keep], r[keep]
    i = np.arange(k + 1)
    m = q_rest ** i.astype(float)
    m[0] = 1.0
    B = binomial_matrix(k)
    diff = i[:, None] - i[None, :]
    mask = diff >= 0
    diff = np.where(mask, diff, 0)
    for qj, rj in zip(q, r):
        e = (1.0 - rj) * qj ** i.astype(float)
        e[0] = 1.0
        m = (B * np.where(mask, m[diff], 0.0)) @ e
    return m


def expected_pass_at_k(tmc: TMC, task: Task | str | int, path_probs: np.ndarray, k: int | Sequence[int],
                       paths: np.ndarray | None = None, normalise: bool = True):
    """Exact ``E_C[pass@K] = 1 - E_C[(1 - q(C))^K]`` for K i.i.d. draws from ``q`` (docs/tmc_model.md §2).

    ``path_probs`` is ``q`` over ``paths`` (default every path of ``tmc.enumerate_paths()``); ``C`` holds each
    valid path of ``task`` independently with probability ``R_out``. Computed by :func:`miss_moments` (exact, no
    Monte Carlo). ``k`` an int gives a float; a sequence gives an array (all K from one recursion).

    ``normalise=True`` (default) divides ``q`` by its sum (a distribution given up to a constant).
    ``normalise=False`` takes ``q`` as absolute probabilities: the missing mass ``1 - sum q`` is an outcome
    outside ``paths`` that is never correct (e.g. a language model's malformed outputs); ``sum q`` must be <= 1.
    """
    task = _as_task(tmc, task)
    paths = tmc.enumerate_paths() if paths is None else np.asarray(paths)
    q = np.asarray(path_probs, float)
    if q.shape[0] != paths.shape[0]:
        raise TMCError(f"path_probs has {q.shape[0]} entries but there are {paths.shape[0]} paths")
    valid = (paths[:, 0] == task.start) & (paths[:, -1] == task.target)
    if normalise:
        qv = q[valid] / max(q.sum(), 1e-300)
    else:
        if np.any(q < 0) or q.sum() > 1.0 + 1e-9:
            raise TMCError(f"path_probs must be >= 0 and sum to <= 1 with normalise=False; sum is {q.sum():.12g}")
        qv = q[valid]
    rv = r_out(tmc, task, paths[valid])
    ks = np.atleast_1d(np.asarray(k, dtype=int))
    if np.any(ks < 0):
        raise TMCError(f"k must be >= 0, got {k}")
    m = miss_moments(qv, rv, int(ks.max()))
    # q(C) over the valid paths only: the recursion assumed q sums to 1 overall (invalid mass in q_rest)
    res = 1.0 - m[ks]
    return float(res[0]) if np.ndim(k) == 0 else res


def pass_at_k_given_instances(q_valid: np.ndarray, in_C: np.ndarray, k: int | Sequence[int]) -> np.ndarray:
    """Mean over instances of the exact ``1 - (1 - q(C_i))^K`` for K i.i.d. draws (instances fixed).

    ``q_valid`` ``(m,)`` is the sampler's probability of each valid path, ``in_C`` ``(n, m)`` the instances.
    Returns one value per ``k``.
    """
    qc = np.clip(in_C.astype(float) @ np.asarray(q_valid, float), 0.0, 1.0)
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    return 1.0 - np.mean((1.0 - qc[:, None]) ** ks[None, :], axis=0)
