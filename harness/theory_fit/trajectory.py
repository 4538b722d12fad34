"""Measured vs predicted path-mass trajectories of a training run, matched by movement; crossover K measured vs
predicted.

Measured: ``tmc eval-checkpoints``' ``checkpoints_metrics.json``, ``steps.<s>.path_mass.per_problem.<pid>`` =
``{mass: {easy, common, rare, wrong, new_correct, new_wrong}, n, c}`` (:mod:`harness.paths.mass`: each step's
samples on the BASE's paths, by the base's roles). Predicted: tmc_theory's expected dynamics
(:func:`harness.theory_fit.predict.predict_problem`) on each problem's fitted path tree (:mod:`.path_tree`), with
the run's own settings read from its ``train_run.json`` (:func:`run_settings`), evaluated at every theory step.

Clock (:mod:`harness.tmclm.movement`): the state of a run is the vector ``x = (m_p / P)_p`` of the P problems'
six-category masses ``m_p``; its movement is ``d = L1(x_t, x_0) = mean_p sum_c |m_p,c(t) - m_p,c(0)|`` (or
``KL(x_t || x_0)``). A measured checkpoint with movement ``d`` is compared with the theory at the (interpolated)
step where the theory has first moved ``d`` from its own start (``match_by_movement``). Departure: the run's file
keeps category masses, not each path's, so this is the L1 of the category distribution -- a lower bound of the
path-level L1 (moves between two rare paths are invisible).

Clock ``l1_pop`` (the CLI's default): the L1 distance of the POPULATION triple -- the mean over problems of the
(easy, rare_correct, wrong) masses -- from the base's, ``sum_k |mean_p m_p,k(t) - mean_p m_p,k(0)|``, on both sides.
Why: with n samples per problem the per-problem clock above is biased upward by sampling noise (an unchanged model,
resampled, moves by ~E|binomial noise| per problem; on the multi-strategy runs, n = 8, the measured per-problem L1
was 0.43-0.63 while pass@1 moved by < 0.01), and new wrong paths (singletons) move mass from ``wrong`` to
``new_wrong``; averaging over the P problems first shrinks the noise by ~1/sqrt(P) and the triple merges the two
wrong categories. It is blind to moves that cancel across problems.

Compared masses: ``easy``; ``rare_correct`` = every other correct mass (common + rare + new_correct, as ``tmc
bon``'s shares); ``wrong`` = wrong + new_wrong. The verdict is ``agree`` when every checkpoint's movement is reached
by the theory and the largest absolute difference of the three is <= ``tol`` (default 0.05).

Crossover K (issue 29 item 4): the smallest K at which the base's pass@K reaches the trained model's (base >=
method), at the run's last checkpoint. Measured: unbiased pass@K (Chen et al.) from the per-problem (n, c) of the
base and the checkpoint, K <= n. Predicted: ``pass@K = mean_p 1 - (1 - c_p)^K`` with ``c_p`` the fitted base's and
the movement-matched theory's correct mass, K <= ``k_max``. None = no crossover in range.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from .path_tree import CATEGORIES
from .predict import PredictConfig, predict_problem
from .tree import ProblemTree

TRIPLE = ("easy", "rare_correct", "wrong")


def triple(m: dict) -> dict:
    """Six categories -> (easy, rare_correct, wrong) (module docstring)."""
    return {"easy": m["easy"], "rare_correct": m["common"] + m["rare"] + m["new_correct"],
            "wrong": m["wrong"] + m["new_wrong"]}


def run_settings(train_run: str | Path, lr: float = 0.5, steps: int = 300) -> tuple[PredictConfig, list[str]]:
    """The theory's settings from a training run's ``train_run.json`` (method key, group size = num_generations,
    KL beta, RL-rej tries) and the list of settings the theory cannot follow (its departures)."""
    from tmc_core.config import ConfigError

    f = Path(train_run) / "train_run.json" if Path(train_run).is_dir() else Path(train_run)
    if not f.exists():
        raise ConfigError(f"{train_run}: no train_run.json (a `tmc train` output folder)")
    meta = json.loads(f.read_text())
    c = meta.get("config") or {}
    method = meta.get("method") or c.get("method")
    if not method:
        raise ConfigError(f"{f}: field 'method' missing")
    notes = []
    if method == "grpo_kl" and c.get("kl_estimator", "k3") != "k3":
        notes.append(f"kl_estimator {c['kl_estimator']}: the theory trains the k3 form")
    if method == "rl_rej":
        if c.get("rej_mode", "in_loop") != "leave_out":
            notes.append(f"rej_mode {c.get('rej_mode')}: the theory uses the leave-T-out rule with T = rej_tries")
        if c.get("rej_baseline", "none") != "none":
            notes.append(f"rej_baseline {c['rej_baseline']}: the theory's RL-rej advantage is the reward (no baseline)")
    if method in ("grpo", "grpo_kl") and c.get("scale_rewards", "group") != "group":
        notes.append(f"scale_rewards {c['scale_rewards']}: the theory divides by the group std")
    cfg = PredictConfig(method=method, steps=steps, lr=lr, group_size=int(c.get("num_generations", 8)),
                        beta=float(c.get("beta", 0.04)) if method == "grpo_kl" else PredictConfig.beta,  # unused else
                        rej_tries=int(c.get("rej_tries", 5)), eval_every=1)
    return cfg, notes


def measured_masses(checkpoints: str | Path) -> dict[int, dict]:
    """``{step: {pid: {"mass", "n", "c"}}}`` from a ``checkpoints_metrics.json`` (or its folder)."""
    f = Path(checkpoints)
    f = f / "checkpoints_metrics.json" if f.is_dir() else f
    if not f.exists():
        raise ValueError(f"{checkpoints}: no checkpoints_metrics.json (a `tmc eval-checkpoints` output)")
    d = json.loads(f.read_text())
    out = {}
    for s, v in d.get("steps", {}).items():
        pm = v.get("path_mass")
        if pm and pm.get("per_problem"):
            out[int(s)] = pm["per_problem"]
    if 0 not in out:
        raise ValueError(f"{f}: no step 0 with path_mass (the base); re-run `tmc eval-checkpoints` with the base")
    return dict(sorted(out.items()))


def _vec(per: dict, pids: Sequence[str]) -> np.ndarray:
    return np.concatenate([[per[p]["mass"][c] for c in CATEGORIES] for p in pids]) / len(pids)


def _by_cat(v: np.ndarray, n: int) -> dict:
    return dict(zip(CATEGORIES, v.reshape(n, len(CATEGORIES)).sum(axis=0).tolist()))


def _unbiased(n: int, c: int, k: int) -> float:
    from harness.metrics import pass_at_k

    return float(pass_at_k(n, c, k))


def _triple_ci(v: np.ndarray, n: int, n_boot: int = 2000, seed: int = 0) -> dict:
    """95% bootstrap CI over problems of the problem-averaged (easy, rare_correct, wrong) masses of one step."""
    per = v.reshape(n, len(CATEGORIES)) * n          # per-problem category masses
    cols = {k: np.array([triple(dict(zip(CATEGORIES, row)))[k] for row in per]) for k in TRIPLE}
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    return {k: [float(q) for q in np.percentile(c[idx].mean(axis=1), [2.5, 97.5])] for k, c in cols.items()}


def compare_run(trees: Sequence[ProblemTree], measured: dict[int, dict], cfg: PredictConfig, metric: str = "l1",
                tol: float = 0.05, k_max: int = 1024) -> dict:
    """Measured vs movement-matched predicted masses per checkpoint, the verdict and the crossover K (module
    docstring). ``measured`` as :func:`measured_masses`; the problems are those of the base step with a tree."""
    from harness.report import crossover
    from harness.tmclm.movement import at_step, match_by_movement, movement

    by_id = {t.problem_id: t for t in trees if t.kind == "paths"}
    pids = sorted(p for p in measured[0] if p in by_id)
    if not pids:
        raise ValueError("no problem of the run's base step has a fitted path tree (fit on the base the run's "
                         "eval-checkpoints used: same problems)")
    P = len(pids)
    cfg = replace(cfg, eval_every=1)
    hist = {p: predict_problem(by_id[p], cfg) for p in pids}
    theory = [np.concatenate([[hist[p][i][f"mass_{c}"] for c in CATEGORIES] for p in pids]) / P
              for i in range(len(hist[pids[0]]))]
    steps = [s for s in measured if all(p in measured[s] for p in pids)]
    meas = {s: _vec(measured[s], pids) for s in steps}
    if metric == "l1_pop":
        def pop(v):
            t = triple(_by_cat(v, P))
            return np.array([t[k] for k in TRIPLE])
        d = [movement(pop(meas[s]), pop(meas[0]), "l1") for s in steps]
        matched = [{**m, "probs": at_step(theory, m["theory_step"])}
                   for m in match_by_movement(d, [pop(t) for t in theory], "l1")]
    else:
        d = [movement(meas[s], meas[0], metric) for s in steps]
        matched = match_by_movement(d, theory, metric)
    rows, worst = [], 0.0
    for s, dm, mt in zip(steps, d, matched):
        m3, p3 = triple(_by_cat(meas[s], P)), triple(_by_cat(mt["probs"], P))
        diff = {k: p3[k] - m3[k] for k in TRIPLE}
        if s != 0:
            worst = max(worst, max(abs(v) for v in diff.values()))
        rows.append({"step": s, "movement": dm, "theory_step": mt["theory_step"], "reached": mt["reached"],
                     "measured": m3, "measured_ci": _triple_ci(meas[s], P), "predicted": p3,
                     "diff": diff, "measured_categories": _by_cat(meas[s], P),
                     "predicted_categories": _by_cat(mt["probs"], P)})
    reached = all(r["reached"] for r in rows)
    last, lm = steps[-1], matched[-1]["probs"].reshape(P, len(CATEGORIES))
    ok_idx = [CATEGORIES.index(c) for c in ("easy", "common", "rare", "new_correct")]
    c_pred = lm[:, ok_idx].sum(axis=1) * P
    c_base = np.array([hist[p][0]["correct"] for p in pids])
    ks = list(range(1, k_max + 1))
    pb = [float(np.mean(1 - (1 - c_base) ** k)) for k in ks]
    pm = [float(np.mean(1 - (1 - c_pred) ** k)) for k in ks]
    n_min = min(min(int(measured[0][p]["n"]), int(measured[last][p]["n"])) for p in pids)
    kk = list(range(1, n_min + 1))
    mb = [float(np.mean([_unbiased(int(measured[0][p]["n"]), int(measured[0][p]["c"]), k) for p in pids])) for k in kk]
    mm = [float(np.mean([_unbiased(int(measured[last][p]["n"]), int(measured[last][p]["c"]), k) for p in pids]))
          for k in kk]
    return {"method": cfg.method, "settings": {"group_size": cfg.group_size, "beta": cfg.beta,
                                                "rej_tries": cfg.rej_tries, "lr": cfg.lr, "steps": cfg.steps},
            "metric": metric, "tol": tol, "n_problems": P, "rows": rows, "max_abs_diff": worst,
            "all_reached": reached, "verdict": "agree" if reached and worst <= tol else "disagree",
            "crossover": {"step": last, "measured": crossover(mb, mm, kk), "measured_k_max": n_min,
                          "predicted": crossover(pb, pm, ks), "predicted_k_max": k_max,
                          "measured_pass_at_n": {"base": mb[-1], "method": mm[-1]},
                          "predicted_pass_at_1": {"base": pb[0], "method": pm[0]}}}


def markdown(label: str, res: dict, notes: Sequence[str] = ()) -> str:
    lines = [f"### {label} ({res['method']}): verdict **{res['verdict']}** (max |predicted - measured| "
             f"{res['max_abs_diff']:.3f}, tol {res['tol']}, {res['n_problems']} problems, clock {res['metric']})", ""]
    if notes:
        lines += ["Settings the theory does not follow: " + "; ".join(notes) + ".", ""]
    lines += ["Measured: mean over problems with a 95% bootstrap CI over problems; predicted: the theory at the same "
              "movement.", "",
              "| step | movement | theory step | easy meas [CI] / pred | rare-correct meas [CI] / pred | "
              "wrong meas [CI] / pred |", "|---:|---:|---:|---|---|---|"]
    for r in res["rows"]:
        m, p, ci = r["measured"], r["predicted"], r.get("measured_ci") or {}
        reach = "" if r["reached"] else " (not reached)"
        cells = []
        for k in TRIPLE:
            lo_hi = f" [{ci[k][0]:.3f}, {ci[k][1]:.3f}]" if k in ci else ""
            cells.append(f"{m[k]:.3f}{lo_hi} / {p[k]:.3f}")
        lines.append(f"| {r['step']} | {r['movement']:.3f} | {r['theory_step']:.1f}{reach} | "
                     + " | ".join(cells) + " |")
    c = res["crossover"]
    lines += ["", f"Crossover K at step {c['step']}: measured {c['measured'] or 'none'} (K <= {c['measured_k_max']}), "
                  f"predicted {c['predicted'] or 'none'} (K <= {c['predicted_k_max']}).", ""]
    return "\n".join(lines)


def _train_run_for(path: Path) -> Path:
    for p in [path if path.is_dir() else path.parent] + list((path if path.is_dir() else path.parent).parents):
        if (p / "train_run.json").exists():
            return p
    raise ValueError(f"{path}: no train_run.json in it or its parents; pass CHECKPOINTS=TRAIN_RUN_DIR")


def write_run_comparison(runs: Sequence[str], trees: Sequence[ProblemTree], out: str | Path, lr: float = 0.5,
                         steps: int = 300, metric: str = "l1", tol: float = 0.05) -> str:
    """``runs_vs_theory.json`` / ``.md`` / ``runs_vs_theory.png`` in ``out``; each entry ``CHECKPOINTS`` or
    ``CHECKPOINTS=TRAIN_RUN_DIR``. Returns the Markdown."""
    out = Path(out)
    res, md = {}, ["## Training runs: measured vs predicted path mass, matched by movement\n"]
    for spec in runs:
        ck, _, tr = spec.partition("=")
        ckp = Path(ck)
        cfg, notes = run_settings(Path(tr) if tr else _train_run_for(ckp), lr=lr, steps=steps)
        r = compare_run(trees, measured_masses(ckp), cfg, metric, tol)
        r["notes"] = notes
        res[spec] = r
        md.append(markdown(ck, r, notes))
    (out / "runs_vs_theory.json").write_text(json.dumps(res, indent=1))
    plot(res, out / "runs_vs_theory.png")
    text = "\n".join(md)
    (out / "runs_vs_theory.md").write_text(text)
    return text


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, (label, r) in enumerate(res.items()):
        x = [row["movement"] for row in r["rows"]]
        for ax, k in zip(axes, TRIPLE):
            ax.plot(x, [row["measured"][k] for row in r["rows"]], "o", color=f"C{i}",
                    label=f"{r['method']} measured")
            ax.plot(x, [row["predicted"][k] for row in r["rows"]], "--", color=f"C{i}",
                    label=f"{r['method']} predicted")
            ax.set_title(f"{k.replace('_', ' ')} mass", fontsize=9)
            ax.set_xlabel("movement from the base (L1 of the category masses)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
