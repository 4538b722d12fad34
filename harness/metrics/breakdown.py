"""Per-problem solve counts, per-level / per-subject pass@k, and solved sets.

* ``per_problem(df)``: problem_id -> (n, c) from a samples DataFrame (``correct`` null counts as wrong:
  an ungraded sample is a sample that did not verifiably solve the problem).
* ``breakdown(...)``: macro pass@k within each group (MATH level 1-5, subject) - the problem-difficulty
  axis the paper's easy/hard instance split maps onto.
* ``solved_set``: problems solved at least once (c > 0), i.e. pass@n > 0; ``compare_solved`` gives the
  support retention rate SRR = |S_a & S_b| / |S_a| and net discovery rate NDR = |S_b - S_a| / |S_b|, our
  reading of the support metrics of Wu et al. 2025 ("The Invisible Leash", arXiv:2507.14843), with
  a = base and b = post-trained; the raw set sizes are returned too, so other ratios can be formed, and
  ``p_sign``, the exact two-sided sign test of only_a against only_b (``exact_tests.sign_test_counts``; valid when
  a and b are solved sets over the SAME problems).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .passk import pass_at_k_curve


def per_problem(df) -> "Any":
    """DataFrame indexed by problem_id with columns n, c (and level, subject, benchmark when present)."""
    import pandas as pd

    d = df.copy()
    d["correct"] = d["correct"].fillna(False).astype(bool)
    agg = d.groupby("problem_id", sort=True).agg(n=("sample_idx", "size"), c=("correct", "sum"))
    for col in ("level", "subject", "benchmark"):
        if col in d.columns:
            agg[col] = d.groupby("problem_id", sort=True)[col].first()
    agg["n"] = agg["n"].astype(np.int64)
    agg["c"] = agg["c"].astype(np.int64)
    return agg if isinstance(agg, pd.DataFrame) else agg.to_frame()


def breakdown(pp, by: str, ks: Iterable[int]) -> dict[str, dict[str, Any]]:
    """``{group: {"n_problems", "pass_at_k": {k: value}}}`` for the column ``by`` of ``per_problem`` output."""
    ks = list(ks)
    out: dict[str, dict[str, Any]] = {}
    if by not in pp.columns:
        return out
    for key, g in pp.groupby(by, dropna=True, sort=True):
        valid = [k for k in ks if k <= int(g["n"].min())]
        curve = pass_at_k_curve(g["n"].to_numpy(), g["c"].to_numpy(), valid)
        label = str(int(key)) if isinstance(key, (int, float, np.integer, np.floating)) else str(key)
        out[label] = {"n_problems": int(len(g)), "pass_at_k": {str(k): float(v) for k, v in zip(valid, curve)}}
    return out


def solved_set(pp) -> set[str]:
    """Problem ids with at least one correct sample."""
    return set(pp.index[pp["c"] > 0].astype(str))


def compare_solved(a: set[str], b: set[str]) -> dict[str, float | int]:
    """Solved-set comparison of run a (reference, e.g. base) and run b (e.g. post-trained)."""
    from .exact_tests import sign_test_counts

    both, only_a, only_b = a & b, a - b, b - a
    return {
        "both": len(both), "only_a": len(only_a), "only_b": len(only_b),
        "p_sign": sign_test_counts(len(only_a), len(only_b))["p"],
        "srr": len(both) / len(a) if a else float("nan"),
        "ndr": len(only_b) / len(b) if b else float("nan"),
    }
