"""Each Best-of-N selector's exact output law on fitted trees, and the measured-vs-predicted table for ``tmc bon``.

For a fitted problem (a ``tmc_theory`` TMC with one task, :mod:`harness.theory_fit.tree` / ``path_tree``) with base
path law ``q(o)`` over ``tmc.enumerate_paths()``, a selector's output law is computed for one of two rewards:

* ``population``: the paper's ``R_out(o) = P(o | s) / Z`` for paths that end in the target (``Z`` = the correct
  mass), i.e. the population-averaged correctness of the paper's instance model (docs/tmc_model.md §2). A learned
  ORM / PRM is trained to predict it. This is ``tmc_theory``'s own ``INFERENCE[key].exact_distribution`` on the
  fitted TMC, called as is (exact reward-model values, ``estimator="exact"``).
* ``instance``: the real verifier's reward on this one problem, ``r(o) = 1[o ends in correct and q(o) > 0]``
  (a path the base cannot produce scores 0, so a walker never steps onto an impossible edge) -- what ``tmc bon``'s
  ``oracle`` and ``mc:oracle`` rewards are.

For any path reward ``r`` the laws are (:func:`generic_distribution`, the same equations as ``tmc_theory.inference``):

* ``soft_bon``: ``P(o) = sum_S P(S) 1[o in S] w(o) / w(S)``, ``w = exp(lam r)``, ``S`` = the first N distinct draws
  from ``q`` (``tmc_theory.inference.soft_bon.candidate_sets``);
* ``orm_bon``: the top 1 of N i.i.d. draws from ``q`` by ``r`` (ties at random) --
  ``tmc_theory.inference.orm_bon.orm_topk_distribution(q, r, N, 1)``; one completion per run, as ``tmc bon``;
* ``prm_bon`` / ``dprm_bon``: walk from the start, at each layer the child with the largest
  ``V(prefix) = sum_cont P(cont | o_l) r(prefix + cont)`` / ``h(prefix) = sum_cont P(cont | o_l) exp(lam r(...))``;
  ``dprm_as``: child drawn proportional to ``h`` (the paper's form, no base factor); all by
  ``tmc_theory.inference.common.walk_distribution``. With ``r = R_out`` these equal tmc_theory's ``V = a B2`` and
  Doob ``h`` exactly (tested). The predicted walkers choose only among children with base probability > 0 (a real
  walker's proposals are base samples): tmc_theory's walkers score every child of a layer, and a fitted tree, unlike
  the paper's TMC, has probability-0 edges (a wrong path's edge to ``correct``, edges between non-parent nodes);
  where all scores tie (a problem with no correct path: every ``V = 0``) or without a base factor (DPRM-AS, ``h = 1``
  on an impossible child) tmc_theory's walk steps onto them. ``support_only=False`` gives tmc_theory's law.

Departures from ``tmc bon``: it draws the N candidates WITHOUT replacement from a finite pool (here: i.i.d. from the
fitted law), its step-level selectors propose M sampled steps scored by Monte-Carlo / learned values (here: every
child, exact values), and on a depth-1 path tree a "step" is a whole path (path_tree.py says what is lost).

Shares (``path_shares``, the field names of ``tmc bon``'s results.json): ``correct`` (= accuracy = pass@1),
``wrong``, ``easy`` = correct and on the base's most frequent path (``tmc bon``'s rule: the pool's modal cluster),
``rare_correct`` = correct - easy; ``roles`` adds the six categories of :mod:`harness.paths.mass`. Path trees only:
on a step tree ``easy`` and ``rare_correct`` are None.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .tree import CORRECT, ProblemTree

SELECTOR_KEYS = ("soft_bon", "orm_bon", "prm_bon", "dprm_bon", "dprm_as")
REWARDS = ("instance", "population")
#: tmc bon reward source -> the reward the theory scores with
BON_REWARD = {"oracle": "instance", "mc:oracle": "instance", "orm": "population", "mc:orm": "population",
              "prm": "population"}
_WALK = {"prm_bon": ("V", "argmax"), "dprm_bon": ("h", "argmax"), "dprm_as": ("h", "proportional")}


def base_law(tree: ProblemTree):
    """``(paths, q)``: every path of ``tmc.enumerate_paths()`` and its base probability from the task's start."""
    from tmc_theory import exact

    return exact.path_distribution(tree.tmc.kernels, exact.start_distribution(tree.tmc.widths[0], tree.task.start))


def path_reward(tree: ProblemTree, reward: str, paths=None, q=None) -> np.ndarray:
    """``r(o)`` per path: ``population`` = ``R_out`` (tmc_theory.exact.r_out), ``instance`` = 1[correct and q > 0]."""
    from tmc_theory import exact

    if paths is None:
        paths, q = base_law(tree)
    if reward == "population":
        return exact.r_out(tree.tmc, tree.task, paths)
    if reward == "instance":
        return ((paths[:, -1] == tree.task.target) & (q > 0)).astype(float)
    raise ValueError(f"reward {reward!r} is not allowed; allowed values: {', '.join(REWARDS)}")


