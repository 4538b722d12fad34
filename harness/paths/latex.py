"""Symbolic (MATH-style) steps: LaTeX math segments with variables, normalised with sympy where they parse.

``symbolic_items(text) -> tuple[str, list[str], list[float]]`` finds the math segments of a completion
(``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) that contain a variable (a letter after LaTeX commands are
removed); segments without one are left to the arithmetic reader (:mod:`harness.paths.arith`). Each symbolic
segment is split at ``=``, ``<``, ``>``, ``\\le``, ``\\ge``, ``\\neq``, ``\\approx``, ``\\equiv`` into pieces, and each
piece becomes either

* a sympy canonical string (``str(expr)`` of the piece built by :func:`build_expr`: sympy's automatic canonical
  order of sums and products, so
  ``3x + x^2``, ``x^2+3x`` and ``x \\cdot x + 3 \\cdot x`` are one item; ``(x-2)(x-3)`` and ``x^2-5x+6`` stay two items
  -- factoring is a step), or a number when the piece is a constant (``\\frac{6}{4}`` -> 1.5, into the values);
* the fallback ``tex:<normalised LaTeX>`` (whitespace, ``\\left``/``\\right``, ``\\dfrac``/``\\tfrac`` spellings
  removed) when the piece does not parse or is not safe to hand to sympy (only digits, single-letter variables,
  ``+ - * / ^ ( ) .`` and a few functions are; exponents longer than 3 digits and nested powers are refused, so a
  completion cannot make sympy run long).

Returns the text with the symbolic segments blanked, the items, the numeric values of pieces that only write a number
(``5``, ``\\frac{3}{4}``: subject to the question-number filter) and of pieces that compute one (``-\\frac{-5}{1}``,
``2 + 3``: exempt from it, see :mod:`harness.paths.arith` rule 3). Multi-letter runs that are not function names are
products of single-letter variables (``ax^2`` = ``a*x**2``). A single variable and plain rational arithmetic
(:func:`exact_number`) are converted without sympy, with the same result. Conversions are memoised per piece, per
Python form and per segment (``lru_cache``; emptied by ``harness.paths.clear_caches``): a problem's completions
repeat the same expressions.
"""

from __future__ import annotations

import importlib.util
import math
import re
from fractions import Fraction
from functools import lru_cache

from harness.paths.numbers import canon

_SEGMENT = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_COMMAND = re.compile(r"\\[a-zA-Z]+")
_RELATION = re.compile(r"=|<|>|\\le(?:q)?\b|\\ge(?:q)?\b|\\neq\b|\\approx\b|\\equiv\b|\\implies\b|\\Rightarrow\b")
_SPACING = re.compile(r"\\left|\\right|\\[,;:! ]|\\displaystyle|\\quad|\\qquad|\s+")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_FUNCS = {"\\sin": " sin", "\\cos": " cos", "\\tan": " tan", "\\log": " log", "\\ln": " log", "\\exp": " exp",
          "\\pi": " pi ", "\\infty": " oo ", "\\cdot": "*", "\\times": "*", "\\div": "/"}
_SAFE = re.compile(r"^(?:[0-9a-z+\-*/().\s]|sqrt|sin|cos|tan|log|exp|pi|oo)*$")
_WORDS = re.compile(r"[a-z]{2,}")
_ALLOWED_WORDS = frozenset(("sqrt", "sin", "cos", "tan", "log", "exp", "pi", "oo"))
_BIG_EXP = re.compile(r"\*\*\s*\(?\s*\d{4,}|\*\*[^*]*\*\*")
MAX_PIECE = 200
_LITERAL = re.compile(r"^-?\s*(?:\d+(?:\.\d+)?|\\[dt]?frac\s*\{-?\d+\}\s*\{\d+\}|\d+\s*/\s*\d+)$")
_MULTI = re.compile(r"[a-z]{2,}")
_MATH_DOLLAR = re.compile(r"\$(?![\d,.\s])")
_SYMBOL = re.compile(r"^[a-zA-Z]$")
_PROSE = re.compile(r"(?<![a-zA-Z])[a-zA-Z]{3,}")


