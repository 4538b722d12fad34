"""The quantities an arithmetic chain of thought derives (GSM8K style; see docs/paths.md, *Definition*).

``derived_values(text, question_values) -> frozenset[float]`` reads a text already passed through
:func:`harness.paths.numbers.normalise_text` and returns the canonical values (:func:`~harness.paths.numbers.canon`)
of the quantities it derives, minus the question's own numbers. One regex scan (``SCAN``) finds every *operand run*
``operand (op operand)*``: operands are numbers (``1,200`` = 1200, ``25%`` = 0.25, ``.5``) with optional
parentheses, unary minus and up to two unit words when an operator follows (``15 dollars + 23 dollars = 38``,
``$60/large painting x 8``), ``op`` is ``+ - * / ^ =``, ``x`` or a word operator (``times``, ``multiplied by``,
``divided by``, ``plus``, ``minus``, and ``is`` / ``equals`` for ``=``; ``by`` as in "multiply 48 by 2" is an
operator whose kind the run does not say: its numbers are operands and the segment derives nothing).

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
   followed by ``.`` or ``)``), ``step 2`` / ``part 2`` / ``case 2`` / ``day 2``, a number glued to a letter (``h2o``,
   ``x2``), the coefficient of a formula (``2(l + w)``), a unit fact (``60 minutes in an hour``).
3. Every value equal to one of ``question_values`` is removed: restating the question is not a step (and a derived
   quantity that happens to equal a question number is invisible -- a documented failure mode).

A segment that does not parse (``10^^2``) or divides by zero counts each of its numbers as standalone.
"""

from __future__ import annotations

import re
import sys

from harness.paths.numbers import canon


def _compile(pattern: str) -> re.Pattern:
    """re.compile; on Python < 3.11 without possessive quantifiers and atomic groups (same matches, slower)."""
    if sys.version_info < (3, 11):
        pattern = re.sub(r"(?<=[*+?}])\+", "", pattern.replace("(?>", "(?:"))
    return re.compile(pattern)


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d++)(?:\.\d++)?+%?+|\.\d++%?+"
_OP = r" *(?:[-+*/^=x]|times|plus|minus|divided by|multiplied by|by|equals|is) *"
# unit words between an operand and an operator: atomic (no backtracking into fewer words), word operators excluded
_WORD = r"(?: ?/?(?!(?:times|plus|minus|divided|multiplied|by|is|equals)\b)[a-z]{2,}+)"
_UNIT = rf"(?>{_WORD}{{1,3}})(?= *(?:[-+*/^=)]|times |plus |minus |divided |multiplied |x |is |equals ))"
_OPND = rf"(?:[(-] *)*+(?:{_NUM})(?: *\))*+(?:{_UNIT}(?: *\))*+)?"
_LEADING_OP = _compile(rf"^{_OP}")
# The first operand starts with a consumed character class (not a lookahead or an optional group) so that re's
# charset-prefix search skips prose in C: about twice as fast as the plain form ``({_OPND})...`` on long completions.
_NUMREST = r"(?:\d{0,2}(?:,\d{3})+(?!\d|,\d)|\d*+)(?:\.\d++)?+%?+"  # a number after its first digit
_FIRST = (rf"[-(.0-9](?:(?<=[(-])(?: *[(-])*+ *(?:{_NUM})|(?<=[0-9]){_NUMREST}|(?<=\.)\d++%?+)"
          rf"(?: *\))*+(?:{_UNIT}(?: *\))*+)?")
SCAN = _compile(rf"({_FIRST})((?:{_OP}{_OPND})*)")
_NUM_RE = _compile(_NUM)
_SN = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)%?"
_SU = r"(?: ?/?(?!(?:times|plus|minus|divided|multiplied|is|equals)\b)[a-z]{2,}+)*+"
_SIMPLE = _compile(rf"{_SN}{_SU} *([-+*/x]|times|plus|minus|divided by|multiplied by) *{_SN}{_SU} *(?:=|is|equals) *"
                     rf"({_SN})")
