"""The speed work on harness.paths changed no result: keys equal a fixture made by the reader before it.

``tests/data/paths_keys_expected.json.gz`` holds ``reasoning_path(question, completion).as_text()`` of every
completion of the benchmark corpora and the validation sets (``scripts/paths_keys_fixture.py``, generated from the
unmodified reader and committed before any optimisation). Each corpus is recomputed cold (all reader caches cleared)
and then warm (caches full), and both must equal the fixture. A corpus whose data file is missing is skipped.
"""

from __future__ import annotations

import gzip
import importlib.util
import json

import pytest

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("paths_keys_fixture", ROOT / "scripts" / "paths_keys_fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)

with gzip.open(fixture.FIXTURE, "rt", encoding="utf-8") as _fh:
    EXPECTED: dict[str, list[str]] = json.load(_fh)
CORPORA = fixture.corpora()


def _clear_caches() -> None:
    from harness.paths import clear_caches
    clear_caches()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_keys_equal_the_fixture_cold_and_warm(name):
    if name not in CORPORA:
        pytest.skip(f"data for corpus {name} not found")
    _clear_caches()
    cold = fixture.keys(CORPORA[name])
    warm = fixture.keys(CORPORA[name])
    assert len(cold) == len(EXPECTED[name])
    diff = [(i, e, c) for i, (e, c) in enumerate(zip(EXPECTED[name], cold)) if e != c]
    assert not diff, f"{len(diff)} keys changed in {name}, first: {diff[:3]}"
    assert warm == cold


def test_cluster_labels_follow_the_fixture_keys():
    from harness.paths import cluster_paths
    for name in ("synthetic", "hand"):
        it = iter(EXPECTED[name])
        for g in CORPORA[name]:
            ks = [next(it) for _ in g["completions"]]
            first: dict = {}
            assert cluster_paths(g["question"], g["completions"]) == [first.setdefault(k, len(first)) for k in ks]


def _sympy_value(py: str):
    from harness.paths.latex import _sympy_piece
    return _sympy_piece.__wrapped__(py)  # uncached: the sympy build the fast path replaces


def test_exact_number_agrees_with_sympy_on_random_rational_arithmetic():
    """The Fraction fast path gives sympy's value, or defers (None) where sympy must decide."""
    import random

    pytest.importorskip("sympy")
    from harness.paths.latex import exact_number
    rng = random.Random(0)

    def term(depth: int) -> str:
        r = rng.random()
        if depth > 2 or r < 0.35:
            return rng.choice([str(rng.randint(0, 60)), f"{rng.randint(0, 9)}.{rng.randint(0, 99)}",
                               f".{rng.randint(1, 9)}", f"(({rng.randint(1, 12)})/({rng.randint(0, 12)}))"])
        if r < 0.45:
            return f"({term(depth + 1)})"
        if r < 0.55:
            return f"-{term(depth + 1)}"
        if r < 0.62:
            return f"{rng.randint(1, 9)}({term(depth + 1)})"  # implicit product
        if r < 0.7:
            return f"{rng.randint(0, 5)}**{rng.choice(['2', '3', '-1', '0', '((1)/(2))', '(-2)'])}"
        return f"{term(depth + 1)}{rng.choice('+-*/')}{term(depth + 1)}"

    fast = deferred = 0
    for _ in range(1500):
        py = term(0)
        mine = exact_number(py)
        item, value = _sympy_value(py)
        if mine is None:
            deferred += 1
            continue
        fast += 1
        assert (item, value) == ("", mine), py
    assert fast > 1000 and deferred > 30  # both branches exercised: sqrt-like powers and zero divisions defer


@pytest.mark.parametrize("py,expected", [("2+3", 5.0), ("((6)/(4))", 1.5), ("2**-1", 0.5), ("2(3)", 6.0),
                                         ("((1)/(3))", 0.33), ("-.5*4", -2.0), ("1/0", None), ("4**((1)/(2))", None),
                                         ("10**20", None), ("2x", None), ("sqrt(4)", None), ("(", None),
                                         ("5.565", None), ("((1113)/(200))", None), ("1.000000001", None)])
def test_exact_number_cases(py, expected):
    from harness.paths.latex import exact_number
    assert exact_number(py) == expected


def test_fast_paths_match_the_sympy_build_per_piece():
    """Every piece of the MATH corpora goes through canonical_piece equal to the plain sympy build (item, value)."""
    pytest.importorskip("sympy")
    from harness.paths.latex import MAX_PIECE, _RELATION, _SEGMENT, _SPACING, _to_python, canonical_piece
    if "math" not in CORPORA:
        pytest.skip("MATH data not found")
    n = 0
    for g in CORPORA["math"][:120]:
        for text in (g["question"], g["completions"][0]):
            for m in _SEGMENT.finditer(text):
                for piece in _RELATION.split(m.group(m.lastindex)):
                    tex = piece.strip().rstrip(".,;:")
                    py = _to_python(tex) if tex and len(tex) <= MAX_PIECE else None
                    if py is None:
                        continue
                    item, value = _sympy_value(py)
                    if item is None:
                        item = "tex:" + _SPACING.sub("", tex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
                    assert canonical_piece(piece) == (item, value), piece
                    n += 1
    assert n > 500


def test_clear_caches_empties_every_memo():
    """The benchmark's cold figure relies on it: after clear_caches no memo holds anything."""
    from harness.paths import _question_items, arith, clear_caches, cluster_paths, latex, numbers
    cluster_paths("Find $x$ if $2x = 6$.", ["$2x = 6$ so $x = \\frac{6}{2} = 3$ and $x^2 + 3x = 18$", "48/2 = 24"])
    memos = [numbers.question_numbers, latex.canonical_piece, latex._sympy_piece, latex._segment, _question_items]
    assert arith._RUN_MEMO and all(m.cache_info().currsize for m in memos)
    clear_caches()
    assert not arith._RUN_MEMO and not any(m.cache_info().currsize for m in memos)
