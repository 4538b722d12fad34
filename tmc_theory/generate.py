"""Random multi-task TMCs for sweeps (docs/tmc_model.md §1, generalised).

``random_tmc(depth, width, ...)``: ``depth`` layers (the paper's ``L = 4``) of ``width`` states (``M = 2``).
Task ``k`` starts at layer-0 state ``k`` and targets last-layer state ``k``. As in the paper, each task's
*easy* CoT is forced to be all-high: with ``shared_states=True`` every task's easy path runs through state 0 of
every intermediate layer (the paper's TASK1 0-0-0-0 and TASK2 1-0-0-1, so intermediate states are shared and a
state forced towards two different children gets two high children — the cross-task conflict); with
``shared_states=False`` task ``k``'s easy path stays on state ``k`` (no shared states; needs ``width >= n_tasks``).
Every state then gets high children up to ``c_size`` (forced ones first, the rest drawn at random with
``seed``); raw weights ``high_weight`` / ``low_weight`` are normalised per state.
"""

from __future__ import annotations

import numpy as np

from .tmc import TMC, Task, TMCError, kernels_from_high


def random_tmc(depth: int, width: int, n_tasks: int = 2, high_weight: float = 1.0, low_weight: float = 0.1,
               c_size: int = 1, seed: int = 0, shared_states: bool = True) -> TMC:
    """A random layered TMC with ``depth`` layers of ``width`` states and ``n_tasks`` tasks (see module doc)."""
    if depth < 2:
        raise TMCError(f"depth: a TMC needs at least 2 layers, got {depth}")
    if width < 1:
        raise TMCError(f"width: must be >= 1, got {width}")
    if not (1 <= n_tasks <= width):
        raise TMCError(f"n_tasks: must be in 1..width={width} (task k starts at state k), got {n_tasks}")
    if not (1 <= c_size <= width):
        raise TMCError(f"c_size: must be in 1..width={width}, got {c_size}")
    if high_weight <= 0 or low_weight < 0:
        raise TMCError(f"edge weights: need high_weight > 0 and low_weight >= 0, got {high_weight}, {low_weight}")
    rng = np.random.default_rng(seed)
    forced = [np.zeros((width, width), dtype=bool) for _ in range(depth - 1)]
    for k in range(n_tasks):
        mid = 0 if shared_states else k
        easy = [k] + [mid] * (depth - 2) + [k]
        for l in range(depth - 1):
            forced[l][easy[l], easy[l + 1]] = True
    high = []
    for l in range(depth - 1):
        h = forced[l].copy()
        for s in range(width):
            need = c_size - int(h[s].sum())
            if need > 0:
                free = np.flatnonzero(~h[s])
                h[s, rng.choice(free, size=need, replace=False)] = True
        high.append(h)
    return TMC(
        kernels=kernels_from_high(high, high_weight, low_weight),
        high=high,
        tasks=[Task(f"TASK{k + 1}", k, k) for k in range(n_tasks)],
        name=f"random_d{depth}_w{width}_s{seed}",
        meta={"seed": seed, "high_weight": high_weight, "low_weight": low_weight, "c_size": c_size,
              "shared_states": shared_states},
    )
