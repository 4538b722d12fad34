"""Expected path keys of fixed corpora: the equivalence fixture of harness.paths speed work (docs/paths.md, *Speed*).

    python scripts/paths_keys_fixture.py [--out tests/data/paths_keys_expected.json.gz]

Writes, per corpus, ``reasoning_path(question, completion).as_text()`` of every completion (gzip JSON). The fixture
was generated from the reader *before* any speed change; ``tests/test_paths_speed_equivalence.py`` recomputes the keys
with the current reader and asserts they are identical, so an optimisation cannot change a result unnoticed.
Corpora: the benchmark's (``gold``, ``long``, ``synthetic``, ``hand``, ``math``) and the validation sets
(``synthetic_hard``, ``synthetic_seed7``), plus more MATH reference solutions (``math_more``: train lines 300-1,499
and the 500 test solutions) for LaTeX coverage. Corpora whose data file is missing are left out (and skipped by the
test).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_paths

from harness.paths import reasoning_path  # noqa: E402
from harness.paths.validation import gold_groups, handlabelled_groups, synthetic_groups  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURE = ROOT / "tests" / "data" / "paths_keys_expected.json.gz"


def _math(path: Path, start: int, stop: int) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        recs = [json.loads(line) for i, line in enumerate(fh) if start <= i < stop]
    return [{"question": r["problem"], "completions": [r["solution"]]} for r in recs]


def corpora(data: Path = SHARED_DATA) -> dict[str, list[dict]]:
    """The fixed corpora (module docstring), each a list of ``{question, completions}`` groups."""
    from bench_paths import _pad  # the benchmark's own padding, so 'long' is the benchmark's corpus

    out: dict[str, list[dict]] = {}
    gsm = data / "gsm8k" / "train.jsonl"
    if gsm.exists():
        out["gold"] = gold_groups(gsm, n_problems=300, copies=3, seed=0)
        out["long"] = _pad(out["gold"])
    out["synthetic"] = synthetic_groups(60, 5, seed=0)
    out["synthetic_hard"] = synthetic_groups(60, 5, seed=0, hard=True)
    out["synthetic_seed7"] = synthetic_groups(30, 4, seed=7)
    out["hand"] = handlabelled_groups()
    math_train, math_test = data / "math" / "train.jsonl", data / "math" / "test.jsonl"
    if math_train.exists():
        out["math"] = _math(math_train, 0, 300)
        out["math_more"] = _math(math_train, 300, 1500) + (_math(math_test, 0, 500) if math_test.exists() else [])
    return out


def keys(groups: list[dict]) -> list[str]:
    return [reasoning_path(g["question"], c).as_text() for g in groups for c in g["completions"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(FIXTURE))
    args = ap.parse_args(argv)
    expected = {name: keys(groups) for name, groups in corpora().items()}
    with gzip.open(args.out, "wt", encoding="utf-8") as fh:
        json.dump(expected, fh, separators=(",", ":"))
    for name, ks in expected.items():
        print(f"{name:16s} {len(ks):6d} keys, {len(set(ks)):6d} distinct")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
