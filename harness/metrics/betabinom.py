"""pass@K beyond the samples: a beta-binomial fit of per-problem (n, c) counts, extrapolated to K >> n.

Model (Schaeffer et al. 2025, "How Do Large Language Monkeys Get Their Power (Laws)?", arXiv:2502.17578, section on
forecasting from the distribution of per-problem single-attempt success probabilities): problem i has an unknown
success probability ``p_i``, drawn across problems from a distribution ``D``; its ``c_i`` correct of ``n_i`` samples
are ``Binomial(n_i, p_i)``. Two choices of ``D``:

* ``beta``:        ``p ~ Beta(a, b)``. The count is beta-binomial,
  ``P(c | n) = C(n, c) B(a + c, b + n - c) / B(a, b)``, and the benchmark's expected pass@K is

      E[1 - (1 - p)^K] = 1 - B(a, b + K) / B(a, b)                                                    (1)

* ``scaled_beta``: ``p = s X``, ``X ~ Beta(a, b)``, ``0 < s <= 1`` (the three-parameter "scaled Beta" of Schaeffer
  et al.: no problem is solved with probability above ``s``). With
  ``X^c Beta(a, b) = Beta(a + c, b) B(a+c, b)/B(a, b)``,

      P(c | n) = C(n, c) s^c B(a + c, b) / B(a, b) * 2F1(-(n - c), a + c; a + b + c; s)                   (2)
      E[1 - (1 - sX)^K] = 1 - 2F1(-K, a; a + b; s)                                                    (3)

  (``2F1`` with a negative-integer first argument is a finite polynomial; at ``s = 1`` Chu-Vandermonde turns (2)-(3)
  into the ``beta`` formulas, which the tests check). (3) is computed as the Beta integral by quadrature, (2) with
  scipy's ``hyp2f1`` (small ``n``).

Fit: maximum likelihood over all problems' counts (problems with the same ``(n, c)`` are grouped), parameters on an
unconstrained scale (``log a``, ``log b``, ``logit s``), Nelder-Mead then L-BFGS-B polish from a method-of-moments
start.
Departure from the paper: Schaeffer et al. fit the distribution of the per-problem *estimates* ``c_i / n_i``
(discretised); here the binomial sampling noise is part of the likelihood (the beta-binomial), which matters when
``n`` is as small as 8 and most counts are 0.

Uncertainty: :func:`bootstrap_prediction` resamples problems with replacement and refits (a percentile interval over
problems, the unit this project's CIs use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import optimize, special

MODELS = ("beta", "scaled_beta")


@dataclass
class BetaFit:
    """A fitted per-problem success distribution: ``p = s * Beta(a, b)`` (``s = 1`` for ``beta``)."""

    model: str
    a: float
    b: float
    s: float = 1.0
    loglik: float = float("nan")
    n_problems: int = 0
    meta: dict = field(default_factory=dict)

    def pass_at_k(self, ks: Sequence[int] | int) -> np.ndarray:
        """Expected pass@K under the fit, eq. (1) or (3), for every K."""
        return expected_pass_at_k(self.a, self.b, ks, self.s)

    def as_dict(self) -> dict:
        return {"model": self.model, "a": self.a, "b": self.b, "s": self.s, "loglik": self.loglik,
                "n_problems": self.n_problems, "mean_p": self.s * self.a / (self.a + self.b), **self.meta}


def expected_pass_at_k(a: float, b: float, ks: Sequence[int] | int, s: float = 1.0) -> np.ndarray:
    """``E[1 - (1 - p)^K]`` for ``p = s X``, ``X ~ Beta(a, b)``: eq. (1) when ``s == 1``, else eq. (3)."""
    k = np.atleast_1d(np.asarray(ks, dtype=float))
    if (k < 0).any():
        raise ValueError(f"every K must be >= 0, got {k.min()}")
    if not (a > 0 and b > 0 and 0 < s <= 1):
        raise ValueError(f"need a > 0, b > 0 and 0 < s <= 1, got a={a}, b={b}, s={s}")
    if s == 1.0:
        return 1.0 - np.exp(special.betaln(a, b + k) - special.betaln(a, b))
    # eq. (3) evaluated as the integral it is, int (1 - s x)^K x^(a-1) (1-x)^(b-1) dx / B(a, b), by QUADPACK's
    # algebraic-weight rule (exact endpoint singularities); scipy's hyp2f1(-K, ...) returns nan beyond K ~ 10^4
    from scipy import integrate

    norm = np.exp(special.betaln(a, b))
    return np.array([1.0 - integrate.quad(lambda x, kk=kk: np.exp(kk * np.log1p(-s * x)), 0.0, 1.0, weight="alg",
                                          wvar=(a - 1.0, b - 1.0), limit=200)[0] / norm for kk in k])


def count_loglik(n: np.ndarray, c: np.ndarray, a: float, b: float, s: float = 1.0) -> np.ndarray:
    """``log P(c | n)`` per entry under ``p = s Beta(a, b)``: eq. (2) (the beta-binomial when ``s == 1``)."""
    n = np.asarray(n, float)
    c = np.asarray(c, float)
    log_choose = special.gammaln(n + 1) - special.gammaln(c + 1) - special.gammaln(n - c + 1)
    if s == 1.0:
        return log_choose + special.betaln(a + c, b + n - c) - special.betaln(a, b)
    f = special.hyp2f1(-(n - c), a + c, a + b + c, s)
    return (log_choose + c * np.log(s) + special.betaln(a + c, b) - special.betaln(a, b)
            + np.log(np.maximum(f, 1e-300)))


def _check_counts(n, c) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=np.int64).ravel()
    c = np.asarray(c, dtype=np.int64).ravel()
    if n.shape != c.shape or n.size == 0:
        raise ValueError(f"n and c must be non-empty and of equal length, got {n.size} and {c.size}")
    bad = np.flatnonzero((n < 1) | (c < 0) | (c > n))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"problem {i}: need n >= 1 and 0 <= c <= n, got n={n[i]}, c={c[i]}")
    return n, c


def _unpack(theta: np.ndarray, model: str) -> tuple[float, float, float]:
    a, b = float(np.exp(theta[0])), float(np.exp(theta[1]))
    s = float(special.expit(theta[2])) if model == "scaled_beta" else 1.0
    return a, b, s


def fit(n: Sequence[int], c: Sequence[int], model: str = "beta") -> BetaFit:
    """Maximum-likelihood ``Beta(a, b)`` (or scaled Beta) of per-problem success probabilities from counts."""
    if model not in MODELS:
        raise ValueError(f"model {model!r} is not allowed; allowed values: {', '.join(MODELS)}")
    n, c = _check_counts(n, c)
    pairs, weight = np.unique(np.stack([n, c], 1), axis=0, return_counts=True)
    nn, cc = pairs[:, 0], pairs[:, 1]

    def nll(theta):
        a, b, s = _unpack(theta, model)
        ll = count_loglik(nn, cc, a, b, s)
        v = -float(np.dot(weight, ll))
        return v if np.isfinite(v) else 1e300

    # method-of-moments start on the per-problem rates (clipped) and a heavy-left-tail start; the scaled model
    # starts from the Beta fit with s near 1 and with s = 1/2
    r = np.clip(c / n, 1e-3, 1 - 1e-3)
    m, v = float(r.mean()), float(max(r.var(), 1e-6))
    conc = max(m * (1 - m) / v - 1, 0.05)
    starts = [np.log([max(m * conc, 1e-3), max((1 - m) * conc, 1e-3)]), np.log([0.2, max(0.2 * (1 - m) / m, 0.5)])]
    if model == "scaled_beta":
        bf = fit(n, c, "beta")
        starts = [np.array([np.log(bf.a), np.log(bf.b), 4.0]), np.array([np.log(bf.a), np.log(bf.b / 2), 0.0])]
    best = None
    for x0 in starts:
        res = optimize.minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 2000})
        res2 = optimize.minimize(nll, res.x, method="L-BFGS-B")
        cand = res2 if res2.fun <= res.fun else res
        if best is None or cand.fun < best.fun:
            best = cand
    a, b, s = _unpack(best.x, model)
    return BetaFit(model, a, b, s, loglik=-float(best.fun), n_problems=int(n.size))


def subsample_counts(n: Sequence[int], c: Sequence[int], m: int, rng: np.random.Generator) -> np.ndarray:
    """Correct counts of ``m`` of each problem's ``n`` samples drawn without replacement (hypergeometric): exactly
    the counts one would have had with only ``m`` samples per problem."""
    n, c = _check_counts(n, c)
    if (n < m).any():
        raise ValueError(f"cannot keep m={m} samples of a problem with n={int(n.min())}")
    return rng.hypergeometric(c, n - c, m)


def bootstrap_prediction(n, c, ks: Sequence[int], model: str = "beta", n_boot: int = 200, seed: int = 0,
                         ci: float = 0.95) -> dict:
    """Point prediction of pass@K plus a percentile CI from refitting on problems resampled with replacement."""
    n, c = _check_counts(n, c)
    f = fit(n, c, model)
    rng = np.random.default_rng(seed)
    preds = np.empty((n_boot, len(ks)))
    for i in range(n_boot):
        idx = rng.integers(0, n.size, n.size)
        preds[i] = fit(n[idx], c[idx], model).pass_at_k(ks)
    lo, hi = np.quantile(preds, [(1 - ci) / 2, 1 - (1 - ci) / 2], axis=0)
    return {"fit": f.as_dict(), "ks": [int(k) for k in ks], "mean": f.pass_at_k(ks).tolist(), "lo": lo.tolist(),
            "hi": hi.tolist(), "n_boot": n_boot, "ci": ci}
