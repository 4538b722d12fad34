"""The paper's figures from a reproduction result (matplotlib, Agg backend, PNG).

* ``coverage_<TASK>.png``: stacked easy / hard / invalid bars per strategy (ours; the paper's as hatched
  outlines beside them where published);
* ``pass_at_k.png``: pass@K per strategy, one bar group per task;
* ``finetune_curves.png``: pass@K of the fine-tuned policy during fine-tuning, per method and task (mean ± sd).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLORS = {"easy": "#4c9f70", "hard": "#e0a030", "invalid": "#c0504d"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_coverage(result: dict, task: str, path: Path) -> Path:
    plt = _plt()
    mean, paper = result["strategies"], result.get("paper", {})
    names = [n for n in mean if task in mean[n]]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names) + 2), 4))
    bottom = np.zeros(len(names))
    bottom_p = np.zeros(len(names))
    has_paper = np.array([n in paper and task in paper[n] for n in names])
    for lab in ("easy", "hard", "invalid"):
        v = np.array([mean[n][task][lab] for n in names])
        ax.bar(x - 0.2, v, 0.38, bottom=bottom, color=COLORS[lab], label=f"{lab} (ours)")
        bottom += v
        pv = np.array([paper[n][task][lab] if h else 0.0 for n, h in zip(names, has_paper)])
        ax.bar(x[has_paper] + 0.2, pv[has_paper], 0.38, bottom=bottom_p[has_paper], facecolor="none",
               edgecolor=COLORS[lab], hatch="//", label=f"{lab} (paper)")
        bottom_p += pv
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=35, ha="right")
    ax.set_ylabel("share of sampled CoTs (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{task}: coverage ({result.get('mode', '')}), left = ours, right = paper")
    ax.legend(fontsize=7, ncol=2, loc="upper right", framealpha=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_pass_at_k(result: dict, path: Path) -> Path:
    plt = _plt()
    mean, sd = result["strategies"], result.get("sd", {})
    names = list(mean)
    tasks = sorted({t for n in names for t in mean[n]})
    x = np.arange(len(names))
    wdt = 0.8 / max(len(tasks), 1)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names) + 2), 4))
    for i, t in enumerate(tasks):
        v = [mean[n].get(t, {}).get("pass_at_k", np.nan) for n in names]
        e = [sd.get(n, {}).get(t, {}).get("pass_at_k", 0.0) for n in names]
        ax.bar(x + (i - (len(tasks) - 1) / 2) * wdt, v, wdt, yerr=e, label=t, capsize=2)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=35, ha="right")
    ax.set_ylabel(f"pass@{result.get('k', 'K')} (%)")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title(f"pass@{result.get('k', 'K')} per strategy ({result.get('mode', '')})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_finetune_curves(result: dict, path: Path) -> Path | None:
    curves = result.get("curves") or {}
    if not curves:
        return None
    plt = _plt()
    keys = sorted({k for c in curves.values() for k in c if k.endswith("_pass_at_k")})
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(5 * max(len(keys), 1), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, c in curves.items():
            if key not in c:
                continue
            s, m = np.array(c["step"]), np.array(c[key])
            e = np.array(c.get(key + "_sd", np.zeros_like(m)))
            ax.plot(s, m, label=name)
            ax.fill_between(s, m - e, m + e, alpha=0.2)
        ax.set_xlabel("fine-tuning step")
        ax.set_ylabel(f"pass@{result.get('k', 'K')} (%)")
        ax.set_title(key.replace("_pass_at_k", "") + f" pass@{result.get('k', 'K')} during fine-tuning")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_all(result: dict, out_dir: str | Path) -> list[Path]:
    """Write every figure into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = sorted({t for row in result["strategies"].values() for t in row})
    paths = [plot_coverage(result, t, out / f"coverage_{t}.png") for t in tasks]
    paths.append(plot_pass_at_k(result, out / "pass_at_k.png"))
    p = plot_finetune_curves(result, out / "finetune_curves.png")
    if p is not None:
        paths.append(p)
    return paths
