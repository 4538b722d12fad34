"""TrainConfig validation, shipped configs, the registry, the CLI, and eval-checkpoints' report (fake sampler)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from harness.train.config import TrainConfig, load_train_config, train_config_from_dict
from tmc_core.config import ConfigError
from tmc_core.names import FINETUNE_KEYS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("data, field_, allowed", [
    ({"method": "dpo"}, "method", "grpo_kl"),
    ({"beta": -0.1}, "beta", ">= 0"),
    ({"method": "grpo_kl", "beta": 0.0}, "beta", "> 0"),
    ({"reward": None}, "reward", "grader, random"),
    ({"reward": "bleu"}, "reward", "grader, random"),
    ({"kl_estimator": "k9"}, "kl_estimator", "forward"),
    ({"method": "rl_rej", "rej_mode": "offline"}, "rej_base_run", "tmc sample"),
    ({"lora_rank": 8}, "lora_rank", "lora_r"),
    ({"rej_mode": "dapo"}, "rej_mode", "leave_out"),
    ({"method": "rl_rej", "rej_baseline": "critic"}, "rej_baseline", "none, group"),
    ({"method": "rl_rej", "rej_mode": "leave_out", "rej_baseline": "group"}, "rej_baseline", "in_loop, offline, both"),
    ({"method": "rl_rej", "rej_mode": "leave_out", "num_generations": 4, "rej_tries": 5}, "rej_tries",
     "[1, num_generations - 1 = 3]"),
])
def test_bad_config_gives_one_clear_error(data, field_, allowed):
    with pytest.raises(ConfigError) as e:
        train_config_from_dict(data, "x.yaml")
    msg = str(e.value)
    assert msg.startswith("x.yaml") and field_ in msg and allowed in msg


def test_every_field_documented_and_registry_matches_names():
    from harness.train.registry import REGISTRY, get_method

    for f in dataclasses.fields(TrainConfig):
        assert f.metadata.get("help"), f.name
    assert set(REGISTRY) == set(FINETUNE_KEYS)
    with pytest.raises(ConfigError, match="allowed values: grpo, grpo_kl, reinforce"):
        get_method("sft")


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("train_*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_train_config(path)
    assert cfg.method in FINETUNE_KEYS


def test_set_overrides_and_cli_error(capsys):
    cfg = load_train_config(ROOT / "configs/train_tiny.yaml", {"method": "grpo_kl", "beta": 0.05})
    assert cfg.method == "grpo_kl" and cfg.beta == 0.05
    from harness.cli import main

    rc = main(["train", "--config", str(ROOT / "configs/train_tiny.yaml"), "--set", "method=ppo2"])
    err = capsys.readouterr().err
    assert rc == 2 and "method" in err and "allowed values" in err and "grpo" in err
    assert main(["train", "--describe"]) == 0
    assert "kl_estimator" in capsys.readouterr().out


def test_eval_checkpoints_report_with_fake_sampler(tmp_path):
    """The checkpoint loop, per-step evaluation and plots, with a sampler writing known outcomes."""
    from harness.store import SampleStore
    from harness.train.eval_checkpoints import build_parser, evaluate_checkpoints

    run = tmp_path / "run"
    for s in (10, 20):
        (run / f"checkpoint-{s}").mkdir(parents=True)
        (run / f"checkpoint-{s}" / "adapter_config.json").write_text("{}")
    (run / "checkpoint-x").mkdir()
    (run / "train_run.json").write_text(json.dumps({"method": "grpo", "model_path": "m", "config": {}}))
    # problem p solved in c of 4 samples: base 1 of 4 on both problems; steps sharpen p0 and lose p1
    outcomes = {0: [1, 1], 10: [2, 1], 20: [4, 0]}
    calls = []

    def sampler(step, adapter):
        calls.append((step, adapter))
        st = SampleStore.open(run / "eval", {"n": 4}, "h")
        st.record_resolved({"backend": "hf", "device": "cpu", "dtype": "float32"}, step)
        st.write_batch([{"problem_id": f"p{j}", "sample_idx": i, "step": step, "correct": i < c,
                         "extracted": str(i < c)} for j, c in enumerate(outcomes[step]) for i in range(4)])

    args = build_parser().parse_args([str(run)])
    rep = evaluate_checkpoints(run, args, sampler=sampler)
    assert [c[0] for c in calls] == [0, 10, 20] and calls[0][1] is None and calls[1][1].endswith("checkpoint-10")
    pk = {s: rep["steps"][s]["pass_at_k"] for s in rep["steps"]}
    assert pk[0]["1"]["mean"] == pytest.approx(0.25) and pk[20]["1"]["mean"] == pytest.approx(0.5)
    assert pk[0]["4"]["mean"] == pytest.approx(1.0) and pk[20]["4"]["mean"] == pytest.approx(0.5)  # squeezing
    assert rep["steps"][20]["vs_base"] == {"lost": ["p1"], "gained": [], "n_lost": 1, "n_gained": 0, "n_kept": 1}
    assert rep["steps"][0]["vs_base"]["n_kept"] == 2 and rep["steps"][10]["vs_base"]["n_lost"] == 0
    assert rep["steps"][20]["per_problem"] == {"p0": {"n": 4, "c": 4}, "p1": {"n": 4, "c": 0}}
    saved = json.loads((run / "eval_report" / "checkpoints_metrics.json").read_text())
    assert saved["steps"]["10"]["per_problem"]["p0"] == {"n": 4, "c": 2}
    assert saved["steps"]["20"]["resolved"] == [{"backend": "hf", "device": "cpu", "dtype": "float32",
                                                 "steps": [0, 10, 20]}]
    from harness.train.eval_checkpoints import shape_table

    rows = shape_table(rep["steps"]).splitlines()
    assert rows[2].startswith("| base | - |") and rows[2].endswith("| 2 | 0 | 0 | - |")
    # step 20: 1 solved, 1 lost, none gained: sign test p = 1 (one discordant problem), Holm over 2 steps = 1
    assert rows[4].endswith("| 1 | 1 | 0 | 1 (1) |")
    assert (run / "eval_report" / "passk_vs_step.png").stat().st_size > 1000
    assert (run / "eval_report" / "passk_vs_k.png").exists()
    # a later call that samples only a new checkpoint keeps the earlier steps in the report
    (run / "checkpoint-30").mkdir()
    (run / "checkpoint-30" / "adapter_config.json").write_text("{}")
    outcomes[30] = [3, 0]
    calls.clear()
    rep = evaluate_checkpoints(run, build_parser().parse_args([str(run), "--steps", "30"]), sampler=sampler)
    assert [c[0] for c in calls] == [30] and sorted(rep["steps"]) == [0, 10, 20, 30]
    saved = json.loads((run / "eval_report" / "checkpoints_metrics.json").read_text())
    assert saved["steps"]["10"]["per_problem"]["p0"] == {"n": 4, "c": 2} and saved["steps"]["30"]["n_solved"] == 1


@pytest.mark.parametrize("rej_mode", ["in_loop", "both"])
def test_in_loop_rejection_under_several_processes_needs_whole_groups(rej_mode, monkeypatch, tmp_path):
    """Each process must hold whole groups (its rows are refilled group by group): 12 rows with G = 8 is refused
    with an error naming the fields; 16 rows passes the check (and fails later, on the missing model)."""
    from harness.train.registry import run_training

    monkeypatch.setenv("WORLD_SIZE", "2")
    base = {"method": "rl_rej", "rej_mode": rej_mode, "model": "/nonexistent", "rej_base_run": str(tmp_path),
            "num_generations": 8, "per_device_train_batch_size": 4}
    with pytest.raises(ConfigError, match=r"per_device_train_batch_size: 4 x gradient_accumulation_steps: 3 = 12 "
                                          r"completions per process is not a multiple of num_generations: 8"):
        run_training(train_config_from_dict({**base, "gradient_accumulation_steps": 3}))
    with pytest.raises(Exception) as e:
        run_training(train_config_from_dict({**base, "gradient_accumulation_steps": 4}))
    assert "not a multiple of num_generations" not in str(e.value)


@pytest.mark.parametrize("overrides, how", [
    ({"steps_per_generation": 3}, r"per_device_train_batch_size: 4 x trl_overrides.steps_per_generation: 3 = 12"),
    ({"generation_batch_size": 24}, r"trl_overrides.generation_batch_size: 24 / 2 processes = 12"),
])
def test_whole_groups_check_reads_the_generation_batch_from_trl_overrides(overrides, how, monkeypatch):
    """TRL generates per_device_train_batch_size x steps_per_generation rows per process; a user who sets
    steps_per_generation or generation_batch_size through trl_overrides is checked on those rows, not on
    gradient_accumulation_steps (here 4 x 4 = 16 would pass)."""
    from harness.train.registry import run_training

    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = train_config_from_dict({"method": "rl_rej", "rej_mode": "in_loop", "model": "/nonexistent",
                                  "num_generations": 8,
                                  "per_device_train_batch_size": 4, "gradient_accumulation_steps": 4,
                                  "trl_overrides": overrides})
    with pytest.raises(ConfigError, match=how + r" completions per process is not a multiple of num_generations: 8"):
        run_training(cfg)


def test_steps_table_puts_base_first_and_every_method_step(tmp_path, capsys):
    from harness.train.eval_checkpoints import build_parser, run, steps_table

    def pk(*means):
        return {str(k): {"mean": m, "lo": m - 0.1, "hi": m + 0.1} for k, m in zip((1, 2, 4), means)}

    a = {"method": "grpo", "steps": {"0": {"pass_at_k": pk(0.2, 0.3, 0.5), "n": 4, "n_problems": 10},
                                     "50": {"pass_at_k": pk(0.4, 0.45, 0.48), "n": 4, "n_problems": 10}}}
    b = {"method": "rl_rej", "steps": {"50": {"pass_at_k": pk(0.3, 0.4, 0.55), "n": 4, "n_problems": 10}}}
    t = steps_table([a, b], ks=(1, 4, 16)).splitlines()
    assert t[0] == "| model | step | problems | n | pass@1 | pass@4 |"  # k = 16 > n is dropped
    assert t[2] == "| base | 0 | 10 | 4 | 0.200 [0.100, 0.300] | 0.500 [0.400, 0.600] |"
    assert [r.split(" | ")[0:2] for r in t[3:]] == [["| grpo", "50"], ["| rl_rej", "50"]]
    for name, rep in (("a", a), ("b", b)):
        (tmp_path / name / "eval_report").mkdir(parents=True)
        (tmp_path / name / "eval_report" / "checkpoints_metrics.json").write_text(json.dumps(rep))
    assert run(build_parser().parse_args([str(tmp_path / "a"), "--table", str(tmp_path / "b")])) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("| rl_rej | 50 |")
    with pytest.raises(ConfigError, match="checkpoints_metrics.json: missing"):
        run(build_parser().parse_args([str(tmp_path / "a"), "--table", str(tmp_path / "none")]))


def test_steps_table_reads_report_files_labels_repeated_methods_and_shows_k_n(tmp_path, capsys):
    """--table takes committed checkpoints_metrics.json files too; two runs of one method are told apart by their
    run folder; pass@n (here 8, not in the default ks) is always a column."""
    from harness.train.eval_checkpoints import build_parser, run

    def pk(m):
        return {str(k): {"mean": m, "lo": m - 0.1, "hi": m + 0.1} for k in (1, 2, 4, 8)}

    files = []
    for name, mean in (("rej_t05", 0.5), ("rej_t099", 0.3)):
        f = tmp_path / name / "checkpoints_metrics.json"
        f.parent.mkdir()
        f.write_text(json.dumps({"run": f"runs/train/{name}", "method": "rl_rej",
                                 "steps": {"50": {"pass_at_k": pk(mean), "n": 8, "n_problems": 64}}}))
        files.append(str(f))
    g = tmp_path / "grpo.json"
    g.write_text(json.dumps({"run": "runs/train/g", "method": "grpo",
                             "steps": {"50": {"pass_at_k": pk(0.2), "n": 8, "n_problems": 64}}}))
    assert run(build_parser().parse_args([files[0], "--table", files[1], str(g)])) == 0
    t = capsys.readouterr().out.strip().splitlines()
    assert t[0] == "| model | step | problems | n | pass@1 | pass@4 | pass@8 |"
    assert [r.split(" | ")[0] for r in t[2:]] == ["| rl_rej (rej_t05)", "| rl_rej (rej_t099)", "| grpo"]
    assert t[3].endswith("| 0.300 [0.200, 0.400] |")


def test_eval_checkpoints_base_run_is_the_same_problems_and_settings(tmp_path):
    """--base-run: step 0 comes from a base sample run restricted to the evaluated problems; other decoding refused;
    a step whose checkpoint folder is gone is evaluated from the store."""
    from harness.store import SampleStore
    from harness.train.eval_checkpoints import BASE_RUN_KEYS, build_parser, evaluate_checkpoints
    from tmc_core.config import ConfigError

    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}", "answer": f"#### {i}"}) + "\n" for i in range(5)))
    base = tmp_path / "base"
    settings = {"model": "m", "source": str(data), "benchmark": "gsm8k", "split": "test", "template": "chat",
                "temperature": 0.7, "top_p": 1.0, "max_new_tokens": 256, "seed": 0, "n": 4}
    st = SampleStore.open(base, settings, "b")
    from harness.data import load_problems

    ids = [p.id for p in load_problems("gsm8k", source=str(data))]  # the current id scheme's, as the stores get
    # base run over all 5 problems: problem i solved i of 4 times (problem 4 solved 4/4, outside the subset)
    st.write_batch([{"problem_id": p, "sample_idx": j, "step": 0, "correct": j < min(i, 4), "extracted": "x"}
                    for i, p in enumerate(ids) for j in range(4)])
    run = tmp_path / "run"
    run.mkdir()
    (run / "train_run.json").write_text(json.dumps({"method": "grpo", "model_path": "m", "config": {
        "model": "m", "benchmark": "gsm8k", "template": "chat", "max_completion_length": 256}}))
    SampleStore.open(run / "eval", {"n": 4}, "h").write_batch(
        [{"problem_id": p, "sample_idx": j, "step": 40, "correct": True, "extracted": "x"}
         for p in ids[:3] for j in range(4)])
    argv = [str(run), "--source", str(data), "--limit", "3", "--n", "4", "--temperature", "0.7", "--top-p", "1.0",
            "--steps", "40", "--base-run", str(base)]
    rep = evaluate_checkpoints(run, build_parser().parse_args(argv), sampler=lambda *a: pytest.fail("sampled"))
    assert sorted(rep["steps"]) == [0, 40]
    assert rep["steps"][0]["n_problems"] == 3 and rep["steps"][0]["source"] == str(base)
    assert rep["steps"][0]["pass_at_k"]["1"]["mean"] == pytest.approx((0 + 1 + 2) / 12)  # problems 0..2 only
    assert rep["steps"][40]["pass_at_k"]["1"]["mean"] == pytest.approx(1.0)
    assert rep["steps"][40]["vs_base"]["gained"] == [ids[0]]
    assert "top_p" in BASE_RUN_KEYS
    with pytest.raises(ConfigError, match="top_p = 1.0 there but 0.95"):
        evaluate_checkpoints(run, build_parser().parse_args(["0.95" if a == "1.0" else a for a in argv]),
                             sampler=lambda *a: None)
    with pytest.raises(ConfigError, match="not a sample run"):
        evaluate_checkpoints(run, build_parser().parse_args(argv[:-1] + [str(tmp_path)]), sampler=lambda *a: None)
    from harness.evaluate import evaluate_run
    from harness.store import StoreError

    with pytest.raises(StoreError, match="lacks 1 of the 2 requested problems"):
        evaluate_run(base, problem_ids=[ids[0], "gsm8k/test/99"])


def test_eval_checkpoints_samples_in_the_training_dtype_by_default(tmp_path):
    """On a CPU `tmc train` trains in float32 (dtype: auto); a CPU with native bf16 would otherwise sample the
    checkpoints in bf16 (the sampler's own auto). --dtype overrides; a base run of another explicit dtype is refused."""
    from harness.store import SampleStore
    from harness.train.eval_checkpoints import build_parser, evaluate_checkpoints, sample_config
    from harness.train.runner import resolved_dtype_name
    from tmc_core.config import ConfigError

    meta = {"model_path": "m", "config": {"model": "m", "benchmark": "gsm8k", "template": "chat",
                                         "max_completion_length": 8, "dtype": "auto"}}
    cpu = resolved_dtype_name("auto")
    assert cpu == ("bfloat16" if torch_cuda() else "float32")
    assert sample_config(meta, build_parser().parse_args(["r"])).dtype == cpu
    assert sample_config(meta, build_parser().parse_args(["r", "--dtype", "auto"])).dtype == "auto"
    meta["config"]["dtype"] = "float16"
    assert sample_config(meta, build_parser().parse_args(["r"])).dtype == "float16"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["r", "--dtype", "fp8"])

    run = tmp_path / "run"
    run.mkdir()
    (run / "train_run.json").write_text(json.dumps({**meta, "method": "grpo"}))
    base = tmp_path / "base"
    st = SampleStore.open(base, {"model": "m", "source": str(tmp_path / "t.jsonl"), "benchmark": "gsm8k",
                                 "split": "test", "template": "chat", "temperature": 0.6,
                                 "top_p": 0.95, "max_new_tokens": 8, "seed": 0, "n": 4, "dtype": "bfloat16"}, "b")
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps({"question": "q", "answer": "#### 1"}) + "\n")
    from harness.data import load_problems

    pid = load_problems("gsm8k", source=str(data))[0].id
    st.write_batch([{"problem_id": pid, "sample_idx": j, "step": 0, "correct": False} for j in range(4)])
    argv = [str(run), "--source", str(data), "--limit", "1", "--n", "4", "--base-run", str(base)]
    explicit = r"drawn in bfloat16 there \(dtype 'bfloat16', its config\) but this evaluation samples in float16"
    with pytest.raises(ConfigError, match=explicit):
        evaluate_checkpoints(run, build_parser().parse_args(argv), sampler=lambda *a: None)
    rep = evaluate_checkpoints(run, build_parser().parse_args(argv + ["--dtype", "bfloat16"]), sampler=lambda *a: None)
    assert rep["steps"][0]["n_problems"] == 1
    # a base run configured `auto` is checked against what auto resolved to there (run.json "resolved")
    st.meta["config"]["dtype"] = "auto"
    st._write_meta()
    st.record_resolved({"backend": "hf", "device": "cpu", "dtype": "bfloat16", "threads": 2}, step=0)
    resolved = r"drawn in bfloat16 there \(dtype 'auto', run.json resolved\) .* samples in float16; .* --dtype bfloat16"
    with pytest.raises(ConfigError, match=resolved):
        evaluate_checkpoints(run, build_parser().parse_args(argv), sampler=lambda *a: None)
    rep = evaluate_checkpoints(run, build_parser().parse_args(argv + ["--dtype", "bfloat16"]), sampler=lambda *a: None)
    assert rep["steps"][0]["n_problems"] == 1


def torch_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
