"""End to end through the real ``tmc sample`` CLI with the tiny local model: problems -> samples ->
grades -> the sample store; resume-by-rerun, refusal to mix configs, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pd = pytest.importorskip("pandas")

from harness.cli import main as tmc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY_CFG = str(ROOT / "configs" / "sample_tiny.yaml")


def _raw_rows(run_dir: Path):
    """Every row of every part file, without the store's de-duplication."""
    parts = sorted((run_dir / "samples").glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True), parts


@pytest.fixture(scope="module")
def cli_run(tiny_model_dir, tmp_path_factory, shared_data):
    """One real subprocess run of `tmc sample` (limit 6 x n 4)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "sample", "--config", TINY_CFG,
                           "--set", f"model={tiny_model_dir}", "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_cli_writes_every_sample_graded(cli_run):
    from harness.data import load_problems
    from harness.grading import grade, truncation_rule
    from harness.store import SAMPLE_COLUMNS, SampleStore

    out, proc = cli_run
    assert "24 new samples" in proc.stdout
    assert "problem" in proc.stderr and "tok/s" in proc.stderr  # the progress bar
    df, parts = _raw_rows(out)
    assert len(parts) == 6  # 24 rows / batch_size 4: one atomic part per batch
    assert set(SAMPLE_COLUMNS) <= set(df.columns)
    assert len(df) == 24 and not df.duplicated(["problem_id", "sample_idx", "step"]).any()
    assert df.groupby("problem_id")["sample_idx"].apply(sorted).tolist() == [[0, 1, 2, 3]] * 6
    gold = {p.id: p.answer for p in load_problems("gsm8k", "test", limit=6)}
    assert set(df["problem_id"]) == set(gold)
    for r in df.itertuples():
        g = truncation_rule(grade("gsm8k", r.completion, gold[r.problem_id]), r.finish_reason == "length")
        got = (g.correct, g.extracted, g.status, g.rule)
        assert got == (bool(r.correct), r.extracted, r.grade_status, r.grade_rule)
        if r.grade_status == "truncated":  # a cut completion: its last number does not count
            assert r.finish_reason == "length" and r.grade_rule == "flexible" and not r.correct
        assert 1 <= r.n_tokens <= 24 and r.finish_reason in ("stop", "length")
        assert (r.n_tokens < 24) <= (r.finish_reason == "stop")
        assert r.prompt.startswith("<|im_start|>user") and r.temperature == 1.0 and r.step == 0
    assert len(set(df["seed"])) == 24
    assert SampleStore(out).config["n"] == 4


def test_rerun_is_a_no_op_and_more_problems_extend(cli_run, tiny_model_dir, capsys):
    out, _ = cli_run
    _, parts = _raw_rows(out)
    assert tmc(["sample", "--config", TINY_CFG, "--set", f"model={tiny_model_dir}", "--out", str(out),
                "--no-progress"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert _raw_rows(out)[1] == parts
    assert tmc(["sample", "--config", TINY_CFG, "--set", f"model={tiny_model_dir}", "--out", str(out),
                "--set", "limit=7", "--set", "n=5", "--no-progress"]) == 0
    df, _ = _raw_rows(out)
    assert len(df) == 7 * 5 and not df.duplicated(["problem_id", "sample_idx", "step"]).any()


def test_threads_flag_sets_torch_threads_and_refuses_zero(cli_run, tiny_model_dir, capsys):
    """--threads N is torch.set_num_threads(N) for the sampling (two jobs sharing a CPU each take their share);
    0 is refused by the parser with the allowed values."""
    import torch

    out, _ = cli_run
    before = torch.get_num_threads()
    try:
        assert tmc(["sample", "--config", TINY_CFG, "--set", f"model={tiny_model_dir}", "--out", str(out),
                    "--no-progress", "--threads", "2"]) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit):
        tmc(["eval-checkpoints", str(out), "--threads", "0"])
    assert "--threads: '0'; allowed values: an integer >= 1" in capsys.readouterr().err


def test_refuses_to_mix_configs(cli_run, tiny_model_dir, capsys):
    out, _ = cli_run
    rc = tmc(["sample", "--config", TINY_CFG, "--set", f"model={tiny_model_dir}", "--out", str(out),
              "--set", "temperature=0.5", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "config hash" in err and "refusing to mix" in err
    rc = tmc(["sample", "--config", TINY_CFG, "--set", f"model={tiny_model_dir}", "--out", str(out),
              "--set", "temperature=0.5", "--allow-mixed", "--no-progress"])
    assert rc == 0


def test_steps_and_adapters_are_kept_apart(tiny_model_dir, tmp_path, shared_data):
    from harness.pipeline import SampleConfig, run_sampling
    from harness.store import SampleStore

    cfg = SampleConfig(model=str(tiny_model_dir), limit=2, n=2, max_new_tokens=8, batch_size=4, dtype="float32")
    s0 = run_sampling(cfg, run_dir=tmp_path / "r", progress=False)
    s5 = run_sampling(cfg, run_dir=tmp_path / "r", step=5, progress=False)
    assert s0["new_samples"] == s5["new_samples"] == 4
    df = SampleStore(tmp_path / "r").read()
    assert sorted(df["step"].unique()) == [0, 5] and len(df) == 8
    # same seeds at every step (common random numbers): the same model gives the same samples
    a = df[df.step == 0].sort_values(["problem_id", "sample_idx"])["completion"].tolist()
    b = df[df.step == 5].sort_values(["problem_id", "sample_idx"])["completion"].tolist()
    assert a == b


def test_clear_errors(tiny_model_dir, tmp_path, capsys):
    assert tmc(["sample", "--config", TINY_CFG, "--set", "temprature=0.5", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'temprature'" in err and "allowed fields" in err and "sample_tiny.yaml" in err
    assert tmc(["sample", "--config", TINY_CFG, "--set", "model=./no/such/model", "--out", str(tmp_path / "b"),
                "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unknown model './no/such/model'" in err and err.count("\n") == 1
    assert tmc(["sample", "--config", TINY_CFG, "--set", "backend=tgi", "--out", str(tmp_path / "c")]) == 2
    assert "allowed values: hf, vllm" in capsys.readouterr().err
    assert tmc(["sample", "--config", TINY_CFG, "--set", "n=0", "--out", str(tmp_path / "d")]) == 2
    assert "n: must be >= 1" in capsys.readouterr().err


def test_run_json_records_the_resolved_dtype_and_warns_on_mixing(tiny_model_dir, tmp_path, shared_data, capsys):
    """``dtype: auto`` is bf16 on CPUs with native bf16 and float32 elsewhere: run.json keeps what each session
    actually drew in, with its steps; the report carries it; a later session in another precision is warned."""
    import torch

    from harness.backends.hf import _pick_dtype
    from harness.evaluate import evaluate_run
    from harness.pipeline import SampleConfig, run_sampling
    from harness.store import SampleStore

    rd = tmp_path / "r"
    cfg = SampleConfig(model=str(tiny_model_dir), limit=2, n=2, max_new_tokens=6, batch_size=4, dtype="auto")
    s = run_sampling(cfg, run_dir=rd, progress=False)
    want = str(_pick_dtype("auto", "cpu")).removeprefix("torch.")
    assert s["resolved"]["dtype"] == want and s["resolved"]["device"] == "cpu"
    assert s["resolved"]["threads"] == torch.get_num_threads()
    run_sampling(cfg, run_dir=rd, step=3, progress=False)
    (entry,) = SampleStore(rd).meta["resolved"]
    assert entry["steps"] == [0, 3] and entry["dtype"] == want
    assert evaluate_run(rd, step=3, n_boot=10)["resolved"] == [entry]
    assert "warning" not in capsys.readouterr().err
    # the same run resumed at another step in the other precision: recorded separately, and warned about
    other = "float32" if want == "bfloat16" else "bfloat16"
    run_sampling(SampleConfig(**{**cfg.__dict__, "dtype": other}), run_dir=rd, step=4, progress=False,
                 allow_mixed=True)
    err = capsys.readouterr().err
    assert f"were drawn in {want} on cpu, these in {other} on cpu" in err and "steps [0, 3]" in err
    assert [e["dtype"] for e in SampleStore(rd).meta["resolved"]] == [want, other]
    assert [e["dtype"] for e in evaluate_run(rd, step=4, n_boot=10)["resolved"]] == [other]
