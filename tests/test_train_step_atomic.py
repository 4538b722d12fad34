"""A training step's store rows are written atomically: with in-loop rejection a step is scored in several rounds
(the first generation, then refills); a process SIGKILLed between two rounds of a step and resumed loses no step and
duplicates none — the store ends with the same rows as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

SCRIPT = r'''
import os, signal, sys
import torch
torch.set_num_threads(1)
from harness.train.config import train_config_from_dict
from harness.train.registry import run_training
from harness.train.trainer import RLVRTrainer

tiny, out, kill = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if kill:  # SIGKILL in the first refill round of a step >= 1, after that step's first round was recorded
    score, calls = RLVRTrainer.score_batch, {}
    def score_batch(self, inputs):
        step = self.state.global_step
        calls[step] = calls.get(step, 0) + 1
        if step >= 1 and calls[step] == 2:
            sys.stderr.write(f"KILL {step}\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return score(self, inputs)
    RLVRTrainer.score_batch = score_batch
cfg = train_config_from_dict(dict(method="rl_rej", rej_threshold=0.0, rej_max_refill=1, model=tiny + "/model",
    source=tiny + "/train.jsonl", num_generations=4, per_device_train_batch_size=8, max_completion_length=20,
    max_steps=2, learning_rate=2e-2, lora_r=4, lora_alpha=8, output_dir=out, save_steps=1, report_to=["none"],
    temperature=1.0, seed=0))
run_training(cfg)
'''


def _run(tiny, out, kill):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tiny), str(out), "1" if kill else "0"], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow  # three training processes: ~1-2 min on the shared 2-core machine
def test_sigkill_between_rejection_rounds_loses_and_duplicates_no_step(rl_tiny, tmp_path):
    import pyarrow.parquet as pq

    from harness.store import SampleStore

    ref, run = tmp_path / "ref", tmp_path / "run"
    p = _run(rl_tiny, ref, False)
    assert p.returncode == 0, p.stderr[-3000:]
    p = _run(rl_tiny, run, True)
    assert p.returncode == -signal.SIGKILL, "no refill round happened at step >= 1: " + p.stderr[-2000:]
    killed_at = int(p.stderr.split("KILL ")[1].split()[0])
    assert SampleStore(run / "train_samples").steps() == list(range(killed_at))  # no part of the killed step
    p = _run(rl_tiny, run, False)  # resume from the checkpoint of the killed step
    assert p.returncode == 0, p.stderr[-3000:]
    a, b = SampleStore(ref / "train_samples").read(), SampleStore(run / "train_samples").read()
    assert sorted(b["step"].unique()) == [0, 1]
    raw = sum(pq.read_table(f).num_rows for f in SampleStore(run / "train_samples").parts())
    assert raw == len(b)  # no row on disk twice
    assert b.groupby("step").size().to_dict() == a.groupby("step").size().to_dict()  # every round of every step
    key = ["step", "problem_id", "sample_idx"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    assert a[key + ["completion"]].equals(b[key + ["completion"]])
