"""A backend that samples from a KNOWN tree of text steps, for exact tests of step-level selectors.

``ToyTreeBackend(prompt, tree)``: ``tree[prefix] = [(step, prob, terminal), ...]`` gives the law of the next
step after ``prefix`` (the text generated so far after ``prompt``). ``generate`` continues each
``prompt + prefix`` by drawing steps until a terminal one (finish "stop") or ``max_new_tokens`` steps
(finish "length"); every step counts as ONE token. Draws come from each sample's seed only, as in the real
backends, so a (prompt, seed) pair always gives the same continuation. ``calls`` counts generate calls.
"""

from __future__ import annotations

import numpy as np

from harness.backends.base import Completion, all_seeds, check_sampling_args


class ToyTreeBackend:
    name = "toy"

    def __init__(self, prompt: str, tree: dict[str, list[tuple[str, float, bool]]]):
        self.prompt, self.tree, self.calls = prompt, tree, 0

    def _one(self, prefix: str, seed: int, max_tokens: int) -> Completion:
        rng = np.random.default_rng(seed)
        out, cur = "", prefix
        for t in range(max_tokens):
            kids = self.tree.get(cur)
            if not kids:
                return Completion(out, t, "stop", 0.0)
            p = np.array([k[1] for k in kids], float)
            step, _, term = kids[int(rng.choice(len(kids), p=p / p.sum()))]
            out, cur = out + step, cur + step
            if term:
                return Completion(out, t + 1, "stop", 0.0)
        return Completion(out, max_tokens, "length", 0.0)

    def generate(self, prompts, n, temperature, top_p, max_new_tokens, seed, seeds=None):
        check_sampling_args(prompts, n, temperature, top_p, max_new_tokens, seeds)
        self.calls += 1
        seeds = all_seeds(len(prompts), n, seed, seeds)
        res = []
        for p, row in zip(prompts, seeds):
            if not p.startswith(self.prompt):
                raise ValueError(f"toy backend: prompt {p!r} does not start with {self.prompt!r}")
            res.append([self._one(p[len(self.prompt):], s, max_new_tokens) for s in row])
        return res
