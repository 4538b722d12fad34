"""scripts/bench_paths.py and bench_symbolic_pieces.py: their modes time what they say (the figures themselves are in
docs/paths.md, not tested)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ceiling_mode_reuses_the_sympy_forms_and_cold_mode_does_not():
    """--ceiling keeps the warm-up's sympy-built forms (every timed repeat answers them from the memo); cold rebuilds
    them in every repeat (the memo's statistics restart at each clear, so only the last repeat's calls show)."""
    from harness.paths import latex
    b = _script("bench_paths")
    groups = b.handlabelled_groups()  # includes LaTeX pieces that need sympy
    b.bench(groups, repeats=2, cold=True, keep_symbolic=True)
    ceiling = latex._sympy_piece.cache_info()
    assert ceiling.misses > 0 and ceiling.hits >= 2 * ceiling.misses
    b.bench(groups, repeats=2, cold=True)
    cold = latex._sympy_piece.cache_info()
    assert cold.misses == ceiling.misses and cold.hits < 2 * cold.misses


def test_main_writes_every_mode_to_json(tmp_path):
    b = _script("bench_paths")
    out = tmp_path / "bench.json"
    assert b.main(["--corpora", "hand", "--repeats", "1", "--ceiling", "--json", str(out)]) == 0
    res = json.loads(out.read_text())["results"]["hand"]
    assert set(res) == {"cold", "warm", "ceiling"}
    assert all(res[m]["per_s_cpu_median"] > 0 and res[m]["completions"] == 76 for m in res)


def test_symbolic_pieces_collects_exactly_the_forms_sent_to_sympy():
    """bench_symbolic_pieces times the forms cluster_paths hands to sympy: as many as the memo of sympy forms holds
    after the same cold pass, the probe removed afterwards, and each form builds to the item the reader stores."""
    from harness.paths import clear_caches, cluster_paths, latex
    s = _script("bench_symbolic_pieces")
    forms = s.sympy_forms(20)
    assert forms and len(set(forms)) == len(forms)
    assert hasattr(latex._sympy_piece, "cache_clear")  # the probe was restored
    with open(s.MATH, encoding="utf-8") as fh:
        recs = [json.loads(line) for _, line in zip(range(20), fh)]
    clear_caches()
    for r in recs:
        cluster_paths(r["problem"], [r["solution"]])
    assert latex._sympy_piece.cache_info().currsize == len(forms)
    for py in forms:
        item, _ = latex._sympy_piece(py)
        if item:
            assert str(latex.build_expr(py)) == item


def test_symbolic_pieces_partition_check():
    s = _script("bench_symbolic_pieces")
    assert s._disagreements(["a", "b", "a"], ["x", "y", "x"]) == {"sympy_forms_split": 0,
                                                                 "other_forms_merging_sympy_forms": 0}
    assert s._disagreements(["a", "b", "a"], ["x", "x", "z"]) == {"sympy_forms_split": 1,
                                                                 "other_forms_merging_sympy_forms": 1}
