"""The vLLM step engine (harness.select.vllm_steps) on a test double of ``vllm.LLM`` that implements ``generate``
with vLLM's stop semantics (``stop`` + ``include_stop_str_in_output``, ``n`` samples per request, eos /
stop-string / length finishes, ``stop_reason``): separator handling, candidate bookkeeping and token counting,
without vLLM. A real-vLLM test runs where vllm is installed (marked ``vllm``, skipped elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from harness.select import prm_bon
from harness.select.types import Candidate, ProblemCtx
from harness.select.vllm_steps import VLLMStepEngine, completion_from_vllm

EOS = "<eos>"


@dataclass
class FakeParams:
    """The SamplingParams fields the engine sets (vLLM's names)."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    seed: int | None = None
    stop: list | None = None
    include_stop_str_in_output: bool = False
    skip_special_tokens: bool = True


class FakeLLM:
    """``script[prompt]`` = token lists (strings); sample k of a request with seed s plays list (s + k) % len.
    Emits tokens one by one: eos ends the sample (counted, not in the text), a stop string in the text ends it
    (text cut after it when include_stop_str_in_output, else before), max_tokens ends it ("length")."""

    def __init__(self, script):
        self.script, self.calls = script, []

    def _one(self, toks, p, k):
        text, ids = "", []
        for t in toks:
            if len(ids) == p.max_tokens:
                break
            ids.append(hash(t) % 1000)
            if t == EOS:
                return SimpleNamespace(index=k, text=text, token_ids=ids, finish_reason="stop", stop_reason=None)
            text += t
            hits = [(text.find(s), s) for s in (p.stop or []) if s in text]
            if hits:
                i, s = min(hits)
                cut = text[:i + len(s)] if p.include_stop_str_in_output else text[:i]
                return SimpleNamespace(index=k, text=cut, token_ids=ids, finish_reason="stop", stop_reason=s)
        return SimpleNamespace(index=k, text=text, token_ids=ids, finish_reason="length", stop_reason=None)

    def generate(self, prompts, sampling_params, use_tqdm=True, lora_request=None):
        self.calls.append((list(prompts), list(sampling_params)))
        out = []
        for prompt, p in zip(prompts, sampling_params):
            lists = self.script[prompt]
            outs = [self._one(lists[(p.seed + k) % len(lists)], p, k) for k in range(p.n)]
            out.append(SimpleNamespace(prompt=prompt, outputs=outs[::-1]))  # out of order: the engine sorts by index
        return out


def _engine(script, **kw):
    llm = FakeLLM(script)
    kw = {"sep": "\n\n", "max_step_tokens": 6, "max_new_tokens": 20, "seed": 0, **kw}
    return VLLMStepEngine(backend=None, llm=llm, params_cls=FakeParams, **kw), llm


# every sample of "Q:" is one of these, whatever the seed (the seed only rotates them)
ROOT = [["A", " = 1", ".\n\n", "tail"], ["B", EOS], ["C", " x", " y", " z", " w", " v", " u", " t"]]


def _by_first(row):
    return {c.text[:1]: c for c in row}


def test_steps_stop_at_the_separator_and_count_every_token():
    eng, llm = _engine({"Q:": ROOT})
    (row,) = eng.next_steps("Q:", [Candidate("", 0, False)], 3, "k")
    got = _by_first(row)
    assert (got["A"].text, got["A"].n_tokens, got["A"].finished) == ("A = 1.\n\n", 3, False)   # stopped at sep
    assert (got["B"].text, got["B"].n_tokens, got["B"].finished) == ("B", 2, True)               # eos
    assert (got["C"].text, got["C"].n_tokens, got["C"].finished) == ("C x y z w v", 6, False)   # max_step_tokens
    assert eng.generated_tokens == 3 + 2 + 6 and eng.requests == 1
    (prompts, (p,)), = llm.calls
    assert prompts == ["Q:"] and (p.n, p.stop, p.include_stop_str_in_output, p.max_tokens) == (3, ["\n\n"], True, 6)


def test_the_last_token_may_decode_past_the_separator():
    eng, _ = _engine({"Q:": [["x", ".\n\n\nmore"]]})
    (row,) = eng.next_steps("Q:", [Candidate("", 0, False)], 2, "k")
    assert all(c.text == "x.\n\n" and c.n_tokens == 2 and not c.finished for c in row)


def test_a_bare_separator_is_continued_until_text_and_a_separator():
    eng, llm = _engine({"Q: p.\n\n": [["\n\n", "X"]], "Q: p.\n\n\n\n": [["Y", ".\n\n", "Z"]]})
    prefix = Candidate("p.\n\n", 3, False)
    (row,) = eng.next_steps("Q: ", [prefix], 1, "k")
    assert row[0].text == "p.\n\n\n\nY.\n\n" and row[0].n_tokens == 3 + 1 + 2 and not row[0].finished
    assert eng.generated_tokens == 3 and len(llm.calls) == 2
    assert llm.calls[1][0] == ["Q: p.\n\n\n\n"] and llm.calls[1][1][0].n == 1
    assert llm.calls[1][1][0].max_tokens == 6 - 1          # the step's remaining budget


def test_the_completion_budget_caps_a_step_and_complete_does_not_stop():
    eng, llm = _engine({"Q:A = 1.\n\n": [["B", " = 2", ".\n\n", "D", EOS]]}, max_new_tokens=5)
    (row,) = eng.next_steps("Q:", [Candidate("A = 1.\n\n", 3, False)], 2, "k")
    assert llm.calls[-1][1][0].max_tokens == 2 and all(c.n_tokens == 5 and eng.at_limit(c) for c in row)
    (rest,) = eng.complete("Q:", [Candidate("A = 1.\n\n", 3, False)], 2, "c")
    p = llm.calls[-1][1][0]
    assert p.stop is None and p.n == 2 and p.max_tokens == 2
    assert all(c.text == "A = 1.\n\nB = 2" and c.n_tokens == 5 and not c.finished for c in rest)


def test_requests_carry_their_own_seeds_and_fixed_budget_mode_cuts():
    eng, llm = _engine({"Q:": ROOT, "Q:z": ROOT}, stop_at_sep=False)
    rows = eng.next_steps("Q:", [Candidate("", 0, False), Candidate("z", 1, False)], 3, "k")
    (_, params), = llm.calls
    assert params[0].stop is None and len({p.seed for p in params}) == 2
    a = _by_first(rows[0])["A"]
    assert a.text == "A = 1.\n\n" and a.n_tokens == 3          # cut at the sep: 3 of the 4 tokens' characters kept
    assert eng.generated_tokens == 2 * (4 + 2 + 6)              # the tail after the cut is spent too


def test_completion_from_vllm_maps_finish_reasons():
    out = SimpleNamespace(text="a", token_ids=[1, 2], finish_reason="stop", stop_reason=None)
    assert completion_from_vllm(out).finish_reason == "stop"
    out.stop_reason = "\n\n"
    assert completion_from_vllm(out).finish_reason == "stop_string"
    out.finish_reason, out.stop_reason = "length", None
    assert completion_from_vllm(out).finish_reason == "length" and completion_from_vllm(out).n_tokens == 2


class HasA:
    name = "has_a"
    needs_sampler = False

    def outcome(self, ctx, cands):
        return np.array([float(c.text.startswith("A")) for c in cands])

    def values(self, ctx, prefixes, lam, sampler=None, key=""):
        v = self.outcome(ctx, prefixes)
        return v, np.exp(lam * v)


def test_prm_bon_walks_on_the_vllm_engine():
    script = {"Q:": ROOT, "Q:A = 1.\n\n": [["#### 1", EOS]]}
    eng, _ = _engine(script)
    cfg = SimpleNamespace(m=3, max_steps=4, lam=0.5, n_candidates=3)
    c = prm_bon.run(ProblemCtx("p", "Q:", "1"), eng, HasA(), np.random.default_rng(0), cfg, "k")
    assert (c.text, c.finished) == ("A = 1.\n\n#### 1", True)
    assert eng.generated_tokens == (3 + 2 + 6) + 3 * 2       # step 1: three proposals; step 2: three "#### 1<eos>"


@pytest.mark.vllm
def test_real_vllm_engine_stops_at_the_separator(tmp_path):
    """Where vllm is installed: the engine on a real LLM with prefix caching stops every step at the separator."""
    torch = pytest.importorskip("torch")
    from vllm import LLM

    from harness.testing.tiny_model import build_tiny_model, warm_up

    torch.set_num_threads(1)
    d = build_tiny_model(tmp_path / "m", hidden=256)
    warm_up(d, steps=60)
    llm = LLM(model=str(d), dtype="float32", enable_prefix_caching=True, enforce_eager=True, seed=0)
    prompt = "<|im_start|>user\nTom has 3 apples and buys 4 more. How many apples does Tom have?<|im_end|>\n" \
             "<|im_start|>assistant\n"
    eng = VLLMStepEngine(backend=None, llm=llm, sep="\n", max_step_tokens=24, max_new_tokens=48, seed=0)
    (row,) = eng.next_steps(prompt, [Candidate("", 0, False)], 4, "k")
    assert len(row) == 4
    for c in row:
        assert c.finished or c.text.endswith("\n") or c.n_tokens == 24
    assert eng.generated_tokens == sum(c.n_tokens for c in row)


def test_tmc_bon_uses_the_vllm_engine_on_a_vllm_backend_and_wants_prefix_caching(monkeypatch):
    from harness.backends.base import BackendError
    from harness.select import vllm_steps
    from harness.select.config import BonConfig
    from harness.select.runner import step_engine
    from harness.select.steps import StepSampler

    monkeypatch.setattr(vllm_steps, "_sampling_params_cls", lambda: FakeParams)
    cfg = BonConfig()
    llm = FakeLLM({"Q:": ROOT})
    eng = step_engine(SimpleNamespace(name="vllm", llm=llm, lora_request=None), cfg, seed=1)
    assert isinstance(eng, VLLMStepEngine) and eng.sep == cfg.sep and eng.max_step_tokens == cfg.max_step_tokens
    assert type(step_engine(SimpleNamespace(name="hf"), cfg, seed=1)) is StepSampler
    llm.llm_engine = SimpleNamespace(cache_config=SimpleNamespace(enable_prefix_caching=False))
    with pytest.raises(BackendError, match="enable_prefix_caching"):
        step_engine(SimpleNamespace(name="vllm", llm=llm, lora_request=None), cfg, seed=1)


def test_step_decoding_is_chosen_in_the_config_and_changes_the_run_hash():
    from harness.select.config import BonConfig
    from harness.select.runner import step_engine
    from tmc_core.config import ConfigError

    stop, cut = BonConfig(), BonConfig(step_decoding="fixed_budget")
    assert step_engine(SimpleNamespace(name="hf"), stop, seed=1).stop_at_sep is True
    assert step_engine(SimpleNamespace(name="hf"), cut, seed=1).stop_at_sep is False
    assert stop.hash() != cut.hash()   # an output folder never resumes with the other decoding
    with pytest.raises(ConfigError, match="fixed_budget"):
        step_engine(SimpleNamespace(name="vllm", llm=FakeLLM({"Q:": ROOT}), lora_request=None), cut, seed=1)
