"""The grading result type shared by every grader."""

from __future__ import annotations

from dataclasses import dataclass

#: "ok": graded; "no_answer": no final answer found (or it could not be parsed at all);
#: "truncated": cut at the token limit and its only answer was a GSM8K last-number (flexible) match, which does
#: not count (graded wrong; see ``harness.grading.truncation_rule``);
#: "timeout": the checker ran past its deadline (ungraded); "error": the checker raised (ungraded).
STATUSES = ("ok", "no_answer", "truncated", "timeout", "error")


@dataclass
class Grade:
    """One graded completion. ``rule`` names the extraction rule that fired (GSM8K: "strict" /
    "boxed" / "flexible"; MATH: "boxed"), or None when nothing was extracted."""

    extracted: str | None
    correct: bool
    status: str
    rule: str | None = None

    @property
    def graded(self) -> bool:
        """False for timeout/error: the sample has no trustworthy verdict."""
        return self.status in ("ok", "no_answer", "truncated")
