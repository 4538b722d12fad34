"""Stop strings in the transformers backend (vLLM's ``stop`` + ``include_stop_str_in_output`` semantics): a row
stops at the token that completes the stop string, keeps exactly the tokens up to it, and its text ends right
after the stop string -- checked against the same seeds decoded WITHOUT a stop (per-row seeds make the two
runs draw the same tokens up to the stop), on both decode paths."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from harness.backends import make_backend  # noqa: E402
from harness.backends.stop_strings import StopStrings  # noqa: E402

QUESTIONS = ["Tom has 3 apples and buys 4 more. How many apples does Tom have?",
             "Tom has 13 apples and buys 14 more. How many apples does Tom have?"]


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    torch.set_num_threads(1)
    return make_backend("hf", str(tiny_model_dir), dtype="float32", batch_size=8)


def _expected(tok, free, stop):
    """What a stop at ``stop`` must give, from the unstopped completion: the first k tokens whose text holds
    ``stop``, that text cut after its first occurrence."""
    for k in range(1, len(free.token_ids) + 1):
        if free.finish_reason == "stop" and k == len(free.token_ids):
            break  # eos comes first
        text = tok.decode(free.token_ids[:k], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if stop in text:
            return free.token_ids[:k], text[:text.index(stop) + len(stop)], "stop_string"
    return free.token_ids, free.text, free.finish_reason


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("stop", ["=", " apples", " appl"])  # " appl": the last token decodes past it
def test_rows_stop_at_the_stop_string_with_the_tokens_they_spent(backend, compact, stop):
    tok = backend.tokenizer
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
               for q in QUESTIONS]
    kw = dict(n=4, temperature=1.0, top_p=1.0, max_new_tokens=24, seed=5)
    backend.compact_rows = compact
    try:
        free = backend.generate(prompts, **kw)
        cut = backend.generate(prompts, stop=[stop], **kw)
    finally:
        backend.compact_rows = True
    n_hit = 0
    for rf, rc in zip(free, cut):
        for f, c in zip(rf, rc):
            ids, text, finish = _expected(tok, f, stop)
            assert (c.token_ids, c.text, c.finish_reason) == (ids, text, finish)
            assert c.n_tokens == len(ids)
            n_hit += finish == "stop_string"
    assert n_hit >= 2, "the tiny model must produce the stop string in some rows for this test to check anything"
    assert sum(c.n_tokens for r in cut for c in r) < sum(c.n_tokens for r in free for c in r)


def test_stop_strings_find_each_occurrence_at_the_token_that_completes_it():
    class CharTok:  # one character per token
        def decode(self, ids, **kw):
            return "".join(map(chr, ids))

    w = StopStrings(CharTok(), ["\n\n"])
    seen = [w.hit(0, [ord(ch) for ch in "ab\n\nc"[:k]]) for k in range(1, 6)]
    assert seen == [False, False, False, True, False]
    assert w.truncate("x\n\ny\n\n") == ("x\n\n", True) and w.truncate("xy") == ("xy", False)
    with pytest.raises(ValueError):
        StopStrings(CharTok(), [""])


def test_transformers_step_engine_stops_at_the_separator(backend):
    """StepSampler on the transformers backend: with the stop, each proposed step's tokens are exactly those up
    to the separator (generated_tokens = the steps' own tokens), the steps are the fixed-budget steps cut at the
    same place (same per-row seeds), and the budget run spends more tokens for the same steps."""
    from harness.select.steps import StepSampler
    from harness.select.types import Candidate

    tok = backend.tokenizer
    prompt = tok.apply_chat_template([{"role": "user", "content": QUESTIONS[0]}], tokenize=False,
                                     add_generation_prompt=True)
    kw = dict(sep="\n", temperature=1.0, top_p=1.0, max_step_tokens=24, max_new_tokens=64, seed=3)
    stop, cut = StepSampler(backend, **kw), StepSampler(backend, stop_at_sep=False, **kw)
    assert stop.can_stop() and not cut.can_stop()
    (a,), (b,) = (s.next_steps(prompt, [Candidate("", 0, False)], 6, "k") for s in (stop, cut))
    assert stop.generated_tokens == sum(c.n_tokens for c in a)
    assert [c.text for c in a] == [c.text for c in b]
    n_sep = sum(c.text.endswith("\n") for c in a)
    assert n_sep >= 2, "the tiny model must end some steps with the separator for this test to check anything"
    assert cut.generated_tokens > stop.generated_tokens
