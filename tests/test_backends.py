"""The transformers backend on a tiny local model: shapes, finish reasons, per-sample seeds, and the
log-prob sum recomputed independently by a forward pass under the tempered / nucleus distribution."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from harness.backends import BackendError, make_backend  # noqa: E402
from harness.backends.base import derive_seed  # noqa: E402

QUESTIONS = ["Tom has 3 apples and buys 4 more. How many apples does Tom have?",
             "Tom has 13 apples and buys 14 more. How many apples does Tom have? Answer quickly please."]


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    torch.set_num_threads(1)
    return make_backend("hf", str(tiny_model_dir), dtype="float32", batch_size=8)


@pytest.fixture(scope="module")
def prompts(backend):
    tok = backend.tokenizer
    return [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
            for q in QUESTIONS]


def _reference_logprob(backend, prompt: str, token_ids: list[int], temperature: float, top_p: float) -> float:
    """log pi'(y) recomputed with one un-batched forward pass over prompt + completion."""
    tok, model = backend.tokenizer, backend.model
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p_ids + token_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(p_ids) - 1:-1].float()
    total = 0.0
    for t, y in enumerate(token_ids):
        lp = torch.log_softmax(logits[t] / temperature, dim=-1)
        if top_p < 1:
            sp, idx = lp.exp().sort(descending=True)
            keep = idx[(sp.cumsum(0) - sp) < top_p]
            assert y in keep.tolist(), "sampled a token outside the nucleus"
            lp = lp - torch.logsumexp(lp[keep], 0)
        total += float(lp[y])
    return total


def test_shapes_and_finish_reasons(backend, prompts):
    out = backend.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=1)
    assert len(out) == 2 and all(len(r) == 3 for r in out)
    for row in out:
        for c in row:
            assert 1 <= c.n_tokens <= 12 and len(c.token_ids) == c.n_tokens
            ends_eos = c.token_ids[-1] in backend.eos_ids
            assert c.finish_reason == ("stop" if ends_eos else "length")
            if c.finish_reason == "length":
                assert c.n_tokens == 12
            assert c.logprob_sum <= 0 and math.isfinite(c.logprob_sum)
    short = backend.generate(prompts[:1], n=2, temperature=1.0, top_p=1.0, max_new_tokens=1, seed=0)
    assert all(c.n_tokens == 1 for c in short[0])


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.7, 1.0), (1.3, 0.8)])
def test_logprob_sum_is_under_the_sampling_distribution(backend, prompts, temperature, top_p):
    out = backend.generate(prompts, n=2, temperature=temperature, top_p=top_p, max_new_tokens=16, seed=3)
    for p, row in zip(prompts, out):
        for c in row:
            ref = _reference_logprob(backend, p, c.token_ids, temperature, top_p)
            assert c.logprob_sum == pytest.approx(ref, abs=2e-3 * max(1, c.n_tokens))


def test_seeds_reproduce_and_ignore_batch_composition(backend, prompts):
    a = backend.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=7)
    b = backend.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=7)
    assert [[c.token_ids for c in r] for r in a] == [[c.token_ids for c in r] for r in b]
    # sample 2 of prompt 1 drawn alone (no padding, batch of one) is the same sample
    alone = backend.generate(prompts[1:], n=1, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=0,
                             seeds=[[derive_seed(7, "1", 2)]])
    assert alone[0][0].token_ids == a[1][2].token_ids
    other = backend.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_new_tokens=16, seed=8)
    assert [[c.token_ids for c in r] for r in other] != [[c.token_ids for c in r] for r in a]
    texts = {c.text for c in a[0]}
    assert len(texts) > 1, "different seeds within one prompt should give different samples"


def test_shared_prompt_prefill_changes_nothing(backend, prompts):
    """n samples of a prompt share one prefill (KV cache gathered per row): same samples as without."""
    kw = dict(n=3, temperature=1.0, top_p=1.0, max_new_tokens=14, seed=11)
    backend.share_prompt_prefill = True
    a = backend.generate(prompts, **kw)
    backend.share_prompt_prefill = False
    try:
        b = backend.generate(prompts, **kw)
    finally:
        backend.share_prompt_prefill = True
    assert [[c.token_ids for c in r] for r in a] == [[c.token_ids for c in r] for r in b]
    for ra, rb in zip(a, b):
        for ca, cb in zip(ra, rb):
            assert ca.logprob_sum == pytest.approx(cb.logprob_sum, abs=1e-3)


@pytest.mark.parametrize("temperature,top_p,share", [(1.0, 1.0, True), (0.7, 0.9, False), (0.0, 1.0, True)])
def test_row_compaction_gives_the_generate_path_samples(backend, prompts, temperature, top_p, share):
    """The backend's own loop, which drops finished rows, draws exactly what ``generate`` draws, while
    feeding fewer rows to the model once rows of different lengths have stopped."""
    kw = dict(n=6, temperature=temperature, top_p=top_p, max_new_tokens=30, seed=3)
    backend.share_prompt_prefill = share
    try:
        backend.compact_rows = True
        a = backend.generate(prompts, **kw)
        stats = dict(backend.last_stats)
        backend.compact_rows = False
        g = backend.generate(prompts, **kw)
    finally:
        backend.compact_rows, backend.share_prompt_prefill = True, True
    for ra, rg in zip(a, g):
        for ca, cg in zip(ra, rg):
            assert (ca.token_ids, ca.finish_reason, ca.text) == (cg.token_ids, cg.finish_reason, cg.text)
            assert ca.logprob_sum == pytest.approx(cg.logprob_sum, abs=1e-3)
    lengths = {c.n_tokens for r in a for c in r}
    assert len(lengths) > 1, "rows of different lengths are needed for this test to check compaction"
    # each row is fed once per token after its first (the first comes from the prefill), nothing more
    assert stats["decode_row_steps"] == sum(c.n_tokens - 1 for r in a for c in r)
    assert stats["decode_row_steps"] < stats["decode_row_steps_uncompacted"]