def _prefix_tables(tree: ProblemTree, paths: np.ndarray, vals: np.ndarray) -> list[np.ndarray]:
    """``T[l][prefix id] = sum_{o extends prefix} P(o_l..o_L | o_l) vals(o)`` for prefixes of ``l + 1`` states."""
    ks, w = tree.tmc.kernels, tree.tmc.widths
    L = len(w)
    tables = []
    for l in range(L):
        cont = np.ones(len(paths))
        for j in range(l, L - 1):
            cont = cont * ks[j][paths[:, j], paths[:, j + 1]]
        ids = np.ravel_multi_index(paths[:, :l + 1].T, w[:l + 1])
        tables.append(np.bincount(ids, weights=cont * vals, minlength=int(np.prod(w[:l + 1]))))
    return tables


def generic_distribution(tree: ProblemTree, key: str, r: np.ndarray, n: int = 8, lam: float = 0.5,
                         support_only: bool = False) -> np.ndarray:
    """Exact output law of selector ``key`` for the path reward ``r`` (module docstring), over enumerate_paths().
    ``support_only``: the walkers choose only among children the base can produce (base p(c | s) > 0), as a real
    walker's proposals are base samples; False = tmc_theory's walk over every child of the layer."""
    from tmc_theory import exact
    from tmc_theory.inference.common import walk_distribution
    from tmc_theory.inference.orm_bon import orm_topk_distribution
    from tmc_theory.inference.soft_bon import candidate_sets

    paths, q = base_law(tree)
    if key == "soft_bon":
        mem, ps = candidate_sets(q, n)
        ws = mem * np.exp(lam * r)[None, :]
        return (ps[:, None] * ws / ws.sum(axis=1, keepdims=True)).sum(axis=0)
    if key == "orm_bon":
        return orm_topk_distribution(q, r, n, 1)
    if key not in _WALK:
        raise ValueError(f"selector {key!r} is not allowed; allowed values: {', '.join(SELECTOR_KEYS)}")
    kind, rule = _WALK[key]
    score = prefix_score(tree, kind, r, lam, support_only, masked=-np.inf if rule == "argmax" else 0.0)
    sd = exact.start_distribution(tree.tmc.widths[0], tree.task.start)
    return walk_distribution(tree.tmc, sd, score, rule)


def prefix_score(tree: ProblemTree, kind: str, r: np.ndarray, lam: float = 0.5, support_only: bool = False,
                 masked: float = 0.0):
    """The walkers' score of prefixes ``(n, l + 1)``: ``kind="V"``: ``sum_cont P(cont | o_l) r(prefix + cont)``;
    ``"h"``: ``sum_cont P(cont | o_l) exp(lam r(prefix + cont))``. With ``support_only`` a prefix whose last edge
    the base cannot take scores ``masked`` (-inf for an argmax walker, 0 for a proportional one), so it is never
    chosen, not even when every score ties."""
    paths, _ = base_law(tree)
    tables = _prefix_tables(tree, paths, r if kind == "V" else np.exp(lam * r))
    w = tree.tmc.widths

    def score(pre: np.ndarray) -> np.ndarray:
        v = tables[pre.shape[1] - 1][np.ravel_multi_index(pre.T, w[:pre.shape[1]])]
        if support_only:
            v = np.where(tree.tmc.kernels[pre.shape[1] - 2][pre[:, -2], pre[:, -1]] > 0, v, masked)
        return v

    return score


def selector_distribution(tree: ProblemTree, key: str, reward: str = "instance", n: int = 8,
                          lam: float = 0.5, support_only: bool = True) -> np.ndarray:
    """Output law of ``key`` on ``tree`` for ``reward``. ``support_only`` (default): walkers choose only among
    children the base can produce (module docstring); for the population reward with ``support_only=False``, and
    for soft_bon / orm_bon (which only ever see base samples), it is tmc_theory's registry law exactly; otherwise
    :func:`generic_distribution`."""
    if reward == "population" and (key in ("soft_bon", "orm_bon") or not support_only):
        from tmc_theory.inference.common import InferenceConfig
        from tmc_theory.registry import get_inference

        cfg = InferenceConfig(n_candidates=n, lam=lam, estimator="exact")
        kw = {"k": 1} if key == "orm_bon" else {}
        return get_inference(key).exact_distribution(tree.tmc, tree.task, cfg, **kw)
    return generic_distribution(tree, key, path_reward(tree, reward), n, lam, support_only=support_only)


