"""Grading model completions: GSM8K (``#### N`` + fallbacks) and MATH (``\\boxed{}`` + math-verify).

``grade(benchmark, completion, gold, timeout_s=5.0) -> Grade``; ``grade_many`` for lists;
``make_reward_fn(benchmark, timeout_s)`` gives the same grader as a TRL reward function.
See :mod:`harness.grading.gsm8k` and :mod:`harness.grading.math` for the exact rules.
"""

from __future__ import annotations

from typing import Sequence

from .records import STATUSES, Grade

__all__ = ["Grade", "STATUSES", "grade", "grade_many", "make_reward_fn", "truncation_rule", "GradingError"]


class GradingError(ValueError):
    """Bad grading input (unknown benchmark)."""


def grade(benchmark: str, completion: str, gold: str, timeout_s: float | None = 5.0) -> Grade:
    """Grade one completion against the gold final answer of ``benchmark`` ("gsm8k" | "math")."""
    if benchmark == "gsm8k":
        from .gsm8k import grade as g

        return g(completion, gold)
    if benchmark == "math":
        from .math import grade as g

        return g(completion, gold, timeout_s=timeout_s)
    raise GradingError(f"unknown benchmark {benchmark!r}; allowed: gsm8k, math")


def truncation_rule(g: Grade, truncated: bool, flexible_on_truncated: bool = False) -> Grade:
    """A completion cut at the token limit has not stated its final answer, so the GSM8K ``flexible`` rule (the
    last number anywhere) does not count for it: ``Grade(extracted, False, "truncated", "flexible")``.
    Explicit answers (``#### N``, ``\\boxed{}``) still count. ``flexible_on_truncated=True`` keeps lm-eval's
    flexible-extract behaviour (the last number of the cut text counts). Why: with SmolLM2 at 80 new tokens,
    8 of the 9 "correct" samples of the main job were such matches ("... Step 5: 3 x 7 =" -> 7);
    docs/harness_benchmarks.md."""
    if truncated and not flexible_on_truncated and g.rule == "flexible" and g.status == "ok":
        return Grade(g.extracted, False, "truncated", g.rule)
    return g


def grade_many(
    benchmark: str, completions: Sequence[str], golds: Sequence[str], timeout_s: float | None = 5.0, workers: int = 1,
    truncated: Sequence[bool] | None = None, flexible_on_truncated: bool = False,
) -> list[Grade]:
    """``[grade(benchmark, c, g, timeout_s) for c, g in zip(completions, golds)]`` (lengths must match).

    ``workers > 1`` (MATH only) spreads the math-verify calls over that many worker processes, in order;
    worth it when math-verify (~25 ms per uncached non-trivial answer on this CPU) is a bottleneck.
    ``truncated`` (one bool per completion: cut at the token limit) applies :func:`truncation_rule`.
    """
    if len(completions) != len(golds):
        raise GradingError(f"grade_many: {len(completions)} completions but {len(golds)} gold answers")
    if truncated is not None:
        if len(truncated) != len(completions):
            raise GradingError(f"grade_many: {len(completions)} completions but {len(truncated)} truncated flags")
        grades = grade_many(benchmark, completions, golds, timeout_s, workers)
        return [truncation_rule(g, bool(t), flexible_on_truncated) for g, t in zip(grades, truncated)]
    if benchmark != "math" or workers <= 1 or len(completions) < 2 or timeout_s is None or timeout_s <= 0:
        return [grade(benchmark, c, g, timeout_s) for c, g in zip(completions, golds)]
    import queue
    from concurrent.futures import ThreadPoolExecutor

    from .math import grade as grade_math
    from .verify_worker import get_pool

    free: queue.Queue = queue.Queue()
    for w in get_pool(workers):
        free.put(w)

    def one(pair):
        w = free.get()
        try:
            return grade_math(pair[0], pair[1], timeout_s=timeout_s, worker=w)
        finally:
            free.put(w)

    with ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(one, zip(completions, golds)))


from .reward import make_reward_fn  # noqa: E402  (reward imports grade from here)
