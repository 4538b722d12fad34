"""MATH grading: the final ``\\boxed{}`` answer checked with math-verify against the gold answer.

1. Extraction: the content of the LAST ``\\boxed{...}`` / ``\\fbox{...}`` in the completion, nested braces
   matched (``harness.data.math.last_boxed``). No box -> status ``no_answer`` (no fallback to other
   text: the prompt asks for ``\\boxed{}``, and Lightman et al. 2023 grade the boxed answer).
2. Fast path: equal after a light LaTeX normalisation (spaces, ``\\left``/``\\right``, ``\\!``/``\\,``,
   ``dfrac``/``tfrac`` -> ``frac``, ``^\\circ``, ``\\$``, a trailing ``.``) -> correct, no math-verify call.
3. Otherwise math-verify (0.9): ``verify(parse("$gold$"), parse("$pred$"))`` - gold wrapped in ``$...$``
   as math-verify expects for LaTeX - in a child process with our own deadline
   (:mod:`harness.grading.verify_worker`). Past the deadline -> status ``timeout`` (ungraded, correct
   False); a crash -> ``error``; math-verify extracts nothing from the box -> ``no_answer`` with the
   raw box text kept in ``extracted``.

``timeout_s`` None or <= 0 runs math-verify in THIS process without any timeout (only safe for trusted
input; used by the overhead benchmark for comparison).
"""

from __future__ import annotations

import re

from ..data.math import last_boxed
from .records import Grade
from .verify_worker import VerifyTimeout, get_worker

_DROP = re.compile(r"\\left|\\right|\\!|\\,|\\;|\\:|\\ |\s+|\^\{?\\circ\}?|\\\$|\\displaystyle")


def normalize(s: str) -> str:
    """Light LaTeX normalisation used only for the exact-match fast path."""
    s = _DROP.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return s.rstrip(".")


def _inline_check(gold: str, pred: str) -> dict:
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    p = parse(f"${pred}$", parsing_timeout=None)
    if not p:
        return {"correct": False, "parsed": False, "error": None}
    return {
        "correct": bool(verify(parse(f"${gold}$", parsing_timeout=None), p, timeout_seconds=None)),
        "parsed": True,
        "error": None,
    }


def grade(completion: str, gold: str, timeout_s: float | None = 5.0, worker=None) -> Grade:
    """Grade one MATH completion against the gold LaTeX answer (``worker``: a VerifyWorker to use)."""
    extracted = last_boxed(completion)
    if extracted is None:
        return Grade(None, False, "no_answer", None)
    if normalize(extracted) == normalize(gold):
        return Grade(extracted, True, "ok", "boxed")
    if not extracted:
        return Grade(extracted, False, "no_answer", "boxed")
    try:
        if timeout_s is None or timeout_s <= 0:
            res = _inline_check(gold, extracted)
        else:
            res = (worker or get_worker()).check(gold, extracted, timeout_s)
    except VerifyTimeout:
        return Grade(extracted, False, "timeout", "boxed")
    if res.get("error"):
        return Grade(extracted, False, "error", "boxed")
    if not res.get("parsed"):
        return Grade(extracted, False, "no_answer", "boxed")
    return Grade(extracted, bool(res["correct"]), "ok", "boxed")
