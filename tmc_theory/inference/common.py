"""Shared machinery of the five inference-time selectors (docs/tmc_model.md §5).

* :class:`InferenceConfig` — N candidates, N Monte-Carlo continuations, lambda, and the paper's conventions as
  OPTIONS: ``reward_task`` (the paper scores every task with TASK1 rewards; default: the evaluated task's own)
  and ``start`` (the paper starts Base/Soft-BoN/ORM-BoN from a uniform start state; default the task's start).
* reward-model scores of prefixes: exact (``V``, ``h`` from :mod:`tmc_theory.exact`) or FRESH Monte-Carlo
  estimates from ``n_mc`` true-TMC continuations on every call (never cached — the released code's per-prefix
  cache turns PRM-BoN/DPRM-BoN into exactly 100/0/0, which the published numbers do not show).
* step-wise walkers (PRM-BoN, DPRM-BoN, DPRM-AS): vectorised over all walks at once, and their exact path
  distribution by expanding the prefix tree layer by layer (path order of ``TMC.enumerate_paths()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np

from .. import exact
from tmc_core.config import ConfigError, check_literals, doc
from ..sampling import sample_paths
from ..tmc import TMC, Task


@dataclass
class InferenceConfig:
    n_candidates: int = field(default=15, metadata=doc(
        "N: Soft-BoN collects N distinct base samples, ORM-BoN draws N base samples (paper: 15)"))
    n_mc: int = field(default=15, metadata=doc(
        "continuations per Monte-Carlo reward-model estimate of V or h, fresh on every call (paper: 15)"))
    lam: float = field(default=0.5, metadata=doc(
        "lambda: Soft-BoN weight exp(lam R_out); DPRM h = E[exp(lam R_out) | prefix], R_DPRM = log(h)/lam (paper 0.5)"))
    reward_task: str | None = field(default=None, metadata=doc(
        "task whose R_out / V / h score the candidates; null = the evaluated task (textbook); "
        "the paper scores every task with TASK1 rewards (docs/tmc_model.md §5)"))
    start: Literal["task", "uniform"] = field(default="task", metadata=doc(
        "start state of the base sampler / walks: task = the evaluated task's start; uniform = uniform over "
        "layer 0 (the paper's convention for Base Model, Soft-BoN and ORM-BoN)"))
    estimator: Literal["mc", "exact"] = field(default="mc", metadata=doc(
        "reward-model values used by sample(): mc = fresh N-continuation estimates (paper); exact = exact V / h"))
    distinct: bool = field(default=True, metadata=doc(
        "Soft-BoN: keep drawing until n_candidates DISTINCT paths (paper); false = n_candidates i.i.d. draws"))
    base_factor: bool = field(default=False, metadata=doc(
        "DPRM-AS: false = sample child prop. to exp(lam R_DPRM) = h (paper, no base factor); "
        "true = textbook Doob transform p(c|s) h(prefix+c) / h(prefix)"))

    def __post_init__(self):
        check_literals(self)
        if self.n_candidates < 1:
            raise ConfigError(f"n_candidates: must be >= 1, got {self.n_candidates}")
        if self.n_mc < 1:
            raise ConfigError(f"n_mc: must be >= 1, got {self.n_mc}")
        if self.lam <= 0:
            raise ConfigError(f"lam: must be > 0, got {self.lam}")


def as_task(tmc: TMC, task) -> Task:
    return task if isinstance(task, Task) else tmc.task(task)


def reward_task(tmc: TMC, task: Task, cfg: InferenceConfig) -> Task:
    """The task whose rewards score candidates (``cfg.reward_task`` or the evaluated task)."""
    if cfg.reward_task is None:
        return task
    try:
        return tmc.task(cfg.reward_task)
    except ValueError:
        raise ConfigError(f"reward_task: {cfg.reward_task!r} is not a task of this TMC; allowed: "
                          f"{', '.join(t.name for t in tmc.tasks)} or null") from None


def start_dist(tmc: TMC, task: Task, cfg: InferenceConfig) -> np.ndarray:
    return exact.start_distribution(tmc.widths[0], "uniform" if cfg.start == "uniform" else task.start)


def draw_starts(tmc: TMC, task: Task, cfg: InferenceConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    if cfg.start == "uniform":
        return rng.integers(0, tmc.widths[0], size=n)
    return np.full(n, task.start, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------
# reward-model scores of prefixes
# ---------------------------------------------------------------------------------------------------------
def exact_score(tmc: TMC, rtask: Task, prefixes: np.ndarray, kind: str, lam: float) -> np.ndarray:
    """``kind="V"``: PRM potential; ``kind="h"``: Doob ``h = E[exp(lam R_out) | prefix]`` (exact)."""
    if kind == "V":
        return exact.prm_potential(tmc, rtask, prefixes)
    return exact.doob_h(tmc, rtask, prefixes, lam)


def continuation_table(tmc: TMC, rtask: Task, layer: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Law of ``X = P(cont | s) [cont ends at target]`` for continuations from each state of ``layer``.

    Returns ``(probs (W, n_c), values (W, n_c))`` (continuations missing the target merged into one ``X = 0``
    category), or ``None`` if there are more than :data:`MAX_TABLE` continuations (then sample step by step).
    Used to draw Monte-Carlo continuation values in one multinomial draw per estimate.
    """
    w = tmc.widths
    n_c = int(np.prod(w[layer + 1:], dtype=object))
    if n_c * w[layer] > MAX_TABLE:
        return None
    probs, vals = [], []
    for s in range(w[layer]):
        sd = np.zeros(w[layer])
        sd[s] = 1.0
        paths, p = exact.path_distribution(tmc.kernels[layer:], sd)
        p = p.reshape(w[layer], -1)[s]
        hit = paths.reshape(w[layer], -1, paths.shape[1])[s][:, -1] == rtask.target
        probs.append(np.concatenate([p[hit], [p[~hit].sum()]]))
        vals.append(np.concatenate([p[hit], [0.0]]))
    return np.array(probs), np.array(vals)


