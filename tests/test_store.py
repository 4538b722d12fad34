"""Sample store: atomic part files (incl. SIGKILL mid-write), resume via done(), dedup on read, config hash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from harness.store import SAMPLE_COLUMNS, SampleStore, StoreError


def rows(pid: str, idxs, step: int = 0, tag: str = "a") -> list[dict]:
    return [dict(problem_id=pid, sample_idx=i, step=step, completion=f"{tag}{i}", correct=i % 2 == 0,
                 n_tokens=10 + i, logprob_sum=-1.5 * i, level=None if i else 3, subject="Algebra") for i in idxs]


def test_write_read_roundtrip_and_schema(tmp_path):
    s = SampleStore.open(tmp_path / "run", {"model": "m"}, "abc")
    p = s.write_batch(rows("p1", range(4)))
    assert p.exists() and p.parent == tmp_path / "run" / "samples" and p.suffix == ".parquet"
    df = s.read()
    assert list(df.columns[: len(SAMPLE_COLUMNS)]) == SAMPLE_COLUMNS
    assert len(df) == 4 and set(df["run_id"]) == {"run"} and set(df["config_hash"]) == {"abc"}
    assert df["correct"].tolist() == [True, False, True, False]
    assert df["n_tokens"].tolist() == [10, 11, 12, 13] and str(df["n_tokens"].dtype) == "Int64"
    assert df["level"].isna().sum() == 3 and int(df["level"].dropna().iloc[0]) == 3
    # plain pandas / pyarrow read the part files directly
    direct = pd.read_parquet(tmp_path / "run" / "samples")
    assert len(direct) == 4
    assert s.write_batch([]) is None
    with pytest.raises(StoreError, match="no 'sample_idx'"):
        s.write_batch([{"problem_id": "x"}])
    with pytest.raises(StoreError, match="column 'n_tokens'"):
        s.write_batch([{"problem_id": "x", "sample_idx": 0, "n_tokens": "many"}])


def test_resume_done_and_dedup_keeps_first(tmp_path):
    s = SampleStore.open(tmp_path / "run", {}, "h")
    s.write_batch(rows("p1", range(3), tag="first"))
    s.write_batch(rows("p2", [0]))
    time.sleep(0.001)
    s.write_batch(rows("p1", [2, 3], tag="second"))  # sample 2 re-written after a "crash"
    s.write_batch(rows("p1", [0], step=5))
    assert s.done() == {"p1": {0, 1, 2, 3}, "p2": {0}}
    assert s.done(step=5) == {"p1": {0}}
    df = s.read(step=0)
    assert len(df) == 5 and not df.duplicated(["problem_id", "sample_idx", "step"]).any()
    assert df.set_index(["problem_id", "sample_idx"]).loc[("p1", 2), "completion"] == "first2"
    assert s.steps() == [0, 5]
    # a reopened store sees the same thing
    assert SampleStore.open(tmp_path / "run", {}, "h").done() == s.done()


def test_config_hash_mismatch(tmp_path):
    SampleStore.open(tmp_path / "run", {"temperature": 0.6}, "hash_one").write_batch(rows("p", [0]))
    with pytest.raises(StoreError, match="hash_one.*hash_two"):
        SampleStore.open(tmp_path / "run", {"temperature": 1.0}, "hash_two")
    s = SampleStore.open(tmp_path / "run", {"temperature": 1.0}, "hash_two", allow_mixed=True)
    s.write_batch(rows("p", [1]))
    assert s.read()["config_hash"].tolist() == ["hash_one", "hash_two"]  # rows keep their own hash
    assert s.config_hash == "hash_one" and s.meta["other_config_hashes"] == ["hash_two"]


def test_failed_write_leaves_no_part(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    s = SampleStore.open(tmp_path / "run", {}, "h")
    s.write_batch(rows("p", [0]))

    def broken(table, fh, **kw):
        fh.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError):
        s.write_batch(rows("p", [1]))
    assert len(s.parts()) == 1 and not list((tmp_path / "run" / "samples").glob(".tmp-*"))
    assert s.done() == {"p": {0}}


_WRITER = """
import sys
from harness.store import SampleStore
s = SampleStore.open(sys.argv[1], {}, "h")
i = 0
while True:
    s.write_batch([dict(problem_id=f"p{i}", sample_idx=j, completion="x" * 2000) for j in range(200)])
    i += 1
"""


def test_sigkill_mid_write_leaves_only_complete_parts(tmp_path):
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(run)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(list((run / "samples").glob("part-*.parquet"))) >= 4 if (run / "samples").exists() else False:
                break
            time.sleep(0.05)
        else:
            pytest.fail("writer produced no parts")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = SampleStore(run)
    df = s.read()  # every part readable
    counts = df.groupby("problem_id").size()
    assert len(counts) == len(s.parts()) >= 4 and (counts == 200).all()
