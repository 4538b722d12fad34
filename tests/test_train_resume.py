"""A training run SIGKILLed mid-way resumes from its last checkpoint: same data order and samples as an
uninterrupted run, and nothing logged or stored twice (metrics.jsonl, TensorBoard, sample store).

The kill comes right AFTER step 3 was logged and before the step-4 checkpoint, so the resumed process
re-runs step 3: the loggers must drop the killed process's step-3 entries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

SCRIPT = r'''
import os, signal, sys
import torch
torch.set_num_threads(1)
from transformers import TrainerCallback
from harness.train.config import train_config_from_dict
from harness.train.registry import run_training

tiny, out, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Kill(TrainerCallback):  # runs after MetricsJSONL and RunTensorBoard have logged the step
    def on_log(self, args, state, control, **kw):
        if state.global_step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

cfg = train_config_from_dict(dict(method="grpo", model=tiny + "/model", source=tiny + "/train.jsonl",
    num_generations=4, per_device_train_batch_size=8, max_completion_length=16, max_steps=4, learning_rate=2e-2,
    lora_r=4, lora_alpha=8, output_dir=out, save_steps=2, report_to=["tensorboard"], temperature=1.0, seed=0))
run_training(cfg, extra_callbacks=[Kill()] if kill_at > 0 else [])
'''


def _run(tiny, out, kill_at):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tiny), str(out), str(kill_at)], env=env,
                          capture_output=True, text=True, timeout=600)


def _steps_logged(out: Path) -> list[int]:
    return [m["step"] for m in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in m]


@pytest.mark.slow  # three training processes: ~40-60 s on the shared 2-core machine
def test_resume_after_sigkill_matches_uninterrupted_run(rl_tiny, tmp_path):
    from safetensors.torch import load_file

    from harness.store import SampleStore
    from harness.train.callbacks import read_tensorboard_scalars

    ref, run = tmp_path / "ref", tmp_path / "run"
    p = _run(rl_tiny, ref, 0)
    assert p.returncode == 0, p.stderr[-3000:]
    p = _run(rl_tiny, run, 3)
    assert p.returncode == -signal.SIGKILL
    assert (run / "checkpoint-2").is_dir() and not (run / "final").exists()
    assert _steps_logged(run) == [1, 2, 3]  # killed just after step 3 was logged
    assert [st for st, _ in read_tensorboard_scalars(run / "tensorboard", "train/loss")] == [1, 2, 3]
    assert SampleStore(run / "train_samples").steps() == [0, 1, 2]  # step 3's completions (made at step 2) stored
    p = _run(rl_tiny, run, 0)  # resume from checkpoint-2: step 3 runs again
    assert p.returncode == 0, p.stderr[-3000:]
    assert _steps_logged(run) == [1, 2, 3, 4]  # each step logged once
    tb = read_tensorboard_scalars(run / "tensorboard", "train/loss")
    assert [st for st, _ in tb] == [1, 2, 3, 4]  # TensorBoard shows each step once: the killed step 3 is purged
    logged = {
        m["step"]: m["loss"] for m in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in m
    }
    assert all(abs(v - logged[st]) < 1e-6 for st, v in tb)  # and the values are the resumed run's
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 2  # one run folder, two starts

    a, b = SampleStore(ref / "train_samples").read(), SampleStore(run / "train_samples").read()
    assert sorted(b["step"].unique()) == [0, 1, 2, 3]
    # no duplicate rows on disk either: each step's part file written once
    import pyarrow.parquet as pq

    raw = sum(pq.read_table(f).num_rows for f in SampleStore(run / "train_samples").parts())
    assert raw == len(b) == 4 * 8
    key = ["step", "problem_id", "sample_idx"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    assert a[key + ["completion"]].equals(b[key + ["completion"]])  # same data order, same samples
    wa = load_file(ref / "final" / "adapter_model.safetensors")
    wb = load_file(run / "final" / "adapter_model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
