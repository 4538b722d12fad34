"""Resuming with a changed config is refused (unless --allow-config-change) and the run keeps its config history;
training reward and evaluation agree on a completion that ends with EOS exactly at the token limit."""

from __future__ import annotations

import json

import pytest

from tmc_core.config import ConfigError


def _cfg(tmp_path, **kw):
    from harness.train.config import train_config_from_dict

    return train_config_from_dict(dict(output_dir=str(tmp_path / "run"), report_to=["none"], **kw))


def test_resume_with_changed_config_is_refused_and_lists_the_fields(tmp_path):
    from harness.train.runner import write_run_json

    h1 = write_run_json(_cfg(tmp_path, learning_rate=1e-5), "m")
    assert write_run_json(_cfg(tmp_path, learning_rate=1e-5, max_steps=500), "m") == h1  # longer run: allowed
    with pytest.raises(ConfigError) as e:
        write_run_json(_cfg(tmp_path, learning_rate=2e-5, beta=0.1, method="grpo_kl"), "m")
    msg = str(e.value)
    assert "learning_rate: 1e-05 -> 2e-05" in msg and "beta: 0.0 -> 0.1" in msg and "method: 'grpo' -> 'grpo_kl'" in msg
    assert "max_steps" not in msg.split("(fields that may change")[0] and "--allow-config-change" in msg
    meta = json.loads((tmp_path / "run" / "train_run.json").read_text())
    assert meta["config"]["learning_rate"] == 1e-5 and len(meta["config_history"]) == 2  # refused: nothing written
    write_run_json(_cfg(tmp_path, learning_rate=2e-5, allow_config_change=True), "m")
    meta = json.loads((tmp_path / "run" / "train_run.json").read_text())
    hist = meta["config_history"]
    assert [x["config"]["learning_rate"] for x in hist] == [1e-5, 1e-5, 2e-5]
    assert hist[-1]["changed"] == ["learning_rate: 1e-05 -> 2e-05"] and hist[1]["changed"] == []
    assert meta["config"]["learning_rate"] == 2e-5 and meta["config_hash"] == hist[-1]["config_hash"] != h1


def test_a_run_written_before_config_history_still_resumes(tmp_path):
    from harness.train.runner import write_run_json

    cfg = _cfg(tmp_path)
    write_run_json(cfg, "m")
    path = tmp_path / "run" / "train_run.json"
    old = json.loads(path.read_text())
    del old["config_history"], old["config"]["allow_config_change"]  # the layout before this field existed
    path.write_text(json.dumps(old))
    write_run_json(cfg, "m")
    assert len(json.loads(path.read_text())["config_history"]) == 2


def test_cli_flag_allows_the_change():
    from harness.train.cli import build_parser, load_from_args

    args = build_parser().parse_args(["--set", "output_dir=x", "--allow-config-change"])
    assert load_from_args(args).allow_config_change is True
    assert load_from_args(build_parser().parse_args(["--set", "output_dir=x"])).allow_config_change is False


def test_eos_exactly_at_the_token_limit_is_not_a_cut():
    """A GSM8K completion whose only answer is a last number: rewarded when it ended with EOS (even as the
    max_tokens-th token), not when it was cut at the limit, as ``harness.grading`` grades it in evaluation."""
    from harness.grading import grade_many
    from harness.train.rewards import GraderReward

    r = GraderReward("gsm8k", max_tokens=4, eos_token_ids={0})
    texts, gold = ["so 18"] * 3, ["#### 18"] * 3
    ids = [[5, 6, 7, 0], [5, 6, 7, 8], [5, 6, 0]]  # EOS at the limit, cut at the limit, EOS before it
    got = r(None, texts, gold, completion_ids=ids)
    assert got == [1.0, 0.0, 1.0]
    finish = ["stop", "length", "stop"]  # what the evaluation samplers report for the same three completions
    ev = grade_many("gsm8k", texts, gold, truncated=[f == "length" for f in finish])
    assert got == [1.0 if g.correct else 0.0 for g in ev]


def test_offline_rejection_refuses_a_base_run_of_other_model_data_template_or_decoding(tmp_path):
    from harness.store import SampleStore
    from harness.train.provenance import train_sampling
    from harness.train.rl_rej import offline_rejected_ids

    data = tmp_path / "train.jsonl"
    data.write_text('{"question": "q", "answer": "#### 1"}\n')
    cfg = _cfg(tmp_path, method="rl_rej", rej_mode="offline", rej_base_run=str(tmp_path / "base"), model="org/a",
               source=str(data))
    from harness.data import load_problems

    p = load_problems("gsm8k", split=cfg.split, source=str(data))[0].id
    good = train_sampling(cfg)
    SampleStore.open(tmp_path / "base", good, "h").write_batch(
        [{"problem_id": p, "sample_idx": 0, "correct": True}])
    assert offline_rejected_ids(tmp_path / "base", 0.5, cfg)[0] == {p}
    bad = {**good, "model": "org/b", "source": None, "template": "completion", "temperature": 1.0}
    SampleStore.open(tmp_path / "other", bad, "h").write_batch([{"problem_id": "p", "sample_idx": 0, "correct": True}])
    with pytest.raises(ConfigError) as e:
        offline_rejected_ids(tmp_path / "other", 0.5, cfg)
    for field in ("model = 'org/b' there but 'org/a'", "source = None there", "template = 'completion' there",
                  "temperature = 1.0 there but 0.7"):
        assert field in str(e.value)
    assert "max_new_tokens" not in str(e.value) and "split" not in str(e.value)


def test_base_run_of_another_model_or_source_is_refused(tmp_path):
    from harness.train.provenance import mismatches

    data = tmp_path / "d.jsonl"
    data.write_text("")
    want = {"model": "org/a", "source": str(data), "split": "test"}
    assert mismatches({"model": "org/a", "source": str(tmp_path / "." / "d.jsonl"), "split": "test"}, want) == []
    got = mismatches({"model": "org/b", "source": None, "split": "test"}, want)
    assert got == ["model = 'org/b' there but 'org/a' here", f"source = None there but {str(data)!r} here"]


def test_eval_base_run_of_another_model_or_source_is_refused(tmp_path):
    from harness.pipeline import SampleConfig
    from harness.store import SampleStore
    from harness.train.eval_checkpoints import base_from_run

    data = tmp_path / "d.jsonl"
    data.write_text("")
    scfg = SampleConfig(model="org/a", benchmark="gsm8k", split="test", source=str(data), n=4)
    same = {k: getattr(scfg, k) for k in ("benchmark", "split", "template", "temperature", "top_p", "max_new_tokens",
                                            "seed", "n")}
    SampleStore.open(tmp_path / "base", {**same, "model": "org/b", "source": None}, "b")
    with pytest.raises(ConfigError) as e:
        base_from_run(tmp_path / "base", scfg)
    assert "model = 'org/b' there but 'org/a' in this evaluation" in str(e.value)
    assert "source = None there" in str(e.value) and "split" not in str(e.value)