def _to_python(tex: str) -> str | None:
    s = _SPACING.sub("", tex)
    for _ in range(3):
        new = _SQRT.sub(r"sqrt(\1)", _FRAC.sub(r"((\1)/(\2))", s))
        if new == s:
            break
        s = new
    for k, v in _FUNCS.items():
        s = s.replace(k, v)
    if "\\" in s:
        return None
    s = s.replace("{", "(").replace("}", ")").replace("^", "**").lower()
    s = _MULTI.sub(lambda m: m.group(0) if m.group(0) in _ALLOWED_WORDS else "*".join(m.group(0)), s)  # ax = a*x
    if not _SAFE.match(s) or any(w not in _ALLOWED_WORDS for w in _WORDS.findall(s)) or _BIG_EXP.search(s):
        return None
    return s


def is_literal(tex: str) -> bool:
    """A piece that only writes a number (``5``, ``-0.5``, ``\\frac{3}{4}``, ``3/4``): restating, not computing."""
    return bool(_LITERAL.match(tex.strip().rstrip(".,;:")))


_FUNC_CODES = {"sqrt": "Q", "sin": "S", "cos": "C", "tan": "T", "log": "L", "exp": "E", "pi": "P", "oo": "O"}
_FUNC_WORD = re.compile(r"sqrt|sin|cos|tan|log|exp|pi|oo")
_IMPLICIT = re.compile(r"(?<=[0-9)])\s*(?=[a-zQSCTLEPO(])|(?<=[a-zPO])\s*(?=[a-zQSCTLEPO(0-9])|(?<=\))\s*(?=[0-9])")
_PY_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_NAMESPACE: dict | None = None


def _namespace() -> dict:
    """The names a converted piece may use: single-letter symbols, Rational, and the whitelisted functions."""
    global _NAMESPACE
    if _NAMESPACE is None:
        import string

        import sympy
        _NAMESPACE = {c: sympy.Symbol(c) for c in string.ascii_lowercase}
        _NAMESPACE.update(R=sympy.Rational, Q=sympy.sqrt, S=sympy.sin, C=sympy.cos, T=sympy.tan, L=sympy.log,
                          E=sympy.exp, P=sympy.pi, O=sympy.oo, __builtins__={})
    return _NAMESPACE


def build_expr(py: str):
    """The sympy expression of a whitelisted piece (``_to_python``): explicit ``*`` for implicit products, numbers as
    ``Rational``, then ``eval`` over a namespace of sympy symbols only (no builtins; the whitelist admits no
    underscores, quotes or brackets). sympy's automatic canonical form is the same as ``parse_expr``'s, at about a
    tenth of its cost (no tokenizer, no transformations)."""
    return eval(expr_code(py), _namespace())  # noqa: S307 -- whitelisted input, namespace of symbols only


def expr_code(py: str) -> str:
    """The code :func:`build_expr` evaluates: function names as one-letter codes (``Q`` = sqrt ...), ``*`` for
    implicit products, every number as ``R('...')`` (``Rational``): ``2x**2`` -> ``R('2')*x**R('2')``."""
    code = _FUNC_WORD.sub(lambda m: _FUNC_CODES[m.group(0)], py)
    code = _IMPLICIT.sub("*", code)
    return _PY_NUMBER.sub(lambda m: f"R('{m.group(0)}')", code)


_HAS_SYMPY = importlib.util.find_spec("sympy") is not None
_ARITHMETIC_PY = re.compile(r"[0-9+\-*/().]*")
_FRACTION_NS = {"R": Fraction, "__builtins__": {}}
_HALF = Fraction(1, 2)


def exact_number(py: str) -> float | None:
    """The canonical value of a whitelisted piece without variables or functions (``2+3``, ``((6)/(4))``, ``2**-1``),
    computed with ``fractions.Fraction`` -- the same exact rational arithmetic as sympy's ``Rational`` on the same
    code, at about half the cost (compiling the code dominates both). None (and the caller goes on to sympy) when the
    piece is not plain rational arithmetic or its value is not a finite rational below 1e15 (a zero division, a
    fractional power, an overflow).

    sympy turns the rational into a float through a 57-bit then 53-bit rounding, which can differ from
    ``float(Fraction)`` in the last bit; :func:`~harness.paths.numbers.canon` sees that bit only where the exact value
    sits on one of its boundaries (a half cent, ``5.565``; a hair from an integer), so those values go to sympy too."""
    if not _ARITHMETIC_PY.fullmatch(py):
        return None
    code = _PY_NUMBER.sub(lambda m: f"R('{m.group(0)}')", _IMPLICIT.sub("*", py))
    try:
        v = eval(code, _FRACTION_NS)  # noqa: S307 -- digits, operators and parentheses only, namespace {R}
        if type(v) is not Fraction:
            return None
        f = float(v)
    except Exception:  # noqa: BLE001 -- syntax, zero division, overflow: sympy decides, as before
        return None
    if not abs(f) < 1e15:
        return None
    if v.denominator != 1:
        off_int = abs(v - round(v))
        cents = abs(v) * 100
        off_tie = abs(cents - math.floor(cents) - _HALF)
        if off_int <= 2e-9 * max(1.0, abs(f)) or off_tie <= 1e-9 * max(1.0, 100 * abs(f)):
            return None  # on a boundary of canon: the last bit of sympy's float decides
    return canon(f)


