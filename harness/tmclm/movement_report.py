"""Tables and the figure of the movement-matched comparison (see :mod:`harness.tmclm.movement` for the clock).

Every row shows both clocks: the transformer's optimizer step and its movement from the base, the theory at the same
step (the old comparison) and the theory at the same movement (its matched, fractional step is printed, so one sees
how much longer the theory needs to move as far).
"""

from __future__ import annotations

import numpy as np


def _cov(d: dict) -> str:
    return f"{100 * d['easy']:.1f}/{100 * d['hard']:.1f}/{100 * d['invalid']:.1f}"


def movement_table(tmc, comparisons: dict, k: int, metric: str | None = None, row: int = -1) -> str:
    """Markdown: per method, at the transformer's evaluation ``row`` (default the last), coverage and pass@K of the
    TMC-LM, of the theory at the same step and of the theory at the same movement (``metric``; default the one the
    comparison was run with), for the training task and every other task."""
    tasks = [t.name for t in tmc.tasks]
    any_c = next(iter(comparisons.values()))
    metric = metric or any_c["movement"]["metric"]
    head = (f"| method | step | movement {metric} TMC-LM | theory step at equal movement | "
            + " | ".join(f"{t} easy/hard/inv TMC-LM | {t} theory equal step | {t} theory equal movement | "
                         f"{t} pass@{k} LM / equal step / equal movement" for t in tasks) + " |")
    lines = [head, "|" + "---|" * (4 + 4 * len(tasks))]
    for m, c in comparisons.items():
        tr = c["trajectory"][row]
        mv = {r["step"]: r for r in c["movement"]["by_metric"][metric]}[tr["step"]]
        reached = "" if mv["reached"] else " (not reached)"
        cells = [m, str(tr["step"]), f"{mv['movement_transformer']:.3f}", f"{mv['theory_step']:.1f}{reached}"]
        for t in tasks:
            a, b, e = tr[t]["transformer"], tr[t]["theory"], mv[t]["theory"]
            cells += [_cov(a), _cov(b), _cov(e),
                      f"{a[f'pass@{k}']:.3f} / {b[f'pass@{k}']:.3f} / {e[f'pass@{k}']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def agreement_summary(comparisons: dict, task: str, metric: str | None = None, row: int = -1) -> dict:
    """Per method: |TMC-LM - theory| in easy and hard share (points) at equal step and at equal movement."""
    out = {}
    for m, c in comparisons.items():
        met = metric or c["movement"]["metric"]
        tr = c["trajectory"][row]
        mv = {r["step"]: r for r in c["movement"]["by_metric"][met]}[tr["step"]]
        a, b, e = tr[task]["transformer"], tr[task]["theory"], mv[task]["theory"]
        out[m] = {f"{part}_{who}": 100 * abs(a[part] - x[part]) for part in ("easy", "hard")
                  for who, x in (("equal_step", b), ("equal_movement", e))}
        out[m]["reached"] = mv["reached"]
    return out


def plot_step_and_movement(comparisons: dict, task: str, path, metric: str | None = None) -> None:
    """Two rows per method: easy and hard share of ``task`` vs optimizer step (top: theory at the same step) and vs
    movement from the base (bottom: theory at the same movement). Solid = TMC-LM (measured), dashed = theory
    (predicted); open markers = movement the theory did not reach."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(comparisons)
    n = len(methods)
    fig, axes = plt.subplots(2, n, figsize=(3.0 * n, 5.6), squeeze=False, sharey=True)
    colors = {"easy": "#2b8cbe", "hard": "#e6550d"}
    for j, m in enumerate(methods):
        c = comparisons[m]
        met = metric or c["movement"]["metric"]
        traj = c["trajectory"]
        mv = c["movement"]["by_metric"][met]
        steps = [r["step"] for r in traj]
        d_tf = [r["movement_transformer"] for r in mv]
        for part, col in colors.items():
            axes[0, j].plot(steps, [r[task]["transformer"][part] for r in traj], "-o", ms=3, color=col,
                            label=f"{part} TMC-LM")
            axes[0, j].plot(steps, [r[task]["theory"][part] for r in traj], "--", color=col,
                            label=f"{part} theory")
            axes[1, j].plot(d_tf, [r[task]["transformer"][part] for r in traj], "-o", ms=3, color=col)
            axes[1, j].plot(d_tf, [r[task]["theory"][part] for r in mv], "--", color=col)
            miss = [i for i, r in enumerate(mv) if not r["reached"]]
            if miss:
                axes[1, j].plot([d_tf[i] for i in miss], [mv[i][task]["theory"][part] for i in miss], "o",
                                mfc="none", color=col)
        last = mv[-1]
        axes[0, j].set_title(f"{m}", fontsize=9)
        axes[1, j].set_title(f"theory needs {last['theory_step']:.0f} steps for step {last['step']}'s move",
                             fontsize=7)
        axes[0, j].set_xlabel("optimizer step (theory: same step)", fontsize=7)
        axes[1, j].set_xlabel(f"movement from base, {met} (theory: same movement)", fontsize=7)
    axes[0, 0].set_ylabel(f"{task} share")
    axes[1, 0].set_ylabel(f"{task} share")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"{task} easy/hard mass: measured (solid, TMC-LM) vs predicted (dashed, theory); top by step, "
                 f"bottom by distance moved", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def movement_curve(comparisons: dict, task: str, metric: str) -> dict[str, np.ndarray]:
    """``{method: [[step, movement TMC-LM, theory step at equal movement], ...]}`` (for reports)."""
    return {m: np.array([[r["step"], r["movement_transformer"], r["theory_step"]]
                         for r in c["movement"]["by_metric"][metric]]) for m, c in comparisons.items()}