# _SIMPLE's commonest runs ('48 / 2 = 24', '48 plus 24 equals 72': plain numbers, no units) by a cheaper pattern
# with the same two groups: where it matches, _SIMPLE matches with the same groups (one parse only)
# (a word operator is followed by a space: '2minus2' would read 'minus' as _SIMPLE's unit word, and not match)
_PLAIN = _compile(r"\d+(?:\.\d+)? *([-+*/x]|(?:times|plus|minus|divided by|multiplied by)(?= )) *\d+(?:\.\d+)? *"
                  r"(?:=|(?:is|equals)(?= )) *(\d+(?:\.\d+)?)")
# two numbers joined by '=', 'is', 'equals' or 'by' and nothing else ('24 = 4', '160,000 is 16', '220 by 60'): the
# general path's result without tokens (a word is followed by a space, as in _PLAIN; tests compare with _general)
_PAIR = _compile(rf"({_NUM}) *(=|(?:is|equals|by)(?= )) *({_NUM})")
_ADD_OP = r" *(?:[-+]|plus|minus) *"
_ADD_WORDS, _MUL_WORDS = ("+", "-", "plus", "minus"), ("*", "/", "x", "times", "divided by", "multiplied by")
_MUL_OP = r" *(?:[*/x]|times|divided by|multiplied by) *"
_EQ = r" *(?:=|is|equals) *"
# 'a + b + c = d' / 'a * b / 100 = d': one precedence class, three or more operands, a stated result (flattened:
# no intermediates; the result is computed)
_CHAIN = _compile(rf"{_SN}{_SU}(?:{_ADD_OP}{_SN}{_SU}){{2,}}{_EQ}({_SN})"
                  rf"|{_SN}{_SU}(?:{_MUL_OP}{_SN}{_SU}){{2,}}{_EQ}({_SN})")
# 'a op b' with nothing stated: its value is the result
_BIN = _compile(rf"({_SN}){_SU} *([-+*/x]|times|plus|minus|divided by|multiplied by) *({_SN})")
_OP_SYMBOL = {"x": "*", "times": "*", "multiplied by": "*", "divided by": "/", "plus": "+", "minus": "-"}
_TOKEN = _compile(rf"{_NUM}|[-+*/^=()x]|times|plus|minus|divided by|multiplied by|by|equals|is")
_UNIT_WORD = re.compile(r"/?\b(?!(?:times|plus|minus|divided|multiplied|by|x|equals|is)\b)[a-z]+")
_WORD_OP = {"x": "*", "times": "*", "multiplied by": "*", "divided by": "/", "plus": "+", "minus": "-", "by": "?",
            "equals": "=", "is": "="}
_INF = float("inf")
_UNIT_FACT = re.compile(
    r"(?:\.0+)? ?(?:minutes?|seconds?|hours?|days?|weeks?|months?|cents?|inches|feet|ounces|grams|centimeters|"
    r"millimeters|meters|pennies|quarts|cups|pints|eggs|items) +(?:in|per|make|makes|=) +(?:a|an|one|each|1(?:\.0+)?) ")
# '60 minutes in an hour': after a number and a space, _UNIT_FACT needs one of these letters (a set lookup first)
_UNIT_FACT_FIRST = frozenset("cdefghimopqsw")  # first letters of its unit words (a test checks them)
_MARKER_WORDS = ("step ", "part ", "case ", "step #", "method ", "option ", "day ", "week ", "month ", "round ",
                 "question ", "problem ", "line ", "level ", "year ")
_MARKER_ENDS = frozenset(w[-2:] for w in _MARKER_WORDS)
_OPS = "+-*/^?"


_BINARY = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}


class _ParseError(Exception):
    pass


def _num(tok: str) -> float:
    if "," in tok:
        tok = tok.replace(",", "")
    return float(tok[:-1]) / 100 if tok[-1] == "%" else float(tok)


