"""`tmc eval` on synthetic sample stores: table, metrics.json values, plot, step handling, errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from harness.cli import main
from harness.evaluate import evaluate_run
from harness.store import SampleStore, StoreError


def make_run(path, n=8, n_problems=12, seed=0, step=0, model="tiny"):
    rng = np.random.default_rng(seed)
    s = SampleStore.open(path, {"model": model}, f"hash{seed}")
    flags = {}
    batch = []
    for p in range(n_problems):
        q = rng.random()
        f = [bool(rng.random() < q) for _ in range(n)]
        flags[f"p{p:02d}"] = f
        for i, ok in enumerate(f):
            batch.append(dict(problem_id=f"p{p:02d}", sample_idx=i, step=step, correct=ok,
                              extracted="42" if ok else str(rng.integers(0, 3)), grade_status="ok",
                              model=model, benchmark="math", level=p % 3 + 1,
                              subject="Algebra" if p % 2 else "Geometry"))
        if len(batch) >= 20:
            s.write_batch(batch)
            batch = []
    s.write_batch(batch)
    return flags


def brute(flags: dict[str, list[bool]], k: int) -> float:
    vals = []
    for f in flags.values():
        subs = list(itertools.combinations(range(len(f)), k))
        vals.append(sum(any(f[i] for i in s) for s in subs) / len(subs))
    return float(np.mean(vals))


def test_eval_cli_table_json_plot(tmp_path, capsys):
    fa = make_run(tmp_path / "base", seed=0)
    fb = make_run(tmp_path / "rl", seed=1, model="tiny-rl")
    out = tmp_path / "out"
    rc = main(["eval", str(tmp_path / "base"), str(tmp_path / "rl"), "--out", str(out), "--n-boot", "200"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "base: model=tiny" in text and "rl: model=tiny-rl" in text and "pass@k" in text and "maj@k" in text
    data = json.loads((out / "metrics.json").read_text())
    assert data["order"] == ["base", "rl"]
    for label, flags in (("base", fa), ("rl", fb)):
        r = data["runs"][label]
        assert r["n"] == 8 and r["n_problems"] == 12 and r["ks"] == list(range(1, 9))
        for k in range(1, 9):
            pk = r["pass_at_k"][str(k)]
            assert pk["mean"] == pytest.approx(brute(flags, k), abs=1e-12)
            assert pk["lo"] <= pk["mean"] <= pk["hi"]
        assert set(r["maj_at_k"]) == {"1", "2", "4", "8"}
        assert r["maj_at_k"]["1"]["mean"] == pytest.approx(r["pass_at_k"]["1"]["mean"])
        assert r["per_problem"] == {pid: {"n": 8, "c": sum(f)} for pid, f in flags.items()}
        assert r["solved"] == sorted(pid for pid, f in flags.items() if any(f))
        assert set(r["by_level"]) == {"1", "2", "3"} and sum(v["n_problems"] for v in r["by_level"].values()) == 12
        assert r["grade_status"] == {"ok": 96}
        block = text.split("\n\n")[["base", "rl"].index(label)]
        line = next(x for x in block.splitlines() if x.strip().startswith("4 "))
        assert f"{r['pass_at_k']['4']['mean']:.3f}" in line
    png = (out / "pass_at_k.png").read_bytes()
    assert png[:4] == b"\x89PNG"


def test_steps_and_ks(tmp_path, capsys):
    run = tmp_path / "train"
    f0 = make_run(run, seed=2, step=0)
    make_run(run, seed=2, step=10)
    with pytest.raises(StoreError, match=r"several steps \[0, 10\]"):
        evaluate_run(run)
    r = evaluate_run(run, step=0, ks=[1, 3], n_boot=50)
    assert r["ks"] == [1, 3] and r["pass_at_k"]["3"]["mean"] == pytest.approx(brute(f0, 3))
    assert main(["eval", str(run)]) == 2
    assert "--step" in capsys.readouterr().err
    assert main(["eval", str(run), "--step", "10", "--ks", "1", "2"]) == 0
    with pytest.raises(StoreError, match=r"not in 1\.\.8"):
        evaluate_run(run, step=0, ks=[9])


def test_incomplete_run_and_missing_dir(tmp_path, capsys):
    s = SampleStore.open(tmp_path / "part", {}, "h")
    s.write_batch([dict(problem_id="a", sample_idx=i, correct=i == 0, extracted=str(i)) for i in range(4)])
    s.write_batch([dict(problem_id="b", sample_idx=0, correct=False, extracted=None, grade_status="no_answer"),
                   dict(problem_id="b", sample_idx=1, correct=None, extracted="7", grade_status="timeout")])
    r = evaluate_run(tmp_path / "part", n_boot=20)
    assert r["grade_status"] == {"<null>": 4, "no_answer": 1, "timeout": 1}
    assert r["per_problem"]["b"] == {"n": 2, "c": 0}  # ungraded (null correct) counts as not solved
    assert (r["n_min"], r["n_max"], r["complete"]) == (2, 4, False)
    assert r["pass_at_k"]["2"]["mean"] == pytest.approx((0.5 + 0.0) / 2)
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "nope: no such folder" in capsys.readouterr().err
    (tmp_path / "empty_dir").mkdir()
    assert main(["eval", str(tmp_path / "empty_dir")]) == 2
    assert "not a sample run" in capsys.readouterr().err


def test_truncated_samples_do_not_vote(tmp_path):
    """A completion cut at the token limit whose only answer is a flexible last-number match is graded wrong
    (status 'truncated'); its number must not vote in maj@k, or maj@1 exceeds pass@1 (seen on a real run:
    0.107 vs 0.086)."""
    s = SampleStore.open(tmp_path / "r", {"model": "m"}, "h")
    rows = [("p0", 0, True, "6", "ok"), ("p0", 1, False, "6", "truncated"), ("p0", 2, False, "6", "truncated"),
            ("p0", 3, False, "5", "ok"), ("p1", 0, False, "7", "truncated"), ("p1", 1, False, "7", "truncated"),
            ("p1", 2, False, "3", "ok"), ("p1", 3, True, "8", "ok")]
    s.write_batch([dict(problem_id=p, sample_idx=i, step=0, correct=ok, extracted=a, grade_status=st, model="m",
                        benchmark="gsm8k") for p, i, ok, a, st in rows])
    r = evaluate_run(tmp_path / "r", n_boot=20)
    assert r["maj_at_k"]["1"]["mean"] == pytest.approx(r["pass_at_k"]["1"]["mean"]) == pytest.approx(0.25)
    # k = 4: p0 votes {6: 1, 5: 1} (tie -> correct half the time); p1 votes {3: 1, 8: 1} likewise
    assert r["maj_at_k"]["4"]["mean"] == pytest.approx(0.5, abs=0.1)


def test_table_shows_the_precision_the_samples_were_drawn_in(tmp_path, capsys):
    make_run(tmp_path / "r", seed=0)
    s = SampleStore(tmp_path / "r")
    s.record_resolved({"backend": "hf", "device": "cpu", "dtype": "bfloat16", "threads": 2}, step=0)
    assert main(["eval", str(tmp_path / "r"), "--n-boot", "20"]) == 0
    assert "drawn in: bfloat16 on cpu, 2 threads\n" in capsys.readouterr().out + "\n"
    s.record_resolved({"backend": "hf", "device": "cpu", "dtype": "float32", "threads": 1}, step=0)
    assert main(["eval", str(tmp_path / "r"), "--n-boot", "20"]) == 0
    out = capsys.readouterr().out
    assert "drawn in: bfloat16 on cpu, 2 threads; float32 on cpu, 1 threads  (mixed precisions)" in out
    make_run(tmp_path / "old", seed=1)  # a run sampled before anything was recorded: no line
    assert main(["eval", str(tmp_path / "old"), "--n-boot", "20"]) == 0
    assert "drawn in" not in capsys.readouterr().out