def test_row_compaction_falls_back_when_the_cache_cannot_select_rows(backend, prompts, monkeypatch):
    import harness.backends.hf_decode as hd

    kw = dict(n=4, temperature=1.0, top_p=1.0, max_new_tokens=20, seed=5)
    a = backend.generate(prompts, **kw)
    monkeypatch.setattr(hd, "_select_cache_rows", lambda cache, idx: False)
    b = backend.generate(prompts, **kw)
    assert [[c.token_ids for c in r] for r in a] == [[c.token_ids for c in r] for r in b]
    assert backend.last_stats["decode_row_steps"] == backend.last_stats["decode_row_steps_uncompacted"]


def test_greedy_matches_transformers_and_tiny_top_p_is_greedy(backend, prompts):
    g = backend.generate(prompts, n=2, temperature=0.0, top_p=1.0, max_new_tokens=10, seed=0)
    nucleus = backend.generate(prompts, n=1, temperature=1.0, top_p=1e-9, max_new_tokens=10, seed=5)
    tok = backend.tokenizer
    for i, p in enumerate(prompts):
        assert g[i][0].token_ids == g[i][1].token_ids and g[i][0].logprob_sum == 0.0
        ids = tok(p, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            ref = backend.model.generate(**ids, do_sample=False, max_new_tokens=10, pad_token_id=tok.pad_token_id,
                                         eos_token_id=sorted(backend.eos_ids))
        ref_ids = ref[0, ids["input_ids"].shape[1]:].tolist()
        assert g[i][0].token_ids == ref_ids[:len(g[i][0].token_ids)]
        assert nucleus[i][0].token_ids == g[i][0].token_ids
        assert nucleus[i][0].logprob_sum == pytest.approx(0.0, abs=1e-5)


def test_peft_adapter_changes_the_model(backend, prompts, tiny_model_dir, tmp_path):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    lora = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=32, target_modules=["q_proj", "v_proj"],
                                                     init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    with_adapter = make_backend("hf", str(tiny_model_dir), dtype="float32", adapter=str(tmp_path / "adapter"))
    out = with_adapter.generate(prompts, n=2, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=2)
    for p, row in zip(prompts, out):  # log-probs are those of the adapted model, not the base
        for c in row:
            ids = backend.tokenizer(p, add_special_tokens=False)["input_ids"]
            x = torch.tensor([ids + c.token_ids])
            with torch.no_grad():
                logits = lora(input_ids=x).logits[0, len(ids) - 1:-1].float()
            ref = float(torch.log_softmax(logits, -1).gather(1, torch.tensor(c.token_ids)[:, None]).sum())
            assert c.logprob_sum == pytest.approx(ref, abs=1e-3 * max(1, c.n_tokens))
    plain = backend.generate(prompts, n=2, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=2)
    assert [[c.token_ids for c in r] for r in out] != [[c.token_ids for c in r] for r in plain]


def test_bad_arguments(backend, prompts, tiny_model_dir):
    with pytest.raises(BackendError, match="n must be"):
        backend.generate(prompts, n=0, temperature=1.0, top_p=1.0, max_new_tokens=4, seed=0)
    with pytest.raises(BackendError, match="top_p"):
        backend.generate(prompts, n=1, temperature=1.0, top_p=0.0, max_new_tokens=4, seed=0)
    with pytest.raises(BackendError, match="seeds"):
        backend.generate(prompts, n=2, temperature=1.0, top_p=1.0, max_new_tokens=4, seed=0, seeds=[[1, 2]])
    with pytest.raises(BackendError, match="allowed values: hf, vllm"):
        make_backend("tgi", str(tiny_model_dir))
    with pytest.raises(BackendError, match="dtype"):
        make_backend("hf", str(tiny_model_dir), dtype="int3")


def test_derive_seed_is_stable():
    assert derive_seed(0, "gsm8k/test/1", 3) == derive_seed(0, "gsm8k/test/1", 3)
    seeds = {derive_seed(s, p, j) for s in range(2) for p in ("a", "b") for j in range(4)}
    assert len(seeds) == 16 and all(0 <= x < 2 ** 63 for x in seeds)


def test_row_compaction_benchmark_script_runs(tiny_model_dir, tmp_path):
    """Smoke run of scripts/bench_row_compaction.py on the tiny model: both modes, same samples."""
    import json
    from pathlib import Path

    from harness.testing.scripts import load_script

    root = Path(__file__).resolve().parents[1]
    mod = load_script("bench_row_compaction")
    out = tmp_path / "b.json"
    assert mod.main(["--model", str(tiny_model_dir), "--source", str(root / "data/easy_arith/test.jsonl"),
                     "--problems", "2", "--n", "2", "--max-new-tokens", "8", "--batch-size", "4", "--reps", "1",
                     "--dtype", "float32", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    (rep,) = res["reps"]
    assert rep["samples"] == 4 and rep["identical"] == 4
    assert rep["generate"]["new_tokens"] == rep["compact"]["new_tokens"] > 0
