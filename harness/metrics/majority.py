"""maj@k: accuracy of the majority-voted answer among k samples (self-consistency, Wang et al. 2022).

Definition used here (stated because papers differ): maj@k of one problem is the EXPECTED correctness
of the majority answer of a uniformly random size-k subset (without replacement) of its n samples,
i.e. the same subset convention as unbiased pass@k, rather than the "first k samples" convention.

* Votes: samples vote with their extracted answer after whitespace removal; an answer that reads as a
  number votes by its value, as the GSM8K grader compares (``Decimal`` after dropping ``,``, ``$`` and a final
  ``.``: "18", "18.0", "18.00" and "$18" are one class); samples with no extracted answer do not vote. A subset
  in which nobody voted counts as wrong. The caller passes ``None`` for a sample whose number is not an answer
  (``harness.evaluate``: grade status ``truncated``), so maj@1 equals pass@1.
* Ties between answers are broken uniformly at random.
* An answer class is correct when the grader marked its samples correct (``max`` over the class, since a
  deterministic grader gives one verdict per answer string). Answers equal only up to math equivalence
  (e.g. ``1/2`` vs ``\\frac{1}{2}``, or ``0.5`` vs ``1/2``) are separate classes - a stated simplification.
* k = 1 is exact: (number of correct voting samples)/n. For k > 1 the expectation is estimated by
  Monte Carlo over ``n_subsets`` random subsets per problem (for k = n every subset is the full set, so
  only tie-breaking is random). Macro average over problems.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Iterable, Sequence

import numpy as np


def vote_key(answer: str) -> str | Decimal | None:
    """The class an answer votes for: its numeric value when it reads as a finite number (module docstring),
    else the answer with all whitespace removed; None (no vote) for an empty answer."""
    key = "".join(str(answer).split())
    if not key:
        return None
    try:
        value = Decimal(key.replace(",", "").replace("$", "").rstrip("."))
    except (InvalidOperation, ValueError):
        return key
    return value if value.is_finite() else key


def encode_answers(answers: Sequence[Sequence[str | None]], correct: Sequence[Sequence[bool]]):
    """(ids, class_correct): ids[p, s] = answer class of sample s (-1 = no vote); class_correct[p, a]."""
    P = len(answers)
    n = max((len(a) for a in answers), default=0)
    ids = np.full((P, n), -1, dtype=np.int64)
    cls_ok = np.zeros((P, max(n, 1)), dtype=bool)
    for p, (ans, ok) in enumerate(zip(answers, correct)):
        if len(ans) != len(ok):
            raise ValueError(f"problem {p}: {len(ans)} answers but {len(ok)} correctness flags")
        table: dict[str | Decimal, int] = {}
        for s, (a, o) in enumerate(zip(ans, ok)):
            if a is None or (isinstance(a, float) and np.isnan(a)):
                continue
            key = vote_key(a)
            if key is None:
                continue
            cid = table.setdefault(key, len(table))
            ids[p, s] = cid
            cls_ok[p, cid] |= bool(o)
    return ids, cls_ok


def maj_at_k_per_problem(
    answers: Sequence[Sequence[str | None]],
    correct: Sequence[Sequence[bool]],
    ks: Iterable[int],
    n_subsets: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """Per-problem maj@k, shape (problems, len(ks)). All problems must have the same n >= max(ks)."""
    lens = {len(a) for a in answers}
    if len(lens) != 1:
        raise ValueError(f"maj@k needs the same number of samples per problem; got sizes {sorted(lens)}")
    ids, cls_ok = encode_answers(answers, correct)
    P, n = ids.shape
    ks = [int(k) for k in ks]
    if any(k < 1 or k > n for k in ks):
        raise ValueError(f"every k must satisfy 1 <= k <= n = {n}; got {ks}")
    rng = np.random.default_rng(seed)
    out = np.zeros((P, len(ks)))
    voted_ok = np.take_along_axis(cls_ok, np.maximum(ids, 0), axis=1) & (ids >= 0)
    chunk = max(1, 2_000_000 // max(1, n_subsets * n))
    for j, k in enumerate(ks):
        if k == 1:
            out[:, j] = voted_ok.mean(axis=1)
            continue
        m = n_subsets
        for a in range(0, P, chunk):
            b = min(P, a + chunk)
            keys = rng.random((b - a, m, n))
            sub = (
                np.argpartition(keys, k - 1, axis=2)[:, :, :k]
                if k < n
                else np.broadcast_to(np.arange(n), (b - a, m, n))
            )
            chosen = np.take_along_axis(np.broadcast_to(ids[a:b, None, :], (b - a, m, n)), sub, axis=2)  # (p, m, k)
            valid = chosen >= 0
            flat = (np.arange((b - a) * m).reshape(b - a, m, 1) * n + np.where(valid, chosen, 0))[valid]
            votes = np.bincount(flat, minlength=(b - a) * m * n).reshape(b - a, m, n).astype(np.float64)
            votes += rng.random(votes.shape) * 0.5 * (votes > 0)  # random tie-break among the top classes
            winner = votes.argmax(axis=2)  # (p, m)
            any_vote = valid.any(axis=2)
            ok = np.take_along_axis(cls_ok[a:b], winner, axis=1) & any_vote
            out[a:b, j] = ok.mean(axis=1)
    return out


def maj_at_k(answers, correct, ks, n_subsets: int = 200, seed: int = 0) -> np.ndarray:
    """Macro-averaged maj@k for each k in ``ks`` (see module docstring)."""
    return maj_at_k_per_problem(answers, correct, ks, n_subsets, seed).mean(axis=0)
