"""What one symbolic (MATH) piece costs to normalise, by stage, with sympy -- and with symengine where installed.

    python scripts/bench_symbolic_pieces.py [--problems 300] [--repeats 3] [--json OUT.json]

The MATH reader (``harness.paths.latex``) hands every LaTeX piece that is neither a single variable nor plain rational
arithmetic to sympy: ``build_expr`` turns the piece's Python form into code (``R('2')`` for numbers, ``*`` for
implicit products), ``eval``s it over a namespace of sympy symbols, and the item is ``str()`` of the result
(``_sympy_piece``). This script collects those Python forms from the first ``--problems`` MATH train reference
solutions (exactly the forms ``cluster_paths`` sends to sympy, cold) and times, per distinct form, CPU microseconds:

* ``compile``  -- ``compile()`` of the code alone;
* ``build``    -- ``eval`` of the precompiled code (sympy's constructors and automatic canonicalisation);
* ``str``      -- printing the built expression (sympy sorts the terms for printing);
* ``total``    -- what ``_sympy_piece`` costs cold: compile + build + str (+ ``is_number``).

sympy's own cache is emptied before each timed pass, as the benchmark's *cold* mode does. If the ``symengine``
package (a C++ core with Python bindings; not a dependency of this project) is importable, the same code is built
with symengine's classes and timed the same way, and the script counts how often the two disagree about which forms
are equal (its printed forms differ from sympy's: ``-6 + x + x**2`` for ``x**2 + x - 6``). Used for issue #27's speed
item (docs/paths.md, *Where 10,000/s stands (fifth session)*): at 10,000 completions/s one completion may take 100 µs
in all.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.paths import clear_caches, cluster_paths, latex  # noqa: E402

MATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "math" / "train.jsonl"


def sympy_forms(problems: int, data: Path = MATH) -> list[str]:
    """The distinct Python forms that ``cluster_paths`` sends to sympy on the first ``problems`` MATH solutions
    (each solution clustered alone with its question, cold, as bench_paths' *math* corpus)."""
    with open(data, encoding="utf-8") as fh:
        recs = [json.loads(line) for _, line in zip(range(problems), fh)]
    seen: list[str] = []
    clear_caches()
    original = latex._sympy_piece
    latex._sympy_piece = lambda py: (seen.append(py), original(py))[1]  # this script's probe, restored below
    try:
        for r in recs:
            cluster_paths(r["problem"], [r["solution"]])
    finally:
        latex._sympy_piece = original
    return list(dict.fromkeys(seen))


def _compile(code: str):
    try:
        return compile(code, "<piece>", "eval")
    except SyntaxError:
        return None


def _time_backend(compiled: list, namespace: dict, clear) -> dict:
    """CPU µs per form of build (eval of precompiled code) and str, one pass, caches cleared first."""
    clear()
    built = []
    t0 = time.process_time()
    for c in compiled:
        try:
            built.append(eval(c, namespace) if c is not None else None)  # noqa: S307 -- whitelisted forms
        except Exception:  # noqa: BLE001 -- as _sympy_piece: a failing form takes the fallback
            built.append(None)
    t1 = time.process_time()
    printed = [str(e) if e is not None else None for e in built]
    t2 = time.process_time()
    n = len(compiled)
    return {"build_us": 1e6 * (t1 - t0) / n, "str_us": 1e6 * (t2 - t1) / n, "printed": printed}


def _symengine_namespace(se) -> dict:
    from fractions import Fraction

    def rational(s: str):
        f = Fraction(s)
        return se.Integer(f.numerator) if f.denominator == 1 else se.Rational(f.numerator, f.denominator)
    ns = {c: se.Symbol(c) for c in string.ascii_lowercase}
    ns.update(R=rational, Q=se.sqrt, S=se.sin, C=se.cos, T=se.tan, L=se.log, E=se.exp, P=se.pi, O=se.oo,
              __builtins__={})
    return ns


def _disagreements(a: list, b: list) -> dict:
    """How many printed forms of one backend map to several of the other's, each way (0, 0: the same partition)."""
    ab, ba = defaultdict(set), defaultdict(set)
    for x, y in zip(a, b):
        ab[x].add(y)
        ba[y].add(x)
    return {"sympy_forms_split": sum(len(v) > 1 for v in ab.values()),
            "other_forms_merging_sympy_forms": sum(len(v) > 1 for v in ba.values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=300, help="MATH train solutions to collect forms from")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes (the median is reported)")
    ap.add_argument("--data", default=str(MATH), help="MATH train.jsonl (default: ../shared/data/math/train.jsonl)")
    ap.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    import sympy  # noqa: F401 -- imported before any clock
    from sympy.core.cache import clear_cache

    forms = sympy_forms(args.problems, Path(args.data))
    codes = [latex.expr_code(py) for py in forms]
    t0 = time.process_time()
    compiled = [_compile(c) for c in codes]
    compile_us = 1e6 * (time.process_time() - t0) / len(codes)
    results: dict = {"forms": len(forms), "problems": args.problems, "compile_us": compile_us}
    backends = {"sympy": (latex._namespace(), clear_cache)}
    try:
        import symengine
        backends["symengine"] = (_symengine_namespace(symengine), lambda: None)
    except ImportError:
        print("symengine not importable: only sympy timed", file=sys.stderr)
    printed = {}
    for name, (ns, clear) in backends.items():
        runs = [_time_backend(compiled, ns, clear) for _ in range(args.repeats + 1)][1:]  # first pass: warm-up
        med = lambda k: sorted(r[k] for r in runs)[len(runs) // 2]  # noqa: E731
        results[name] = {"build_us": med("build_us"), "str_us": med("str_us"),
                         "total_us": compile_us + med("build_us") + med("str_us")}
        printed[name] = runs[0]["printed"]
        print(f"{name:10s} {len(forms)} forms: compile {compile_us:.0f} µs + build {med('build_us'):.0f} µs + "
              f"str {med('str_us'):.0f} µs = {results[name]['total_us']:.0f} µs per form")
    if "symengine" in printed:
        results["partition"] = _disagreements(printed["sympy"], printed["symengine"])
        print(f"symengine vs sympy printed forms: {results['partition']}")
    if args.json:
        from bench_paths import write_json  # scripts/ is this script's own folder, on sys.path when run
        write_json(args.json, "scripts/bench_symbolic_pieces.py", argv, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
