"""Population reward models LEARNED from TMC-LM samples (ORM, Math-Shepherd PRM), beside the exact and instance ones.

Every reward source is a :class:`Rewards`: an outcome reward ``r`` over ``tmc.enumerate_paths()`` (what Soft-BoN and
ORM-BoN rank by) and prefix tables ``V``, ``h`` (what PRM-BoN, DPRM-BoN, DPRM-AS walk by), ``V[j]`` / ``h[j]`` over
the prefixes of length ``j + 1`` in C order of ``(W_0, .., W_j)``. A leading axis holds one table per instance
(the oracle). Sources:

* ``exact`` (the theory, docs/tmc_model.md §2): ``r = R_out``, ``V(p) = E[R_out | p]``, ``h(p) = E[exp(lam R_out) | p]``
  under the true TMC continuation (:func:`exact_rewards`, built with :func:`tree_values`; equal to
  ``tmc_theory.exact.prm_potential`` / ``doob_h``, a test checks it).
* ``oracle`` (instance reward): ``r_C(o) = R(o; C) = 1[o in C]``, ``V_C = E[r_C | p]``, ``h_C = E[exp(lam r_C) | p]``
  for each test instance ``C`` (true-TMC continuation).
* learned, from a :class:`TrainingSet` of ``n`` solutions sampled from the pretrained TMC-LM (its exact path law for
  the ``<any>`` prompt, i.e. uniform start; ill-formed samples, ~1e-4, are not drawn) across the instance population:
  solution ``i`` gets a fresh instance ``C_i`` of the reward task and the label ``y_i = R(o_i; C_i)``; from every
  proper prefix ``o_i[:j]`` (``j = 1..L-1``) ``m`` rollouts are drawn (the TMC-LM's exact conditional law, or the true
  TMC for ``rollouts="tmc"``) and labelled with the SAME instance ``C_i`` (Math-Shepherd's soft estimation).

  - tabular ORM: ``R_hat(o) = (s_o + c g) / (n_o + c)`` with ``n_o, s_o`` the solutions equal to ``o`` and their
    correct labels, ``g`` the pooled label mean: the posterior mean under the prior ``Beta(c g, c (1 - g))``
    (``c = prior_strength`` pseudo-samples; an unseen path gets the population's mean correctness ``g``).
    As ``n -> inf``: ``R_hat -> E_C[R(o; C)] = R_out(o)`` (C is drawn independently of the path).
  - logistic ORM (``logit``): ``R_hat(o) = sigmoid(b + sum_f w_f x_f(o))`` with ``x`` one-hot of the start state and
    of each edge ``(l, o_l, o_{l+1})``, fitted by L-BFGS on the mean log-loss + ``l2/2 |w|^2``. Not exact in the
    limit (``R_out`` is a product of edge probabilities, not a logistic of their sum): a parametric ORM that
    generalises to unseen paths from their edges.
  - LM-head ORM (``head``): the same logistic fit on the TMC-LM's z-scored last hidden state at ``<end>``
    (:func:`lm_features`; a linear value head on the frozen policy, as a real ORM head on an LLM).
  - PRM (Math-Shepherd, pooled over instances): for a terminal value ``v`` of each labelled full path,
    ``V_hat(p) = (S_p + c V_hat(parent p)) / (n_p + c)`` where ``n_p, S_p`` count / sum ``v`` over the rollouts that
    pass through ``p`` having started at a prefix of ``p`` (every such rollout continues from ``p`` with the rollout
    law, so its ``v`` is an unbiased sample of ``E[v | p]``; at full length also the solutions). The prior of an
    unseen prefix is its parent's estimate (the root's: the pooled mean). ``h_hat`` the same with ``exp(lam v)``.
    Two terminal values: ``v = y`` (the instance's 0/1 verifier, **mc_label**) and ``v = R_hat(o)`` (the learned
    ORM, **mc_orm**). Limits as ``n -> inf`` (rollouts = true TMC): both ``V_hat -> V``; ``h_hat_orm -> h``; but
    ``h_hat_label -> E_C E[exp(lam 1[o in C]) | p] = 1 + (e^lam - 1) V(p)``, NOT ``h``: with 0/1 instance labels
    the "disentangled" DPRM is a monotone transform of V (DPRM-BoN = PRM-BoN exactly), because the paper's
    ``h = E[exp(lam R_out)]`` puts the POPULATION reward inside the exponential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tmc_theory import exact


# ---------------------------------------------------------------------------------------------------------------
# prefix tables
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Rewards:
    """One reward source: ``r (..., n_paths)``, ``V[j] (..., n_prefix_j)``, ``h[j]`` for prefix length ``j + 1``."""

    name: str
    r: np.ndarray
    V: list[np.ndarray]
    h: list[np.ndarray]

    @property
    def batched(self) -> bool:
        return self.r.ndim == 2

    def instance(self, i: int) -> Rewards:
        """The reward tables of instance ``i`` of a batched source."""
        return Rewards(self.name, self.r[i], [v[i] for v in self.V], [x[i] for x in self.h])

    def score(self, tmc, kind: str):
        """``prefixes (n, j+1) -> values``: the lookup the theory's walkers call (``kind`` "V" or "h")."""
        tab = self.V if kind == "V" else self.h

        def f(prefixes: np.ndarray) -> np.ndarray:
            return tab[prefixes.shape[1] - 1][prefix_index(tmc, prefixes)]
        return f


