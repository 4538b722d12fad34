"""Data loaders and prompt templates on the real local files (../shared/data), hub path monkeypatched."""

from __future__ import annotations

import json
import sys
import types

import pytest

from harness.data import DataError, Problem, build_prompt, load_problems
from harness.data.ids import file_tag, folder_tag
from harness.data.math import last_boxed


def test_gsm8k_local_ids_and_gold(shared_data):
    ps = load_problems("gsm8k", "test", limit=5, offset=2)
    tag = file_tag(shared_data / "gsm8k/test.jsonl")
    assert tag.startswith("gsm8k-") and len(tag) == len("gsm8k-") + 8
    assert [p.id for p in ps] == [f"gsm8k/{tag}/test/{i}" for i in range(2, 7)]
    assert [p.legacy_id for p in ps] == [f"gsm8k/test/{i}" for i in range(2, 7)]
    raw = [json.loads(line) for line in (shared_data / "gsm8k/test.jsonl").read_text().splitlines()]
    for p in ps:
        i = int(p.id.rsplit("/", 1)[1])
        assert p.question == raw[i]["question"]
        assert p.answer == raw[i]["answer"].split("####")[-1].strip().replace(",", "")
        assert p.benchmark == "gsm8k" and p.level is None


def test_gsm8k_comma_answers_stripped(shared_data):
    ps = load_problems("gsm8k", "test")
    assert len(ps) == 1319
    raw = [json.loads(line) for line in (shared_data / "gsm8k/test.jsonl").read_text().splitlines()]
    with_commas = [i for i, r in enumerate(raw) if "," in r["answer"].split("####")[-1]]
    assert len(with_commas) == 14  # as documented in the data README
    for i in with_commas:
        assert "," not in ps[i].answer and ps[i].answer.lstrip("-").isdigit()


def test_math500_fields_and_boxed_agrees(shared_data):
    ps = load_problems("math", "test")
    assert len(ps) == 500 and len({p.id for p in ps}) == 500
    assert ps[0].legacy_id == "test/precalculus/807.json" and ps[0].level == 2
    assert ps[0].id == f"math/{file_tag(shared_data / 'math/test.jsonl')}/test/precalculus/807.json"
    assert ps[0].subject == "Precalculus"
    # the README: the last \boxed{} of every MATH-500 solution equals its answer field
    assert all(last_boxed(p.solution) == p.answer for p in ps)


def test_math_train_quirks(shared_data):
    ps = load_problems("math", "train")
    ids = [p.id for p in ps]
    assert len(ids) == len(set(ids)) == 11998  # two empty answers skipped; the repeated id made unique
    assert f"math/{file_tag(shared_data / 'math/train.jsonl')}/test/precalculus/24307.json#2" in ids
    assert len(load_problems("math", "train", skip_empty_answers=False)) == 12000


