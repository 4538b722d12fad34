"""Paired differences of pass@k between two sets of samples of the SAME problems (two steps, two methods).

For each problem i with c_a of n_a correct under A and c_b of n_b under B, the per-problem difference is
pass@k_B(i) - pass@k_A(i), each term the unbiased estimator 1 - C(n-c, k)/C(n, k) (Chen et al. 2021). Its mean
over problems is the reported difference; the 95% CI is the percentile bootstrap over problems of that mean, the
same resampled problems for A and B, so problem difficulty cancels (narrower than two unpaired CIs).
"""

from __future__ import annotations

import numpy as np

from .bootstrap import bootstrap_mean
from .passk import pass_at_k_matrix


def paired_pass_at_k_diff(n_a, c_a, n_b, c_b, ks, n_boot: int = 10000, seed: int = 0) -> dict:
    """``{str(k): {"diff", "lo", "hi"}}``: mean over problems of pass@k(B) - pass@k(A) and its paired bootstrap
    95% CI, for every k in ``ks`` (each k <= every n). Row i of the four arrays is the same problem."""
    diffs = pass_at_k_matrix(np.asarray(n_b), np.asarray(c_b), ks) - pass_at_k_matrix(
        np.asarray(n_a), np.asarray(c_a), ks
    )
    out = {}
    for j, k in enumerate(ks):  # same seed for every k: the same resampled problems
        m, lo, hi = bootstrap_mean(diffs[:, j], n_boot=n_boot, seed=seed)
        out[str(k)] = {"diff": m, "lo": lo, "hi": hi}
    return out
