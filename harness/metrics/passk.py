"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", arXiv:2107.03374).

For one problem with n samples of which c are correct, the probability that a uniformly random size-k
subset (without replacement) holds at least one correct sample is

    pass@k = 1 - C(n-c, k) / C(n, k)                                                     (Chen eq. 1)

evaluated without binomials (no overflow) in Chen's product form

    pass@k = 1 - prod_{i=n-c+1}^{n} (1 - k/i)            (and = 1 when n - c < k)

``pass_at_k`` uses exactly that form. For every k at once the table uses the equivalent product over k,

    C(n-c, k) / C(n, k) = prod_{j=0}^{k-1} (n-c-j)/(n-j)      -> one cumprod over j for all k <= n,

computed once per distinct (n, c) pair (at most n+1 of them when n is shared), so 10^4 problems x 1024
samples for all 1024 k take milliseconds. Benchmark scores are the MACRO average over problems (each
problem weighs 1, whatever its n), as in Chen et al. and Yue et al. 2025. The plug-in 1-(1-c/n)^k is biased
low and is not used.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem (Chen et al. product form). Requires 0 <= c <= n and 1 <= k <= n."""
    n, c, k = int(n), int(c), int(k)
    if not (0 <= c <= n):
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not (1 <= k <= n):
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def _check(n: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=np.int64).ravel()
    c = np.asarray(c, dtype=np.int64).ravel()
    if n.shape != c.shape:
        raise ValueError(f"n and c must have the same length, got {n.shape[0]} and {c.shape[0]}")
    if n.size == 0:
        raise ValueError("no problems: n and c are empty")
    if (n < 1).any() or (c < 0).any() or (c > n).any():
        bad = int(np.flatnonzero((n < 1) | (c < 0) | (c > n))[0])
        raise ValueError(f"problem {bad}: need n >= 1 and 0 <= c <= n, got n={n[bad]}, c={c[bad]}")
    return n, c


def _ks(ks: Iterable[int] | None, n_min: int) -> np.ndarray:
    k = np.arange(1, n_min + 1) if ks is None else np.asarray(list(ks), dtype=np.int64).ravel()
    if k.size == 0 or (k < 1).any() or (k > n_min).any():
        raise ValueError(f"every k must satisfy 1 <= k <= min(n) = {n_min}; got {k.tolist()}")
    return k


def unique_table(n: np.ndarray, c: np.ndarray, ks: Iterable[int] | None = None):
    """(ks, pairs, inverse, table): ``table[u, j]`` = pass@ks[j] of the distinct (n, c) pair ``pairs[u]``;
    ``inverse[i]`` indexes problem i's pair. The workhorse of curve and bootstrap."""
    n, c = _check(n, c)
    k = _ks(ks, int(n.min()))
    pairs, inverse = np.unique(np.stack([n, c], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    table = np.empty((pairs.shape[0], k.size))
    for nn in np.unique(pairs[:, 0]):
        rows = np.flatnonzero(pairs[:, 0] == nn)
        cc = pairs[rows, 1][:, None].astype(np.float64)
        j = np.arange(int(k.max()), dtype=np.float64)[None, :]
        factors = np.clip((nn - cc - j) / (nn - j), 0.0, 1.0)  # (n-c-j)/(n-j), 0 once j >= n-c
        q = np.cumprod(factors, axis=1)  # q[:, k-1] = C(n-c,k)/C(n,k)
        table[rows] = 1.0 - q[:, k - 1]
    return k, pairs, inverse, table


def pass_at_k_matrix(n: np.ndarray, c: np.ndarray, ks: Iterable[int] | None = None) -> np.ndarray:
    """Per-problem pass@k, shape (problems, len(ks)); ks=None -> every k = 1..min(n)."""
    _, _, inv, table = unique_table(n, c, ks)
    return table[inv]


def pass_at_k_curve(n: np.ndarray, c: np.ndarray, ks: Iterable[int] | None = None) -> np.ndarray:
    """Macro-averaged pass@k over problems for each k in ``ks`` (None -> every k = 1..min(n))."""
    _, pairs, inv, table = unique_table(n, c, ks)
    weights = np.bincount(inv, minlength=pairs.shape[0]).astype(np.float64)
    return weights @ table / weights.sum()


def powers_of_two(n: int) -> list[int]:
    """1, 2, 4, ... up to n, plus n itself when it is not a power of two."""
    ks = [1 << i for i in range(int(n).bit_length()) if (1 << i) <= n]
    if ks and ks[-1] != n:
        ks.append(int(n))
    return ks


def counts_from_matrix(correct: np.ndarray | Sequence[Sequence[bool]]) -> tuple[np.ndarray, np.ndarray]:
    """(n, c) per problem from a boolean (problems x samples) matrix."""
    m = np.asarray(correct, dtype=bool)
    return np.full(m.shape[0], m.shape[1], dtype=np.int64), m.sum(axis=1).astype(np.int64)
