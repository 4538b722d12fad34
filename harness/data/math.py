"""MATH (Hendrycks et al. 2021, arXiv:2103.03874; MATH-500 split of Lightman et al. 2023): raw -> Problem.

Raw fields (PRM800K splits / ``HuggingFaceH4/MATH-500``): ``problem``, ``solution``, ``answer``,
``subject``, ``level`` (int), ``unique_id``. The original Hendrycks layout (``type`` for the subject,
``level`` as "Level 3", no ``answer``) is also accepted: the gold answer is then the content of the
last ``\\boxed{...}`` of the solution (braces matched). Ids are ``unique_id``; records without one get
``math/<split>/<index>``. A repeated id (PRM800K train repeats ``test/precalculus/24307.json``) gets
``#2``, ``#3``... appended so ids stay unique and stable. ``load_problems`` puts the source tag in front
(harness/data/ids.py).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .records import DataError, Problem

HUB_ID = "HuggingFaceH4/MATH-500"
HUB_CONFIG = None


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) in ``text``, nested braces matched.

    Also accepts the brace-less form ``\\boxed 5``. Returns None when there is no complete box.
    """
    starts = [m for m in re.finditer(r"\\(?:boxed|fbox)\s*", text)]
    for m in reversed(starts):
        i = m.end()
        if i < len(text) and text[i] == "{":
            depth = 0
            for j in range(i, len(text)):
                ch = text[j]
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        return text[i + 1 : j].strip()
            continue  # unbalanced: try an earlier box
        if m.group(0).endswith(" ") or m.group(0).endswith("\t"):
            tok = re.match(r"[^\s$]+", text[i:])
            if tok:
                return tok.group(0).rstrip(".")
    return None


def _level(value: Any, where: str) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.search(r"\d+", value)
        return int(m.group(0)) if m else None  # "Level ?" in the original MATH -> unknown
    raise DataError(f"{where}: MATH 'level' must be an int or 'Level N', got {value!r}")


def from_raw(raw: Mapping[str, Any], index: int, split: str, where: str) -> Problem:
    """Normalise one raw MATH record; ``where`` ("file:line") names it in errors."""
    for key in ("problem", "solution"):
        if not isinstance(raw.get(key), str):
            raise DataError(f"{where}: MATH record needs a string field {key!r}; has fields {sorted(raw)}")
    answer = raw.get("answer")
    if answer is None:
        answer = last_boxed(raw["solution"])
        if answer is None:
            raise DataError(f"{where}: MATH record has no 'answer' field and no \\boxed{{}} in its solution")
    if not isinstance(answer, str):
        raise DataError(f"{where}: MATH 'answer' must be a string, got {answer!r}")
    uid = raw.get("unique_id") or f"math/{split}/{index}"
    return Problem(
        id=str(uid),
        question=raw["problem"],
        answer=answer.strip(),
        solution=raw["solution"],
        benchmark="math",
        level=_level(raw.get("level"), where),
        subject=raw.get("subject") or raw.get("type"),
    )
