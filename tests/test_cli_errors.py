"""A newcomer's mistakes give one clear message naming the thing and the fix (no traceback), outputs have a printed
default folder, a failed run does not lock its folder, a large sampling job states its size first, and every help
screen is plain text with `--describe` wherever a config is taken."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

import pytest

from harness.cli import COMMANDS
from harness.cli import main as tmc

REPO = Path(__file__).resolve().parents[1]
MARKUP = (":mod:", ":class:", ":func:", ":meth:", "``")


def _parsers():
    """(name, parser) of every command and sub-command."""
    out = []
    for name, (mod, _) in COMMANDS.items():
        try:
            p = importlib.import_module(mod).build_parser(f"tmc {name}")
        except ModuleNotFoundError as e:  # a command whose optional stack is missing
            pytest.skip(f"{name}: {e}")
        out.append((f"tmc {name}", p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                out += [(f"tmc {name} {sub}", sp) for sub, sp in a.choices.items()]
    return out


def test_help_texts_are_plain_text_and_every_option_has_help():
    for name, p in _parsers():
        text = p.format_help()
        assert not [m for m in MARKUP if m in text], f"{name} --help shows reST markup"
        if name == "tmc eval-checkpoints":
            undocumented = [a.option_strings or a.dest for a in p._actions
                            if a.help in (None, "") and not isinstance(a, argparse._HelpAction)]
            assert not undocumented, f"{name}: options without help: {undocumented}"


def test_describe_wherever_a_config_is_taken(capsys):
    for name, p in _parsers():
        opts = {o for a in p._actions for o in a.option_strings}
        if "--config" in opts:
            assert "--describe" in opts, f"{name} takes --config but has no --describe"
    for argv, cls in ((["sample"], "SampleConfig"), (["train"], "TrainConfig"), (["main"], "MainConfig"),
                      (["tmclm"], "TmclmConfig"), (["theory", "reproduce"], "ReproduceConfig"),
                      (["theory", "sweep"], "ReproduceConfig")):
        assert tmc(argv + ["--describe"]) == 0
        assert capsys.readouterr().out.startswith(f"{cls}:"), argv


def test_main_description_is_complete_sentences():
    from harness.main_job import build_parser

    desc = build_parser().description.strip()
    assert desc.endswith(".") and "summary.json" in desc


def test_theory_sweep_help_lists_every_parameter():
    from tmc_theory.cli import build_parser
    from tmc_theory.sweeps import PARAMS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["sweep"].format_help()
    for param in PARAMS:
        assert f"\n  {param} " in text, param


def test_theory_reproduce_without_out_writes_to_a_printed_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert tmc(["theory", "reproduce", "--exact", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "writing to outputs/theory/reproduce (the default" in printed
    assert json.loads((tmp_path / "outputs/theory/reproduce/results.json").read_text())["mode"] == "exact"


def test_train_with_a_missing_model_or_data_path_is_one_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    assert tmc(["train", "--set", "method=grpo", "--set", "model=models/smolm2"]) == 2
    err = capsys.readouterr().err
    assert "models/smolm2" in err and "no such local folder" in err and "Traceback" not in err
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")  # resolve_model only checks the folder
    for source, msg in (("data/nope.jsonl", "data file does not exist"), ("./data/easy_arth", "no such data file")):
        assert tmc(["train", "--set", "method=grpo", "--set", f"model={model}", "--set", f"source={source}"]) == 2
        err = capsys.readouterr().err
        assert msg in err and source.lstrip("./") in err and "Traceback" not in err, err


def test_data_folder_instead_of_file_names_the_files_inside():
    from harness.data import DataError, load_problems

    with pytest.raises(DataError, match="is a folder; source must be one .jsonl file, e.g. .*test.jsonl"):
        load_problems("gsm8k", source=str(REPO / "data" / "easy_arith"))


def test_a_run_json_without_samples_does_not_lock_the_folder(tmp_path):
    pytest.importorskip("pyarrow")
    from harness.store import SampleStore, StoreError

    run = tmp_path / "run"
    SampleStore.open(run, config={"model": "models/smolm2"}, config_hash="aaaa")  # then the run failed
    store = SampleStore.open(run, config={"model": "smollm2"}, config_hash="bbbb")  # the fix: taken over
    assert json.loads((run / "run.json").read_text())["config_hash"] == "bbbb"
    store.write_batch([{"problem_id": "p0", "sample_idx": 0, "step": 0, "completion": "x", "correct": False,
                        "config_hash": "bbbb"}])
    with pytest.raises(StoreError, match="refusing to mix"):  # with samples stored the lock holds
        SampleStore.open(run, config={"model": "other"}, config_hash="cccc")


def test_a_large_sampling_job_states_its_size_and_time_first():
    from harness.run_size import size_line

    line = size_line(1319, 8, 1319 * 8, 256, threads=2)
    assert "1319 problems x 8 samples = 10552 samples" in line and "2,701,312 new tokens" in line
    assert "expected at most ~" in line and " h " in line and "a large run" in line
    small = size_line(32, 4, 128, 96, threads=2)
    assert "expected at most ~" in small and "a large run" not in small
    assert "already stored" in size_line(32, 4, 0, 96)


def test_tmc_sample_prints_the_size_before_it_starts(tiny_model_dir, tmp_path, capsys):
    pytest.importorskip("torch")
    argv = ["sample", "--set", f"model={tiny_model_dir}", "--set", f"source={REPO / 'data/easy_arith/test.jsonl'}",
            "--set", "limit=2", "--set", "n=2", "--set", "max_new_tokens=4", "--out", str(tmp_path / "run"),
            "--no-progress", "--threads", "1"]
    assert tmc(argv) == 0
    out = capsys.readouterr().out
    size = out.index("size: 2 problems x 2 samples = 4 samples (4 to draw, 0 already stored), at most 16 new tokens")
    assert size < out.index("4 new samples")  # said before the work, with an estimate
    assert "expected at most ~" in out


def test_evaluate_reports_only_the_problems_and_samples_asked_for(tmp_path):
    """A store extended to 3 problems x 3 samples, read back by a smaller job (2 problems x 2 samples): the metrics
    are the smaller job's, so `tmc main` re-run with smaller settings does not report the old run."""
    pytest.importorskip("pyarrow")
    from harness.evaluate import evaluate_run
    from harness.store import SampleStore

    s = SampleStore.open(tmp_path / "run", config={}, config_hash="h")
    s.write_batch([dict(problem_id=p, sample_idx=i, step=0, correct=(p == "c" or i == 2), extracted=str(i))
                   for p in ("a", "b", "c") for i in range(3)])
    full = evaluate_run(tmp_path / "run", n_boot=20)
    assert (full["n"], full["n_problems"], full["n_solved"]) == (3, 3, 3)
    small = evaluate_run(tmp_path / "run", n_boot=20, problem_ids=["a", "b"], n=2)
    assert (small["n"], small["n_problems"], small["n_solved"]) == (2, 2, 0)
    assert small["pass_at_k"]["2"]["mean"] == 0.0


def test_the_progress_bar_moves_inside_a_batch(tiny_model_dir, tmp_path, capsys):
    """decode_compacting reports the tokens drawn so far every 8 steps, and run_sampling shows them on its bar, so a
    long batch on a slow CPU is not a bar frozen at 0."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM

    from harness.backends.hf_decode import decode_compacting
    from harness.pipeline import SampleConfig, run_sampling

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[5, 6, 7], [8, 9, 10]])
    calls = []
    tokens, *_ = decode_compacting(model, ids, torch.ones_like(ids), torch.tensor([1, 2]), 1.0, 1.0, 17, set(), 0,
                                   on_step=calls.append)
    assert [len(t) for t in tokens] == [17, 17] and calls == [16, 32]  # after steps 8 and 16, both rows running
    cfg = SampleConfig(model=str(tiny_model_dir), source=str(REPO / "data/easy_arith/test.jsonl"), limit=1, n=2,
                       max_new_tokens=24, temperature=1.0)
    run_sampling(cfg, run_dir=tmp_path / "run", progress=True)
    assert "tokens so far" in capsys.readouterr().err
