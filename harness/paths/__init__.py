"""Reasoning paths of real chains of thought: which computation a completion performs, not how it is worded.

Public API (stable; docs/paths.md has the definition, validation figures and known failure modes):

* ``reasoning_path(question, completion) -> PathKey`` -- the completion's path, hashable;
* ``cluster_paths(question, completions) -> list[int]`` -- equal ints = same path, numbered 0, 1, 2, ... in order
  of first appearance;
* ``PathKey`` -- ``values`` (frozenset of canonical derived quantities) and ``items`` (frozenset of sympy-normalised
  symbolic expressions, MATH); ``PathKey.empty()`` is the *no-computation* path, ``PathKey.unreadable()`` the path
  of a text the readers fail on (e.g. thousands of nested parentheses; never an exception);
* ``describe_path(key) -> str`` -- a short human-readable form for tables; ``key.as_text()`` the whole key as one
  stable string (equal strings <=> equal keys), for storing paths in a table.

Definition. The path of a completion is the **set of quantities it derives**: every value the text obtains by
computation (stated results of equations, implicit intermediates of compound expressions, numbers stated without an
equation), canonicalised (``25%`` = 0.25 = ``25/100``; ``$1,200`` = 1200.0 = ``1,200``), minus the question's own
numbers (restating the question is not a step), plus for MATH the symbolic expressions it derives (sympy canonical
forms). How a quantity is derived enters through the quantities: two strategies differ exactly when one derives an
intermediate quantity the other does not. A set is order-free, so wording, notation and the order of independent
steps cannot change it; repeating a quantity does not either. The readers are :mod:`harness.paths.numbers`
(normalisation), :mod:`harness.paths.arith` (arithmetic) and :mod:`harness.paths.latex` (symbolic LaTeX).

Departures from "the DAG of the computation": the key keeps the derived nodes, not the edges -- two computations
that derive the same set of values from different operands are one path (rare: it needs every intermediate value to
coincide); an arithmetic slip (``48/2 = 25``) is a different path (the slipped value is derived as written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from harness.paths.arith import derived_values
from harness.paths.latex import symbolic_items
from harness.paths.numbers import MAX_CHARS, normalise_text, question_numbers

__all__ = ["PathKey", "reasoning_path", "cluster_paths", "describe_path", "clear_caches", "MAX_CHARS"]


@dataclass(frozen=True)
class PathKey:
    """A reasoning path: the derived quantities (canonical floats) and derived symbolic expressions (strings)."""

    values: frozenset = field(default_factory=frozenset)
    items: frozenset = field(default_factory=frozenset)

    @classmethod
    def empty(cls) -> "PathKey":
        """The no-computation path (empty, non-str, or text that derives nothing beyond the question)."""
        return _EMPTY

    @classmethod
    def unreadable(cls) -> "PathKey":
        """The path of a text the readers failed on (pathological nesting): defined, never an exception."""
        return _UNREADABLE

    @property
    def is_empty(self) -> bool:
        return not self.values and not self.items

    def as_text(self) -> str:
        """The whole key as one stable string (for Parquet columns and joins): ``24|72`` / ``5|x**2 + 3*x`` / ``''``.

        Values sorted and written like :func:`describe_path` does, then items sorted, joined by ``|``; unlike
        ``describe_path`` nothing is cut and a ``|`` inside an item is written ``\\|``, so equal strings <=> equal
        keys."""
        return "|".join([_fmt(v) for v in sorted(self.values)] + [i.replace("|", "\\|") for i in sorted(self.items)])

    def sort_key(self) -> tuple:
        """A total order for stable tables: by size, then values, then items."""
        return (len(self.values) + len(self.items), sorted(self.values), sorted(self.items))


_EMPTY = PathKey()
_UNREADABLE = PathKey(items=frozenset({"unreadable"}))


@lru_cache(maxsize=4096)
def _question_items(question: str) -> frozenset[str]:
    """The symbolic items of the question (dropped from a completion's items); cached per question text."""
    return frozenset(symbolic_items(question)[1])


def _path(q_values: frozenset, q_items: frozenset, completion: str) -> PathKey:
    if not isinstance(completion, str) or not completion:
        return _EMPTY
    try:
        return _read(q_values, q_items, completion)
    except (RecursionError, MemoryError, ValueError, ArithmeticError, TypeError, IndexError, AttributeError):
        return _UNREADABLE  # a reader bug on pathological text must not stop a table of millions of samples


def _read(q_values: frozenset, q_items: frozenset, completion: str) -> PathKey:
    raw = completion[:MAX_CHARS]
    items: frozenset = frozenset()
    stated: list[float] = []
    computed: list[float] = []
    if "$" in raw or "\\" in raw:
        raw, found, stated, computed = symbolic_items(raw)
        items = frozenset(found) - q_items
    values = derived_values(normalise_text(raw), q_values)
    if stated or computed:
        values = values | (frozenset(stated) - q_values) | frozenset(computed)
    if not values and not items:
        return _EMPTY
    return PathKey(values, items)


def reasoning_path(question: str, completion: str) -> PathKey:
    """The reasoning path of ``completion`` as an answer to ``question`` (module docstring). Never raises."""
    q = question if isinstance(question, str) else ""
    return _path(question_numbers(q), _question_items(q), completion)


def cluster_paths(question: str, completions: list[str]) -> list[int]:
    """Cluster labels: equal ints = same reasoning path, numbered 0, 1, 2, ... in order of first appearance.

    The question's numbers are read once per call and identical completion strings are read once.
    """
    q = question if isinstance(question, str) else ""
    q_values, q_items = question_numbers(q), _question_items(q)
    seen: dict = {}
    by_text: dict = {}
    labels = []
    for c in completions:
        key = by_text.get(c) if isinstance(c, str) else None
        if key is None:
            key = _path(q_values, q_items, c)
            if isinstance(c, str):
                by_text[c] = key
        labels.append(seen.setdefault(key, len(seen)))
    return labels


def clear_caches(keep_symbolic: bool = False) -> None:
    """Empty every memo of the readers (question numbers, LaTeX pieces): for cold-cache benchmarks and tests.

    ``keep_symbolic=True`` keeps the memo of sympy-built forms (``latex._sympy_piece``) and empties the rest: the
    benchmark's *sympy-free ceiling* (``scripts/bench_paths.py --ceiling``), the cold rate if symbolic normalisation
    cost nothing."""
    from harness.paths import arith, latex, numbers
    numbers.question_numbers.cache_clear()
    arith._RUN_MEMO.clear()
    latex.canonical_piece.cache_clear()
    if not keep_symbolic:
        latex._sympy_piece.cache_clear()
    latex._segment.cache_clear()
    _question_items.cache_clear()


def _fmt(v: float) -> str:
    """Values are canonical (integers or 2 decimals): written exactly, ``24``, ``1.5``, ``1234567.89``."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else repr(v)


def describe_path(key: PathKey, max_items: int = 8) -> str:
    """Short human-readable form: ``derives 24, 72``, ``derives 5, x**2 + 3*x``, ``no computation``, ``unreadable``."""
    if key.is_empty:
        return "no computation"
    if key == _UNREADABLE:
        return "unreadable"
    parts = [_fmt(v) for v in sorted(key.values)] + sorted(key.items)
    more = f" (+{len(parts) - max_items} more)" if len(parts) > max_items else ""
    return "derives " + ", ".join(parts[:max_items]) + more
