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
