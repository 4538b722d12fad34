"""`tmc main` (the README's main command) on a tiny budget: the real entry point with the tiny local model, a one-seed
theory table, a few-step TMC-LM and the easy_arith set; summary.md / summary.json hold what THIS run did (a re-run
with smaller settings reports the smaller run, not the stored larger one); re-running resumes."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

TINY_TMCLM = """instance: {kind: paper}
model: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 64}
pretrain: {steps: 30, batch_size: 64, lr: 0.01, warmup_steps: 5, log_every: 30}
posttrain: {methods: [reinforce], steps: 2, prompts_per_step: 2, num_generations: 4, eval_every: 1}
measure: {inference: []}
threads: 1
"""


def _args(out, tiny_model_dir, tmclm_yaml, *extra, threads="1"):
    return ["main", "--out", str(out), "--no-progress", "--threads", threads,
            "--set", "theory_seeds=1", "--set", f"tmclm_config={tmclm_yaml}", "--set", f"sample.model={tiny_model_dir}",
            "--set", "sample.limit=3", "--set", "sample.n=3", "--set", "sample.max_new_tokens=8", "--set", "n_boot=50",
            *extra]


def test_main_job_summary_resume_and_smaller_rerun(tiny_model_dir, tmp_path, capsys):
    from harness.cli import main as tmc

    tm = tmp_path / "tmclm_tiny.yaml"
    tm.write_text(TINY_TMCLM)
    out = tmp_path / "main"
    args = _args(out, tiny_model_dir, tm, threads="2")  # TMC-LM runs with its own 1 thread, the real step with 2
    assert tmc(args) == 0
    printed = capsys.readouterr().out
    assert f"results in {out}" in printed.splitlines()[0]  # the folder is said in the first line
    text = (out / "summary.md").read_text()
    assert "1 Monte-Carlo seeds" in text and "GRPO-KL" in text and "easy" in text and "TASK2" in text
    assert "exact TMC reproduction" not in text  # the Monte-Carlo table is not called exact
    assert "## 2. TMC-LM" in text and "| reinforce |" in text
    assert "## 3. Real model" in text and "| pass@k (%) |" in text and "## How the tables relate" in text
    doc = json.loads((out / "summary.json").read_text())
    (real,) = doc["real"]
    assert real["name"] == "easy_arith" and sorted(real["pass_at_k"]) == ["1", "2", "3"]
    assert real["n_problems"] == 3 and real["n"] == 3 and 0 <= real["solved"] <= 3
    assert real["sampling"]["torch_threads"] == 2  # the TMC-LM step's thread count did not leak into this one
    assert real["settings"]["max_new_tokens"] == 8 and real["settings"]["source"].endswith("easy_arith/test.jsonl")
    assert all(0 <= v <= 100 for v in real["pass_at_k"].values())
    cells = doc["theory"]["cells"]
    assert doc["theory"]["seeds"] == 1 and set(cells["Base Model"]) == {"TASK1", "TASK2"}
    assert abs(sum(cells["Base Model"]["TASK1"][q] for q in ("easy", "hard", "invalid")) - 100) < 1e-6
    assert doc["theory"]["exact"]["within_2_5"][1] == 66
    assert {r["method"] for r in doc["tmclm"]["rows"]} == {"pretrained", "reinforce"}
    for step in ("theory", "tmclm", "model", "real", "total"):
        assert doc["timings"][step]["wall_s"] >= 0 and doc["timings"][step]["cpu_s"] >= 0
    runs = sorted(p.name for p in out.iterdir() if p.name.startswith("easy_arith_"))
    assert len(runs) == 1

    assert tmc(args) == 0  # again: theory and TMC-LM reused, every sample found
    printed = capsys.readouterr().out
    assert "theory (mc): reused" in printed and "TMC-LM: reused" in printed
    assert "All 9 samples were found stored" in (out / "summary.md").read_text()
    assert "Reused, not recomputed, this run" in (out / "summary.md").read_text()

    # smaller settings: fewer problems and samples, fewer seeds; the summary reports exactly that run
    assert tmc(_args(out, tiny_model_dir, tm, "--set", "sample.limit=2", "--set", "sample.n=2", "--skip-tmclm")) == 0
    doc2 = json.loads((out / "summary.json").read_text())
    (real2,) = doc2["real"]
    assert real2["n_problems"] == 2 and real2["n"] == 2 and sorted(real2["pass_at_k"]) == ["1", "2"]
    assert doc2["tmclm"] is None and "## 2. TMC-LM" not in (out / "summary.md").read_text()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("easy_arith_")) == runs  # same store, n not hashed

    assert tmc(_args(out, tiny_model_dir, tm, "--set", "sample.temperature=0.5", "--skip-tmclm",
                     "--skip-theory")) == 0  # another decoding: its own run folder, no refusal
    assert len([p for p in out.iterdir() if p.name.startswith("easy_arith_")]) == 2
    assert json.loads((out / "summary.json").read_text())["theory"] is None


def test_main_job_describe_and_help_are_plain(capsys):
    from harness.cli import main as tmc

    assert tmc(["main", "--describe"]) == 0
    text = capsys.readouterr().out
    assert "MainConfig:" in text and "theory_seeds" in text and "SampleConfig:" in text and "max_new_tokens" in text
    with pytest.raises(SystemExit):
        tmc(["main", "--help"])
    text = capsys.readouterr().out
    assert "--threads" in text and ":class:" not in text and "``" not in text
    assert "summary.json" in text and "pass@k" in text


def test_a_failed_main_run_leaves_no_old_summary(tiny_model_dir, tmp_path, capsys):
    from harness.cli import main as tmc

    out = tmp_path / "main"
    base = ["main", "--out", str(out), "--no-progress", "--skip-theory", "--skip-tmclm", "--set", "n_boot=20",
            "--set", "sample.limit=2", "--set", "sample.n=1", "--set", "sample.max_new_tokens=4"]
    assert tmc(base + ["--set", f"sample.model={tiny_model_dir}"]) == 0 and (out / "summary.json").exists()
    assert tmc(base + ["--set", "sample.model=models/smolm2"]) == 2
    assert "models/smolm2" in capsys.readouterr().err
    assert not (out / "summary.md").exists() and not (out / "summary.json").exists()


def test_busy_machine_hint(monkeypatch):
    import os

    from harness.main_job import busy_hint

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(os, "getloadavg", lambda: (8.3, 8.0, 8.0))
    assert "--threads 1" in busy_hint(None) and busy_hint(1) is None  # a given thread count is respected
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4, 0.3, 0.2))
    assert busy_hint(None) is None
