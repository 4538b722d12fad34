"""Ground-truth strategy labels for the multi-strategy data set (``data/multi_strategy*``): which of a problem's KNOWN
strategies a completion follows, read from the intermediate values it writes.

Unlike :func:`harness.paths.reasoning_path` (a data-free clustering of any completion), this matcher needs the
record's ``strategies: [{name, steps: [[expr, value], ...], solution}]`` (``scripts/make_multi_strategy.py``) and
answers in the record's own names, so a path can be called *easy* or *rare* by construction (the warm-start SFT
used each problem's FIRST strategy with probability 0.75, ``scripts/sft_warmstart.py``).

The rule (:func:`label_strategy`). With ``N(t)`` the set of numbers written in text ``t`` (:func:`numbers`:
thousands commas dropped, trailing decimal zeros dropped, ``7.0`` = ``7``, signs ignored), a strategy S with steps
``(e_1, v_1) .. (e_m, v_m)`` has the *distinctive values*

    D(S) = {v_1, ..., v_{m-1}} - N(question)         (its intermediate values the question does not state)

and a completion c *follows* S when ``D(S)`` is non-empty and ``D(S) ⊆ N(c)``. Exactly one strategy followed:
its name; two or more: ``"ambiguous"``; none: ``"other"`` (a wrong intermediate, another route, no computation).
The final value ``v_m`` is left out: every correct completion writes it. Correctness is NOT part of the label:
combine it with the grade (``harness.analyze.strategy_mass``).

Failure modes (pinned in tests/test_paths_strategies.py where cheap):

* it sees values, not how they were derived: a completion that writes S's values for another reason (a slip that
  lands on them, a restated wrong step) is labelled S;
* an **arithmetic slip in an intermediate** (``5 * 4 = 21``) misses that value: ``other``, even when the final
  answer is right by a second slip;
* a completion that writes the values of both strategies (one route, then a check by the other) is
  ``ambiguous``, as is one whose values happen to cover another strategy's (the generator's ``distinguishable``
  filter keeps gold solutions apart, sampled ones may not be);
* number words (``twenty``), and values written only as expressions (``5*4`` without ``= 20``) are not read;
  a distinctive value that the completion writes inside a larger token is not confused (``120`` is not ``20``);
* a strategy whose intermediate values are all stated in the question (``D(S)`` empty) is never followed
  (none in data/multi_strategy: every strategy there has a non-empty ``D``, tests/test_multi_strategy.py).
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["numbers", "distinctive_values", "label_strategy", "AMBIGUOUS", "OTHER"]

AMBIGUOUS = "ambiguous"
OTHER = "other"

_NUM = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _norm(token: str) -> str:
    v = token.replace(",", "")
    if "." in v:
        v = v.rstrip("0").rstrip(".")
    return v


def numbers(text: str | None) -> set[str]:
    """Numbers written in ``text``, normalised: thousands commas dropped, ``12.0`` -> ``12``, ``2.50`` -> ``2.5``."""
    return {_norm(m) for m in _NUM.findall(text or "")}


def distinctive_values(question: str, strategy: dict) -> set[str]:
    """``D(S)``: the strategy's intermediate step values (all but the last step's) that the question does not state,
    normalised like :func:`numbers`."""
    try:
        steps = strategy["steps"]
    except (KeyError, TypeError):
        raise ValueError(f"strategy {strategy!r}: expected a dict with 'steps': [[expr, value], ...] "
                         "(a record of data/multi_strategy*/*.jsonl)") from None
    return {_norm(str(v)) for _, v in steps[:-1]} - numbers(question)


def label_strategy(question: str, completion: str | None, strategies: Sequence[dict]) -> str:
    """The strategy ``completion`` follows (module docstring): a strategy's ``name``, ``"ambiguous"`` or
    ``"other"``. A non-str completion reads as empty (``"other"``)."""
    seen = numbers(completion if isinstance(completion, str) else "")
    hits = []
    for s in strategies:
        feats = distinctive_values(question, s)
        if feats and feats <= seen:
            hits.append(s["name"])
    return hits[0] if len(hits) == 1 else AMBIGUOUS if hits else OTHER