def prefix_index(tmc, prefixes: np.ndarray) -> np.ndarray:
    """C-order index of each prefix row among all prefixes of its length."""
    prefixes = np.atleast_2d(np.asarray(prefixes, dtype=np.int64))
    return np.ravel_multi_index(tuple(prefixes.T), tuple(tmc.widths[: prefixes.shape[1]]))


def tree_values(tmc, terminal: np.ndarray, cont: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """``E[terminal(o) | prefix]`` for every prefix length: ``[T_0, .., T_{L-1}]``, ``T_{L-1} = terminal``.

    ``cont``: the continuation law. A list of kernels (Markov: ``T_l[.., s] = sum_s' K_l[s, s'] T_{l+1}[.., s, s']``,
    backward over the path tensor), or a joint path law ``q`` over ``tmc.enumerate_paths()`` (the TMC-LM's exact,
    non-Markov law: ``T(p) = sum_{o > p} q(o) terminal(o) / sum_{o > p} q(o)``; prefixes ``q`` never reaches get
    the uniform-continuation mean, they are never sampled). ``terminal`` may carry leading batch axes.
    """
    w = tuple(tmc.widths)
    t = np.asarray(terminal, float)
    lead = t.shape[:-1]
    t = t.reshape(lead + w)
    L = len(w)
    out = [t.reshape(lead + (-1,))]
    if isinstance(cont, np.ndarray) and cont.ndim == 1:
        q = np.broadcast_to(np.maximum(cont, 0.0).reshape(w), lead + w)
        for j in range(L - 1, 0, -1):          # prefix length j
            axes = tuple(range(len(lead) + j, len(lead) + L))
            num = (q * t).sum(axis=axes)
            den = q.sum(axis=axes)
            uni = t.mean(axis=axes)
            out.append(np.where(den > 1e-300, num / np.maximum(den, 1e-300), uni).reshape(lead + (-1,)))
        return out[::-1]
    cur = t
    for l in range(L - 2, -1, -1):
        k = np.asarray(cont[l], float)         # (W_l, W_{l+1}); cur has shape lead + w[:l+2]
        cur = (cur * k).sum(axis=-1)
        out.append(cur.reshape(lead + (-1,)))
    return out[::-1]


def values_from_terminal(tmc, name: str, r: np.ndarray, lam: float, cont) -> Rewards:
    """A :class:`Rewards` whose ``V, h`` are the exact conditional means of ``r`` and ``exp(lam r)`` under ``cont``."""
    return Rewards(name, np.asarray(r, float), tree_values(tmc, r, cont), tree_values(tmc, np.exp(lam * np.asarray(r)),
                                                                                        cont))


def exact_rewards(tmc, rtask, lam: float) -> Rewards:
    """The theory's population rewards: ``R_out``, ``V``, ``h`` (true-TMC continuation)."""
    return values_from_terminal(tmc, "exact", exact.r_out(tmc, rtask, tmc.enumerate_paths()), lam, tmc.kernels)


def instance_matrix(tmc, instances) -> np.ndarray:
    """``(n_instances, n_paths)``: ``R(o; C_i) = 1[o in C_i]`` over ``tmc.enumerate_paths()``."""
    paths = tmc.enumerate_paths()
    valid, j = instances.path_index(paths)
    return (instances.in_C[:, j] & valid[None, :]).astype(float)


def oracle_rewards(tmc, instances, lam: float) -> Rewards:
    """The instance reward of every instance (batched): ``r_C``, ``V_C``, ``h_C`` (true-TMC continuation)."""
    return values_from_terminal(tmc, "oracle", instance_matrix(tmc, instances), lam, tmc.kernels)


# ---------------------------------------------------------------------------------------------------------------
# training data from the TMC-LM
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class TrainingSet:
    """``n`` solutions (path indices into ``tmc.enumerate_paths()``) with their 0/1 labels, and per proper prefix
    length ``j`` (1..L-1) ``m`` rollouts per solution: ``roll_idx[j-1] (n, m)``, ``roll_y[j-1] (n, m)``."""

    sol_idx: np.ndarray
    sol_y: np.ndarray
    roll_idx: list[np.ndarray]
    roll_y: list[np.ndarray]

    def head(self, n: int) -> TrainingSet:
        """The first ``n`` solutions (nested budgets share their samples)."""
        return TrainingSet(self.sol_idx[:n], self.sol_y[:n], [a[:n] for a in self.roll_idx],
                           [a[:n] for a in self.roll_y])

    @property
    def n_labels(self) -> int:
        return int(self.sol_y.size + sum(a.size for a in self.roll_y))


def _conditional_cdf(tmc, joint: np.ndarray, j: int) -> np.ndarray:
    """``(n_prefix_j, n_paths)`` cumulative law of the full path given its length-``j`` prefix, from ``joint``."""
    paths = tmc.enumerate_paths()
    pi = prefix_index(tmc, paths[:, :j])
    n_pre = int(np.prod(tmc.widths[:j]))
    m = np.zeros((n_pre, len(paths)))
    m[pi, np.arange(len(paths))] = joint
    tot = m.sum(axis=1, keepdims=True)
    uni = (pi[None, :] == np.arange(n_pre)[:, None]).astype(float)       # unreachable prefix: uniform extension
    m = np.where(tot > 0, m / np.maximum(tot, 1e-300), uni / uni.sum(axis=1, keepdims=True))
    return np.cumsum(m, axis=1)


def _draw(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from each row's cumulative law (``u`` uniform, shape ``(n,)`` or ``(n, m)``)."""
    if u.ndim == 1:
        return np.minimum((u[:, None] >= cdf_rows).sum(axis=1), cdf_rows.shape[1] - 1)
    return np.minimum((u[:, :, None] >= cdf_rows[:, None, :]).sum(axis=2), cdf_rows.shape[1] - 1)


def rollout_joint(tmc, lm_joint: np.ndarray, rollouts: str) -> np.ndarray:
    """Joint path law whose conditionals are the rollout law: the TMC-LM's (``"tmclm"``) or the true TMC (``"tmc"``,
    uniform start; its conditionals are the true kernels)."""
    if rollouts == "tmclm":
        return np.asarray(lm_joint, float)
    if rollouts == "tmc":
        from .measure import tmc_path_probs

        return tmc_path_probs(tmc, None)
    from tmc_core.config import ConfigError

    raise ConfigError(f"rollouts: {rollouts!r} is not allowed; allowed values: tmclm, tmc")


def sample_training_set(tmc, rtask, lm_joint: np.ndarray, n: int, m: int, rng: np.random.Generator,
                        rollouts: str = "tmclm") -> TrainingSet:
    """Draw ``n`` solutions from ``lm_joint`` (the TMC-LM's path law), an instance of ``rtask`` per solution, and
    ``m`` rollouts from each proper prefix (law per ``rollouts``); label everything with the solution's instance."""
    from tmc_theory.instances import draw_instances

    paths = tmc.enumerate_paths()
    q = np.maximum(np.asarray(lm_joint, float), 0.0)
    cq = np.cumsum(q / q.sum())
    sol = np.minimum(np.searchsorted(cq, rng.random(n) * cq[-1], side="right"), len(q) - 1).astype(np.int64)
    inst = draw_instances(tmc, rtask, n, rng)
    mem = instance_matrix(tmc, inst).astype(bool)                      # (n, n_paths)
    rows = np.arange(n)
    sol_y = mem[rows, sol].astype(float)
    joint = rollout_joint(tmc, q, rollouts)
    roll_idx, roll_y = [], []
    for j in range(1, tmc.n_layers):
        cdf = _conditional_cdf(tmc, joint, j)
        pre = prefix_index(tmc, paths[sol, :j]) if n else np.zeros(0, np.int64)
        idx = _draw(cdf[pre], rng.random((n, m)))
        roll_idx.append(idx)
        roll_y.append(mem[rows[:, None], idx].astype(float))
    return TrainingSet(sol, sol_y, roll_idx, roll_y)


# ---------------------------------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------------------------------
def fit_orm_tabular(n_paths: int, ts: TrainingSet, prior_strength: float = 1.0) -> np.ndarray:
    """``R_hat(o) = (s_o + c g) / (n_o + c)``, ``g`` = pooled label mean (the prior ``Beta(c g, c (1 - g))``)."""
    n_o = np.bincount(ts.sol_idx, minlength=n_paths).astype(float)
    s_o = np.bincount(ts.sol_idx, weights=ts.sol_y, minlength=n_paths)
    g = float(ts.sol_y.mean()) if ts.sol_y.size else 0.0
    c = float(prior_strength)
    if c <= 0:
        return np.where(n_o > 0, s_o / np.maximum(n_o, 1), g)
    return (s_o + c * g) / (n_o + c)


def edge_features(tmc) -> np.ndarray:
    """``(n_paths, d)``: one-hot of the start state and of each edge ``(l, o_l, o_{l+1})``."""
    paths = tmc.enumerate_paths()
    w = tmc.widths
    cols = [np.eye(w[0])[paths[:, 0]]]
    for l in range(tmc.n_layers - 1):
        cols.append(np.eye(w[l] * w[l + 1])[paths[:, l] * w[l + 1] + paths[:, l + 1]])
    return np.concatenate(cols, axis=1)


def lm_features(model, tok, tmc) -> np.ndarray:
    """``(n_paths, hidden)``: the TMC-LM's last-layer hidden state at the ``<end>`` token of ``<any> o <end>``
    (teacher forcing), z-scored per dimension: the input of the ``head`` ORM (a logistic head on the LM)."""
    import torch

    ids = torch.as_tensor(tok.encode_paths(tmc.enumerate_paths(), None), dtype=torch.long)
    model.eval()
    with torch.no_grad():
        h = model(input_ids=ids, output_hidden_states=True).hidden_states[-1][:, -1].double().numpy()
    return (h - h.mean(axis=0)) / np.maximum(h.std(axis=0), 1e-12)


def fit_orm_logistic(tmc, ts: TrainingSet, l2: float = 1e-3, X: np.ndarray | None = None) -> np.ndarray:
    """Logistic regression on ``X`` (default :func:`edge_features`; L-BFGS, mean log-loss + ``l2/2 |w|^2``, bias
    unpenalised), fitted on the per-path sufficient statistics of the solutions' labels."""
    from scipy.optimize import minimize

    X = edge_features(tmc) if X is None else np.asarray(X, float)
    d = X.shape[1]
    n_o = np.bincount(ts.sol_idx, minlength=len(X)).astype(float)     # sufficient statistics per path
    s_o = np.bincount(ts.sol_idx, weights=ts.sol_y, minlength=len(X))
    n = max(float(n_o.sum()), 1.0)

    def f(theta):
        z = X @ theta[:d] + theta[d]
        lp1 = -np.logaddexp(0.0, -z)        # log sigmoid(z)
        lp0 = -np.logaddexp(0.0, z)         # log (1 - sigmoid(z))
        loss = -(s_o * lp1 + (n_o - s_o) * lp0).sum() / n + 0.5 * l2 * theta[:d] @ theta[:d]
        p = np.exp(lp1)
        g = (n_o * p - s_o) / n
        grad = np.concatenate([X.T @ g + l2 * theta[:d], [g.sum()]])
        return loss, grad

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    z = X @ res.x[:d] + res.x[d]
    return 1.0 / (1.0 + np.exp(-z))


def fit_prm(tmc, ts: TrainingSet, lam: float, prior_strength: float = 1.0, orm: np.ndarray | None = None,
            name: str = "mc_label") -> Rewards:
    """Math-Shepherd MC values pooled over instances (module docstring): terminal value ``v = y`` (``orm=None``) or
    ``v = orm[o]``; ``V_hat``, ``h_hat`` with parent shrinkage (``c = prior_strength``)."""
    paths = tmc.enumerate_paths()
    L = tmc.n_layers
    sizes = [int(np.prod(tmc.widths[: j + 1])) for j in range(L)]
    n_v = [np.zeros(s) for s in sizes]
    s_v = [np.zeros(s) for s in sizes]
    s_h = [np.zeros(s) for s in sizes]

    pre_of = [prefix_index(tmc, paths[:, :j]) for j in range(1, L + 1)]    # path -> its length-j prefix

    def add(idx, v, from_len):
        idx, v = idx.ravel(), v.ravel()
        for j in range(from_len, L + 1):
            pi = pre_of[j - 1][idx]
            n_v[j - 1] += np.bincount(pi, minlength=sizes[j - 1])
            s_v[j - 1] += np.bincount(pi, weights=v, minlength=sizes[j - 1])
            s_h[j - 1] += np.bincount(pi, weights=np.exp(lam * v), minlength=sizes[j - 1])

    term = (lambda idx, y: y) if orm is None else (lambda idx, y: np.asarray(orm)[idx])
    for j, (idx, y) in enumerate(zip(ts.roll_idx, ts.roll_y), start=1):
        add(idx, term(idx, y), j)
    add(ts.sol_idx, term(ts.sol_idx, ts.sol_y), L)
    tot = sum(a.sum() for a in n_v[-1:])
    gv = s_v[-1].sum() / tot if tot else 0.0
    gh = s_h[-1].sum() / tot if tot else 1.0
    c = float(prior_strength)
    V, H = [], []
    for j in range(L):
        if j == 0:
            pv, ph = np.full(sizes[0], gv), np.full(sizes[0], gh)
        else:
            parent = np.arange(sizes[j]) // tmc.widths[j]
            pv, ph = V[-1][parent], H[-1][parent]
        den = n_v[j] + c
        if c <= 0:
            V.append(np.where(n_v[j] > 0, s_v[j] / np.maximum(n_v[j], 1), pv))
            H.append(np.where(n_v[j] > 0, s_h[j] / np.maximum(n_v[j], 1), ph))
        else:
            V.append((s_v[j] + c * pv) / den)
            H.append((s_h[j] + c * ph) / den)
    r = V[-1] if orm is None else np.asarray(orm, float)
    if orm is not None:                      # the ORM itself at full length (no continuation left)
        V[-1], H[-1] = r.copy(), np.exp(lam * r)
    return Rewards(name, r, V, H)


def learned_sources(tmc, ts: TrainingSet, lam: float, prior_strength: float = 1.0, l2: float = 1e-3,
                    logistic: bool = True, features: np.ndarray | None = None) -> dict[str, Rewards]:
    """The learned reward sources from one training set (module docstring): ``mc_label`` (tabular ORM for
    Soft-/ORM-BoN; instance-label MC values for the walkers), ``mc_orm`` (tabular ORM; MC values of the ORM), if
    ``logistic`` ``logit`` (logistic ORM on edge features; MC values of it) and, given ``features`` (e.g.
    :func:`lm_features`), ``head`` (logistic ORM on them; MC values of it)."""
    n_paths = len(tmc.enumerate_paths())
    orm = fit_orm_tabular(n_paths, ts, prior_strength)
    lab = fit_prm(tmc, ts, lam, prior_strength, None, "mc_label")
    out = {"mc_label": Rewards("mc_label", orm, lab.V, lab.h),
           "mc_orm": fit_prm(tmc, ts, lam, prior_strength, orm, "mc_orm")}
    if logistic:
        out["logit"] = fit_prm(tmc, ts, lam, prior_strength, fit_orm_logistic(tmc, ts, l2), "logit")
    if features is not None:
        out["head"] = fit_prm(tmc, ts, lam, prior_strength, fit_orm_logistic(tmc, ts, l2, features), "head")
    return out
