"""The quantities an arithmetic chain of thought derives (GSM8K style; see docs/paths.md, *Definition*).

``derived_values(text, question_values) -> frozenset[float]`` reads a text already passed through
:func:`harness.paths.numbers.normalise_text` and returns the canonical values (:func:`~harness.paths.numbers.canon`)
of the quantities it derives, minus the question's own numbers. One regex scan (``SCAN``) finds every *operand run*
``operand (op operand)*``: operands are numbers (``1,200`` = 1200, ``25%`` = 0.25, ``.5``) with optional
parentheses, unary minus and up to two unit words when an operator follows (``15 dollars + 23 dollars = 38``,
``$60/large painting x 8``), ``op`` is ``+ - * / ^ =``, ``x`` or a word operator (``times``, ``multiplied by``,
``divided by``, ``plus``, ``minus``; ``by`` as in "multiply 48 by 2" is an operator whose kind the run does not
say: its numbers are operands and the segment derives nothing).

1. A run with an operator is an *equation run*, split at ``=`` into segments. A segment that is one number is a
   *stated result*: derived. A compound segment is parsed (precedence ``^`` > ``* /`` > ``+ -``, unary minus); its
   *implicit intermediates* are derived: every term of a sum that is itself a product/power/group, every factor of a
   product that is a sum/power/group (so ``48 + 48/2 = 72`` derives 24 and 72, like ``48/2 = 24; 48 + 24 = 72``).
   Chains of one kind are flattened, their partial results are not intermediates (``3*4*5 = 60`` derives 60 only;
   ``3*4 = 12; 12*5 = 60`` derives 12 and 60 -- a documented split). The value of a compound segment is derived
   too unless the next segment states a number (then the stated number is the result: an arithmetic slip
   ``48/2 = 25`` derives 25, as written). Operands are *inputs*, not derived (``/2``, ``*100``).
2. A run without an operator is a *standalone number* ("so she sold 24 clips in May"): derived -- a CoT that states
   a value without an equation derives it as much as one that writes the equation. Not quantities, so skipped:
   0 and 1 alone (counting words: "1 hour", "each 1"), ordinals (``2nd``), list markers (a number opening a line
   followed by ``.`` or ``)``), ``step 2`` / ``part 2`` / ``case 2``, a number glued to a letter (``h2o``, ``x2``).
3. Every value equal to one of ``question_values`` is removed: restating the question is not a step (and a derived
   quantity that happens to equal a question number is invisible -- a documented failure mode).

A segment that does not parse (``10^^2``) or divides by zero counts each of its numbers as standalone.
"""

from __future__ import annotations

import re

from harness.paths.numbers import canon

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?%?|\.\d+%?"
_UNIT = r"(?: ?/?[a-z]+){1,3}(?= *(?:[-+*/^=)]|times |plus |minus |divided |multiplied |x ))"
_OPND = rf"(?:[(-] *)*(?:{_NUM})(?: *\))*(?:{_UNIT}(?: *\))*)?"
_OP = r" *(?:[-+*/^=x]|times|plus|minus|divided by|multiplied by|by) *"
SCAN = re.compile(rf"(?=[-(.\d])({_OPND})((?:{_OP}{_OPND})*)")  # the lookahead lets re skip text fast
_NUM_RE = re.compile(_NUM)
_TOKEN = re.compile(rf"{_NUM}|[-+*/^=()x]|times|plus|minus|divided by|multiplied by|by")
_UNIT_WORD = re.compile(r"/?\b(?!(?:times|plus|minus|divided|multiplied|by|x)\b)[a-z]+")
_WORD_OP = {"x": "*", "times": "*", "multiplied by": "*", "divided by": "/", "plus": "+", "minus": "-", "by": "?"}
_INF = float("inf")
_MARKER_WORDS = ("step ", "part ", "case ", "step #", "method ", "option ", "day ", "week ", "month ", "round ",
                 "question ", "problem ", "line ", "level ", "year ")
_OPS = "+-*/^?"


_BINARY = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}


class _ParseError(Exception):
    pass


def _num(tok: str) -> float:
    if "," in tok:
        tok = tok.replace(",", "")
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
    if tok not in _OPS and tok != ")":
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
    kids = None
    while i < len(t) and (t[i] == "*" or t[i] == "/"):
        op = t[i]
        w, k, i = _power(t, i + 1, out)
        if kids is None:
            kids = [(v, kind)]
        if op == "/" and w == 100.0 and k == "num" and kind == "num" and len(kids) == 1:
            v, kids = v / w, None  # 'a/100' is a percentage written as a fraction: a number, not a step
            continue
        kids.append((w, k))
        v = v * w if op == "*" else v / w
    if kids is None:
        return v, kind, i
    out.extend(val for val, k in kids if k != "num" and k != "prod")
    return v, "prod", i


