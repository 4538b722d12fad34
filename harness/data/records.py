"""The one normalised benchmark record, :class:`Problem`, and the data error type.

Every loader (GSM8K, MATH; local JSONL or hub) returns ``Problem`` objects so that prompting,
grading, the sample store and the metrics never look at a benchmark's raw field names.
"""

from __future__ import annotations

from dataclasses import dataclass

BENCHMARKS = ("gsm8k", "math")


class DataError(ValueError):
    """A data problem: names the file (or hub id), the line/record and what was expected."""


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    ``id`` is stable across runs and unique per data source (harness/data/ids.py: "gsm8k/gsm8k-3730d312/test/17" =
    0-based line 17 of that GSM8K test file; MATH uses the record's ``unique_id`` after the source tag).
    ``legacy_id`` is the scheme-1 id ("gsm8k/test/17", the bare MATH ``unique_id``): the key sample seeds derive
    from, so the id scheme renames problems without changing any draw. ``answer`` is the gold FINAL answer
    (GSM8K: the text after the last ``####`` with thousands separators removed; MATH: the ``answer``
    field, a LaTeX string). ``solution`` is the reference worked solution.
    """

    id: str
    question: str
    answer: str
    solution: str
    benchmark: str
    level: int | None = None
    subject: str | None = None
    legacy_id: str | None = None

    @property
    def seed_key(self) -> str:
        """What ``derive_seed`` hashes for this problem: the scheme-1 id (same draws in either scheme)."""
        return self.legacy_id or self.id
