"""Vectorised sampling of paths from layered kernels (no Python loop per sample)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def sample_next(kernel: np.ndarray, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw ``s' ~ kernel[s, :]`` for every ``s`` in ``states`` by inverse-CDF on uniform draws."""
    cdf = np.cumsum(kernel, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(states))
    return (u[:, None] > cdf[states]).sum(axis=1)


def sample_paths(kernels: Sequence[np.ndarray], starts: np.ndarray | int, rng: np.random.Generator,
                 n: int | None = None) -> np.ndarray:
    """Sample paths ``(n, L)``: ``o_0 = starts`` (array, or an int repeated ``n`` times), then
    ``o_{l+1} ~ kernels[l][o_l, :]``."""
    if np.isscalar(starts):
        if n is None:
            raise ValueError("sample_paths: give n when starts is a single state")
        starts = np.full(n, int(starts))
    starts = np.asarray(starts, dtype=np.int64)
    out = np.empty((len(starts), len(kernels) + 1), dtype=np.int64)
    out[:, 0] = starts
    for l, k in enumerate(kernels):
        out[:, l + 1] = sample_next(k, out[:, l], rng)
    return out


def uniform_starts(width0: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform start states over layer 0 (the paper's Base Model / pretraining convention)."""
    return rng.integers(0, width0, size=n)
