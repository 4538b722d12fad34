"""Step machinery shared by the step-level selectors: split a completion into steps, propose M next steps.

A *step* is the text up to and including the next separator (default ``"\\n\\n"``; ``"\\n"`` for short CoTs, as
search-and-learn and Math-Shepherd use). :func:`split_steps` splits a finished completion; :func:`cut_step`
cuts one sampled continuation at its first separator.

:class:`StepSampler` proposes next steps from a prefix with any :class:`harness.backends.Backend`: it samples
``m`` continuations of ``prompt + prefix`` (at most ``max_step_tokens`` tokens each) in ONE ``generate`` call
(the transformers backend prefills the shared prompt + prefix once and copies its KV cache to the m rows,
``share_prompt_prefill``), each STOPPING at the separator (``stop=[sep]`` where the backend ``supports_stop``:
vLLM's stop string with ``include_stop_str_in_output``; the transformers backend's own loop watches the decoded
text, :mod:`harness.backends.stop_strings`), and cuts each at its first separator. A continuation that stopped
at a separator with nothing before it (the model opened the step with a blank line) is continued from there until
a separator follows some text, so no step is only a separator. :class:`harness.select.vllm_steps.VLLMStepEngine`
is the same engine on a vLLM ``LLM`` (``n = m`` per prefix, prefix caching). Departures, stated:

* ``stop_at_sep=False`` (or a backend without stop strings) decodes the fixed budget ``max_step_tokens`` and cuts:
  the tokens after the cut are spent and counted in ``generated_tokens`` but thrown away (the old behaviour,
  kept for the benchmark ``scripts/bench_step_search.py``); KV reuse ACROSS steps, not only across the m rows of
  one step, is the next speed step;
* the prefix is passed back as text and re-tokenised, so a step boundary inside a BPE merge can tokenise
  differently from the sampled token sequence (the model then scores a slightly different tokenisation);
* with a stop, the last token may decode past the separator (e.g. ``".\n\n\n"`` with sep ``"\n\n"``): the
  text is cut after the separator, the token counts in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.backends.base import derive_seed

from .types import Candidate


def split_steps(text: str, sep: str = "\n\n") -> list[str]:
    """Steps of ``text``: each ends with ``sep`` except possibly the last; ``"".join(steps) == text``.
    A run of separators attaches its extra copies to the start of the next step (no step is only a separator)."""
    if not sep:
        raise ValueError("step separator must be a non-empty string")
    steps, start = [], 0
    while start < len(text):
        i = _find_sep(text, sep, start)
        if i < 0:
            steps.append(text[start:])
            break
        steps.append(text[start:i + len(sep)])
        start = i + len(sep)
    return steps


def _find_sep(text: str, sep: str, start: int) -> int:
    """First ``sep`` at or after ``start`` that follows some non-separator text of this step."""
    j = start
    while text.startswith(sep, j):
        j += len(sep)
    if j >= len(text):
        return -1
    return text.find(sep, j)


def cut_step(text: str, finished: bool, sep: str) -> tuple[str, bool]:
    """(the first step of a sampled continuation, whether it ends the completion). A continuation with no
    separator is one step, terminal when the model stopped (eos) within it; text after the separator is
    dropped; a step whose separator is followed only by the model's end is terminal too."""
    i = _find_sep(text, sep, 0)
    if i < 0:
        return text, finished
    step = text[:i + len(sep)]
    rest = text[i + len(sep):]
    return step, finished and not rest.strip()


