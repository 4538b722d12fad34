"""harness.paths validation: adjusted Rand index floors on three ground truths (figures in docs/paths.md).

The floors sit a few points under the measured figures (the sets are deterministic: a drop means the path reader
changed). (a) synthetic multi-strategy problems, truth by construction, plain and with the known-failure renderings;
(b) GSM8K train gold solutions, paraphrased, against a truncated solution and another problem's solution;
(c) the hand-labelled set tests/data/paths_handlabelled.jsonl.
"""

from __future__ import annotations

import pytest

from conftest import SHARED_DATA
from harness.paths.validation import gold_groups, handlabelled_groups, score_groups, synthetic_groups

GSM8K_TRAIN = SHARED_DATA / "gsm8k" / "train.jsonl"


def test_synthetic_strategies_are_recovered():
    s = score_groups(synthetic_groups(n_problems=60, per_strategy=5, seed=0))
    assert s["problems"] == 60 and s["completions"] >= 60 * 2 * 5
    assert s["mean_ari"] >= 0.97 and s["purity"] >= 0.98


def test_synthetic_with_known_failure_renderings_stays_above_its_floor():
    s = score_groups(synthetic_groups(n_problems=60, per_strategy=5, seed=0, hard=True))
    assert s["mean_ari"] >= 0.85
    assert s["purity"] >= 0.97  # the failures split strategies, they do not merge them


def test_synthetic_other_seed():
    assert score_groups(synthetic_groups(n_problems=30, per_strategy=4, seed=7))["mean_ari"] >= 0.95


@pytest.mark.skipif(not GSM8K_TRAIN.exists(), reason=f"GSM8K train data not found at {GSM8K_TRAIN}")
def test_gsm8k_gold_paraphrases_cluster_by_computation():
    s = score_groups(gold_groups(GSM8K_TRAIN, n_problems=300, copies=3, seed=0))
    assert s["problems"] == 300
    assert s["mean_ari"] >= 0.97 and s["pooled_ari"] >= 0.97
    assert s["purity"] >= 0.99  # another problem's computation or a shorter one is (almost) never merged


def test_handlabelled_set():
    s = score_groups(handlabelled_groups())
    assert s["problems"] == 8 and s["completions"] >= 70
    assert s["mean_ari"] >= 0.82
    assert s["purity"] == pytest.approx(1.0)  # no merge of different strategies on this set


def test_handlabelled_arithmetic_subset():
    s = score_groups(handlabelled_groups(subset="arithmetic"))
    assert s["problems"] == 6 and s["mean_ari"] >= 0.9


def test_handlabelled_latex_subset_is_weaker_but_above_its_floor():
    s = score_groups(handlabelled_groups(subset="latex"))
    assert s["problems"] == 2 and s["mean_ari"] >= 0.6


def test_handlabelled_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem": "p", "question": "q", "strategy": "s", "completion": "c"}\n{"problem": "p"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: need JSON with problem, question, strategy, completion"):
        handlabelled_groups(bad)


def _script(name: str):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_script_measures_every_completion():
    bench = _script("bench_paths")
    groups = synthetic_groups(n_problems=6, per_strategy=2, seed=1)
    r = bench.bench(groups, repeats=1)
    assert r["completions"] == sum(len(g["completions"]) for g in groups) and r["problems"] == 6
    assert r["per_s_cpu_median"] > 0 and 0 < r["distinct_share"] <= 1
    padded = bench._pad(groups[:1], target=400)
    assert all(len(c) >= 400 for c in padded[0]["completions"])


@pytest.mark.skipif(not GSM8K_TRAIN.exists(), reason=f"GSM8K train data not found at {GSM8K_TRAIN}")
def test_validation_script_writes_every_set(tmp_path, capsys):
    import json
    out = tmp_path / "v.json"
    assert _script("paths_validation").main(["--gold-problems", "5", "--examples", "1", "--json", str(out)]) == 0
    sets = json.loads(out.read_text())["sets"]
    assert set(sets) == {"synthetic", "synthetic_hard", "gsm8k_gold", "hand_all", "hand_arithmetic", "hand_latex"}
    assert sets["gsm8k_gold"]["problems"] == 5 and "| synthetic |" in capsys.readouterr().out


def test_bench_reads_a_sample_store(tmp_path):
    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    from harness.store import SampleStore
    store = SampleStore.open(tmp_path / "run", {"model": "test"}, "h1")
    q = "Natalia sold 48 clips in April and half as many in May. How many in all?"
    store.write_batch([{"problem_id": p, "sample_idx": i, "prompt": q, "completion": c, "step": s}
                       for p in ("a", "b") for s in (0, 10)
                       for i, c in enumerate(["48/2 = 24, 48 + 24 = 72", None, "48 * 2 = 96"])])
    groups = _script("bench_paths")._run_groups(str(tmp_path / "run"))
    assert len(groups) == 4 and all(len(g["completions"]) == 3 and g["question"] == q for g in groups)
    assert all(g["completions"][1] == "" for g in groups)  # a missing completion is read as empty text
    # a templated prompt: the question is read from it as `tmc paths` reads it (--run-prompt: the whole prompt)
    from harness.data.prompts import TEMPLATES
    prompt = "<|im_start|>user\n" + TEMPLATES["chat"]["gsm8k"].format(question=q) + "<|im_end|>\n"
    store = SampleStore.open(tmp_path / "chat", {"model": "test"}, "h1")
    store.write_batch([{"problem_id": "a", "sample_idx": 0, "prompt": prompt, "completion": "48/2 = 24", "step": 0}])
    assert _script("bench_paths")._run_groups(str(tmp_path / "chat"))[0]["question"] == q
    assert _script("bench_paths")._run_groups(str(tmp_path / "chat"), whole_prompt=True)[0]["question"] == prompt


def test_bench_ab_script_times_a_revision_against_the_tree(tmp_path):
    """The in-process A/B loads harness/paths at a git revision beside the working tree and times both."""
    import json
    import shutil
    import subprocess
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or subprocess.run(["git", "rev-parse", "HEAD"], cwd=root,
                                                     capture_output=True).returncode:
        pytest.skip("no git checkout")
    out = tmp_path / "ab.json"
    ab = _script("bench_paths_ab")
    assert ab.main(["--before", "HEAD", "--repeats", "1", "--corpora", "hand", "--modes", "cold",
                    "--json", str(out)]) == 0
    r = json.loads(out.read_text())["corpora"]["hand"]
    assert r["same_clusters"] and r["completions_per_pass"] == 76
    assert r["cold"]["before_per_s"] > 0 and r["cold"]["after_per_s"] > 0 and len(r["cold"]["cpu_s_after"]) == 1
