"""The learner: a tabular softmax policy over TMC transitions (docs/tmc_model.md §3).

The paper's "linear softmax on one-hot states" stores ``theta_l`` in R^{M x M} and uses the
column ``theta_l[:, o_l]``. We store the transpose, one row per source state:
``logits[l][s, s']`` and ``p_theta(o_{l+1} = s' | o_l = s) = softmax(logits[l][s, :])[s']``.
Gradients: ``d log p(s'|s) / d logits[l][s, :] = onehot(s') - p(. | s)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TabularPolicy:
    """``logits[l]`` has shape ``(W_l, W_{l+1})``; rows are source states."""

    logits: list[np.ndarray]

    @property
    def widths(self) -> list[int]:
        return [self.logits[0].shape[0]] + [x.shape[1] for x in self.logits]

    def kernels(self) -> list[np.ndarray]:
        """The policy's transition matrices ``p_theta(. | s)`` per layer (row-stochastic)."""
        return [softmax_rows(x) for x in self.logits]

    def copy(self) -> "TabularPolicy":
        return TabularPolicy([x.copy() for x in self.logits])

    @classmethod
    def random_init(cls, widths: list[int], rng: np.random.Generator, scale: float = 0.1) -> "TabularPolicy":
        """The paper's init: ``theta ~ scale * N(0, 1)`` (scale 0.1)."""
        return cls([scale * rng.standard_normal((widths[l], widths[l + 1])) for l in range(len(widths) - 1)])

    @classmethod
    def from_kernels(cls, kernels: list[np.ndarray], floor: float = 1e-300) -> "TabularPolicy":
        """Exact ("infinite-data") pretraining: ``logits = log P`` so the policy equals the TMC."""
        return cls([np.log(np.maximum(np.asarray(k, float), floor)) for k in kernels])
