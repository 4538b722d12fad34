"""The quantities an arithmetic chain of thought derives (GSM8K style; see docs/paths.md, *Definition*).

``derived_values(text, question_values) -> frozenset[float]`` reads a text already passed through
:func:`harness.paths.numbers.normalise_text` and returns the canonical values (:func:`~harness.paths.numbers.canon`)
of the quantities it derives, minus the question's own numbers:

1. *Equation runs* -- maximal spans ``operand (op operand)*`` with ``op`` in ``+ - * / ^ =`` and operands numbers,
   percentages or parenthesised groups (``48/2 = 24``, ``(3 + 4) * 5 = 35``, ``3*4 = 12*5 = 60``) -- are split at
   ``=`` into segments. A segment that is one number is a *stated result*: derived. A compound segment is parsed
   (precedence ``^`` > ``* /`` > ``+ -``, unary minus, ``25%`` = 0.25); its *implicit intermediates* are derived:
   every operand of a sum that is itself a product/power/group, every factor of a product that is a sum/power/group
   (so ``48 + 48/2 = 72`` derives 24 and 72, like ``48/2 = 24; 48 + 24 = 72``). Chains of one kind are flattened,
   their partial results are not intermediates (``3*4*5 = 60`` derives 60 only; ``3*4 = 12; 12*5 = 60`` derives 12
   and 60 -- a documented split). The value of a compound segment is derived too unless the next segment states a
   number (then the stated number is the result: an arithmetic slip ``48/2 = 25`` derives 25, as written).
   Operands are *inputs*, not derived (``/2``, ``*100``): a number used only as an operand adds nothing.
2. *Standalone numbers* (outside any run, e.g. "so she sold 24 clips in May") are derived quantities: a CoT that
   states a value without an equation derives it as much as one that writes the equation. 0 and 1 alone are not
   (counting words such as "1 hour", "each 1" are too frequent to be computation).
3. Every value equal to one of ``question_values`` is removed: restating the question is not a step (and a derived
   quantity that happens to equal a question number is invisible -- a documented failure mode).

A segment that does not parse (``2-for-1``, ``10^^2``) or divides by zero counts each of its numbers as standalone.
"""

from __future__ import annotations

import re

from harness.paths.numbers import NUMBER, canon

_NUMT = r"(?:\d+(?:\.\d+)?|\.\d+)%?"
_OPND = rf"(?:\(\s*)*-?\s*{_NUMT}(?:\s*\))*"
RUN = re.compile(rf"(?<![\w.]){_OPND}(?:\s*[-+*/^=]\s*{_OPND})+")
_TOKEN = re.compile(r"\d+(?:\.\d+)?%?|\.\d+%?|[-+*/^=()]")
_STANDALONE_IGNORED = frozenset((0.0, 1.0))


class _ParseError(Exception):
    pass


def _num(tok: str) -> float:
    return float(tok[:-1]) / 100 if tok[-1] == "%" else float(tok)


def _atom(t: list[str], i: int, out: list[float]) -> tuple[float, str, int]:
    if i >= len(t):
        raise _ParseError
    tok = t[i]
    if tok == "(":
        v, kind, i = _sum(t, i + 1, out)
        if i >= len(t) or t[i] != ")":
            raise _ParseError
        return v, ("group" if kind != "num" else "num"), i + 1
    if tok == "-":
        v, kind, i = _atom(t, i + 1, out)
        return -v, kind, i
    if tok[0].isdigit() or tok[0] == ".":
        return _num(tok), "num", i + 1
    raise _ParseError


def _power(t: list[str], i: int, out: list[float]) -> tuple[float, str, int]:
    v, kind, i = _atom(t, i, out)
    if i < len(t) and t[i] == "^":
        w, kind2, i = _power(t, i + 1, out)
        for val, k in ((v, kind), (w, kind2)):
            if k != "num":
                out.append(val)
        if abs(w) > 64 or (v < 0 and w != int(w)):
            raise _ParseError
        return float(v ** w), "pow", i
    return v, kind, i


def _product(t: list[str], i: int, out: list[float]) -> tuple[float, str, int]:
    v, kind, i = _power(t, i, out)
    kids = [(v, kind)]
    while i < len(t) and t[i] in "*/":
        op = t[i]
        w, k, i = _power(t, i + 1, out)
        kids.append((w, k))
        v = v * w if op == "*" else v / w
    if len(kids) == 1:
        return v, kind, i
    out.extend(val for val, k in kids if k not in ("num", "prod"))
    return v, "prod", i


def _sum(t: list[str], i: int, out: list[float]) -> tuple[float, str, int]:
    v, kind, i = _product(t, i, out)
    kids = [(v, kind)]
    while i < len(t) and t[i] in "+-":
        op = t[i]
        w, k, i = _product(t, i + 1, out)
        kids.append((w, k))
        v = v + w if op == "+" else v - w
    if len(kids) == 1:
        return v, kind, i
    out.extend(val for val, k in kids if k not in ("num", "sum"))
    return v, "sum", i


def _single(seg: list[str]) -> float | None:
    """The value of a segment that is one (possibly negated, parenthesised) number, else None."""
    core = [x for x in seg if x not in "()"]
    if len(core) == 1 and core[0] not in "+-*/^":
        return _num(core[0])
    if len(core) == 2 and core[0] == "-" and core[1] not in "+-*/^":
        return -_num(core[1])
    return None


def _run_values(run: str, found: list[float]) -> None:
    """Append the derived values of one equation run (module docstring, rule 1) to ``found``."""
    segs: list[list[str]] = [[]]
    for tok in _TOKEN.findall(run):
        if tok == "=":
            segs.append([])
        else:
            segs[-1].append(tok)
    segs = [s for s in segs if s]
    singles = [_single(s) for s in segs]
    for j, seg in enumerate(segs):
        if singles[j] is not None:
            found.append(singles[j])
            continue
        inter: list[float] = []
        try:
            v, _, end = _sum(seg, 0, inter)
            if end != len(seg):
                raise _ParseError
        except (_ParseError, ZeroDivisionError, OverflowError, ValueError, TypeError):
            found.extend(_num(x) for x in seg if x[0].isdigit() or x[0] == ".")
            continue
        found.extend(inter)
        if j + 1 >= len(segs) or singles[j + 1] is None:
            found.append(v)


def derived_values(text: str, question_values: frozenset[float]) -> frozenset[float]:
    """Canonical values of the quantities ``text`` derives, minus ``question_values`` (module docstring)."""
    found: list[float] = []
    rest = text
    if any(c in text for c in "+-*/^="):
        pieces = []
        pos = 0
        for m in RUN.finditer(text):
            _run_values(m.group(0), found)
            pieces.append(text[pos:m.start()])
            pos = m.end()
        if pieces:
            pieces.append(text[pos:])
            rest = " ".join(pieces)
    for m in NUMBER.finditer(rest):
        v = float(m.group(1))
        if m.group(2):
            v /= 100
        if v not in _STANDALONE_IGNORED:
            found.append(v)
    out = set()
    for v in found:
        if v != v or v in (float("inf"), float("-inf")):
            continue
        c = canon(v)
        if c not in question_values:
            out.add(c)
    return frozenset(out)