def test_malformed_jsonl_names_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"question": "q", "answer": "a\\n#### 1"}\n{"question": "q2", "answer": \n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2: malformed JSON"):
        load_problems("gsm8k", source=str(f))
    f.write_text('{"question": "q"}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:1: .*'answer'"):
        load_problems("gsm8k", source=str(f))


def test_unknown_benchmark_and_missing_file(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="allowed: gsm8k, math"):
        load_problems("mmlu")
    monkeypatch.setenv("TMC_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="no local gsm8k"):
        load_problems("gsm8k")
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text('{"question": "q", "answer": "x\\n#### 1,000"}\n')
    assert load_problems("gsm8k")[0].answer == "1000"


def test_hub_path_uses_load_dataset(monkeypatch):
    calls = []

    def fake_load_dataset(name, config=None, split=None):
        calls.append((name, config, split))
        if name == "openai/gsm8k":
            return [{"question": "What is 2+2?", "answer": "2+2=4\n#### 4"}]
        return [{"problem": "p", "solution": "so \\boxed{\\frac12}", "answer": "\\frac12", "subject": "Algebra",
                 "level": 3, "unique_id": "test/algebra/1.json"},
                {"problem": "q", "solution": "\\boxed{7}", "type": "Algebra", "level": "Level 4"}]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=fake_load_dataset))
    g = load_problems("gsm8k", source="openai/gsm8k")
    assert g == [Problem("gsm8k/hub-openai_gsm8k-main/test/0", "What is 2+2?", "4", "2+2=4\n#### 4", "gsm8k",
                         legacy_id="gsm8k/test/0")]
    m = load_problems("math", source="hub", split="test")
    assert calls == [("openai/gsm8k", "main", "test"), ("HuggingFaceH4/MATH-500", None, "test")]
    assert m[0].id == "math/hub-HuggingFaceH4_MATH-500/test/algebra/1.json" and m[0].level == 3
    assert m[1].answer == "7" and m[1].level == 4 and m[1].subject == "Algebra"
    assert m[1].id == "math/hub-HuggingFaceH4_MATH-500/test/1" and m[1].legacy_id == "math/test/1"


def test_math_lighteval_layout_through_real_load_dataset(shared_data, tmp_path, monkeypatch):
    """The MATH train config users name (`DigitalLearningGmbH/MATH-lighteval`, default config: columns problem,
    level "Level N", type, solution; no answer column) read by the REAL `datasets.load_dataset` from a local
    folder laid out like that hub repo (data/<split>-00000-of-00001.parquet), built from the real MATH file."""
    datasets = pytest.importorskip("datasets")
    pa = pytest.importorskip("pyarrow")
    import json

    import pyarrow.parquet as pq

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    raw = [json.loads(ln) for ln in (shared_data / "math" / "train.jsonl").read_text().splitlines()[:300]]
    repo = tmp_path / "MATH-lighteval"
    (repo / "data").mkdir(parents=True)
    table = pa.table({"problem": [r["problem"] for r in raw], "level": [f"Level {r['level']}" for r in raw],
                      "solution": [r["solution"] for r in raw], "type": [r["subject"] for r in raw]})
    pq.write_table(table, repo / "data" / "train-00000-of-00001.parquet")
    probs = load_problems("math", split="train", source=str(repo))
    tag = folder_tag(repo)
    assert tag.startswith("MATH-lighteval-") and [p.id for p in probs[:2]] == [f"math/{tag}/train/{i}" for i in (0, 1)]
    assert len(probs) == 300 and [p.legacy_id for p in probs[:2]] == ["math/train/0", "math/train/1"]
    assert [p.level for p in probs] == [r["level"] for r in raw]
    assert [p.subject for p in probs] == [r["subject"] for r in raw]
    # gold answers come from the last \boxed{} of the solution; they agree with the file's own answer field
    same = sum(p.answer == r["answer"] for p, r in zip(probs, raw))
    assert same >= 0.99 * len(raw), same
    with pytest.raises(DataError, match="could not be loaded"):
        load_problems("math", split="validation", source=str(repo))  # no such split: one clear error


def test_last_boxed_nested_and_unbalanced():
    assert last_boxed(r"a \boxed{1} b \boxed{\frac{1}{\sqrt{2}}} c") == r"\frac{1}{\sqrt{2}}"
    assert last_boxed(r"\boxed{2} then \boxed{unclosed") == "2"
    assert last_boxed("no box") is None
    assert last_boxed(r"\boxed 5.") == "5"


class _Tok:
    chat_template = "x"
    name_or_path = "fake"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        return "<user>" + messages[0]["content"] + "</user><assistant>"


def test_prompts(shared_data):
    g = load_problems("gsm8k", limit=1)[0]
    m = load_problems("math", limit=1)[0]
    comp = build_prompt(g, "completion")
    assert g.question in comp and "####" in comp and comp.endswith("Answer:")
    chat = build_prompt(m, "chat", _Tok())
    assert chat.startswith("<user>") and m.question in chat and "\\boxed{}" in chat
    with pytest.raises(DataError, match="needs a tokenizer"):
        build_prompt(g, "chat")
    with pytest.raises(DataError, match="allowed: chat, completion"):
        build_prompt(g, "fewshot")
    tok = _Tok()
    tok.chat_template = None
    with pytest.raises(DataError, match="no chat template"):
        build_prompt(g, "chat", tok)


def test_prompt_with_tiny_tokenizer(tmp_path, shared_data):
    pytest.importorskip("tokenizers")
    from harness.testing.tiny_model import CHATML_TEMPLATE, build_tokenizer

    tok = build_tokenizer(["hello world 1 2 3"] * 20)
    tok.chat_template = CHATML_TEMPLATE
    g = load_problems("gsm8k", limit=1)[0]
    out = build_prompt(g, "chat", tok)
    assert out.startswith("<|im_start|>user\n") and out.endswith("<|im_start|>assistant\n") and g.question in out


def test_templates_are_format_strings():
    from harness.data.prompts import TEMPLATES

    for template, by_bench in TEMPLATES.items():
        for bench, text in by_bench.items():
            out = text.format(question="Q{x}?")
            assert "Q{x}?" in out
            assert ("\\boxed{}" in out) == (bench == "math") and ("####" in out) == (bench == "gsm8k")
