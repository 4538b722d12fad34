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


def test_clear_caches_can_keep_only_the_sympy_forms():
    """The benchmark's sympy-free ceiling: every memo emptied except the sympy-built forms, which then answer alone."""
    from harness.paths import _question_items, arith, clear_caches, cluster_paths, latex, numbers
    args = ("Find $x$ if $2x = 6$.", ["$x^2 + 3x = 18$ and $\\sqrt{2} y$", "48/2 = 24"])
    first = cluster_paths(*args)
    kept = latex._sympy_piece.cache_info().currsize
    assert kept >= 2
    clear_caches(keep_symbolic=True)
    memos = [numbers.question_numbers, latex.canonical_piece, latex._segment, _question_items]
    assert not arith._RUN_MEMO and not any(m.cache_info().currsize for m in memos)
    assert latex._sympy_piece.cache_info().currsize == kept
    misses = latex._sympy_piece.cache_info().misses
    assert cluster_paths(*args) == first
    assert latex._sympy_piece.cache_info().misses == misses  # sympy not called again


# --- the exact shortcuts of the cold-speed work (docs/paths.md, *Speed*): each equals the code it short-cuts ------


def _random_texts(alphabet: list[str], n: int, seed: int, max_len: int = 12) -> list[str]:
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_len))) for _ in range(n)]


