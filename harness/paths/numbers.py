"""Text normalisation and number canonicalisation for reasoning paths (see docs/paths.md, *Definition*).

``normalise_text(text) -> str`` rewrites a question or a completion so that every way of writing the same arithmetic
reads the same: lower case, at most ``MAX_CHARS`` characters, Unicode folded (NFKC, ``×·⋅ ÷ −`` to ``* / -``),
LaTeX arithmetic (``\\frac{a}{b}`` -> ``(a)/(b)``, ``\\times`` ``\\cdot`` -> ``*``, ``\\div`` -> ``/``, braces ->
parentheses, ``$`` dropped), `` percent`` and `` %`` -> ``%`` and markdown bold dropped. Thousands separators,
word operators, list markers, ``step 2``, ordinals and unit facts (``60 minutes in an hour``) are the scanner's
job (:mod:`harness.paths.arith`).

``canon(v) -> float`` is the value identity of a quantity: integers exactly, other values rounded to 2 decimals
(so 1/3, 0.333 and 0.33 are one quantity; 0.333 and 0.334 too -- a documented merge).

``question_numbers(question) -> frozenset[float]`` the canonical values the question gives: every number (a
percentage both as ``25`` and ``0.25``), every literal fraction ``a/b``, and number words (``three``,
``twenty-four``, ``dozen`` = 12, ``half`` = 0.5, ``twice``/``double`` = 2, ``triple`` = 3, ``quarter`` = 0.25,
``third`` = 1/3). A quantity equal to one of them is never a derived quantity.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 6000
"""Only the first MAX_CHARS characters of a completion are read (a runaway completion stays fast)."""

_UNICODE_OPS = str.maketrans({"\u00d7": "*", "\u22c5": "*", "\u00b7": "*", "\u2217": "*", "\u00f7": "/",
                              "\u2212": "-", "\u2013": "-", "\u2044": "/", "\u2215": "/"})
_UNICODE_PAIRS = tuple((chr(k), v) for k, v in _UNICODE_OPS.items())
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_DIGITS = re.compile(r"\\[dt]?frac\s*(\d)(\d)")
_LATEX_WORDS = re.compile(r"\\(?:times|cdot|ast)\b|\\div\b|\\(?:left|right|big|bigg|Big|Bigg)\b|\\[,;:! ]|\\%|\\\$")
_LATEX_MAP = {"\\times": "*", "\\cdot": "*", "\\ast": "*", "\\div": "/", "\\%": "%", "\\$": " "}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

def _latex(text: str) -> str:
    for _ in range(3):  # nested \frac: innermost first
        new = _FRAC.sub(r"((\1)/(\2))", text)
        if new == text:
            break
        text = new
    text = _FRAC_DIGITS.sub(r"(\1/\2)", text)
    text = _LATEX_WORDS.sub(lambda m: _LATEX_MAP.get(m.group(0), " "), text)
    return text.replace("\\boxed", " ").replace("{", "(").replace("}", ")").replace("$", " ")


def _fold(text: str) -> str:
    """Non-ASCII text to ASCII: NFKC, the Unicode operators to ASCII ones, every other non-ASCII character (and,
    as ever, ``?``) to a space.

    Fast path, same result: the operators are mapped first, and when that leaves ASCII (the only non-ASCII characters
    were the operators of ``_UNICODE_OPS``, ``×``, ``÷``, ``−`` ...: the common case in model text) NFKC and the
    ASCII round trip are skipped -- NFKC is the identity on such text (each operator is its own NFKC form and none is
    or takes a combining mark). Otherwise NFKC runs on the mapped text and the operators are mapped again (NFKC makes
    some: superscript minus to ``−``); mapping an operator to ``*``, ``/``, ``-`` before NFKC changes nothing NFKC
    does (no composition starts from either). ``tests/test_paths_speed_equivalence.py`` checks both paths."""
    for nfkc in (False, True):
        if nfkc:
            text = unicodedata.normalize("NFKC", text)
        for u, a in _UNICODE_PAIRS:  # str.replace per operator: far faster than str.translate on non-ASCII text
            if u in text:
                text = text.replace(u, a)
        if text.isascii():
            return text.replace("?", " ")
    return text.encode("ascii", "replace").decode("ascii").replace("?", " ")


def normalise_text(text: str) -> str:
    """The normalised text (module docstring). Never raises on str input; non-str is read as ''.

    Kept to C-speed string operations: thousands separators, word operators and the numbers that are not
    quantities are handled by the arithmetic reader's scanner (:mod:`harness.paths.arith`).
    """
    if not isinstance(text, str) or not text:
        return ""
    text = text[:MAX_CHARS]
    if not text.isascii():
        text = _fold(text)
    if "\\" in text or "{" in text:
        text = _latex(text)
    elif "$" in text:
        text = text.replace("$", " ")
    text = text.lower()
    if "percent" in text:
        text = text.replace(" percent", "%").replace("per cent", "%")
    if " %" in text:
        text = text.replace(" %", "%")
    if "**" in text:
        text = text.replace("**", " ")
    return text


def canon(v: float) -> float:
    """Value identity of a quantity: exact integers, else rounded to 2 decimals (module docstring)."""
    r = round(v)
    if abs(v - r) <= 1e-9 * max(1.0, abs(v)):
        return float(r) + 0.0
    v = round(v, 2)
    return v + 0.0  # -0.0 -> 0.0


NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)(%?)")
# NUMBER's matches (spans and groups), with the first character consumed by a character class so that re skips the
# text between numbers in C (NUMBER's leading lookbehind makes re try every position): about 3x faster
_NUMBER_SCAN = re.compile(r"([.0-9](?<![\w.][.0-9])(?:(?<=[0-9])\d*(?:\.\d+)?|(?<=\.)\d+))(%?)")
_Q_FRACTION = re.compile(r"(?<![\w.])\(?(\d+)\)?\s*/\s*\(?(\d+)\)?(?![\w.])")
_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2}
_SPECIAL = {"dozen": 12.0, "half": 0.5, "twice": 2.0, "double": 2.0, "triple": 3.0, "quarter": 0.25,
            "third": 1 / 3, "hundred": 100.0, "thousand": 1000.0, "million": 1e6}
_WORD_NUMBER = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[-\s](" + "|".join(k for k in _UNITS if k != "zero") + r"))?|("
    + "|".join(_UNITS) + r"))(?:\s+(hundred|thousand))?\b|\b(" + "|".join(_SPECIAL) + r")s?\b")


@lru_cache(maxsize=4096)
def question_numbers(question: str) -> frozenset[float]:
    """The canonical values the question gives (module docstring); cached per question text."""
    text = normalise_text(question)
    if "," in text:
        text = _THOUSANDS.sub("", text)
    vals: set[float] = set()
    for num, pct in _NUMBER_SCAN.findall(text):
        v = float(num)
        vals.add(v + 0.0 if v.is_integer() else canon(v))  # canon of an integer is itself
        if pct:
            vals.add(canon(v / 100))
    for m in (_Q_FRACTION.finditer(text) if "/" in text else ()):  # no '/', no fraction: skip the scan
        den = float(m.group(2))
        if den:
            vals.add(canon(float(m.group(1)) / den))
    for m in _WORD_NUMBER.finditer(text):
        tens, unit, small, scale, special = m.groups()
        if special:
            vals.add(canon(_SPECIAL[special]))
            continue
        v = float(_TENS[tens] + (_UNITS[unit] if unit else 0)) if tens else float(_UNITS[small])
        vals.add(canon(v))
        if scale:
            vals.add(canon(v * _SPECIAL[scale]))
    return frozenset(vals)
