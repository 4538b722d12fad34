"""The records the selectors pass around: a problem in context, a candidate completion, a selection."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProblemCtx:
    """One problem as the selectors see it: its id, the formatted prompt, the gold answer, the benchmark."""

    problem_id: str
    prompt: str
    gold: str
    benchmark: str = "gsm8k"
    question: str = ""


@dataclass
class Candidate:
    """A (partial or complete) completion. ``finished``: the model emitted eos (else cut at the token limit
    or, for a prefix, not yet ended). ``n_tokens``: generated tokens this text cost (its own decoding)."""

    text: str
    n_tokens: int = 0
    finished: bool = True


@dataclass
class Selection:
    """What one selector run returned: the chosen completion, and every generated token the run spent
    (candidates, discarded step proposals, Monte-Carlo rollouts; ``generated_tokens``)."""

    text: str
    finished: bool
    generated_tokens: int = 0
    info: dict = field(default_factory=dict)