def _atom(t: list[str], i: int, out: list[tuple[float, bool]]) -> tuple[float, str, int]:
    if i >= len(t):
        raise _ParseError
    tok = t[i]
    if tok == "(":
        v, kind, i = _sum(t, i + 1, out)
        if i >= len(t) or t[i] != ")":
            raise _ParseError
        return v, (kind if kind in ("num", "frac") else "group"), i + 1
    if tok == "-":
        v, kind, i = _atom(t, i + 1, out)
        return -v, kind, i
    if tok not in _OPS and tok != ")":
        return _num(tok), "num", i + 1
    raise _ParseError


def _power(t: list[str], i: int, out: list[tuple[float, bool]]) -> tuple[float, str, int]:
    v, kind, i = _atom(t, i, out)
    if i < len(t) and t[i] == "^":
        w, kind2, i = _power(t, i + 1, out)
        for val, k in ((v, kind), (w, kind2)):
            if k != "num":
                out.append((val, k != "frac"))
        if abs(w) > 64 or (v < 0 and w != int(w)):
            raise _ParseError
        return float(v ** w), "pow", i
    return v, kind, i


def _product(t: list[str], i: int, out: list[tuple[float, bool]]) -> tuple[float, str, int]:
    v, kind, i = _power(t, i, out)
    kids = None
    last_op = ""
    while i < len(t) and (t[i] == "*" or t[i] == "/"):
        op = last_op = t[i]
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
    if len(kids) == 2 and kids[0][1] == "num" and kids[1][1] == "num" and last_op == "/":
        return v, "frac", i  # 'a/b' of two literals: a quotient or a fraction written as one (1/2, 3/4)
    out.extend((val, k != "frac") for val, k in kids if k != "num" and k != "prod")
    return v, "prod", i


def _sum(t: list[str], i: int, out: list[tuple[float, bool]]) -> tuple[float, str, int]:
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
    out.extend((val, k != "frac") for val, k in kids if k != "num" and k != "sum")
    return v, "sum", i


def _single(seg: list[str]) -> float | None:
    """The value of a segment that is one (possibly negated, parenthesised) number, else None."""
    if len(seg) == 1:  # the common cases first, same result: one token; several operators and operands
        x = seg[0]
        return None if x in _OPS or x == "(" or x == ")" else _num(x)
    if len(seg) > 2 and "(" not in seg and ")" not in seg:
        return None
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


def _first_value(seg: list[str]) -> float | None:
    for x in seg:
        if x not in _OPS and x != "(" and x != ")":
            return _num(x)
    return None


def _two_ops(run: str) -> bool:
    """Whether ``run`` holds two operators of one class, as _CHAIN needs (a count of substrings: never too few)."""
    return sum(map(run.count, _ADD_WORDS)) >= 2 or sum(map(run.count, _MUL_WORDS)) >= 2


def _run_values(run: str, found: list[float], computed: list[float]) -> None:
    """Append one equation run's derived values (module docstring, rule 1): restated-or-stated values to ``found``,
    values obtained by computation (exempt from the question-number filter) to ``computed``."""
    if run[-1] not in "0123456789%":  # every shortcut pattern ends with a number: '16 * 17 = 220 eggs', '(2 x 2)'
        _general(run, found, computed)
        return
    pair = _PAIR.fullmatch(run)
    if pair:  # 'a = b', 'a is b': two stated numbers; 'a by b': operands of an unnamed operator, nothing derived
        a, op, b = pair.groups()
        if op != "by":
            found.append(_num(a))
            found.append(_num(b))
        return
    eq = "=" in run or "is" in run or "equals" in run  # _SIMPLE and _CHAIN need one: else skip both
    simple = (_PLAIN.fullmatch(run) or _SIMPLE.fullmatch(run)) if eq else None
    if simple:  # the common 'a op b = c' run, without tokens or parser
        op, c = simple.groups()
        (found if op == "/" or op == "divided by" else computed).append(_num(c))
        return
    chain = _CHAIN.fullmatch(run) if eq and _two_ops(run) else None
    if chain:
        computed.append(_num(chain.group(1) or chain.group(2)))
        return
    binary = _BIN.fullmatch(run) if "=" not in run else None  # no part of _BIN matches '='
    if binary:
        a, op, b = binary.groups()
        op = _OP_SYMBOL.get(op, op)
        try:
            v = _BINARY[op](_num(a), _num(b))
        except (ZeroDivisionError, OverflowError):
            return
        (found if op == "/" else computed).append(v)
        return
    _general(run, found, computed)