def shares_of(tree: ProblemTree, probs: np.ndarray) -> dict:
    """``path_shares`` of an output law over enumerate_paths() (module docstring)."""
    paths = tree.tmc.enumerate_paths()
    ok = paths[:, -1] == tree.task.target
    correct = float(probs[ok].sum())
    out = {"scheme": "fitted_tree", "correct": correct, "wrong": 1.0 - correct, "easy": None, "rare_correct": None}
    if tree.kind == "paths" and tree.roles is not None:
        from .path_tree import category_masses

        leaf = np.bincount(paths[:, 1], weights=probs, minlength=tree.tmc.widths[1])
        modal = tree.extra["modal"] if tree.extra else 0
        easy = float(probs[ok & (paths[:, 1] == modal)].sum()) if tree.roles[modal] != "wrong" else 0.0
        last = np.zeros((len(leaf), 2))
        for j in range(len(leaf)):
            tot = probs[paths[:, 1] == j].sum()
            last[j] = [probs[(paths[:, 1] == j) & ok].sum() / tot, 0.0] if tot > 0 else [0.0, 0.0]
            last[j, 1] = 1.0 - last[j, CORRECT] if tot > 0 else 1.0
        out.update(easy=easy, rare_correct=correct - easy, roles=category_masses(tree, leaf, last))
    return out


def predict_selectors(trees: Sequence[ProblemTree], keys: Sequence[str] = SELECTOR_KEYS,
                      ns: Sequence[int] = (8,), rewards: Sequence[str] = REWARDS, lam: float = 0.5) -> dict:
    """``{key: {reward: {N: {"accuracy", "pass_at_k": {"1": {"mean"}}, "path_shares", "per_problem"}}}}``: macro
    means over the problems (each problem weighs 1), ``pass_at_k`` and ``path_shares`` as in ``tmc bon``'s
    results.json (``selectors.<key>.<reward>``). The walkers do not use N (their entry is the same for every N)."""
    from tmc_core.config import ConfigError

    out: dict = {}
    for key in keys:
        for rw in rewards:
            for n in ns:
                try:
                    per = {t.problem_id: shares_of(t, selector_distribution(t, key, rw, int(n), lam)) for t in trees}
                except ConfigError as e:  # e.g. soft_bon's exact subset programme beyond 22 paths
                    out.setdefault(key, {}).setdefault(rw, {})[str(int(n))] = {"skipped": str(e)}
                    continue
                mean = {f: (float(np.mean([p[f] for p in per.values()])) if all(p[f] is not None for p in per.values())
                            else None) for f in ("correct", "wrong", "easy", "rare_correct")}
                ps = {"scheme": "fitted_tree", "n": len(per), **mean}
                roles = [p["roles"] for p in per.values() if "roles" in p]
                if len(roles) == len(per) and roles:
                    ps["roles"] = {c: float(np.mean([r[c] for r in roles])) for c in roles[0]}
                out.setdefault(key, {}).setdefault(rw, {})[str(int(n))] = {
                    "accuracy": mean["correct"], "pass_at_k": {"1": {"mean": mean["correct"]}}, "path_shares": ps,
                    "per_problem": {pid: p["correct"] for pid, p in per.items()}}
    return out


def poisson_binomial_test(k: int, ps: Sequence[float]) -> float:
    """Exact two-sided p-value of ``k`` successes among independent Bernoulli(p_i): the sum of the Poisson-binomial
    pmf over outcomes no more likely than ``k``."""
    pmf = np.ones(1)
    for p in ps:
        pmf = np.convolve(pmf, [1.0 - p, p])
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def _read_bon(path: Path) -> tuple[dict, Path]:
    f = path / "results.json" if path.is_dir() else path
    if not f.exists():
        raise ValueError(f"{path}: no results.json (a `tmc bon` output folder or its results.json)")
    d = json.loads(f.read_text())
    if "selectors" not in d:
        raise ValueError(f"{f}: field 'selectors' missing (not a `tmc bon` results.json)")
    return d, f.parent