def test_fold_fast_path_equals_nfkc():
    """Text whose only non-ASCII characters are the Unicode operators folds as NFKC + the ASCII round trip does."""
    import unicodedata

    from harness.paths.numbers import _UNICODE_OPS, _UNICODE_PAIRS, _fold

    def reference(text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        for u, a in _UNICODE_PAIRS:
            text = text.replace(u, a)
        return text.encode("ascii", "replace").decode("ascii").replace("?", " ")

    ops = [chr(k) for k in _UNICODE_OPS]
    assert all(unicodedata.normalize("NFKC", u) == u and not unicodedata.combining(u) for u in ops)
    alphabet = ops + list("ab 12.?x*-/=<") + ["\u00bd", "\u2153", "\uff11", "e\u0301", "\u00e9", "\u2014",
                                             "\u207b", "\u208b", "\u0338", "\u0301", "\u2260", "\ufe63", "\uff0d"]
    texts = _random_texts(alphabet, 20000, seed=0) + ["48 \u00d7 2 = 96?", "\u00bd of 48", "caf\u00e9 \u00f7 2"]
    assert sum(t != t.encode("ascii", "ignore").decode() for t in texts) > 15000
    for t in texts:
        assert _fold(t) == reference(t), repr(t)


def test_number_scan_finds_what_number_finds():
    from harness.paths.numbers import _NUMBER_SCAN, NUMBER
    texts = _random_texts(list("0123.,%ab_ (/)-") + ["12", ".5", "3%"], 30000, seed=1, max_len=16)
    for t in texts:
        assert [(m.span(), m.groups()) for m in _NUMBER_SCAN.finditer(t)] == \
               [(m.span(), m.groups()) for m in NUMBER.finditer(t)], repr(t)


_RUN_TOKENS = ["48", "2", "24", "1,200", "0.5", ".5", "3%", " ", "  ", "=", "is", "equals", "+", "-", "*", "/", "x",
               "times", "plus", "minus", "divided by", "multiplied by", "by", "dollars", "this", "(", ")", "^",
               "is ", "times ", "minus ", " is", "equals "]


def _dispatch_before_prefilters(run: str) -> tuple[list, list] | None:
    """(found, computed) of a run by _SIMPLE, _CHAIN or _BIN tried in order without any prefilter (the dispatch of
    _run_values before the speed work), or None when none of them matches."""
    from harness.paths.arith import _BIN, _BINARY, _CHAIN, _OP_SYMBOL, _SIMPLE, _num
    found: list = []
    computed: list = []
    if m := _SIMPLE.fullmatch(run):
        op, c = m.groups()
        (found if op == "/" or op == "divided by" else computed).append(_num(c))
    elif m := _CHAIN.fullmatch(run):
        computed.append(_num(m.group(1) or m.group(2)))
    elif m := _BIN.fullmatch(run):
        a, op, b = m.groups()
        op = _OP_SYMBOL.get(op, op)
        try:
            (found if op == "/" else computed).append(_BINARY[op](_num(a), _num(b)))
        except (ZeroDivisionError, OverflowError):
            pass
    else:
        return None
    return found, computed


def test_run_prefilters_agree_with_the_full_patterns():
    """_PLAIN matches only where _SIMPLE matches, with the same groups; _SIMPLE and _CHAIN need '=', 'is' or
    'equals', _CHAIN two operators of one class; _BIN never matches a run with '='; and the guarded dispatch of
    _run_values gives what _SIMPLE, _CHAIN, _BIN tried in order without guards give."""
    import random

    from harness.paths.arith import _BIN, _CHAIN, _PAIR, _PLAIN, _SIMPLE, _run_values, _two_ops
    rng = random.Random(5)
    nums, sps = ["48", "2.5", "1,200", ".5", "3%", "2dollars", "x"], ["", " ", "  ", " dollars "]
    ops, eqs = ["+", "-", "*", "/", "x", "times", "plus", "minus", "divided by", "multiplied by", "by", "^"], \
        ["=", "is", "equals", "+"]
    shaped = ["".join(rng.choice(part) for part in (nums, sps, ops, sps, nums, sps, eqs, sps, nums))
              for _ in range(30000)]  # 'a op b = c' with odd parts: near _PLAIN's edges
    shaped += ["".join(rng.choice(part) for part in (nums, sps, ops, sps, nums, ops, sps, nums, eqs, sps, nums))
               for _ in range(20000)]  # 'a op b op c = d': near _CHAIN's
    plain = dispatched = chains = 0
    for run in _random_texts(_RUN_TOKENS, 40000, seed=2, max_len=9) + shaped + ["2minus2is2", "2 + 2is2"]:
        if not run:
            continue
        expected = _dispatch_before_prefilters(run)
        if expected is not None:  # the guarded dispatch of _run_values gives what the unguarded one gave
            got: tuple[list, list] = ([], [])
            _run_values(run, *got)
            assert got == expected, run
            dispatched += 1
        p = _PLAIN.fullmatch(run)
        if p:
            plain += 1
            s = _SIMPLE.fullmatch(run)
            assert s is not None and s.groups() == p.groups(), run
        if run[-1] not in "0123456789%":
            assert not any(p.fullmatch(run) for p in (_PLAIN, _SIMPLE, _CHAIN, _BIN, _PAIR)), run
        if _CHAIN.fullmatch(run):
            chains += 1
            assert _two_ops(run), run
        if not ("=" in run or "is" in run or "equals" in run):
            assert _SIMPLE.fullmatch(run) is None and _CHAIN.fullmatch(run) is None, run
        if "=" in run:
            assert _BIN.fullmatch(run) is None, run
    assert plain > 50 and dispatched > 1000 and chains > 200


def test_marker_word_shortcut_equals_the_suffix_test():
    from harness.paths.arith import _MARKER_WORDS, _after_marker_word
    words = ["step", "part", "footstep", "day", "today", "x", " ", "#", "year", "question", "level", "\n", "2", "a"]
    for t in _random_texts([w + s for w in words for s in ("", " ", " #", "  ")], 20000, seed=3, max_len=6):
        for start in range(len(t) + 1):
            assert _after_marker_word(t, start) == t[max(0, start - 10):start].endswith(_MARKER_WORDS), (t, start)


def test_unit_fact_first_letters_cover_its_words():
    import re

    from harness.paths.arith import _UNIT_FACT, _UNIT_FACT_FIRST
    words = re.search(r"\(\?:(minutes\?[^)]*)\)", _UNIT_FACT.pattern).group(1).split("|")
    assert len(words) > 15 and {w[0] for w in words} == set(_UNIT_FACT_FIRST)


def test_number_only_operand_is_what_num_re_finds():
    """The scan's first operand that starts with a digit and ends with a digit or '%' is one whole number."""
    from harness.paths.arith import _NUM_RE, SCAN
    n = 0
    for t in _random_texts(["1", "23", "1,200", ",", ".", "5", "%", " ", "dollars", ")", "(", "-", "/", "x", " + 2",
                            " = 4", " times 3 "], 30000, seed=4, max_len=8):
        for m in SCAN.finditer(t):
            first = m.group(1)
            if first[0].isdigit() and (first[-1].isdigit() or first[-1] == "%"):
                nm = _NUM_RE.search(first)
                assert (nm.group(0), nm.start()) == (first, 0), first
                n += 1
    assert n > 1000


def test_pair_runs_read_as_the_general_path_reads_them():
    """'a = b' / 'a is b' / 'a by b' runs (_PAIR) give what the tokenizer and parser give them (_general)."""
    import random

    from harness.paths.arith import _PAIR, _general, _run_values
    rng = random.Random(7)
    parts = (["48", "2.5", "1,200", ".5", "3%", "12,34", "1,2345", "0", "2.", "007"], ["", " ", "  "],
             ["=", "is", "equals", "by", "is ", "by ", "x", "+"], ["", " ", "  "],
             ["48", "2.5", "1,200", ".5", "3%", "12,34", "0", "007"], ["", "", " dollars", "%"])
    n = 0
    for _ in range(30000):
        run = "".join(rng.choice(p) for p in parts)
        if _PAIR.fullmatch(run):
            fast: tuple[list, list] = ([], [])
            slow: tuple[list, list] = ([], [])
            _run_values(run, *fast)
            _general(run, *slow)
            assert fast == slow, run
            n += 1
    assert n > 5000
