"""Time matched by movement: compare theory and measurement at equal distance moved from the base, not at equal step.

Why: the transformer (AdamW) and the theory (SGD on logits) have learning rates that are not comparable numbers, and
fitting the theory's lr on the first interval (``compare.lr_match = initial_speed``) does not make their *speeds*
agree later (Adam keeps a near-constant step, SGD slows as the softmax saturates). Comparing at the same optimizer
step then mixes "how fast" with "where to". Both are gradient flows of (nearly) the same objective, so the natural
clock is the distance each has moved from its own start. For a distribution ``q_t`` over the task's outcomes (every
enumerated path, plus the transformer's malformed mass ``1 - sum_o q_t(o)`` as one extra outcome; the theory's is 0)
and its start ``q_0``:

* ``l1``:  ``d_t = sum_o |q_t(o) - q_0(o)|``  (total variation x 2; bounded by 2, symmetric; the metric the lr
  matching already uses, so the two clocks agree by construction on the first interval);
* ``kl``:  ``d_t = KL(q_t || q_0) = sum_o q_t(o) log(q_t(o) / q_0(o))`` (the quantity a KL-regularised RL objective
  charges; unbounded; ``q_0`` has full support after pretraining, so it is finite).

Both are computed and stored; ``compare.movement_metric`` (default ``l1``) names the one the tables and plots use.
Choice: L1 is the default because it is bounded and symmetric, so a theory that saturates cannot reach an arbitrary
KL target just by sharpening already-tiny masses; KL weights the same moves by log-ratio and is reported beside it.

Matching rule (:func:`match_by_movement`): the theory is run with evaluations at EVERY step, and for as many steps
as it needs to move as far as the transformer's farthest point (capped at ``max_steps``). For a transformer
evaluation with movement ``d``, the matched theory time is the first crossing ``tau`` with ``d_th(tau) = d``,
linearly interpolated between the two theory steps that bracket it, and the theory's distribution there is the same
linear interpolation of the two distributions (a distribution again; its movement equals ``d`` to first order in
the one-step change). Where the theory never reaches ``d`` within ``max_steps`` the row is marked ``reached=False``
and carries the theory's last distribution.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

METRICS = ("l1", "kl")
LOG_FLOOR = 1e-300


def with_malformed(q: np.ndarray) -> np.ndarray:
    """``q`` over paths with the malformed mass ``max(0, 1 - sum q)`` appended as one extra outcome."""
    q = np.asarray(q, float)
    return np.concatenate([q, [max(0.0, 1.0 - float(q.sum()))]])


def movement(q: np.ndarray, q0: np.ndarray, metric: str = "l1") -> float:
    """Distance moved from ``q0`` to ``q`` (``l1`` = ``sum |q - q0|``, ``kl`` = ``KL(q || q0)``), malformed included."""
    a, b = with_malformed(q), with_malformed(q0)
    if metric == "l1":
        return float(np.abs(a - b).sum())
    if metric == "kl":
        m = a > 0
        return float(np.sum(a[m] * (np.log(a[m]) - np.log(np.maximum(b[m], LOG_FLOOR)))))
    raise ValueError(f"movement metric {metric!r} is not allowed; allowed values: {', '.join(METRICS)}")


def movements(probs_seq: Sequence[np.ndarray], metric: str = "l1") -> np.ndarray:
    """Movement of every distribution of a trajectory from its first one."""
    q0 = probs_seq[0]
    return np.array([movement(q, q0, metric) for q in probs_seq])


def at_step(probs_seq: Sequence[np.ndarray], step: float) -> np.ndarray:
    """The trajectory's distribution at a fractional step: linear interpolation of the two bracketing ones."""
    i = int(np.floor(step))
    if i >= len(probs_seq) - 1:
        return np.asarray(probs_seq[-1], float)
    w = step - i
    return (1 - w) * np.asarray(probs_seq[i], float) + w * np.asarray(probs_seq[i + 1], float)


def crossing_step(d: np.ndarray, target: float) -> tuple[float, bool]:
    """First (interpolated) time the increasing-from-0 movement sequence ``d`` reaches ``target``; ``(len-1, False)``
    if it never does."""
    if target <= 0.0:
        return 0.0, True
    above = np.nonzero(d >= target)[0]
    if len(above) == 0:
        return float(len(d) - 1), False
    i = int(above[0])
    if i == 0:
        return 0.0, True
    w = (target - d[i - 1]) / max(d[i] - d[i - 1], 1e-300)
    return float(i - 1 + w), True


def match_by_movement(targets: Sequence[float], theory_probs: Sequence[np.ndarray], metric: str = "l1") -> list[dict]:
    """For each target movement, the theory's (fractional) step of first reaching it and its distribution there.

    ``theory_probs[i]`` is the theory's distribution after ``i`` steps (``i = 0`` the start). Returns, per target,
    ``{"target", "theory_step", "reached", "probs", "theory_movement"}``; ``theory_step`` is the interpolated
    crossing time ``i - 1 + (target - d_{i-1}) / (d_i - d_{i-1})`` and ``probs`` the same interpolation of the two
    distributions (``theory_movement`` is its own movement, equal to ``target`` up to interpolation error).
    """
    d = movements(theory_probs, metric)
    out = []
    for t in targets:
        step, reached = crossing_step(d, float(t))
        probs = at_step(theory_probs, step)
        out.append({"target": float(t), "theory_step": step, "reached": reached, "probs": probs,
                    "theory_movement": movement(probs, theory_probs[0], metric)})
    return out
