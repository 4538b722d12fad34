"""Path mass over training: where a checkpoint's samples fall among the BASE model's reasoning paths.

For every problem and checkpoint step, the base completions (step 0) and the step's completions are clustered
TOGETHER: ``cluster_fn(question, base + step)`` (so one path has one id in both, whatever the clustering; for a
clustering keyed on :func:`harness.paths.reasoning_path` this is PathKey equality). The base part is labelled as in
:mod:`harness.paths.table` (easy / common / rare / wrong, problem status easy / hard / ...), and each step sample
takes the role of the base path it lands on, or ``new_correct`` / ``new_wrong`` on a path the base never produced
(correct by the same ``correct_rule``, applied to the step's own samples on that path). Per problem the step's
**mass** on each of these six categories is its share of the step's n samples, so the six sum to 1; the report
averages over problems (macro, as pass@k), over all problems (``mass``) and over the problems the base solves by a
correct path (``mass_base_solved``: status easy or hard).

Also per step:

* **distinct correct paths** per problem (mean), at the step and at the base;
* **rare-path survival**: the base's rare correct paths seen again in the step's n samples. A path not seen is not
  proven gone: with n samples, a path of mass q is missed with probability (1 - q)^n, so the one-sided 95% upper
  bound on its mass is 1 - 0.05^(1/n) (about 3/n, the rule of three; :func:`harness.paths.table.unseen_upper_bound`);
  each unseen path is listed with that bound;
* **pass@k on the hard problems** (status hard at the base), base vs step, unbiased estimator, with the paired
  bootstrap 95% CI of the difference over those problems (``harness.metrics.paired``).

Departure from the theory's coverage chart: there the path probabilities are exact; here they are n-sample shares,
so a step's mass on a rare base path has the resolution 1/n and the base's own roles carry the base's sampling noise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

from .table import ClusterFn, PathTableConfig, cluster_problem, default_cluster_fn, path_is_correct, problem_paths
from .table import _question, unseen_upper_bound

CATEGORIES = ("easy", "common", "rare", "wrong", "new_correct", "new_wrong")
COLORS = {"easy": "#1f77b4", "common": "#9edae5", "rare": "#2ca02c", "wrong": "#d62728", "new_correct": "#ff7f0e",
          "new_wrong": "#7f7f7f"}


def _texts(series) -> list[str]:
    return ["" if c is None or (isinstance(c, float) and math.isnan(c)) else str(c) for c in series]


def problem_mass(problem_id: str, question: str, base_comps: list[str], base_ok: list[bool], step_comps: list[str],
                 step_ok: list[bool], cluster_fn: ClusterFn, cfg: PathTableConfig, alpha: float = 0.05) -> dict:
    """One problem at one step (see the module docstring). ``step_comps`` empty = the base itself."""
    same = not step_comps
    if same:
        step_comps, step_ok = base_comps, base_ok
        labels = cluster_problem(question, base_comps, cluster_fn)
        base_lab, step_lab = labels, labels
    else:
        labels = cluster_problem(question, list(base_comps) + list(step_comps), cluster_fn)
        base_lab, step_lab = labels[:len(base_comps)], labels[len(base_comps):]
    base_rows = problem_paths(problem_id, base_lab, base_ok, cfg)
    role = {r["path_id"]: r["role"] for r in base_rows}
    n = len(step_lab)
    count: dict[int, int] = {}
    right: dict[int, int] = {}
    for lab, ok in zip(step_lab, step_ok):
        count[lab] = count.get(lab, 0) + 1
        right[lab] = right.get(lab, 0) + int(bool(ok))
    step_correct = {lab: path_is_correct(right[lab], count[lab], cfg.correct_rule) for lab in count}
    mass = dict.fromkeys(CATEGORIES, 0.0)
    for lab, m in count.items():
        cat = role.get(lab) or ("new_correct" if step_correct[lab] else "new_wrong")
        mass[cat] += m / n
    bound = unseen_upper_bound(n, alpha)
    rare = [{"path_id": r["path_id"], "base_share": r["share"], "step_count": count.get(r["path_id"], 0),
             "step_share": count.get(r["path_id"], 0) / n,
             "upper_bound": None if count.get(r["path_id"], 0) else bound}
            for r in base_rows if r["role"] == "rare"]
    return {"status": base_rows[0]["status"] if base_rows else "unsolved", "mass": mass,
            "n_base": len(base_lab), "c_base": int(sum(map(bool, base_ok))),
            "n": n, "c": int(sum(map(bool, step_ok))),
            "n_correct_paths": int(sum(step_correct.values())),
            "n_correct_paths_base": int(sum(r["correct"] for r in base_rows)),
            "rare": rare}


def _mean(vals: list[float]) -> float | None:
    return sum(vals) / len(vals) if vals else None


def path_mass(base_df, step_df=None, cluster_fn: ClusterFn | None = None, cfg: PathTableConfig | None = None,
              alpha: float = 0.05, ks: Iterable[int] | None = None, n_boot: int = 2000, seed: int = 0) -> dict:
    """Path mass of one step against the base (``step_df`` None = the base itself), over the problems both hold.

    ``base_df`` / ``step_df``: store rows (``problem_id, sample_idx, prompt, completion, correct``). Returns a
    JSON-serialisable dict: ``mass`` and ``mass_base_solved`` (means of the six categories), ``correct_paths``
    (mean distinct correct paths per problem, step and base), ``rare`` (survival counts, the unseen bound, the
    unseen paths), ``hard`` (ids, pass@k base vs step, paired CI of the difference), ``per_problem``."""
    from harness.metrics import pass_at_k, powers_of_two
    from harness.metrics.paired import paired_pass_at_k_diff

    cfg = cfg or PathTableConfig()
    cluster_fn = cluster_fn or default_cluster_fn()
    base = {pid: g.sort_values("sample_idx") for pid, g in base_df.groupby("problem_id", sort=True)}
    step = base if step_df is None else {pid: g.sort_values("sample_idx")
                                         for pid, g in step_df.groupby("problem_id", sort=True)}
    pids = sorted(set(base) & set(step), key=str)
    per: dict[str, dict] = {}
    for pid in pids:
        b, s = base[pid], step[pid]
        per[str(pid)] = problem_mass(
            str(pid), _question(b), _texts(b["completion"]), b["correct"].fillna(False).astype(bool).tolist(),
            [] if step_df is None else _texts(s["completion"]),
            [] if step_df is None else s["correct"].fillna(False).astype(bool).tolist(), cluster_fn, cfg, alpha)
    solved = [p for p in per.values() if p["status"] in ("easy", "hard")]
    rare = [dict(r, problem_id=pid) for pid, p in per.items() for r in p["rare"]]
    unseen = [r for r in rare if r["upper_bound"] is not None]
    hard = [pid for pid, p in per.items() if p["status"] == "hard"]
    n_min = min((min(per[p]["n"], per[p]["n_base"]) for p in hard), default=0)
    hk = sorted({k for k in (ks or powers_of_two(n_min)) if 1 <= k <= n_min})
    hard_pk: dict[str, Any] = {}
    if hard and hk:
        nb, cb = [per[p]["n_base"] for p in hard], [per[p]["c_base"] for p in hard]
        ns, cs = [per[p]["n"] for p in hard], [per[p]["c"] for p in hard]
        diff = paired_pass_at_k_diff(nb, cb, ns, cs, hk, n_boot=n_boot, seed=seed)
        for k in hk:
            hard_pk[str(k)] = {"base": _mean([pass_at_k(n, c, k) for n, c in zip(nb, cb)]),
                               "step": _mean([pass_at_k(n, c, k) for n, c in zip(ns, cs)]), **diff[str(k)]}
    return {
        "n_problems": len(per),
        "mass": {c: _mean([p["mass"][c] for p in per.values()]) or 0.0 for c in CATEGORIES},
        "n_base_solved": len(solved),
        "mass_base_solved": {c: _mean([p["mass"][c] for p in solved]) for c in CATEGORIES},
        "correct_paths": {"step": _mean([p["n_correct_paths"] for p in per.values()]),
                          "base": _mean([p["n_correct_paths_base"] for p in per.values()])},
        "rare": {"n_base_rare": len(rare), "n_seen": len(rare) - len(unseen),
                 "survival": (len(rare) - len(unseen)) / len(rare) if rare else None,
                 "unseen_upper_bound": max((r["upper_bound"] for r in unseen), default=None),
                 "alpha": alpha, "unseen": [{k: r[k] for k in ("problem_id", "path_id", "base_share", "upper_bound")}
                                            for r in unseen]},
        "hard": {"problems": hard, "n": len(hard), "pass_at_k": hard_pk},
        "per_problem": {pid: {k: p[k] for k in ("status", "mass", "n", "c", "n_correct_paths")}
                        for pid, p in per.items()},
    }


def checkpoint_path_mass(base_df, steps: dict[int, Any], cluster_fn: ClusterFn | None = None,
                         cfg: PathTableConfig | None = None, alpha: float = 0.05) -> dict[int, dict]:
    """:func:`path_mass` of every step's rows in ``steps`` ({step: DataFrame}); step 0 (or a frame that is the base
    itself) gives the base's own shares by role."""
    cluster_fn = cluster_fn or default_cluster_fn()
    return {int(s): path_mass(base_df, None if int(s) == 0 else df, cluster_fn, cfg, alpha)
            for s, df in sorted(steps.items())}


