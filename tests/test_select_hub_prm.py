"""Hub PRM adapters (Qwen2.5-Math-PRM ``<extra_0>``, Math-Shepherd ``ки``) on tiny locally built models with
the same interface: one reward per step, read at the step tokens, causal (a prefix's rewards are the first
rewards of the whole), the class / token each adapter reads."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from harness.select.rewards.hub_prm import HubPRM  # noqa: E402
from harness.select.types import Candidate, ProblemCtx  # noqa: E402

TEXT = "Tom has 3 apples.\n\nHe buys 4 more: 3 + 4 = 7.\n\n#### 7"


def _tiny(kind: str):
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2ForTokenClassification

    from harness.testing.tiny_model import arithmetic_corpus, build_tokenizer

    torch.manual_seed(0)
    tok = build_tokenizer([q + "\n" + a for q, a in arithmetic_corpus(100)], vocab_size=300)
    tok.add_special_tokens({"additional_special_tokens": ["<extra_0>"]} if kind == "qwen_prm" else {})
    if kind == "math_shepherd":
        tok.add_tokens(["ки"])
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, num_labels=2, tie_word_embeddings=False,
                      pad_token_id=tok.pad_token_id)
    model = (Qwen2ForTokenClassification if kind == "qwen_prm" else Qwen2ForCausalLM)(cfg).eval()
    return model, tok


@pytest.mark.parametrize("kind", ["qwen_prm", "math_shepherd"])
def test_one_causal_reward_per_step(kind):
    model, tok = _tiny(kind)
    prm = HubPRM(model, tok, kind, sep="\n\n")
    full = prm.step_rewards("How many apples?", TEXT)
    pre = prm.step_rewards("How many apples?", "Tom has 3 apples.\n\nHe buys 4 more: 3 + 4 = 7.\n\n")
    assert len(full) == 3 and len(pre) == 2
    assert np.allclose(full[:2], pre, atol=1e-5) and np.all((full > 0) & (full < 1))
    ctx = ProblemCtx("p", "prompt", "7", question="How many apples?")
    v, h = prm.values(ctx, [Candidate(TEXT)], 0.5)
    assert np.isclose(v[0], full[-1]) and np.isclose(h[0], np.exp(0.5 * full[-1]))
    assert np.isclose(HubPRM(model, tok, kind, sep="\n\n", agg="min").outcome(ctx, [Candidate(TEXT)])[0], full.min())


def test_qwen_prm_reads_class_one():
    model, tok = _tiny("qwen_prm")
    with torch.no_grad():
        model.score.weight.zero_()
        if model.score.bias is None:
            pytest.skip("score head without bias")
        model.score.bias.copy_(torch.tensor([0.0, 1.0]))
    r = HubPRM(model, tok, "qwen_prm").step_rewards("Q", TEXT)
    assert np.allclose(r, 1 / (1 + np.exp(-1.0)), atol=1e-6)


def test_math_shepherd_reads_plus_against_minus():
    model, tok = _tiny("math_shepherd")
    plus, minus = tok.convert_tokens_to_ids("+"), tok.convert_tokens_to_ids("-")
    with torch.no_grad():
        model.lm_head.weight[minus] = -model.lm_head.weight[plus]   # logit(+) - logit(-) = 2 logit(+)
        lg = None
    prm = HubPRM(model, tok, "math_shepherd")
    ids = tok(prm.text("Q", TEXT), add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        lg = model(input_ids=ids).logits[0]
    at = ids[0] == tok.convert_tokens_to_ids("ки")
    expect = torch.sigmoid(2 * lg[at, plus]).numpy()
    assert np.allclose(prm.step_rewards("Q", TEXT), expect, atol=1e-5)