@lru_cache(maxsize=65536)
def canonical_piece(tex: str) -> tuple[str, float | None]:
    """(item, value): a sympy canonical string, or ('', number) for a constant, or the ``tex:`` fallback.

    Fast paths that give what sympy gives: a single variable (``x``: its name) and plain rational arithmetic
    (:func:`exact_number`); everything else is built by sympy (:func:`_sympy_piece`, cached per Python form)."""
    tex = tex.strip().rstrip(".,;:")
    fallback = "tex:" + _SPACING.sub("", tex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    if not tex or len(tex) > MAX_PIECE:
        return (fallback if tex else "", None)
    py = _to_python(tex)
    if py is None:
        return fallback, None
    if _HAS_SYMPY:  # without sympy every piece takes the fallback (docs), the fast paths included
        if len(py) == 1 and "a" <= py <= "z":
            return py, None  # str(Symbol(py))
        value = exact_number(py)
        if value is not None:
            return "", value
    item, value = _sympy_piece(py)
    return (fallback if item is None else item), value


@lru_cache(maxsize=65536)
def _sympy_piece(py: str) -> tuple[str | None, float | None]:
    """(item, value) of a whitelisted Python form built by sympy; (None, None) means: use the piece's fallback."""
    try:
        expr = build_expr(py)
        if getattr(expr, "is_number", False):
            z = complex(expr.evalf())
            if z.imag == 0 and abs(z.real) < 1e15:
                return "", canon(z.real)
        if not hasattr(expr, "free_symbols"):
            return None, None
        return str(expr), None
    except Exception:  # noqa: BLE001 -- any failure on model text (syntax, sympy, import) means: use the fallback
        return None, None


_LETTER = re.compile(r"[a-zA-Z]")


@lru_cache(maxsize=65536)
def _segment(seg: str) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]] | None:
    """(items, stated values, computed values) of one math segment, or None when it is not symbolic (pure
    arithmetic, or prose between two dollar amounts): a pure function of the segment's text, so memoised."""
    bare = _COMMAND.sub("", seg)
    if not _LETTER.search(bare) or _PROSE.search(bare):
        return None  # pure arithmetic (the arithmetic reader's job) or prose between two dollar amounts
    items: list[str] = []
    values: list[float] = []
    computed: list[float] = []
    for piece in _RELATION.split(seg):
        item, value = canonical_piece(piece)
        if value is not None:
            (values if is_literal(piece) else computed).append(value)
        elif item and not _SYMBOL.match(item):
            items.append(item)  # a bare variable name (the x of 'x = 48') is a name, not a derivation
    return tuple(items), tuple(values), tuple(computed)


def symbolic_items(text: str) -> tuple[str, list[str], list[float], list[float]]:
    """(text with symbolic segments blanked, items, stated values, computed values) -- module docstring."""
    if "\\[" not in text and "\\(" not in text and not _MATH_DOLLAR.search(text):
        return text, [], [], []  # no math delimiters: every '$' opens an amount of money ($15, $1,200)
    items: list[str] = []
    values: list[float] = []
    computed: list[float] = []
    pieces: list[str] = []
    pos = 0
    for m in _SEGMENT.finditer(text):
        seg = m.group(m.lastindex)  # the one alternative that matched
        if text[m.end():m.end() + 1].isdigit() or (seg[:1].isdigit() and seg[-1:].isspace()):
            continue  # '$15.00 x $20': two amounts of money, not a math segment
        found = _segment(seg)
        if found is None:
            continue
        pieces.append(text[pos:m.start()])
        pos = m.end()
        items.extend(found[0])
        values.extend(found[1])
        computed.extend(found[2])
    if not pieces:
        return text, [], [], []
    pieces.append(text[pos:])
    return " ".join(pieces), items, values, computed
