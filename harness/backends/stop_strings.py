"""Stop strings for the transformers backend, with vLLM's semantics (``SamplingParams(stop=...,
include_stop_str_in_output=True)``): a row stops at the first token after which its decoded text contains one of
the stop strings; the returned text ends right after the first occurrence (the stop string kept, anything the last
token decoded past it dropped); every generated token counts, including that last one. ``finish_reason`` is then
``"stop_string"`` (eos stays ``"stop"``, the token cap ``"length"``).

:class:`StopStrings` watches rows as they decode: ``hit(row, tokens)`` decodes the row's tokens and looks for a
stop string in the text that the newest token could have completed (from ``len(previous text) - len(stop) + 1``),
so each occurrence is found at the token that completes it. Decoding a whole row per step is O(tokens) per step;
steps are short (``max_step_tokens``), so this costs far less than the model's forward pass.
:func:`stop_string_criteria` wraps it as a ``transformers`` ``StoppingCriteria`` for the ``model.generate`` path.
"""

from __future__ import annotations


class StopStrings:
    def __init__(self, tokenizer, stops: list[str]):
        if not stops or not all(isinstance(s, str) and s for s in stops):
            raise ValueError(f"stop strings must be non-empty strings, got {stops!r}")
        self.tok, self.stops = tokenizer, list(stops)
        self._prev: dict[int, int] = {}

    def _decode(self, tokens: list[int]) -> str:
        return self.tok.decode(tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def hit(self, row: int, tokens: list[int]) -> bool:
        """True when the row's newest token completes a stop string."""
        text = self._decode(tokens)
        prev = self._prev.get(row, 0)
        self._prev[row] = len(text)
        return any(text.find(s, max(0, prev - len(s) + 1)) >= 0 for s in self.stops)

    def truncate(self, text: str) -> tuple[str, bool]:
        """(text up to and including the first stop string, whether one occurs)."""
        ends = [i + len(s) for s in self.stops if (i := text.find(s)) >= 0]
        return (text[:min(ends)], True) if ends else (text, False)


def stop_string_criteria(stops: StopStrings, prompt_len: int, eos_ids: set[int]):
    """A ``transformers.StoppingCriteria`` for ``model.generate``: per-row bool, and the number of generated tokens
    at the hit (``.hit_at[row]``), so the caller keeps exactly the tokens up to the stop."""
    from transformers import StoppingCriteria

    class _StopStringCriteria(StoppingCriteria):
        def __init__(self):
            self.hit_at: dict[int, int] = {}

        def __call__(self, input_ids, scores, **kw):
            return _check(self, stops, prompt_len, set(eos_ids), input_ids)

    return _StopStringCriteria()


def _check(crit, stops: StopStrings, prompt_len: int, eos: set[int], input_ids):
    import torch

    out = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    for r in range(input_ids.shape[0]):
        if r in crit.hit_at:
            out[r] = True
            continue
        gen = input_ids[r, prompt_len:].tolist()
        if any(t in eos for t in gen):
            continue
        if stops.hit(r, gen):
            crit.hit_at[r] = len(gen)
            out[r] = True
    return out