def bon_side_by_side(bon: str | Path, trees: Sequence[ProblemTree]) -> list[dict]:
    """Measured (``tmc bon`` results.json) and predicted (the fitted trees) accuracy and path shares, one row per
    selector x reward. N and lambda come from the results' config. With the run's selections.jsonl the problems are
    those it holds (and the trees must cover them), and the exact test is a Poisson-binomial test of the total
    correct count against the per-problem predicted accuracies (runs independent given the problem)."""
    d, folder = _read_bon(Path(bon))
    cfg = d.get("config", {})
    n, lam = int(cfg.get("n_candidates", 8)), float(cfg.get("lam", 0.5))
    by_id = {t.problem_id: t for t in trees}
    sel_rows = []
    if (folder / "selections.jsonl").exists():
        sel_rows = [json.loads(x) for x in (folder / "selections.jsonl").read_text().splitlines() if x.strip()]
    rows = []
    for entry, by_rw in d["selectors"].items():
        key = entry.split(":")[0]
        if key not in SELECTOR_KEYS:
            continue
        for rw, e in by_rw.items():
            model = BON_REWARD.get(rw)
            if model is None:
                continue
            mine = [r for r in sel_rows if r["entry"] == entry and (r["reward"] or "none") == rw]
            pids = sorted({str(r["problem_id"]) for r in mine}) or sorted(by_id)
            missing = [p for p in pids if p not in by_id]
            if missing:
                raise ValueError(f"{bon}: problems {missing[:5]} of the bon run have no fitted tree; fit the tree on "
                                 "the bon run's pool (its samples_run) or the same problems")
            pred = predict_selectors([by_id[p] for p in pids], [key], [n], [model], lam)[key][model][str(n)]
            p_test = None
            if mine:
                ps = [pred["per_problem"][str(r["problem_id"])] for r in mine]
                p_test = poisson_binomial_test(int(sum(bool(r["correct"]) for r in mine)), ps)
            ms = e["path_shares"]
            rows.append({"selector": entry, "reward": rw, "predicted_reward": model, "n_candidates": n,
                         "n_problems": len(pids), "measured": {"pass_at_1": e["pass_at_k"]["1"], "path_shares": ms},
                         "predicted": {"accuracy": pred["accuracy"], "path_shares": pred["path_shares"]},
                         "exact_test_p": p_test})
    return rows


def _f(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def side_by_side_markdown(rows: list[dict]) -> str:
    lines = ["| selector | reward | theory reward | N | problems | measured accuracy [95% CI] | predicted accuracy | "
             "exact test p | measured easy / rare-correct / wrong | predicted easy / rare-correct / wrong |",
             "|---|---|---|---:|---:|---|---:|---:|---|---|"]
    for r in rows:
        m, p = r["measured"], r["predicted"]["path_shares"]
        a = m["pass_at_1"]
        ms = m["path_shares"]
        lines.append(f"| {r['selector']} | {r['reward']} | {r['predicted_reward']} | {r['n_candidates']} | "
                     f"{r['n_problems']} | {a['mean']:.3f} [{a['lo']:.3f}, {a['hi']:.3f}] | "
                     f"{r['predicted']['accuracy']:.3f} | {_f(r['exact_test_p'])} | "
                     f"{_f(ms.get('easy'))} / {_f(ms.get('rare_correct'))} / {_f(ms.get('wrong'))} | "
                     f"{_f(p['easy'])} / {_f(p['rare_correct'])} / {_f(p['wrong'])} |")
    return "\n".join(lines) + "\n"


def write_bon_comparison(bons: Sequence[str], trees: Sequence[ProblemTree], out: str | Path) -> str:
    """``bon_vs_theory.json`` and ``.md`` in ``out`` for every ``tmc bon`` output; returns the Markdown."""
    out = Path(out)
    res = {str(b): bon_side_by_side(b, trees) for b in bons}
    (out / "bon_vs_theory.json").write_text(json.dumps(res, indent=1))
    md = "".join(f"## `{b}`: measured vs predicted (fitted trees)\n\n" + side_by_side_markdown(rows) + "\n"
                 for b, rows in res.items())
    (out / "bon_vs_theory.md").write_text(md)
    return md


def write_selector_predictions(trees: Sequence[ProblemTree], ns: Sequence[int], out: str | Path,
                               lam: float = 0.5) -> str:
    """``selectors.json`` (:func:`predict_selectors`, both rewards) and ``selectors.md`` in ``out``; returns the
    Markdown table (accuracy and easy / rare-correct / wrong per selector, reward and N, mean over problems)."""
    out = Path(out)
    res = predict_selectors(trees, SELECTOR_KEYS, ns, REWARDS, lam)
    (out / "selectors.json").write_text(json.dumps({"lam": lam, "n_problems": len(trees), "selectors": res},
                                                   indent=1))
    lines = [f"Predicted selectors on {len(trees)} fitted problems (lambda {lam}; walkers do not use N)", "",
             "| selector | reward | N | accuracy | easy | rare-correct | wrong |", "|---|---|---:|---:|---:|---:|---:|"]
    for key, by_rw in res.items():
        for rw, by_n in by_rw.items():
            for n, e in by_n.items():
                if "skipped" in e:
                    lines.append(f"| {key} | {rw} | {n} | skipped: {e['skipped'][:80]} | | | |")
                    continue
                ps = e["path_shares"]
                lines.append(f"| {key} | {rw} | {n} | {e['accuracy']:.3f} | {_f(ps['easy'])} | "
                             f"{_f(ps['rare_correct'])} | {_f(ps['wrong'])} |")
    md = "\n".join(lines) + "\n"
    (out / "selectors.md").write_text(md)
    return md
