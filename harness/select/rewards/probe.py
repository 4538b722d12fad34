"""A logistic probe trained on SOFT labels, and the metrics a reward model is judged by.

Fit: minimise  sum_i [ -y_i log s(z_i) - (1 - y_i) log(1 - s(z_i)) ] / n + (l2 / 2) |w|^2,  z = w . x_std + b,
with y_i in [0, 1] (0/1 correctness for the ORM; Math-Shepherd's soft MC values for the PRM: the labels are
kept soft, unlike TRL's PRMTrainer, which casts them to int), x standardised by the training mean and sd;
L-BFGS (scipy) on the exact gradient  X^T (s(z) - y) / n + l2 w.

Metrics: AUC (Mann-Whitney: P(score of a correct > score of a wrong), ties 1/2), expected calibration
error over ``bins`` equal-width bins (ECE = sum_b (n_b / n) |mean y_b - mean p_b|), Brier score, log loss and
the log loss of the constant base rate (a probe that learnt nothing matches it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import rankdata


class LinearRM:
    """``p(x) = sigmoid(w . (x - mu) / sd + b)``; ``kind`` is "orm" or "prm"; ``meta`` is saved with it."""

    def __init__(self, w, b, mu, sd, kind: str, meta: dict | None = None):
        self.w, self.b, self.mu, self.sd = np.asarray(w, float), float(b), np.asarray(mu, float), np.asarray(sd, float)
        self.kind, self.meta = kind, dict(meta or {})
        self.featurizer = None

    def predict(self, x: np.ndarray) -> np.ndarray:
        return expit(((np.asarray(x, float) - self.mu) / self.sd) @ self.w + self.b)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "rm.npz", w=self.w, b=self.b, mu=self.mu, sd=self.sd)
        (folder / "rm.json").write_text(json.dumps({"kind": self.kind, **self.meta}, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> LinearRM:
        from tmc_core.config import ConfigError

        folder = Path(folder)
        if not (folder / "rm.npz").exists() or not (folder / "rm.json").exists():
            raise ConfigError(f"{folder}: not a reward-model folder (needs rm.npz and rm.json; make one with "
                              f"`tmc rm train`)")
        z = np.load(folder / "rm.npz")
        meta = json.loads((folder / "rm.json").read_text())
        return cls(z["w"], float(z["b"]), z["mu"], z["sd"], meta.pop("kind"), meta)


def fit_soft_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> tuple[np.ndarray, float, np.ndarray,
                                                                               np.ndarray]:
    """(w, b, mu, sd) minimising the soft-label BCE + L2 of the module docstring."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"fit_soft_logistic: x must be (n, d) and y (n,), got {x.shape}, {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("fit_soft_logistic: labels must lie in [0, 1]")
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mu) / sd
    n, d = xs.shape

    def loss(theta):
        w, b = theta[:d], theta[d]
        z = xs @ w + b
        # log(1 + e^z) - y z  ==  BCE(sigmoid(z), y)
        val = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w
        g = expit(z) - y
        return val, np.concatenate([xs.T @ g / n + l2 * w, [g.mean()]])

    theta0 = np.zeros(d + 1)
    m = y.mean()
    theta0[d] = np.log(max(m, 1e-6) / max(1 - m, 1e-6))
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:d], float(res.x[d]), mu, sd


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Mann-Whitney AUC of scores ``p`` for binary ``y`` (None when one class is absent)."""
    y = np.asarray(y) > 0.5
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    r = rankdata(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width probability bins (soft ``y`` allowed)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    tot = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            tot += m.sum() / len(p) * abs(y[m].mean() - p[m].mean())
    return float(tot)


def report(y: np.ndarray, p: np.ndarray, base_rate: float) -> dict:
    """AUC, ECE, Brier, log loss and the constant base-rate log loss of predictions ``p`` for labels ``y``."""
    y, p = np.asarray(y, float), np.clip(np.asarray(p, float), 1e-9, 1 - 1e-9)
    q = min(max(base_rate, 1e-9), 1 - 1e-9)
    return {"n": len(y), "positive_rate": float(y.mean()) if len(y) else None, "auc": auc(y, p),
            "ece": ece(y, p), "brier": float(np.mean((p - y) ** 2)),
            "log_loss": float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p))),
            "log_loss_base_rate": float(np.mean(-y * np.log(q) - (1 - y) * np.log(1 - q)))}
