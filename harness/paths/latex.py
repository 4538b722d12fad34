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
products of single-letter variables (``ax^2`` = ``a*x**2``). Each piece's
conversion is cached (``lru_cache``): a problem's completions repeat the same expressions.
"""

from __future__ import annotations

import re
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
    code = _FUNC_WORD.sub(lambda m: _FUNC_CODES[m.group(0)], py)
    code = _IMPLICIT.sub("*", code)
    code = _PY_NUMBER.sub(lambda m: f"R('{m.group(0)}')", code)
    return eval(code, _namespace())  # noqa: S307 -- whitelisted input, namespace of symbols only


@lru_cache(maxsize=65536)
def canonical_piece(tex: str) -> tuple[str, float | None]:
    """(item, value): a sympy canonical string, or ('', number) for a constant, or the ``tex:`` fallback."""
    tex = tex.strip().rstrip(".,;:")
    fallback = "tex:" + _SPACING.sub("", tex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    if not tex or len(tex) > MAX_PIECE:
        return (fallback if tex else "", None)
    py = _to_python(tex)
    if py is None:
        return fallback, None
    try:
        expr = build_expr(py)
        if getattr(expr, "is_number", False):
            z = complex(expr.evalf())
            if z.imag == 0 and abs(z.real) < 1e15:
                return "", canon(z.real)
        if not hasattr(expr, "free_symbols"):
            return fallback, None
        return str(expr), None
    except Exception:  # noqa: BLE001 -- any failure on model text (syntax, sympy, import) means: use the fallback
        return fallback, None


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
        seg = next(g for g in m.groups() if g is not None)
        if text[m.end():m.end() + 1].isdigit() or (seg[:1].isdigit() and seg[-1:].isspace()):
            continue  # '$15.00 x $20': two amounts of money, not a math segment
        bare = _COMMAND.sub("", seg)
        if not re.search(r"[a-zA-Z]", bare) or _PROSE.search(bare):
            continue  # pure arithmetic (the arithmetic reader's job) or prose between two dollar amounts
        pieces.append(text[pos:m.start()])
        pos = m.end()
        for piece in _RELATION.split(seg):
            item, value = canonical_piece(piece)
            if value is not None:
                (values if is_literal(piece) else computed).append(value)
            elif item and not _SYMBOL.match(item):
                items.append(item)  # a bare variable name (the x of 'x = 48') is a name, not a derivation
    if not pieces:
        return text, [], [], []
    pieces.append(text[pos:])
    return " ".join(pieces), items, values, computed
