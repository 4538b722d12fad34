"""Holm's step-down correction (Holm 1979) for a table that makes several comparisons at once.

With m p-values sorted p_(1) <= ... <= p_(m), the adjusted values are

    p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j)),

and comparison (i) is rejected at family-wise level alpha when p~_(i) <= alpha. It controls the family-wise
error rate under any dependence between the comparisons (unlike Bonferroni's m·p it is not needlessly strict for
the later ones, and unlike Hochberg it needs no independence). ``None`` entries (no test made) pass through as
None and do not count in m.
"""

from __future__ import annotations

import numpy as np


def holm(pvalues, alpha: float = 0.05) -> dict:
    """``{"adjusted": [...], "reject": [...], "m": m}`` in the order given (module docstring)."""
    ps = list(pvalues)
    idx = [i for i, p in enumerate(ps) if p is not None]
    vals = np.array([float(ps[i]) for i in idx], dtype=np.float64)
    if ((vals < 0) | (vals > 1) | ~np.isfinite(vals)).any():
        raise ValueError(f"holm: p-values must lie in [0, 1], got {vals[(vals < 0) | (vals > 1)].tolist()}")
    m = vals.size
    adjusted: list[float | None] = [None] * len(ps)
    reject: list[bool | None] = [None] * len(ps)
    if m:
        order = np.argsort(vals, kind="stable")
        scaled = vals[order] * (m - np.arange(m))
        adj_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
        for rank, j in enumerate(order):
            adjusted[idx[j]] = float(adj_sorted[rank])
            reject[idx[j]] = bool(adj_sorted[rank] <= alpha)
    return {"adjusted": adjusted, "reject": reject, "m": m}