MAX_TABLE = 1 << 16


def multinomial_rows(n: int, pvals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One multinomial(n, pvals[i]) count vector per row, by a vectorised chain of binomials."""
    rows, k = pvals.shape
    counts = np.zeros((rows, k), dtype=np.int64)
    left = np.full(rows, n, dtype=np.int64)
    rest = np.ones(rows)
    for j in range(k - 1):
        pj = np.clip(np.divide(pvals[:, j], rest, out=np.zeros(rows), where=rest > 0), 0.0, 1.0)
        c = rng.binomial(left, pj)
        counts[:, j] = c
        left -= c
        rest = rest - pvals[:, j]
    counts[:, -1] = left
    return counts


def mc_score(tmc: TMC, rtask: Task, prefixes: np.ndarray, kind: str, lam: float, n_mc: int,
             rng: np.random.Generator, tables: dict | None = None) -> np.ndarray:
    """Fresh Monte-Carlo estimate from ``n_mc`` true-TMC continuations per prefix (all prefixes at once).

    ``V_hat = mean_i R_out(prefix + cont_i)``; ``h_hat = mean_i exp(lam R_out(prefix + cont_i))``. A full path
    needs no continuation, so its value is exact. Since ``R_out(prefix + cont) = a(prefix) X(cont)`` with
    ``X = P(cont | o_l) [ends at target]``, the ``n_mc`` continuations of a prefix are drawn as one multinomial
    count vector over the continuation table (same law as ``n_mc`` step-by-step walks, much cheaper); TMCs
    with too many continuations are sampled step by step.
    """
    prefixes = np.atleast_2d(prefixes)
    n, lp = prefixes.shape
    L = tmc.n_layers
    if lp == L:
        r = exact.r_out(tmc, rtask, prefixes)
        return r if kind == "V" else np.exp(lam * r)
    key = (rtask.name, lp - 1)
    if tables is not None and key not in tables:
        tables[key] = continuation_table(tmc, rtask, lp - 1)
    tab = tables.get(key) if tables is not None else continuation_table(tmc, rtask, lp - 1)
    if tab is not None:
        a = exact._prefix_weight(tmc, rtask, prefixes)
        last = prefixes[:, -1]
        counts = multinomial_rows(n_mc, tab[0][last], rng)
        x = tab[1][last]
        if kind == "V":
            return a * (counts * x).sum(axis=1) / n_mc
        return (counts * np.exp(lam * a[:, None] * x)).sum(axis=1) / n_mc
    full = np.empty((n * n_mc, L), dtype=np.int64)
    full[:, :lp] = np.repeat(prefixes, n_mc, axis=0)
    tail = sample_paths(tmc.kernels[lp - 1:], full[:, lp - 1], rng)
    full[:, lp - 1:] = tail
    r = exact.r_out(tmc, rtask, full).reshape(n, n_mc)
    return r.mean(axis=1) if kind == "V" else np.exp(lam * r).mean(axis=1)


def expand(prefixes: np.ndarray, width: int) -> np.ndarray:
    """Every prefix followed by every child ``0..width-1``: ``(n * width, l + 2)``, children fastest."""
    n = len(prefixes)
    out = np.empty((n * width, prefixes.shape[1] + 1), dtype=np.int64)
    out[:, :-1] = np.repeat(prefixes, width, axis=0)
    out[:, -1] = np.tile(np.arange(width), n)
    return out


def argmax_ties(scores: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Rows of ``scores`` -> uniform probability over the (near-)maximal entries."""
    mx = scores.max(axis=1, keepdims=True)
    ties = scores >= mx - rtol * np.maximum(np.abs(mx), 1e-300)
    return ties / ties.sum(axis=1, keepdims=True)


def choose_argmax(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index of the maximum per row, ties broken uniformly at random."""
    ties = argmax_ties(scores) > 0
    u = rng.random(scores.shape) * ties
    return u.argmax(axis=1)


def choose_proportional(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index per row drawn with probability proportional to ``weights`` (non-negative)."""
    c = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * c[:, -1]
    return np.minimum((u[:, None] >= c).sum(axis=1), weights.shape[1] - 1)


# ---------------------------------------------------------------------------------------------------------
# step-wise walkers
# ---------------------------------------------------------------------------------------------------------
def walk_sample(tmc: TMC, starts: np.ndarray, score: Callable[[np.ndarray], np.ndarray], rule: str,
                rng: np.random.Generator, base_kernels: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Sample one walk per start: at layer ``l`` score every child of the current prefix and pick one.

    ``rule``: ``"argmax"`` (random tie-break), ``"proportional"`` (child prop. to its score) or
    ``"proportional_base"`` (prop. to ``base p(c | s) * score``).
    """
    ks = tmc.kernels if base_kernels is None else base_kernels
    n = len(starts)
    paths = np.empty((n, tmc.n_layers), dtype=np.int64)
    paths[:, 0] = starts
    for l in range(tmc.n_layers - 1):
        w = tmc.widths[l + 1]
        s = score(expand(paths[:, : l + 1], w)).reshape(n, w)
        if rule == "argmax":
            paths[:, l + 1] = choose_argmax(s, rng)
        else:
            if rule == "proportional_base":
                s = s * np.asarray(ks[l])[paths[:, l]]
            paths[:, l + 1] = choose_proportional(s, rng)
    return paths


def walk_distribution(tmc: TMC, sd: np.ndarray, score: Callable[[np.ndarray], np.ndarray], rule: str,
                      base_kernels: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Exact path distribution of a walker with EXACT scores, over ``tmc.enumerate_paths()``.

    Expands the prefix tree layer by layer (children fastest = lexicographic = ``enumerate_paths`` order).
    """
    ks = tmc.kernels if base_kernels is None else base_kernels
    prefixes = np.arange(tmc.widths[0], dtype=np.int64)[:, None]
    prob = np.asarray(sd, float).copy()
    for l in range(tmc.n_layers - 1):
        w = tmc.widths[l + 1]
        s = score(expand(prefixes, w)).reshape(len(prefixes), w)
        if rule == "argmax":
            step = argmax_ties(s)
        else:
            if rule == "proportional_base":
                s = s * np.asarray(ks[l])[prefixes[:, -1]]
            step = s / s.sum(axis=1, keepdims=True)
        prob = (prob[:, None] * step).ravel()
        prefixes = expand(prefixes, w)
    return prob


def walker_score(tmc: TMC, task: Task, cfg: InferenceConfig, kind: str, rng: np.random.Generator | None,
                 estimator: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Scoring function of prefixes for the walkers (exact or fresh MC per ``estimator``)."""
    rtask = reward_task(tmc, task, cfg)
    est = estimator or cfg.estimator
    if est == "exact":
        return lambda pre: exact_score(tmc, rtask, pre, kind, cfg.lam)
    tables: dict = {}
    return lambda pre: mc_score(tmc, rtask, pre, kind, cfg.lam, cfg.n_mc, rng, tables)


def iid_pass_at_k(tmc: TMC, task: Task, probs: np.ndarray, k, instances=None):
    """pass@K for K i.i.d. draws from ``probs`` over all paths: exact E_C, or mean over fixed ``instances``."""
    if instances is None:
        return exact.expected_pass_at_k(tmc, task, probs, k)
    valid, j = instances.path_index(tmc.enumerate_paths())
    qv = np.zeros(instances.in_C.shape[1])
    np.add.at(qv, j[valid], probs[valid])
    res = exact.pass_at_k_given_instances(qv, instances.in_C, k)
    return float(res[0]) if np.ndim(k) == 0 else res


def iid_selector_parts(exact_distribution: Callable, sample_batch: Callable) -> tuple[Callable, Callable]:
    """``sample`` and ``exact_pass_at_k`` of a selector whose K outputs are i.i.d. draws from
    ``exact_distribution`` (the base sampler, the step-wise walkers): ``sample`` = one set of ``sample_batch``;
    ``exact_pass_at_k`` = ``1 - E_C[(1 - q(C))^K]`` with ``q = exact_distribution`` (or the mean over fixed
    ``instances``)."""

    def sample(tmc, task, cfg: InferenceConfig | None, k: int, rng, base_kernels=None) -> np.ndarray:
        """(k, L): k independent outputs."""
        return sample_batch(tmc, task, cfg, 1, k, rng, base_kernels)[0]

    def exact_pass_at_k(tmc, task, cfg: InferenceConfig | None, k, base_kernels=None, instances=None):
        """Outputs are i.i.d., so 1 - E_C[(1 - q(C))^K] with q = exact_distribution."""
        task = as_task(tmc, task)
        return iid_pass_at_k(tmc, task, exact_distribution(tmc, task, cfg, base_kernels), k, instances)

    return sample, exact_pass_at_k


def walker_selector(kind: str, rule: Callable[[InferenceConfig], str]):
    """The four entry points of a step-wise selector (PRM-BoN, DPRM-BoN, DPRM-AS), which differ only in the
    score ``kind`` ("V" = PRM potential, "h" = Doob transform) and the per-layer ``rule`` (argmax or
    proportional). Returns ``(exact_distribution, sample_batch, sample, exact_pass_at_k)``."""

    def exact_distribution(tmc, task, cfg: InferenceConfig | None = None, base_kernels=None) -> np.ndarray:
        """Probability of each path of tmc.enumerate_paths() with exact reward-model values."""
        cfg = cfg or InferenceConfig()
        task = as_task(tmc, task)
        score = walker_score(tmc, task, cfg, kind, None, estimator="exact")
        return walk_distribution(tmc, start_dist(tmc, task, cfg), score, rule(cfg), base_kernels)

    def sample_batch(tmc, task, cfg: InferenceConfig | None, n_sets: int, k: int, rng,
                     base_kernels=None) -> np.ndarray:
        """(n_sets, k, L): n_sets * k independent walks, vectorised (fresh estimates for each)."""
        cfg = cfg or InferenceConfig()
        task = as_task(tmc, task)
        score = walker_score(tmc, task, cfg, kind, rng)
        paths = walk_sample(tmc, draw_starts(tmc, task, cfg, n_sets * k, rng), score, rule(cfg), rng, base_kernels)
        return paths.reshape(n_sets, k, tmc.n_layers)

    sample, exact_pass_at_k = iid_selector_parts(exact_distribution, sample_batch)  # walks are i.i.d.
    return exact_distribution, sample_batch, sample, exact_pass_at_k