def _general(run: str, found: list[float], computed: list[float]) -> None:
    """:func:`_run_values` of a run that no shortcut pattern matches: tokens, segments at ``=``, the parser."""
    if run[0] == "-" and run[1:2] == " ":
        run = run[2:]  # a '- ' list bullet, not a unary minus
    if run.lower() != run.upper():  # letters: unit words ('15 dollars + 23 dollars = 38') go, word operators stay
        run = _UNIT_WORD.sub(" ", run)
    segs: list[list[str]] = [[]]
    for tok in _TOKEN.findall(run):
        tok = _WORD_OP.get(tok, tok)
        if tok == "=":
            segs.append([])
        else:
            segs[-1].append(tok)
    segs = [s for s in segs if s]
    singles = [_single(s) for s in segs]
    after_compound = False  # the previous segment computed something: a stated number now is its result
    for j, seg in enumerate(segs):
        if singles[j] is not None:
            (computed if after_compound else found).append(singles[j])
            after_compound = False
            continue
        after_compound = True
        if len(seg) == 3 and seg[1] in _BINARY:  # the common 'a op b' segment, without the parser
            try:
                v = _BINARY[seg[1]](_num(seg[0]), _num(seg[2]))
            except (ZeroDivisionError, OverflowError, ValueError):
                continue
            if seg[1] == "/":
                after_compound = False  # 'a/b' of two literals may be a number format (3/4 = 0.75): not exempt
        elif "?" in seg:
            after_compound = False
            continue  # 'multiply 48 by 2', 'divide 48 by 2': operands of an unnamed operator, no value derived
        else:
            if seg.count("(") != seg.count(")"):
                seg = _balance(seg)  # '(60/100 times 1,660 dollars)': the run ends before the ')'
            inter: list[tuple[float, bool]] = []
            try:
                v, kind, end = _sum(seg, 0, inter)
                if end != len(seg):
                    raise _ParseError
            except (_ParseError, ZeroDivisionError, OverflowError, ValueError, TypeError):
                found.extend(_num(x) for x in seg if x not in _OPS and x != "(" and x != ")")
                after_compound = False
                continue
            if kind == "num" or kind == "frac":
                after_compound = False  # '(25/100)', '-(5)', '(3)/(4)': a number written compoundly
            for val, exempt in inter:
                (computed if exempt else found).append(val)
        if j + 1 >= len(segs):
            (computed if after_compound else found).append(v)
        elif singles[j + 1] is None:
            nxt = _first_value(segs[j + 1])  # '3*4 = 12*5 = 60': the next segment starts from this value
            if nxt is not None and abs(nxt - v) <= 0.01 * max(1.0, abs(v)):
                (computed if after_compound else found).append(v)


_RUN_MEMO: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
RUN_MEMO_SIZE = 1 << 16
"""Equation runs memoised (a pure function of the run's text; emptied when full and by ``clear_caches``)."""


