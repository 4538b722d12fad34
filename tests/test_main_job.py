"""`tmc main` (the README's main command) on a tiny budget: the real entry point with the tiny local model and a
one-seed theory table; re-running resumes, and a changed sampling setting gets its own run folder."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


def test_main_job_smoke_resume_and_new_config(tiny_model_dir, shared_data, tmp_path, capsys):
    from harness.cli import main as tmc

    out = tmp_path / "main"
    args = ["main", "--out", str(out), "--no-progress", "--set", "theory_seeds=1",
            "--set", f"sample.model={tiny_model_dir}",
            "--set", "sample.limit=3", "--set", "sample.n=2", "--set", "sample.max_new_tokens=12", "--set", "n_boot=50"]
    assert tmc(args) == 0
    text = (out / "summary.md").read_text()
    assert "## Theory: exact TMC reproduction" in text and "GRPO-KL" in text  # the theory table
    assert "## Real model: unbiased pass@k on 3 GSM8K test problems (n = 2" in text and "pass@k" in text
    runs = sorted(p.name for p in out.iterdir() if p.name.startswith("gsm8k_"))
    assert len(runs) == 1 and (out / "real_metrics.json").exists()
    capsys.readouterr()

    assert tmc(args) == 0  # again: theory skipped, every sample found
    printed = capsys.readouterr().out
    assert "theory: already done" in printed and "0 new samples (6 resumed)" in printed

    assert tmc(args + ["--set", "sample.n=3"]) == 0  # more samples extend the same run (n is not in the hash)
    assert "3 new samples (6 resumed)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("gsm8k_")) == runs
    assert tmc(args + ["--set", "sample.temperature=0.5"]) == 0  # another decoding: its own run, no refusal
    runs2 = sorted(p.name for p in out.iterdir() if p.name.startswith("gsm8k_"))
    assert len(runs2) == 2 and set(runs) < set(runs2)
