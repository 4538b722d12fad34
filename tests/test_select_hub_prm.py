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


# --- Skywork-o1-Open-PRM: value head on a Qwen2 base, read at the step tokens --------------------------------

SKY = "Tom has 3 apples.\nHe buys 4 more: 3 + 4 = 7.\n#### 7"


def _skywork_reference(tok, problem, response, step_token):
    """Skywork's prepare_input (skywork-o1-prm-inference, model_utils/io_utils.py) written out as published:
    the response split at the step token, every piece encoded on its own and followed by the step token id."""
    prompt_ids = tok.encode((tok.bos_token or "") + problem + "\n", add_special_tokens=False)
    flags, ids = [0] * len(prompt_ids), list(prompt_ids)
    t = tok.encode(step_token, add_special_tokens=False)[-1]
    for step in response.split(step_token):
        step_ids = (tok.encode(step, add_special_tokens=False) if step != "" else []) + [t]
        ids += step_ids
        flags += [0] * (len(step_ids) - 1) + [1]
    return ids, flags


@pytest.fixture(scope="module")
def skywork_dir(tmp_path_factory):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from harness.select.rewards.skywork_prm import save_value_head_checkpoint
    from harness.testing.tiny_model import arithmetic_corpus, build_tokenizer

    torch.manual_seed(0)
    tok = build_tokenizer([q + "\n" + a for q, a in arithmetic_corpus(100)], vocab_size=300)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                      pad_token_id=tok.pad_token_id)
    return save_value_head_checkpoint(Qwen2ForCausalLM(cfg).eval(), tok, tmp_path_factory.mktemp("skywork"))


def test_skywork_ids_are_skyworks_prepare_input(skywork_dir):
    from transformers import AutoTokenizer

    from harness.select.rewards.skywork_prm import prepare_ids

    tok = AutoTokenizer.from_pretrained(skywork_dir)
    for resp in (SKY, "x = 3.", "a.\nb.\nc."):
        assert prepare_ids(tok, "How many?", resp, "\n") == _skywork_reference(tok, "How many?", resp, "\n")
    # stated departure: a trailing separator ends the last step, Skywork scores an extra empty piece
    ids, flags = prepare_ids(tok, "Q", SKY + "\n", "\n")
    ref_ids, ref_flags = _skywork_reference(tok, "Q", SKY + "\n", "\n")
    assert (ids, flags) == (ref_ids[:-1], ref_flags[:-1])


def test_skywork_reward_is_sigmoid_of_the_value_head_at_each_step_token(skywork_dir):
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, Qwen2ForCausalLM

    prm = HubPRM.load(str(skywork_dir), "skywork_prm", sep="\n")
    got = prm.step_rewards("How many apples?", SKY)
    # independent: the causal LM's own trunk, the head read straight from the checkpoint
    tok = AutoTokenizer.from_pretrained(skywork_dir)
    lm = Qwen2ForCausalLM.from_pretrained(skywork_dir).eval()
    sd = load_file(str(skywork_dir / "model.safetensors"))
    ids, flags = _skywork_reference(tok, "How many apples?", SKY, "\n")
    with torch.no_grad():
        hs = lm.model(input_ids=torch.tensor([ids])).last_hidden_state[0]
    v = hs @ sd["v_head.summary.weight"][0] + sd["v_head.summary.bias"][0]
    expect = torch.sigmoid(v[torch.tensor(flags, dtype=torch.bool)]).numpy()
    assert len(got) == 3 and np.allclose(got, expect, atol=1e-5)
    assert np.ptp(got) > 1e-4                            # the steps are told apart (not a constant head)
    pre = prm.step_rewards("How many apples?", "Tom has 3 apples.\nHe buys 4 more: 3 + 4 = 7.\n")
    assert np.allclose(pre, got[:2], atol=1e-5)           # causal: a prefix's rewards are the first ones
    ctx = ProblemCtx("p", "prompt", "7", question="How many apples?")
    v, h = prm.values(ctx, [Candidate(SKY)], 0.5)
    assert np.isclose(v[0], got[-1]) and np.isclose(h[0], np.exp(0.5 * got[-1]))


def test_skywork_refuses_a_folder_without_a_value_head(tiny_model_dir):
    with pytest.raises(ValueError, match="v_head"):
        HubPRM.load(str(tiny_model_dir), "skywork_prm", sep="\n")


def test_tmc_bon_runs_prm_bon_with_a_skywork_prm(tiny_model_dir, tmp_path):
    """End to end: ``prm_adapter: skywork_prm`` through ``tmc bon`` (a tiny Skywork-layout checkpoint made from
    the tiny policy): PRM-BoN and ORM-BoN run with the value head as their reward."""
    import json
    from pathlib import Path

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.cli import main as tmc
    from harness.select.rewards.skywork_prm import save_value_head_checkpoint

    root = Path(__file__).resolve().parents[1]
    sky = save_value_head_checkpoint(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                                     AutoTokenizer.from_pretrained(tiny_model_dir), tmp_path / "sky")
    args = ["bon", "--config", str(root / "configs/bon_tiny.yaml"), "--set", f"sample.model={tiny_model_dir}",
            "--set", "selectors=[prm_bon, orm_bon]", "--set", "rewards=[prm]", "--set", f"prm={sky}",
            "--set", "prm_adapter=skywork_prm", "--set", "sample.limit=1", "--set", "runs=1", "--set", "n_boot=20",
            "--out", str(tmp_path / "out"), "--no-progress", "--threads", "1"]
    assert tmc(args) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(res["selectors"]) == {"prm_bon", "orm_bon"} and set(res["selectors"]["prm_bon"]) == {"prm"}
    rows = [json.loads(x) for x in (tmp_path / "out" / "selections.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["reward"] == "prm" and r["generated_tokens"] > 0 for r in rows)
