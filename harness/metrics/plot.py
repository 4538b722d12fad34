"""Plot pass@k against k (log2 axis) for one or several runs, with bootstrap CI bands."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


LEGEND_INSIDE_MAX = 12
"""At most this many legend entries are drawn inside the axes; more go beside them, in columns."""
LEGEND_ROWS_MAX = 30
"""Legend entries per column when the legend is beside the axes."""


def plot_pass_at_k(
    curves: Mapping[str, Mapping[str, Sequence[float]]] | Sequence[tuple[str, Mapping[str, Sequence[float]]]],
    path: str | Path,
    title: str | None = None,
    maj: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
) -> Path:
    """Save a pass@k-vs-k figure to ``path``.

    ``curves``: label -> {"ks": [...], "mean": [...], optional "lo"/"hi": [...]} (a shaded CI band) -
    or a list of (label, curve) pairs to fix the order. ``maj``: optional label -> {"ks", "mean"} drawn
    dashed in the same colour (maj@k). The x axis is log2(k); y is pass@k in [0, 1]. With more than
    ``LEGEND_INSIDE_MAX`` legend entries the legend is drawn beside the axes (the figure widens), not over the curves.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = list(curves.items()) if isinstance(curves, Mapping) else list(curves)
    if not items:
        raise ValueError("plot_pass_at_k: no curves to plot")
    entries = len(items) + sum(1 for label, _ in items if maj and label in maj)
    outside = entries > LEGEND_INSIDE_MAX  # many curves: the legend goes beside the axes, never over them
    ncol = 1 + (entries - 1) // LEGEND_ROWS_MAX if outside else 1
    width = 6.4 + 2.8 * ncol if outside else 6.4
    height = max(4.4, 0.16 * min(entries, LEGEND_ROWS_MAX)) if outside else 4.4
    fig, ax = plt.subplots(figsize=(width, height))
    for i, (label, cur) in enumerate(items):
        ks, mean = list(cur["ks"]), list(cur["mean"])
        if len(ks) != len(mean) or not ks:
            raise ValueError(f"plot_pass_at_k: curve {label!r} has {len(ks)} ks and {len(mean)} values")
        color = f"C{i % 10}"
        ax.plot(ks, mean, marker="o" if len(ks) <= 16 else None, ms=3, color=color, label=f"{label} pass@k")
        if cur.get("lo") is not None and cur.get("hi") is not None:
            ax.fill_between(ks, list(cur["lo"]), list(cur["hi"]), color=color, alpha=0.2, linewidth=0)
        if maj and label in maj:
            m = maj[label]
            ax.plot(list(m["ks"]), list(m["mean"]), ls="--", color=color, label=f"{label} maj@k")
    ax.set_xscale("log", base=2)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("k (samples, log2 scale)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    if outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=ncol, borderaxespad=0.0)
    else:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")  # the box includes an outside legend (no tight_layout warning)
    plt.close(fig)
    return path