# ---------------------------------------------------------------------------------------------------- reporting
def _f(v, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


def mass_rows(label: str, steps: dict) -> list[str]:
    """Markdown rows ``| label | step | problems | easy | common | rare | wrong | new correct | new wrong | correct
    paths | rare seen | unseen bound | hard pass@1 base -> step | hard pass@n ... |`` of one run."""
    out = []
    for s in sorted(steps, key=int):
        pm = steps[s]
        if not pm:
            continue
        m, r, h = pm["mass"], pm["rare"], pm["hard"]
        pk = h["pass_at_k"]
        k1, kn = (min(pk, key=int), max(pk, key=int)) if pk else (None, None)
        hp = (lambda k: "-" if k is None else f"{pk[k]['base']:.2f} -> {pk[k]['step']:.2f}")  # noqa: E731
        out.append(f"| {label} | {'base' if int(s) == 0 else s} | {pm['n_problems']} | "
                   + " | ".join(_f(m[c]) for c in CATEGORIES)
                   + f" | {_f(pm['correct_paths']['step'], '.2f')} | {r['n_seen']} / {r['n_base_rare']} | "
                   f"{_f(r['unseen_upper_bound'])} | {h['n']} | {hp(k1)} | {hp(kn)} |")
    return out


HEADER = ("| run | step | problems | easy | common | rare | wrong | new correct | new wrong | "
          "correct paths / problem | "
          "rare paths seen | unseen bound | hard problems | hard pass@1 base -> step | hard pass@n base -> step |")


def mass_table(steps: dict, label: str = "") -> str:
    """Markdown table of one run's path mass per step (``{step: path_mass(...)}``)."""
    return "\n".join([HEADER, "|---|---:|---:|" + "---:|" * (len(CATEGORIES) + 6)] + mass_rows(label, steps))


def path_mass_table(reports: list[dict], labels: list[str]) -> str:
    """One Markdown table across methods / runs: the rows of every ``checkpoints_metrics.json`` report that holds
    path mass (``steps[s]["path_mass"]``), the base once at the top."""
    lines = [HEADER, "|---|---:|---:|" + "---:|" * (len(CATEGORIES) + 6)]
    base_done = False
    for rep, label in zip(reports, labels):
        steps = {s: v.get("path_mass") for s, v in rep.get("steps", {}).items() if v.get("path_mass")}
        if any(int(s) == 0 for s in steps) and not base_done:
            lines += mass_rows("base", {s: v for s, v in steps.items() if int(s) == 0})
            base_done = True
        lines += mass_rows(label, {s: v for s, v in steps.items() if int(s) != 0})
    return "\n".join(lines) if len(lines) > 2 else "(no run holds path mass)"


def plot_path_mass(steps: dict, path: str | Path, title: str = "") -> Path:
    """Stacked path mass (the six categories, mean over problems) against training step, the base at step 0; left
    over all problems, right over the problems the base solves by a correct path (``mass_base_solved``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = sorted((int(s) for s in steps if steps[s]), key=int)
    key = {int(s): s for s in steps}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    panels = ((axes[0], "mass", "all problems"), (axes[1], "mass_base_solved", "problems the base solves"))
    for ax, field, sub in panels:
        ys = [[steps[key[x]][field][c] or 0.0 for x in xs] for c in CATEGORIES]
        handles = ax.stackplot(xs, ys, labels=[c.replace("_", " ") for c in CATEGORIES],
                               colors=[COLORS[c] for c in CATEGORIES], alpha=0.9)
        if len(xs) == 1:
            ax.set_xlim(xs[0] - 0.5, xs[0] + 0.5)
        ax.set_ylim(0, 1)
        ax.set_xlabel("training step (0 = base)")
        n = steps[key[xs[0]]]["n_problems" if field == "mass" else "n_base_solved"] if xs else 0
        ax.set_title(f"{sub} ({n})", fontsize=9)
    axes[0].set_ylabel("mass on the base's paths (mean over problems)")
    axes[1].legend(handles[::-1], [c.replace("_", " ") for c in CATEGORIES][::-1], fontsize=7, loc="center left",
                   bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
