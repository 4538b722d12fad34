"""Resume after SIGKILL: the sampling process is killed mid-run, the same command is run again, and
the store then holds exactly n samples per problem, no duplicate row in any part file, and the very
samples an uninterrupted run draws (float32 tiny model: per-sample seeds make them independent of
how the work was batched)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
TINY_CFG = str(ROOT / "configs" / "sample_tiny.yaml")
LIMIT, N = 6, 4

# Runs the real CLI with generate slowed down (0.4 s per batch), so the kill lands mid-run.
SLOW_CLI = """
import sys, time, torch
torch.set_num_threads(1)
from harness.backends.hf import HFBackend
_gen = HFBackend.generate
def slow(self, *a, **k):
    time.sleep(0.4)
    return _gen(self, *a, **k)
HFBackend.generate = slow
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _args(model, out, batch_size):
    return ["sample", "--config", TINY_CFG, "--set", f"model={model}", "--out", str(out),
            "--set", f"limit={LIMIT}", "--set", f"n={N}", "--set", f"batch_size={batch_size}", "--no-progress"]


def _raw(out: Path):
    parts = sorted((out / "samples").glob("part-*.parquet"))
    return (pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()), parts


def test_sigkill_then_rerun_gives_exactly_n_samples(tiny_model_dir, tmp_path, shared_data):
    from harness.cli import main as tmc

    out = tmp_path / "killed"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CLI, *_args(tiny_model_dir, out, 3)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    try:
        while time.time() < deadline:
            if len(list((out / "samples").glob("part-*.parquet"))) >= 2 if (out / "samples").exists() else False:
                break
            assert proc.poll() is None, "the sampling process ended before it could be killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    before, parts = _raw(out)
    total_parts = LIMIT * N // 3
    assert 2 <= len(parts) < total_parts, "killed too late to test resuming"
    assert len(before) == 3 * len(parts)

    # the same command again, here with another batch size: only the missing samples are drawn
    assert tmc(_args(tiny_model_dir, out, 5)) == 0
    after, _ = _raw(out)
    assert len(after) == LIMIT * N
    assert not after.duplicated(["problem_id", "sample_idx", "step"]).any()
    assert (after.groupby("problem_id")["sample_idx"].apply(lambda s: sorted(s)) == pd.Series(
        {pid: list(range(N)) for pid in after["problem_id"].unique()})).all()
    # rows written before the kill are untouched
    merged = before.merge(after, on=["problem_id", "sample_idx"], suffixes=("_b", "_a"))
    assert (merged["completion_b"] == merged["completion_a"]).all()

    # and the resumed run holds the samples of an uninterrupted run
    ref = tmp_path / "uninterrupted"
    assert tmc(_args(tiny_model_dir, ref, 4)) == 0
    key = ["problem_id", "sample_idx"]
    a = after.sort_values(key)[key + ["completion", "logprob_sum"]].reset_index(drop=True)
    b = _raw(ref)[0].sort_values(key)[key + ["completion", "logprob_sum"]].reset_index(drop=True)
    assert a["completion"].tolist() == b["completion"].tolist()
    assert (a["logprob_sum"] - b["logprob_sum"]).abs().max() < 1e-3