@dataclass
class StepSampler:
    """Proposes next steps and completes prefixes with a backend; counts every generated token.

    ``max_new_tokens`` caps a whole completion (prefix + continuation, counted in kept tokens of the prefix);
    a prefix that reaches it is terminal (cut, not finished)."""

    backend: object
    sep: str = "\n\n"
    temperature: float = 1.0
    top_p: float = 1.0
    max_step_tokens: int = 64
    max_new_tokens: int = 256
    seed: int = 0
    generated_tokens: int = 0
    stop_at_sep: bool = True   #: stop each proposed step at the separator (else decode max_step_tokens and cut)

    def can_stop(self) -> bool:
        return self.stop_at_sep and bool(getattr(self.backend, "supports_stop", False))

    def _gen(self, prompts: list[str], m: int, max_tokens: int, key: str, stop: list[str] | None = None):
        seeds = [[derive_seed(self.seed, f"{key}|{i}", j) for j in range(m)] for i in range(len(prompts))]
        kw = {"stop": stop} if stop else {}
        out = self.backend.generate(prompts, n=m, temperature=self.temperature, top_p=self.top_p,
                                    max_new_tokens=max(1, max_tokens), seed=self.seed, seeds=seeds, **kw)
        self.generated_tokens += sum(c.n_tokens for row in out for c in row)
        return out

    def _past_bare_separators(self, prompt: str, prefixes: list[Candidate], rows, cap: int, key: str):
        """Continue every continuation that stopped at a separator with no text before it, one more stop-decode
        at a time (its remaining budget), until each has a separator after some text, ended, or spent ``cap``."""
        for rnd in range(cap):
            todo = [(i, j) for i, row in enumerate(rows) for j, c in enumerate(row)
                    if c.finish_reason == "stop_string" and _find_sep(c.text, self.sep, 0) < 0 and c.n_tokens < cap]
            if not todo:
                break
            by_budget: dict[int, list] = {}
            for i, j in todo:
                by_budget.setdefault(cap - rows[i][j].n_tokens, []).append((i, j))
            for budget, items in sorted(by_budget.items()):
                more = self._gen([prompt + prefixes[i].text + rows[i][j].text for i, j in items], 1, budget,
                                 f"{key}|sep{rnd}|{budget}", stop=[self.sep])
                for (i, j), (c2,) in zip(items, more):
                    c = rows[i][j]
                    rows[i][j] = type(c)(text=c.text + c2.text, n_tokens=c.n_tokens + c2.n_tokens,
                                         finish_reason=c2.finish_reason, logprob_sum=c.logprob_sum + c2.logprob_sum)
        return rows

    def next_steps(self, prompt: str, prefixes: list[Candidate], m: int, key: str) -> list[list[Candidate]]:
        """For each (unfinished) prefix, ``m`` candidate next steps as Candidates holding ``prefix + step``:
        ``n_tokens`` = the prefix's kept tokens + the step's (estimated by its share of the continuation's
        characters when the continuation was cut), ``finished`` = the step ends the completion."""
        budget = [self.max_new_tokens - p.n_tokens for p in prefixes]
        cap = max(1, min(self.max_step_tokens, max(budget)))
        if self.can_stop():
            rows = self._gen([prompt + p.text for p in prefixes], m, cap, key, stop=[self.sep])
            rows = self._past_bare_separators(prompt, prefixes, rows, cap, key)
        else:
            rows = self._gen([prompt + p.text for p in prefixes], m, cap, key)
        out = []
        for p, row in zip(prefixes, rows):
            cands = []
            for c in row:
                step, fin = cut_step(c.text, c.finish_reason == "stop", self.sep)
                kept = c.n_tokens if len(step) == len(c.text) else \
                    max(1, round(c.n_tokens * len(step) / max(1, len(c.text))))
                n_tok = p.n_tokens + kept
                cands.append(Candidate(p.text + step, n_tok, fin))
            out.append(cands)
        return out

    def at_limit(self, c: Candidate) -> bool:
        """A prefix is over when it finished or its kept tokens reached ``max_new_tokens``."""
        return c.finished or c.n_tokens >= self.max_new_tokens

    def complete(self, prompt: str, prefixes: list[Candidate], n: int, key: str) -> list[list[Candidate]]:
        """``n`` full continuations of every prefix (to eos or ``max_new_tokens`` in all): ``prefix + rest``."""
        cap = max(1, self.max_new_tokens - min(p.n_tokens for p in prefixes))
        rows = self._gen([prompt + p.text for p in prefixes], n, cap, key)
        return [[Candidate(p.text + c.text, p.n_tokens + c.n_tokens, c.finish_reason == "stop") for c in row]
                for p, row in zip(prefixes, rows)]
