"""``results.json`` and ``results.md`` of ``tmc bon`` from its selection rows.

pass@k of a selector (k <= runs) is the chance that at least one of k independent runs of the selector on a
problem returns a correct completion, estimated per problem by the unbiased estimator 1 - C(R-c, k)/C(R, k)
from its R runs with c correct (Chen et al.; :mod:`harness.metrics.passk`), macro-averaged over problems, with
a percentile bootstrap CI over problems. pass@1 is the selector's accuracy. For a deterministic selector on a
fixed candidate set the runs repeat one choice and pass@k = pass@1; outcome-level runs draw their N
candidates afresh from the pool, so they differ when the pool is larger than N.

``path_shares``: the share of returned completions by reasoning-path class. Until the reasoning-path
clustering (``harness.paths.cluster_paths``) is available it is the share by grader outcome
(``scheme: grader_outcome``: ``correct`` / ``wrong``, with ``easy`` and ``rare_correct`` null); with it,
``scheme: clusters``: easy = correct and in the pool's most frequent cluster, rare_correct = correct in any
other cluster, wrong = graded wrong.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from harness.metrics import bootstrap_pass_at_k


def _ks(runs: int) -> list[int]:
    ks = sorted({k for k in (1, 2, 4, 8, 16, 32, 64) if k <= runs} | {runs})
    return ks


def path_shares(sel_rows: list[dict], clusters: dict | None = None) -> dict:
    n = len(sel_rows)
    ok = sum(r["correct"] for r in sel_rows)
    out = {"scheme": "grader_outcome", "n": n, "correct": ok / n if n else None,
           "wrong": (n - ok) / n if n else None, "easy": None, "rare_correct": None}
    if clusters is not None:
        easy = sum(r["correct"] and clusters.get((r["problem_id"], r["entry"], r["reward"], r["run"])) == "easy"
                   for r in sel_rows)
        out.update(scheme="clusters", easy=easy / n if n else None, rare_correct=(ok - easy) / n if n else None)
    return out


def summarise(rows: list[dict], runs: int, n_boot: int = 1000, seed: int = 0, clusters: dict | None = None) -> dict:
    """``{"selectors": {entry: {reward: {...}}}}`` (reward ``"none"`` for majority)."""
    by = defaultdict(list)
    for r in rows:
        by[(r["entry"], r["reward"] or "none")].append(r)
    out: dict = {}
    for (entry, rw), rs in by.items():
        per = defaultdict(list)
        for r in rs:
            per[r["problem_id"]].append(bool(r["correct"]))
        pids = sorted(per)
        n = np.array([len(per[p]) for p in pids])
        c = np.array([sum(per[p]) for p in pids])
        ks = [k for k in _ks(runs) if k <= n.min()]
        bs = bootstrap_pass_at_k(n, c, ks, n_boot=n_boot, seed=seed)
        out.setdefault(entry, {})[rw] = {
            "n_problems": len(pids), "runs": int(n.min()),
            "pass_at_k": {str(int(k)): {"mean": float(m), "lo": float(lo), "hi": float(hi)}
                          for k, m, lo, hi in zip(bs["ks"], bs["mean"], bs["lo"], bs["hi"])},
            "path_shares": path_shares(rs, clusters),
            "generated_tokens_per_run": float(np.mean([r["generated_tokens"] for r in rs])),
            "generated_tokens_total": int(sum(r["generated_tokens"] for r in rs)),
        }
    return {"selectors": out}


def markdown(res: dict) -> str:
    header = ("| selector | reward | problems | pass@1 [95% CI] | pass@k (largest k) | correct share | "
              "generated tokens per run |")
    lines = [header, "|---|---|---:|---|---|---:|---:|"]
    for entry, by_rw in res["selectors"].items():
        for rw, e in by_rw.items():
            p1 = e["pass_at_k"]["1"]
            kmax = max(e["pass_at_k"], key=int)
            pk = e["pass_at_k"][kmax]
            lines.append(f"| {entry} | {rw} | {e['n_problems']} | {p1['mean']:.3f} [{p1['lo']:.3f}, {p1['hi']:.3f}] | "
                         f"k={kmax}: {pk['mean']:.3f} [{pk['lo']:.3f}, {pk['hi']:.3f}] | "
                         f"{e['path_shares']['correct']:.3f} | {e['generated_tokens_per_run']:.0f} |")
    return "\n".join(lines) + "\n"


def cluster_labels(rows: list[dict], pool) -> dict | None:
    """``(problem, entry, reward, run) -> "easy" | "other"`` from ``harness.paths.cluster_paths(question,
    completions) -> list[int]`` (the reasoning-path clustering), or None while that module does not exist.
    A returned completion is "easy" when it falls in the pool's most frequent cluster."""
    try:
        from harness.paths import cluster_paths  # type: ignore[import-not-found]
    except ImportError:
        return None
    by_pid = defaultdict(list)
    for r in rows:
        by_pid[r["problem_id"]].append(r)
    out = {}
    for pp in pool:
        sel = by_pid.get(pp.ctx.problem_id, [])
        labels = list(cluster_paths(pp.ctx.question, [c.text for c in pp.cands] + [r["text"] for r in sel]))
        pool_labels = labels[:len(pp.cands)]
        modal = max(set(pool_labels), key=pool_labels.count)
        for r, lab in zip(sel, labels[len(pp.cands):]):
            out[(r["problem_id"], r["entry"], r["reward"], r["run"])] = "easy" if lab == modal else "other"
    return out
