"""GSM8K grading: reference ``#### N`` extraction plus fallbacks (no timeouts needed: regex only).

Rules, first that fires wins (the rule is recorded in ``Grade.rule``):

1. ``strict`` - the reference rule of Cobbe et al. 2021 / lm-eval "strict-match": the number after the
   LAST ``####`` in the completion.
2. ``boxed`` - the number inside the last ``\\boxed{...}`` (instruct models often box answers even when
   asked for ``####``; departure from the reference, stated here).
3. ``flexible`` - the last number anywhere in the completion (lm-eval "flexible-extract").

Numbers: ``-?$?`` then digits with optional ``,``-separated thousands groups (``1,234,567``) and an
optional decimal part; the ``$`` and the separators are removed. Correct iff the extracted number equals the gold
number as exact decimals (so ``18.00`` == ``18``; gold answers are integers after comma removal).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..data.math import last_boxed
from .records import Grade

_NUM = re.compile(r"-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_STRICT = re.compile(r"####\s*([^\n]*)")


def _clean_number(text: str) -> str | None:
    m = None
    for m in _NUM.finditer(text):
        pass
    if m is None:
        return None
    s = m.group(0).replace(",", "").replace("$", "").replace(" ", "")
    return s


def _first_number(text: str) -> str | None:
    m = _NUM.search(text)
    return None if m is None else m.group(0).replace(",", "").replace("$", "").replace(" ", "")


def extract(completion: str) -> tuple[str | None, str | None]:
    """(extracted number as text, rule) or (None, None)."""
    strict = _STRICT.findall(completion)
    if strict:
        num = _first_number(strict[-1])
        if num is not None:
            return num, "strict"
    boxed = last_boxed(completion)
    if boxed is not None:
        num = _clean_number(boxed)
        if num is not None:
            return num, "boxed"
    num = _clean_number(completion)
    if num is not None:
        return num, "flexible"
    return None, None


def _to_decimal(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", "").replace("$", "").strip().rstrip("."))
    except (InvalidOperation, ValueError):
        return None


def gold_answer(gold: str) -> str:
    """Accept either the final answer ("1,234") or a full reference solution ending in ``#### N``."""
    if "####" in gold:
        gold = gold.split("####")[-1]
    return gold.strip().replace(",", "")


def grade(completion: str, gold: str) -> Grade:
    """Grade one GSM8K completion against the gold final answer (or full reference solution)."""
    extracted, rule = extract(completion)
    if extracted is None:
        return Grade(None, False, "no_answer", None)
    g, p = _to_decimal(gold_answer(gold)), _to_decimal(extracted)
    if p is None:
        return Grade(extracted, False, "no_answer", rule)
    if g is None:  # non-numeric gold (not in GSM8K itself): compare text
        return Grade(extracted, extracted == gold_answer(gold), "ok", rule)
    return Grade(extracted, p == g, "ok", rule)
