"""Question instances and the verifiable reward (docs/tmc_model.md §2).

An instance of task ``k`` is a random set ``C`` of correct CoTs: each valid path ``p`` of the task (start
``s_k``, target ``t_k``) is in ``C`` independently with probability ``R_out(p)`` (``C`` may be empty). The
verifiable reward is ``R(o; C) = 1[o in C]``, and ``E_C[R(o; C)] = R_out(o)`` (the paper's ORM).

Valid paths are indexed by the mixed-radix number of their middle states ``o_1..o_{L-2}``
(:func:`tmc_theory.exact.valid_path_index`), i.e. lexicographic order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exact import r_out as _r_out
from .tmc import TMC, Task, TMCError


def enumerate_valid_paths(tmc: TMC, task: Task) -> np.ndarray:
    """All valid paths ``(m, L)`` of ``task`` in valid-path-index order (``m = prod W_1..W_{L-2}``)."""
    mids = tmc.widths[1:-1]
    if mids:
        grid = np.indices(mids).reshape(len(mids), -1).T
    else:
        grid = np.zeros((1, 0), dtype=np.int64)
    m = len(grid)
    out = np.empty((m, tmc.n_layers), dtype=np.int64)
    out[:, 0] = task.start
    out[:, 1:-1] = grid
    out[:, -1] = task.target
    return out


@dataclass
class Instances:
    """``n`` instances of one task: ``in_C[i, j]`` says valid path ``j`` is correct for instance ``i``."""

    task: Task
    valid_paths: np.ndarray   # (m, L) int
    r_out: np.ndarray         # (m,) R_out under the TRUE TMC
    in_C: np.ndarray          # (n, m) bool
    tmc: TMC | None = None

    def __len__(self) -> int:
        return int(self.in_C.shape[0])

    def __post_init__(self):
        mids = self.tmc.widths[1:-1] if self.tmc is not None else \
            [int(x) for x in (self.valid_paths[:, 1:-1].max(axis=0) + 1)] if self.valid_paths.shape[1] > 2 else []
        strides = np.ones(len(mids), dtype=np.int64)
        for i in range(len(mids) - 2, -1, -1):
            strides[i] = strides[i + 1] * mids[i + 1]
        self._strides = strides

    def path_index(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(valid, j)``: whether each path is valid for the task, and its valid-path index (0 if invalid)."""
        paths = np.atleast_2d(np.asarray(paths, dtype=np.int64))
        valid = (paths[:, 0] == self.task.start) & (paths[:, -1] == self.task.target)
        j = paths[:, 1:-1] @ self._strides
        return valid, np.where(valid, j, 0)

    def reward(self, paths: np.ndarray, idx: np.ndarray | int) -> np.ndarray:
        """``R(o; C_idx) = 1[o in C_idx]`` as floats; ``idx`` one instance index or one per path."""
        valid, j = self.path_index(paths)
        return (self.in_C[idx, j] & valid).astype(float)

    def subset(self, rows: np.ndarray | slice) -> "Instances":
        return Instances(self.task, self.valid_paths, self.r_out, self.in_C[rows], self.tmc)


def draw_instances(tmc: TMC, task: Task | str | int, n: int, rng: np.random.Generator) -> Instances:
    """Draw ``n`` instances: ``in_C[i, j] ~ Bernoulli(R_out(valid_path_j))`` independently."""
    task = task if isinstance(task, Task) else tmc.task(task)
    if n < 0:
        raise TMCError(f"n (number of instances) must be >= 0, got {n}")
    vp = enumerate_valid_paths(tmc, task)
    ro = _r_out(tmc, task, vp)
    in_C = rng.random((n, len(vp))) < ro[None, :]
    return Instances(task=task, valid_paths=vp, r_out=ro, in_C=in_C, tmc=tmc)