def _run_memo_fill(run: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(found, computed) of one equation run (:func:`_run_values`), stored in the memo."""
    f: list[float] = []
    c: list[float] = []
    _run_values(run, f, c)
    if len(_RUN_MEMO) >= RUN_MEMO_SIZE:
        _RUN_MEMO.clear()
    hit = _RUN_MEMO[run] = (tuple(f), tuple(c))
    return hit


def _run_values_memo(run: str, found: list[float], computed: list[float]) -> None:
    """:func:`_run_values` through a memo: one problem's samples repeat their equations (``48/2 = 24``)."""
    hit = _RUN_MEMO.get(run)
    if hit is None:
        hit = _run_memo_fill(run)
    if hit[0]:
        found.extend(hit[0])
    if hit[1]:
        computed.extend(hit[1])


def _after_marker_word(text: str, start: int) -> bool:
    """``text[start - 10:start]`` ends with one of ``_MARKER_WORDS`` ('step ', 'day ' ...): the last two characters
    are checked first against the words' last two (a set lookup; most numbers follow other words)."""
    return (start >= 4 and text[start - 2:start] in _MARKER_ENDS
            and text.endswith(_MARKER_WORDS, max(0, start - 10), start))


def _is_marker(text: str, start: int, end: int) -> bool:
    """A number that is not a quantity: ordinal, list marker, 'step 2', glued to a letter (module docstring)."""
    after = text[end:end + 2]
    if after[:1].isalpha() and after[:1] != "x":
        return True  # 2nd, 3rd, 4th, h2o-like tails; '3x' is handled as an operand run
    if after[:1] == "(" and after[1:2].isalpha():
        return True  # the coefficient of a formula: 2(l + w)
    before = text[start - 1:start] if start else "\n"
    if before.isalpha():
        return True  # x2, h2o
    if before == "\n" and after[:1] in (".", ")") and after[1:2] in (" ", "\n", ""):
        return True  # '2. ' / '2) ' list marker
    if _after_marker_word(text, start):
        return True
    return after[:1] == " " and after[1:2] in _UNIT_FACT_FIRST and _UNIT_FACT.match(text, end) is not None




def derived_values(text: str, question_values: frozenset[float]) -> frozenset[float]:
    """Canonical values of the quantities ``text`` derives, minus restated ``question_values`` (module docstring)."""
    found: list[float] = []
    computed: list[float] = []
    for m in SCAN.finditer(text):
        first, rest = m.groups()
        if not rest and first.isdigit():  # the hot path: a plain integer standing alone
            v = float(first)
            if v in question_values or v == 0.0 or v == 1.0:
                continue  # most standalone numbers restate the question
            if not _is_marker(text, m.start(), m.end()):
                found.append(v)
            continue
        if rest:
            run = m.group(0)
            if first[:1].isdigit() and _after_marker_word(text, m.start()):
                run = _LEADING_OP.sub("", rest)  # 'after day 1 = 136 - 9 = 127': the marker is not an operand
            if run:
                hit = _RUN_MEMO.get(run)  # _run_values_memo, inlined: one call fewer per run
                if hit is None:
                    hit = _run_memo_fill(run)
                if hit[0]:
                    found += hit[0]
                if hit[1]:
                    computed += hit[1]
            continue
        if first[0].isdigit() and (first[-1].isdigit() or first[-1] == "%"):
            tok, t0, t1 = first, m.start(), m.end()  # only a number ('1,200', '25%', '2.5'): _NUM_RE would find it all
        else:
            nm = _NUM_RE.search(first)
            tok, t0, t1 = nm.group(0), m.start() + nm.start(), m.start() + nm.end()
        v = _num(tok)
        if first[0] != "(" and first[0] != "-":
            if v == 0.0 or v == 1.0 or (v.is_integer() and v in question_values):
                continue
        else:
            head = first.lstrip("( ")
            if head[:1] == "-" and head[1:2].isdigit():
                v = -v  # '-5' is negative, '- 5' a bullet
            if v == 0.0 or v == 1.0:
                continue
        if not _is_marker(text, t0, t1):
            found.append(v)
    out = set()
    for vals, exempt in ((set(found), False), (set(computed), True)):  # each distinct value once
        for v in vals:
            if v.is_integer():
                c = v + 0.0
            elif v != v or v == _INF or v == -_INF:
                continue
            else:
                c = canon(v)
            if exempt or c not in question_values:
                out.add(c)
    return frozenset(out)
