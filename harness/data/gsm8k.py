"""GSM8K (Cobbe et al. 2021, arXiv:2110.14168): raw record -> :class:`Problem`.

Raw fields: ``question`` and ``answer`` (a worked solution with ``<<expr=value>>`` calculator
annotations whose last line is ``#### <final answer>``). Gold final answer, as in the reference
implementation: ``answer.split("####")[-1].strip()``, here with thousands separators ``,`` removed
(14 test / 79 train answers carry them, e.g. ``2,125``). Ids: ``gsm8k/<split>/<0-based index>`` here;
``load_problems`` puts the source tag in (harness/data/ids.py).
"""

from __future__ import annotations

from typing import Any, Mapping

from .records import DataError, Problem

HUB_ID = "openai/gsm8k"
HUB_CONFIG = "main"


def gold_from_solution(solution: str) -> str:
    """The reference final answer: text after the last ``####``, stripped, commas removed."""
    if "####" not in solution:
        raise ValueError("no '####' marker in the GSM8K solution")
    return solution.split("####")[-1].strip().replace(",", "")


def from_raw(raw: Mapping[str, Any], index: int, split: str, where: str) -> Problem:
    """Normalise one raw GSM8K record; ``where`` ("file:line") names it in errors."""
    for key in ("question", "answer"):
        if not isinstance(raw.get(key), str):
            raise DataError(f"{where}: GSM8K record needs a string field {key!r}; has fields {sorted(raw)}")
    try:
        gold = gold_from_solution(raw["answer"])
    except ValueError as e:
        raise DataError(f"{where}: {e}") from None
    return Problem(
        id=f"gsm8k/{split}/{index}",
        question=raw["question"],
        answer=gold,
        solution=raw["answer"],
        benchmark="gsm8k",
    )
