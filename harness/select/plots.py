"""Figures of a ``tmc bon`` run: pass@k against k per selector x reward, and the path shares of what each returned.

* ``pass_at_k.png`` -- pass@k (k = 1 ... runs, log2 axis) with its bootstrap CI band, one curve per selector x reward
  (:func:`harness.metrics.plot.plot_pass_at_k`);
* ``path_shares.png`` -- one horizontal bar per selector x reward, stacked: easy (correct on the pool's modal
  reasoning path), rare correct, wrong -- or correct / wrong where the clusters are unavailable -- labelled with
  the tokens the policy generated per run (compare selectors at equal compute).
"""

from __future__ import annotations

from pathlib import Path

COLORS = {"easy": "C2", "rare_correct": "C1", "correct": "C2", "wrong": "C7"}
SEGMENTS = {"clusters": ("easy", "rare_correct", "wrong"), "grader_outcome": ("correct", "wrong")}


def _entries(res: dict):
    """(label ``selector:reward`` -- the selector alone for reward-free ones --, entry) in results order."""
    for key, by_rw in res["selectors"].items():
        for rw, e in by_rw.items():
            yield (f"{key}:{rw}" if rw != "none" else key), e


def share_bars(res: dict) -> list[tuple[str, dict[str, float], int]]:
    """(label ``selector:reward``, {segment: share}, generated tokens per run) of every entry, in results order."""
    bars = []
    for label, e in _entries(res):
        ps = e["path_shares"]
        segs = SEGMENTS.get(ps.get("scheme"), SEGMENTS["grader_outcome"])
        bars.append((label, {name: float(ps.get(name) or 0.0) for name in segs},
                     int(round(e.get("generated_tokens_per_run") or 0))))
    return bars


def plot_bon(res: dict, out: str | Path) -> list[str]:
    """Write both figures into ``out``; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.metrics.plot import plot_pass_at_k

    out = Path(out)
    curves = []
    for label, e in _entries(res):
        ks = sorted(int(k) for k in e["pass_at_k"])
        p = [e["pass_at_k"][str(k)] for k in ks]
        curves.append((label, {"ks": ks, "mean": [x["mean"] for x in p], "lo": [x["lo"] for x in p],
                               "hi": [x["hi"] for x in p]}))
    plot_pass_at_k(curves, out / "pass_at_k.png", title="Best-of-N: pass@k over independent selector runs")
    bars = share_bars(res)
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(bars) + 1.8))
    for i, (_, segs, _) in enumerate(bars):
        left = 0.0
        for name, share in segs.items():
            ax.barh(i, share, left=left, color=COLORS[name], label=name.replace("_", " ") if i == 0 else None)
            left += share
    ax.set_yticks(range(len(bars)), [f"{lab}  ({tok} tok/run)" for lab, _, tok in bars], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of returned completions")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 2.0 / (len(bars) + 4)), ncol=3,
              frameon=False)
    ax.set_title("What each selector returned (reasoning paths of the pool)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "path_shares.png", dpi=120)
    plt.close(fig)
    return ["pass_at_k.png", "path_shares.png"]
