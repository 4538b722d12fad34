"""Baselines ``majority`` (self-consistency, Wang et al. 2022) and ``weighted_majority`` (search-and-learn's
weighted Best-of-N): the answer with the most votes, sum_i 1[a_i = a], or the largest summed reward,
sum_i R(o_i) 1[a_i = a]; a completion that carries that answer is returned.

Answers are compared BY VALUE: numbers are exact decimals (``18`` == ``18.00`` == ``18.0`` == ``$18``),
anything else is compared after whitespace removal. Completions with no extracted answer do not vote; if
none votes, a candidate is returned at random. Ties between answers are broken at random.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np

LEVEL = "outcome"


def answer_key(answer: str | None) -> str | None:
    """The value key of an extracted answer (see module docstring); None for no answer."""
    if answer is None:
        return None
    s = "".join(str(answer).split())
    if not s:
        return None
    try:
        d = Decimal(s.replace(",", "").replace("$", "").rstrip("."))
    except (InvalidOperation, ValueError):
        return s
    if not d.is_finite():
        return s
    d = d.normalize()
    return format(d, "f") if d != 0 else "0"


def extract_answer(benchmark: str, text: str) -> str | None:
    """The final answer the grader would read (GSM8K rules; MATH: the last ``\\boxed{}``)."""
    if benchmark == "gsm8k":
        from harness.grading.gsm8k import extract

        return extract(text)[0]
    from harness.data.math import last_boxed

    return last_boxed(text)


def vote(answers: list[str | None], weights: np.ndarray, rng: np.random.Generator) -> int:
    keys = [answer_key(a) for a in answers]
    tally: dict[str, float] = {}
    for k, w in zip(keys, weights):
        if k is not None:
            tally[k] = tally.get(k, 0.0) + float(w)
    if not tally:
        return int(rng.integers(len(answers)))
    best = max(tally.values())
    winners = [k for k, v in tally.items() if v >= best - 1e-12 * max(abs(best), 1.0)]
    win = winners[int(rng.integers(len(winners)))]
    return keys.index(win)


def choose(rewards: np.ndarray, rng: np.random.Generator, lam: float = 0.0, answers=None, **_) -> int:
    """``majority``: one vote per completion (``rewards`` ignored)."""
    return vote(answers, np.ones(len(answers)), rng)


def choose_weighted(rewards: np.ndarray, rng: np.random.Generator, lam: float = 0.0, answers=None, **_) -> int:
    """``weighted_majority``: votes weighted by the outcome reward."""
    return vote(answers, np.asarray(rewards, float), rng)
