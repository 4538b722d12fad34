"""The multi-task Tree-structured Markov Chain (TMC) of arXiv 2511.07368.

A TMC has layers ``0 .. L-1`` (the paper's S1..S_L) with widths ``W_l``. Layer ``l`` connects to
layer ``l+1`` by a row-stochastic kernel ``P_l[s, s'] = P(o_{l+1} = s' | o_l = s)`` of shape
``(W_l, W_{l+1})``; every edge is typed *high* or *low*. A CoT (path) is ``o = (o_0, ..., o_{L-1})``,
one state per layer, and ``P(o | o_0) = prod_l P_l[o_l, o_{l+1}]``.

A task ``k`` has a start state ``s_k`` in layer 0 and a target state ``t_k`` in layer ``L-1``.
For task ``k`` a path is *valid* iff ``o_0 = s_k`` and ``o_{L-1} = t_k``; a valid path is *easy*
iff all its edges are high, *hard* otherwise; any other path is *invalid* for the task.

Paper conventions (docs/tmc_model.md §1): raw edge weights high = 1.0, low = 0.1, normalised per state;
each state has ``C_size = 1`` high child unless two tasks force different children (then both are
high, giving 0.5/0.5 — the shared-state conflict behind cross-task forgetting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


class TMCError(ValueError):
    """An invalid TMC: names the layer/state/field and what is allowed."""


@dataclass(frozen=True)
class Task:
    """A reasoning task: start state in layer 0, target state in the last layer."""

    name: str
    start: int
    target: int


@dataclass
class TMC:
    """A layered TMC: ``kernels[l]`` is ``P_l`` (shape ``(W_l, W_{l+1})``), ``high[l]`` its edge types."""

    kernels: list[np.ndarray]
    high: list[np.ndarray]
    tasks: list[Task]
    name: str = "tmc"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.kernels = [np.asarray(k, dtype=float) for k in self.kernels]
        self.high = [np.asarray(h, dtype=bool) for h in self.high]
        self.validate()

    # ---- shape -------------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """L, the number of layers (states per path)."""
        return len(self.kernels) + 1

    @property
    def widths(self) -> list[int]:
        return [self.kernels[0].shape[0]] + [k.shape[1] for k in self.kernels]

    @property
    def n_edges(self) -> int:
        return int(sum(k.size for k in self.kernels))

    @property
    def n_paths(self) -> int:
        """Number of paths from one start state (product of the widths of layers 1..L-1)."""
        return int(np.prod(self.widths[1:], dtype=object))

    def task(self, name_or_index: str | int) -> Task:
        if isinstance(name_or_index, int):
            return self.tasks[name_or_index]
        for t in self.tasks:
            if t.name == name_or_index:
                return t
        raise TMCError(f"unknown task {name_or_index!r}; allowed: {', '.join(t.name for t in self.tasks)}")

    # ---- validation --------------------------------------------------------------------------
    def validate(self, atol: float = 1e-8) -> None:
        if len(self.kernels) < 1:
            raise TMCError("a TMC needs at least 2 layers (1 kernel)")
        if len(self.high) != len(self.kernels):
            raise TMCError(f"high: expected {len(self.kernels)} edge-type matrices, got {len(self.high)}")
        for l, (k, h) in enumerate(zip(self.kernels, self.high)):
            if k.ndim != 2:
                raise TMCError(f"kernels[{l}]: expected a 2-D matrix, got shape {k.shape}")
            if l > 0 and k.shape[0] != self.kernels[l - 1].shape[1]:
                raise TMCError(
                    f"kernels[{l}]: has {k.shape[0]} rows but layer {l} has {self.kernels[l - 1].shape[1]} states"
                )
            if h.shape != k.shape:
                raise TMCError(f"high[{l}]: shape {h.shape} differs from kernels[{l}] shape {k.shape}")
            if not np.all(np.isfinite(k)):
                raise TMCError(f"kernels[{l}]: contains NaN or inf")
            if np.any(k < 0):
                s, c = np.argwhere(k < 0)[0]
                raise TMCError(f"kernels[{l}][{s}, {c}] = {k[s, c]}: transition probabilities must be >= 0")
            rows = k.sum(axis=1)
            bad = np.flatnonzero(np.abs(rows - 1.0) > atol)
            if bad.size:
                s = int(bad[0])
                raise TMCError(f"kernels[{l}] row {s} (layer {l} state {s}) sums to {rows[s]:.6g}, must sum to 1")
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise TMCError(f"tasks: duplicate task names {names}")
        w = self.widths
        for t in self.tasks:
            if not (0 <= t.start < w[0]):
                raise TMCError(f"task {t.name}: start state {t.start} not in layer 0 (allowed 0..{w[0] - 1})")
            if not (0 <= t.target < w[-1]):
                raise TMCError(
                    f"task {t.name}: target state {t.target} not in layer {len(w) - 1} (allowed 0..{w[-1] - 1})"
                )

    # ---- enumeration (small TMCs; the exact module uses dynamic programming instead) ----------
    def enumerate_paths(self, start: int | None = None) -> np.ndarray:
        """All paths as an int array ``(n, L)``; from ``start`` if given, else from every layer-0 state."""
        w = self.widths
        starts = range(w[0]) if start is None else [start]
        grids = np.meshgrid(*([np.array(list(starts))] + [np.arange(x) for x in w[1:]]), indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)

    def path_prob(self, paths: np.ndarray, kernels: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """``P(o | o_0) = prod_l P_l[o_l, o_{l+1}]`` for each row of ``paths`` (start not weighted)."""
        ks = self.kernels if kernels is None else kernels
        paths = np.atleast_2d(paths)
        p = np.ones(len(paths))
        for l, k in enumerate(ks):
            p = p * k[paths[:, l], paths[:, l + 1]]
        return p

    def path_is_easy(self, paths: np.ndarray) -> np.ndarray:
        """True where every edge of the path is high."""
        paths = np.atleast_2d(paths)
        ok = np.ones(len(paths), dtype=bool)
        for l, h in enumerate(self.high):
            ok &= h[paths[:, l], paths[:, l + 1]]
        return ok

    def classify(self, paths: np.ndarray, task: Task | str | int) -> np.ndarray:
        """0 = easy, 1 = hard, 2 = invalid, for each path with respect to ``task``."""
        t = task if isinstance(task, Task) else self.task(task)
        paths = np.atleast_2d(paths)
        valid = (paths[:, 0] == t.start) & (paths[:, -1] == t.target)
        easy = self.path_is_easy(paths)
        return np.where(valid, np.where(easy, 0, 1), 2)


EASY, HARD, INVALID = 0, 1, 2
COVERAGE_LABELS = ("easy", "hard", "invalid")


def kernels_from_high(high: Sequence[np.ndarray], high_weight: float = 1.0,
                      low_weight: float = 0.1) -> list[np.ndarray]:
    """Row-normalised kernels from edge types: weight ``high_weight`` on high edges, ``low_weight`` on low."""
    if high_weight < 0 or low_weight < 0:
        raise TMCError(f"edge weights must be >= 0, got high={high_weight}, low={low_weight}")
    out = []
    for l, h in enumerate(high):
        w = np.where(np.asarray(h, dtype=bool), high_weight, low_weight).astype(float)
        s = w.sum(axis=1, keepdims=True)
        if np.any(s <= 0):
            raise TMCError(f"layer {l}: a state has all-zero outgoing weight")
        out.append(w / s)
    return out


def paper_tmc(seed: int = 42) -> TMC:
    """The paper's instance: 4 layers x 2 states, TASK1 (0 -> 0) and TASK2 (1 -> 1).

    Forced high children (easy CoTs TASK1 0-0-0-0, TASK2 1-0-0-1): S1[0]->0, S1[1]->0, S2[0]->0,
    S3[0]->{0, 1} (both, the shared-state conflict). The two free states draw their high child
    with the reference code's RNG; for seed 42 it gives S2[1]->1 and S3[1]->0 (docs/tmc_model.md §1),
    which is all the reproduction needs. Other seeds are not reproducible without that RNG
    stream, so only 42 is accepted; use :func:`tmc_theory.generate.random_tmc` for others.
    """
    if seed != 42:
        raise TMCError(
            f"paper_tmc: only seed 42 (the published instance) is defined; got {seed}. "
            "Use random_tmc(...) for other instances."
        )
    high = [
        np.array([[1, 0], [1, 0]], dtype=bool),  # S1 -> S2: both forced to child 0
        np.array([[1, 0], [0, 1]], dtype=bool),  # S2 -> S3: S2[0] forced 0; S2[1] drew 1
        np.array([[1, 1], [1, 0]], dtype=bool),  # S3 -> S4: S3[0] forced 0 and 1; S3[1] drew 0
    ]
    return TMC(
        kernels=kernels_from_high(high, 1.0, 0.1),
        high=high,
        tasks=[Task("TASK1", 0, 0), Task("TASK2", 1, 1)],
        name="paper",
        meta={"seed": seed, "high_weight": 1.0, "low_weight": 0.1, "c_size": 1},
    )
