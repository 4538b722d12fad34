"""Exact paired tests over problems: the sign test and the sign-flip permutation test.

Both test H0 "the two sides (two steps, two methods) are exchangeable on every problem": under H0 the paired
difference d_i = x_B(i) - x_A(i) of problem i is as likely to be +d_i as -d_i, independently over problems.
Problems with d_i = 0 carry no information about the sign and drop out; the m problems left are the
*discordant* (binary outcome) or *nonzero* (real-valued outcome) ones.

* :func:`sign_test` -- binary outcomes per problem (solved at least once in n samples = pass@n, or pass@1 with
  one sample): of m discordant problems, b favour B and m - b favour A; two-sided exact binomial test of
  b ~ Binomial(m, 1/2) (``scipy.stats.binomtest``), p = P(|2X - m| >= |2b - m|). E.g. 4 problems lost and none
  gained: p = 2 / 2^4 = 0.125.
* :func:`sign_flip_test` -- real-valued per-problem differences (per-problem pass@k, k < n): statistic
  T = sum_i d_i; under H0 each sign is flipped with probability 1/2, p = P(|T*| >= |T|) (Fisher 1935's paired
  randomisation test). Exact over all 2^m sign patterns when m <= ``exact_max`` (default 18); otherwise
  Monte Carlo with ``n_draws`` (default 20,000, at least 10,000) random patterns and p = (1 + #{|T*| >= |T|}) /
  (1 + n_draws) (Phipson & Smyth 2010: never 0, valid). On +-1 differences it equals the sign test.

The warning. With m discordant problems the smallest two-sided p any result can reach is 2^(1-m), so with
m <= 5 no outcome is significant at 0.05. The percentile bootstrap over problems (``paired.py``) is
anti-conservative where m is small: in the null simulation of ``scripts/null_bootstrap_sim.py`` (64 problems, m
discordant ones with random signs; results/stats/null_bootstrap_sim.md) its 95% interval excludes 0 in 12.5% of
null draws at m = 4 (the chance that all four signs agree, 2/16: the bootstrap then almost never resamples a
disagreeing problem), 7.0% at m = 8 and 6.5% at m = 11, against the 5% it promises; from m = 12 to 30 the rate
stays between 2.9% and 6.4% (discreteness only). Hence ``FEW_DISCORDANT`` = 12: below it the result carries a
warning that says to read the exact p, not the bootstrap CI. The exact tests hold their level for every m.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

FEW_DISCORDANT = 12
"""Fewer discordant (nonzero-difference) problems than this: the result carries a warning (module docstring)."""

_TOL = 1e-12  # |T*| >= |T| - _TOL: floating sums of the same values in another order must count as ties


def few_discordant_warning(m: int) -> str | None:
    """The warning for ``m`` discordant problems, or None when ``m >= FEW_DISCORDANT``."""
    if m >= FEW_DISCORDANT:
        return None
    floor = 1.0 if m == 0 else min(1.0, 2.0 ** (1 - m))
    return (f"only {m} discordant problem(s) (< {FEW_DISCORDANT}): the smallest attainable exact p is {floor:.3g} "
            "and the bootstrap CI is anti-conservative here; read the exact p-value")


def sign_test(x_a, x_b) -> dict:
    """Two-sided exact sign test on paired binary outcomes (module docstring).

    ``x_a[i]``, ``x_b[i]``: 0/1 (or bool) outcome of problem i under A and under B. Returns ``{"p", "test",
    "discordant", "b_better", "a_better", "warning"}``; with no discordant problem p = 1."""
    a = np.asarray(x_a).ravel()
    b = np.asarray(x_b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"sign_test: x_a and x_b must pair problem by problem, got {a.size} and {b.size} values")
    for name, v in (("x_a", a), ("x_b", b)):
        if not np.isin(v, (0, 1)).all():
            bad = v[~np.isin(v, (0, 1))][0]
            raise ValueError(f"sign_test: {name} must be binary (0/1 or bool), found {bad.item()!r}; "
                             "use sign_flip_test for real-valued per-problem scores")
    b_better = int(((b == 1) & (a == 0)).sum())
    a_better = int(((a == 1) & (b == 0)).sum())
    m = a_better + b_better
    p = 1.0 if m == 0 else float(stats.binomtest(b_better, m, 0.5, alternative="two-sided").pvalue)
    return {"p": p, "test": "sign (exact binomial)", "discordant": m, "b_better": b_better, "a_better": a_better,
            "warning": few_discordant_warning(m)}


def sign_flip_test(d, exact_max: int = 18, n_draws: int = 20000, seed: int = 0) -> dict:
    """Two-sided paired sign-flip permutation test of per-problem differences ``d`` (module docstring).

    Returns ``{"p", "test", "discordant", "b_better", "a_better", "warning", "n_draws"}``: ``discordant`` is the
    number of nonzero differences, ``n_draws`` None when exact. With no nonzero difference p = 1."""
    if n_draws < 10000:
        raise ValueError(f"sign_flip_test: n_draws must be >= 10000 for a Monte-Carlo p-value, got {n_draws}")
    d = np.asarray(d, dtype=np.float64).ravel()
    if not np.isfinite(d).all():
        raise ValueError("sign_flip_test: the differences must be finite numbers")
    nz = d[np.abs(d) > _TOL]
    m = nz.size
    out = {"discordant": m, "b_better": int((nz > 0).sum()), "a_better": int((nz < 0).sum()),
           "warning": few_discordant_warning(m)}
    if m == 0:
        return {"p": 1.0, "test": "sign-flip (exact)", "n_draws": None, **out}
    t_obs = abs(nz.sum())
    if m <= exact_max:
        hits = total = 0
        for start in range(0, 2 ** m, 1 << 16):  # chunks of 65536 patterns
            signs = _sign_patterns(m, start)
            t = np.abs(signs @ nz)
            hits += int((t >= t_obs - _TOL).sum())
            total += t.size
        return {"p": hits / total, "test": "sign-flip (exact)", "n_draws": None, **out}
    rng = np.random.default_rng(seed)
    hits = 0
    rows = max(1, min(10000, 4_000_000 // m))  # bounded memory for thousands of problems
    for start in range(0, n_draws, rows):
        size = min(rows, n_draws - start)
        signs = 1 - 2 * rng.integers(0, 2, size=(size, m), dtype=np.int8)
        hits += int((np.abs(signs @ nz) >= t_obs - _TOL).sum())
    return {"p": (1 + hits) / (1 + n_draws), "test": f"sign-flip (Monte Carlo, {n_draws} draws)",
            "n_draws": n_draws, **out}


def sign_test_counts(a_better: int, b_better: int) -> dict:
    """:func:`sign_test` from the two discordant counts alone (e.g. a report's problems lost and gained)."""
    if a_better < 0 or b_better < 0:
        raise ValueError(f"sign_test_counts: counts must be >= 0, got {a_better} and {b_better}")
    return sign_test([1] * a_better + [0] * b_better, [0] * a_better + [1] * b_better)


def _sign_patterns(m: int, start: int, size: int = 1 << 16) -> np.ndarray:
    """Sign patterns ``start .. start + size - 1`` of the 2^m enumeration, as rows of +-1 (pattern j flips the
    problems whose bit is set in j)."""
    idx = np.arange(start, min(start + size, 2 ** m))
    bits = (idx[:, None] >> np.arange(m)[None, :]) & 1
    return 1 - 2 * bits.astype(np.int8)


def paired_exact_test(d, **kwargs) -> dict:
    """The exact test that fits per-problem differences ``d``: the sign test when every d_i is -1, 0 or +1
    (binary outcomes), the sign-flip permutation test otherwise (``kwargs`` go to :func:`sign_flip_test`)."""
    d = np.asarray(d, dtype=np.float64).ravel()
    if np.isin(d, (-1.0, 0.0, 1.0)).all():
        return sign_test((d < 0).astype(int), (d > 0).astype(int))
    return sign_flip_test(d, **kwargs)
