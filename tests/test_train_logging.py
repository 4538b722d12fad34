"""Logging back-ends of `tmc train`: W&B (offline) gets the same metrics as metrics.jsonl, and a resumed run
keeps its W&B run id. (TensorBoard de-duplication across resumes: tests/test_train_resume.py.)"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
torch.set_num_threads(1)

WANDB_KEYS = ("WANDB_PROJECT", "WANDB_RUN_ID", "WANDB_RESUME", "WANDB_MODE", "WANDB_DIR", "WANDB_SILENT")


@pytest.fixture
def clean_wandb_env(monkeypatch):
    for k in WANDB_KEYS:  # set-then-delete: monkeypatch restores "absent" at teardown, whatever the code sets
        monkeypatch.setenv(k, "x")
        monkeypatch.delenv(k)
    return monkeypatch


def test_wandb_env_keeps_one_run_id_per_output_dir(tmp_path, clean_wandb_env):
    from harness.train.config import train_config_from_dict
    from harness.train.runner import wandb_env

    cfg = train_config_from_dict(dict(output_dir=str(tmp_path / "a"), report_to=["wandb"]))
    first = wandb_env(cfg)
    assert first["WANDB_PROJECT"] == "tmc-reweighting" and first["WANDB_RESUME"] == "allow"
    clean_wandb_env.delenv("WANDB_RUN_ID")
    assert wandb_env(cfg)["WANDB_RUN_ID"] == first["WANDB_RUN_ID"]  # a resumed process reuses the id
    clean_wandb_env.delenv("WANDB_RUN_ID")
    other = train_config_from_dict(dict(output_dir=str(tmp_path / "b"), report_to=["wandb"]))
    assert wandb_env(other)["WANDB_RUN_ID"] != first["WANDB_RUN_ID"]
    clean_wandb_env.setenv("WANDB_PROJECT", "mine")
    assert wandb_env(cfg)["WANDB_PROJECT"] == "mine"  # the environment wins


def test_wandb_offline_run_gets_the_training_metrics(rl_tiny, tmp_path, clean_wandb_env):
    wandb = pytest.importorskip("wandb")
    from harness.train.callbacks import read_metrics
    from harness.train.config import train_config_from_dict
    from harness.train.registry import run_training

    clean_wandb_env.setenv("WANDB_MODE", "offline")
    clean_wandb_env.setenv("WANDB_DIR", str(tmp_path / "wandb"))
    clean_wandb_env.setenv("WANDB_SILENT", "true")
    (tmp_path / "wandb").mkdir()
    cfg = train_config_from_dict(dict(
        method="grpo", model=str(rl_tiny / "model"), source=str(rl_tiny / "train.jsonl"), num_generations=4,
        per_device_train_batch_size=8, max_completion_length=16, max_steps=2, learning_rate=2e-2, lora_r=4,
        lora_alpha=8, output_dir=str(tmp_path / "run"), save_steps=100, report_to=["wandb", "tensorboard"],
        temperature=1.0, seed=0, run_name="tiny-grpo"))
    try:
        run_training(cfg)
        run = wandb.run
        assert run is not None and run.name == "tiny-grpo" and run.project == "tmc-reweighting"
        assert run.id == (tmp_path / "run" / "wandb_run_id").read_text().strip()
        summary = dict(run.summary)
        last = [m for m in read_metrics(tmp_path / "run" / "metrics.jsonl") if "reward" in m][-1]
        assert summary["train/global_step"] == 2 and run.step in (2, 3)  # logged on the training-step axis
        for key in ("reward", "frac_reward_zero_std", "tokens_per_s", "entropy"):
            assert summary[f"train/{key}"] == pytest.approx(last[key]), key
    finally:
        wandb.finish()
    assert list((tmp_path / "wandb").glob("wandb/offline-run-*/run-*.wandb"))  # the offline run was written
    assert (tmp_path / "run" / "tensorboard").is_dir()  # both back-ends at once


def test_run_wandb_logs_at_the_training_step():
    """RunWandb logs every dict AT global_step + step_offset (so W&B drops steps a resumed run repeats)."""
    pytest.importorskip("wandb")
    import types

    from harness.train.callbacks import RunWandb

    calls = []
    fake_run = types.SimpleNamespace(summary={})
    fake = types.SimpleNamespace(run=fake_run, log=lambda d, step=None, commit=None: calls.append((step, d)))
    cb = RunWandb(step_offset=10)
    cb._wandb, cb._initialized = fake, True
    state = types.SimpleNamespace(global_step=3, is_world_process_zero=True)
    cb.on_log(None, state, None, logs={"loss": 0.5, "reward": 0.25, "train_runtime": 7.0})
    assert calls == [(13, {"train/loss": 0.5, "train/reward": 0.25, "train/global_step": 13})]
    assert fake_run.summary == {"train_runtime": 7.0}
    cb.on_log(None, state, None, logs={"train_runtime": 8.0, "epoch": 1.0})  # end of training: summary only
    assert len(calls) == 1 and fake_run.summary == {"train_runtime": 8.0}
    cb.on_log(None, types.SimpleNamespace(global_step=4, is_world_process_zero=False), None, logs={"loss": 1.0})
    assert len(calls) == 1  # only rank 0 logs
