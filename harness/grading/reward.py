"""The grader as a TRL reward function (the same grader as evaluation, so RL optimises what we measure).

TRL 1.16 calls reward functions as ``f(prompts=..., completions=..., completion_ids=..., **dataset_columns,
trainer_state=..., ...)`` and accepts ``list[float | None]``. Completions are strings (standard format)
or message lists ``[{"role": "assistant", "content": ...}]`` (conversational format). The gold answer is
the dataset column ``answer``.

Reward: 1.0 correct, 0.0 wrong or no answer; None for ungraded samples (grader ``timeout``/``error``):
TRL turns None into NaN and ``nansum``s over reward functions, so an ungraded sample contributes 0 and is
counted as missing rather than as wrong.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from . import grade


def completion_text(c: Any) -> str:
    """The text of a TRL completion: a string, or the content of the last assistant message."""
    if isinstance(c, str):
        return c
    if isinstance(c, dict):
        return str(c.get("content", ""))
    if isinstance(c, Sequence) and c:
        last = c[-1]
        if isinstance(last, dict):
            content = last.get("content", "")
            if isinstance(content, list):  # multimodal-style content parts
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content)
    return "" if c is None else str(c)


def make_reward_fn(benchmark: str, timeout_s: float = 5.0, max_tokens: int | None = None,
                   flexible_on_truncated: bool = False) -> Callable[..., list[float | None]]:
    """A TRL-compatible reward ``f(prompts, completions, answer, **kwargs) -> list[float | None]``.

    ``max_tokens`` (your ``max_completion_length``): a completion with that many ``completion_ids`` was cut at the
    limit and gets :func:`harness.grading.truncation_rule` (its GSM8K last-number match does not count)."""
    from . import truncation_rule

    def reward(prompts=None, completions=None, answer=None, completion_ids=None, **kwargs) -> list[float | None]:
        if completions is None or answer is None:
            raise ValueError("reward function needs `completions` and the dataset column `answer`")
        if len(completions) != len(answer):
            raise ValueError(f"{len(completions)} completions but {len(answer)} answers")
        out: list[float | None] = []
        for i, (c, gold) in enumerate(zip(completions, answer)):
            g = grade(benchmark, completion_text(c), str(gold), timeout_s=timeout_s)
            if max_tokens is not None and completion_ids is not None:
                g = truncation_rule(g, len(completion_ids[i]) >= max_tokens, flexible_on_truncated)
            out.append(None if g.status in ("timeout", "error") else float(g.correct))
        return out

    reward.__name__ = f"{benchmark}_accuracy"
    reward.__qualname__ = reward.__name__
    return reward
