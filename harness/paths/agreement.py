"""Agreement of a clustering with ground truth: adjusted Rand index and purity (sklearn-free).

``adjusted_rand_index(truth, pred) -> float`` is Hubert & Arabie's (1985) ARI, computed from the contingency table
``n_ij`` of the two labelings (row sums ``a_i``, column sums ``b_j``, ``n`` items)::

    index = sum_ij C(n_ij, 2);  expected = sum_i C(a_i, 2) * sum_j C(b_j, 2) / C(n, 2)
    ARI   = (index - expected) / (0.5 * (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - expected)

1 = identical partitions, ~0 = chance, negative = worse than chance. Like sklearn, the degenerate case where both
labelings are one cluster (or both all singletons), making the denominator 0, returns 1.0.

``purity(truth, pred) -> float`` = (1/n) * sum over predicted clusters of the size of their largest true class: 1 when
no predicted cluster mixes strategies (it rewards splitting: all singletons have purity 1, hence ARI beside it).
``inverse_purity(truth, pred)`` = purity(pred, truth): 1 when no strategy is split over several clusters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import comb


def contingency(truth: Sequence, pred: Sequence) -> np.ndarray:
    """The contingency table n_ij (rows = true classes, columns = predicted clusters)."""
    if len(truth) != len(pred):
        raise ValueError(f"labelings differ in length: truth has {len(truth)}, pred has {len(pred)}")
    _, ti = np.unique(np.asarray(truth, dtype=object).astype(str), return_inverse=True)
    _, pi = np.unique(np.asarray(pred, dtype=object).astype(str), return_inverse=True)
    table = np.zeros((ti.max() + 1 if len(ti) else 0, pi.max() + 1 if len(pi) else 0), dtype=np.int64)
    np.add.at(table, (ti, pi), 1)
    return table


def adjusted_rand_index(truth: Sequence, pred: Sequence) -> float:
    """Hubert-Arabie adjusted Rand index of two labelings of the same items (module docstring)."""
    table = contingency(truth, pred)
    n = int(table.sum())
    if n < 2:
        return 1.0
    index = comb(table, 2).sum()
    sum_a = comb(table.sum(axis=1), 2).sum()
    sum_b = comb(table.sum(axis=0), 2).sum()
    expected = sum_a * sum_b / comb(n, 2)
    denom = 0.5 * (sum_a + sum_b) - expected
    if denom == 0:
        return 1.0
    return float((index - expected) / denom)


def purity(truth: Sequence, pred: Sequence) -> float:
    """Share of items in the majority true class of their predicted cluster (module docstring)."""
    table = contingency(truth, pred)
    n = table.sum()
    return float(table.max(axis=0).sum() / n) if n else 1.0


def inverse_purity(truth: Sequence, pred: Sequence) -> float:
    """Share of items in the majority predicted cluster of their true class: 1 when no strategy is split."""
    return purity(pred, truth)