def _sum(t: list[str], i: int, out: list[float]) -> tuple[float, str, int]:
    v, kind, i = _product(t, i, out)
    kids = None
    while i < len(t) and (t[i] == "+" or t[i] == "-"):
        op = t[i]
        w, k, i = _product(t, i + 1, out)
        if kids is None:
            kids = [(v, kind)]
        kids.append((w, k))
        v = v + w if op == "+" else v - w
    if kids is None:
        return v, kind, i
    out.extend(val for val, k in kids if k != "num" and k != "sum")
    return v, "sum", i


def _single(seg: list[str]) -> float | None:
    """The value of a segment that is one (possibly negated, parenthesised) number, else None."""
    core = [x for x in seg if x != "(" and x != ")"]
    if len(core) == 1 and core[0] not in _OPS:
        return _num(core[0])
    if len(core) == 2 and core[0] == "-" and core[1] not in _OPS:
        return -_num(core[1])
    return None


def _balance(seg: list[str]) -> list[str]:
    """Drop unmatched ')' and close unclosed '(' at the end of a segment."""
    out, depth = [], 0
    for x in seg:
        if x == ")":
            if not depth:
                continue
            depth -= 1
        elif x == "(":
            depth += 1
        out.append(x)
    return out + [")"] * depth


def _run_values(run: str, found: list[float]) -> None:
    """Append the derived values of one equation run (module docstring, rule 1) to ``found``."""
    if run[0] == "-" and run[1:2] == " ":
        run = run[2:]  # a '- ' list bullet, not a unary minus
    if run.lower() != run.upper():  # letters: unit words ('15 dollars + 23 dollars = 38') go, word operators stay
        run = _UNIT_WORD.sub(" ", run)
    segs: list[list[str]] = [[]]
    for tok in _TOKEN.findall(run):
        if tok == "=":
            segs.append([])
        else:
            segs[-1].append(_WORD_OP.get(tok, tok))
    segs = [s for s in segs if s]
    singles = [_single(s) for s in segs]
    for j, seg in enumerate(segs):
        if singles[j] is not None:
            found.append(singles[j])
            continue
        if len(seg) == 3 and seg[1] in _BINARY:  # the common 'a op b' segment, without the parser
            try:
                v = _BINARY[seg[1]](_num(seg[0]), _num(seg[2]))
            except (ZeroDivisionError, OverflowError, ValueError):
                continue
            if j + 1 >= len(segs) or singles[j + 1] is None:
                found.append(v)
            continue
        if "?" in seg:
            continue  # 'multiply 48 by 2', 'divide 48 by 2': operands of an unnamed operator, no value derived
        if seg.count("(") != seg.count(")"):
            seg = _balance(seg)  # '(60/100 times 1,660 dollars)': the run ends before the ')' 
        inter: list[float] = []
        try:
            v, _, end = _sum(seg, 0, inter)
            if end != len(seg):
                raise _ParseError
        except (_ParseError, ZeroDivisionError, OverflowError, ValueError, TypeError):
            found.extend(_num(x) for x in seg if x not in _OPS and x != "(" and x != ")")
            continue
        found.extend(inter)
        if j + 1 >= len(segs) or singles[j + 1] is None:
            found.append(v)


def _is_marker(text: str, start: int, end: int) -> bool:
    """A number that is not a quantity: ordinal, list marker, 'step 2', glued to a letter (module docstring)."""
    after = text[end:end + 2]
    if after[:1].isalpha() and after not in ("x ", "x(") and not after[:1] == "x":
        return True  # 2nd, 3rd, 4th, h2o-like tails; '3x' is handled as an operand run
    before = text[start - 1:start] if start else "\n"
    if before.isalpha():
        return True  # x2, h2o
    if before == "\n" and after[:1] in (".", ")") and after[1:2] in (" ", "\n", ""):
        return True  # '2. ' / '2) ' list marker
    return text[max(0, start - 10):start].endswith(_MARKER_WORDS)


def derived_values(text: str, question_values: frozenset[float]) -> frozenset[float]:
    """Canonical values of the quantities ``text`` derives, minus ``question_values`` (module docstring)."""
    found: list[float] = []
    for m in SCAN.finditer(text):
        first, rest = m.groups()
        if rest:
            run = m.group(0)
            if rest.lstrip()[:1] == "=" and _is_marker(text, m.start(), m.start() + len(first)):
                run = rest.lstrip(" =")  # 'after day 1 = 136 - 9 = 127': the marker is not a stated result
            if run:
                _run_values(run, found)
            continue
        tok = first if first.isdigit() else _NUM_RE.search(first).group(0)
        v = float(tok) if tok.isdigit() else _num(tok)
        if v == 0.0 or v == 1.0 or (v.is_integer() and v in question_values):
            continue  # the cheap exits first: most standalone numbers restate the question
        if not _is_marker(text, m.start(), m.end()):
            found.append(v)
    out = set()
    for v in found:
        if v.is_integer():
            c = v + 0.0
        elif v != v or v == _INF or v == -_INF:
            continue
        else:
            c = canon(v)
        if c not in question_values:
            out.add(c)
    return frozenset(out)
