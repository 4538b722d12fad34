"""Differences across training seeds: the mean with a Student-t interval, the headline for training claims.

A training claim ("rule R beats GRPO at step 50") is about the training procedure, whose outcome varies with the
seed far more than the evaluation problems' bootstrap shows (two runs identical for 20 steps ended 0.14 apart in
pass@8). So the unit is the seed: with per-seed differences d_1..d_S (each already paired over problems),

    mean = (1/S) sum_s d_s,   sd = sqrt(sum_s (d_s - mean)^2 / (S - 1)),
    CI   = mean -+ t_{1 - alpha/2, S - 1} * sd / sqrt(S)                         (scipy.stats.t.ppf)

and the two-sided one-sample t-test p of H0 "mean difference 0" (``scipy.stats.ttest_1samp``). It assumes the
per-seed differences are roughly normal and independent; with S = 2 or 3 seeds the interval is wide (t_{0.975, 2}
= 4.30) -- that width is the honest uncertainty, not a defect. With S = 1 there is no interval (None). The
per-seed problem-level CIs and exact p-values stay in the tables as the secondary detail.

Identical per-seed differences (sd = 0, e.g. two seeds that each gained the same 2 of 64 problems) make the
t-statistic infinite and its p 0, which would read as certainty from a coarse statistic; so there, too, no interval
and no p are given (``identical: True``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def seed_t_interval(diffs, alpha: float = 0.05) -> dict:
    """``{"seeds", "mean", "sd", "lo", "hi", "p"}`` over the per-seed differences ``diffs`` (module docstring);
    ``sd``, ``lo``, ``hi``, ``p`` are None with a single seed."""
    d = np.asarray(diffs, dtype=np.float64).ravel()
    if d.size == 0:
        raise ValueError("seed_t_interval: no per-seed differences")
    if not 0 < alpha < 1:
        raise ValueError(f"seed_t_interval: alpha must be in (0, 1), got {alpha}")
    mean = float(d.mean())
    if d.size == 1:
        return {"seeds": 1, "mean": mean, "sd": None, "lo": None, "hi": None, "p": None}
    sd = float(d.std(ddof=1))
    if sd == 0:
        return {"seeds": int(d.size), "mean": mean, "sd": 0.0, "lo": None, "hi": None, "p": None, "identical": True}
    half = float(stats.t.ppf(1 - alpha / 2, d.size - 1)) * sd / math.sqrt(d.size)
    p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return {"seeds": int(d.size), "mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half, "p": p}
