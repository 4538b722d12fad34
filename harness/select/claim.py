"""The paper's Best-of-N claim, measured: population rewards select the common (modal) answer, instance rewards
the rare correct one.

Per problem, the pool's completions (all ``sample.n``) and the returned ones get a PATH key: the reasoning-path
cluster of ``harness.paths.cluster_paths`` (``scheme: clusters``, when that module is importable) or else the
answer value (``scheme: answers``, :func:`harness.select.majority.answer_key`). The MODAL path(s) = the most
frequent key in the pool; the problem is HARD when the pool holds a correct completion but no modal path does
(solved only by rare paths), EASY when a modal path holds a correct completion.
For each selector and reward: ``modal`` = share of runs returning a modal answer (all problems), ``rare_correct``
= share of runs returning a correct completion on HARD problems, ``correct`` = accuracy on all. Under
``scheme: answers`` two different CoTs with the same answer count as one path.

Each population reward is paired with its instance counterpart on the same problems (``orm`` vs ``oracle``,
``mc:orm`` vs ``mc:oracle``, ``prm`` vs ``mc:oracle``): per-problem rates are differenced, with a percentile
bootstrap CI over problems of the mean difference and an exact two-sided sign test (binomial, p = 1/2) over
the problems whose rates differ.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from scipy.stats import binomtest

from .majority import answer_key

PAIRS = (("orm", "oracle"), ("mc:orm", "mc:oracle"), ("prm", "mc:oracle"), ("prm", "oracle"))


def _cluster_fn():
    try:
        from harness.paths import cluster_paths  # type: ignore[import-not-found]
    except ImportError:
        return None
    return cluster_paths


def path_keys(rows: list[dict], pool, scheme: str = "auto") -> tuple[str, dict, dict]:
    """(scheme used, problem id -> pool keys, row index -> key) under ``scheme`` auto | clusters | answers."""
    fn = _cluster_fn() if scheme in ("auto", "clusters") else None
    if scheme == "clusters" and fn is None:
        raise ImportError("scheme 'clusters' needs harness.paths.cluster_paths")
    by_pid = defaultdict(list)
    for i, r in enumerate(rows):
        by_pid[r["problem_id"]].append(i)
    pool_k, row_k = {}, {}
    for pp in pool:
        idx = by_pid.get(pp.ctx.problem_id, [])
        if fn is not None:
            labels = list(fn(pp.ctx.question, [c.text for c in pp.cands] + [rows[i]["text"] for i in idx]))
            pool_k[pp.ctx.problem_id] = labels[:len(pp.cands)]
            row_k.update(zip(idx, labels[len(pp.cands):]))
        else:
            pool_k[pp.ctx.problem_id] = [answer_key(a) for a in pp.answers]
            row_k.update((i, answer_key(rows[i]["answer"])) for i in idx)
    return ("clusters" if fn is not None else "answers"), pool_k, row_k


def pool_modes(pool, pool_keys: dict | None = None) -> dict[str, dict]:
    """problem id -> {"modal": set of modal path keys, "hard": bool, "easy": bool} (answer keys by default).

    modal = the most frequent path keys of the pool (ties all modal), none when no key repeats; easy = a modal
    path is correct; hard = some candidate correct and none on a modal path."""
    out = {}
    for pp in pool:
        keys = pool_keys[pp.ctx.problem_id] if pool_keys is not None else [answer_key(a) for a in pp.answers]
        cnt = Counter(k for k in keys if k is not None)
        top = max(cnt.values()) if cnt else 0
        # no path repeats (every candidate its own path): nothing is identifiably frequent, so there is no mode
        modal = {k for k, c in cnt.items() if c == top} if top > 1 or len(cnt) == 1 else set()
        ok_keys = {k for k, ok in zip(keys, pp.correct) if ok and k is not None}
        any_ok = any(pp.correct)
        out[pp.ctx.problem_id] = {"modal": modal, "easy": bool(modal & ok_keys),
                                  "hard": any_ok and not (modal & ok_keys)}
    return out


def _rates(rows, modes, row_keys) -> dict[tuple, dict[str, dict[str, float]]]:
    """(entry, reward) -> {"modal": {pid: rate}, "rare_correct": {pid: rate on hard pids}}."""
    acc: dict = defaultdict(lambda: {"modal": defaultdict(list), "rare_correct": defaultdict(list),
                                     "correct": defaultdict(list)})
    for i, r in enumerate(rows):
        m = modes[r["problem_id"]]
        a = acc[(r["entry"], r["reward"] or "none")]
        a["modal"][r["problem_id"]].append(row_keys[i] in m["modal"])
        a["correct"][r["problem_id"]].append(bool(r["correct"]))
        if m["hard"]:
            a["rare_correct"][r["problem_id"]].append(bool(r["correct"]))
    return {k: {s: {p: float(np.mean(v)) for p, v in d.items()} for s, d in a.items()} for k, a in acc.items()}


def _boot(x: np.ndarray, n_boot: int, seed: int) -> tuple[float | None, float | None]:
    if len(x) == 0:
        return None, None
    reps = np.random.default_rng(seed).choice(x, size=(n_boot, len(x))).mean(axis=1)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(lo), float(hi)


def claim_table(rows: list[dict], pool, n_boot: int = 1000, seed: int = 0, scheme: str = "auto") -> dict:
    used, pool_k, row_k = path_keys(rows, pool, scheme)
    modes = pool_modes(pool, pool_k)
    rates = _rates(rows, modes, row_k)
    out = {"scheme": used, "n_problems": len(modes), "n_hard": sum(m["hard"] for m in modes.values()),
           "n_easy": sum(m["easy"] for m in modes.values()), "shares": {}, "pairs": []}
    for (entry, rw), r in sorted(rates.items()):
        e = out["shares"].setdefault(entry, {})
        e[rw] = {}
        for stat, d in r.items():
            x = np.array(list(d.values()))
            lo, hi = _boot(x, n_boot, seed)
            e[rw][stat] = {"mean": float(x.mean()) if len(x) else None, "lo": lo, "hi": hi, "n_problems": len(x)}
    entries = {k[0] for k in rates}
    for entry in sorted(entries):
        for pop, inst in PAIRS:
            if (entry, pop) not in rates or (entry, inst) not in rates:
                continue
            for stat in ("modal", "rare_correct", "correct"):
                a, b = rates[(entry, pop)][stat], rates[(entry, inst)][stat]
                pids = sorted(set(a) & set(b))
                d = np.array([a[p] - b[p] for p in pids])
                lo, hi = _boot(d, n_boot, seed)
                up, down = int((d > 0).sum()), int((d < 0).sum())
                pval = binomtest(up, up + down, 0.5).pvalue if up + down else 1.0
                out["pairs"].append({"selector": entry, "population": pop, "instance": inst, "stat": stat,
                                     "n_problems": len(pids), "diff": float(d.mean()) if len(d) else None,
                                     "lo": lo, "hi": hi, "problems_up": up, "problems_down": down,
                                     "sign_test_p": float(pval)})
    return out


def claim_markdown(c: dict) -> str:
    head = (f"Paths by {c['scheme']}. Problems: {c['n_problems']} ({c['n_easy']} easy: a modal path is correct; "
            f"{c['n_hard']} hard: correct only off the mode).")
    lines = [head, "",
             "| selector | population - instance | share | difference [95% CI] | problems up / down | sign test p |",
             "|---|---|---|---|---|---:|"]
    for p in c["pairs"]:
        if p["diff"] is None:
            continue
        lines.append(f"| {p['selector']} | {p['population']} - {p['instance']} | {p['stat']} | {p['diff']:+.3f} "
                     f"[{p['lo']:+.3f}, {p['hi']:+.3f}] | {p['problems_up']} / {p['problems_down']} | "
                     f"{p['sign_test_p']:.3g} |")
    return "\n".join(lines) + "\n"
