"""GSM8K gold solutions as path ground truth: annotations stripped, deterministic paraphrases, per-problem groups.

A GSM8K train answer writes every computation twice: in prose and in a calculator annotation ``<<48/2=24>>``. The
annotations give the solution's computation. ``gold_groups(path, n_problems, copies, seed)`` builds, for problem
``A`` (the first ``n_problems`` with at least two annotated steps), one group of completions compared under A's
question with three true paths:

* ``gold``  -- ``copies`` paraphrases of A's gold solution;
* ``short`` -- ``copies`` paraphrases of A's gold solution stopped before its last computed line (a strategy that
  derives fewer quantities: the path must differ); left out when that line's result already occurs in the question
  or an earlier line (then no definition by quantities can tell the two apart);
* ``other`` -- ``copies`` paraphrases of the next problem's gold solution (a different computation read under A's
  question: it must not merge with A's).

``paraphrase(text, rng)`` strips the annotations and the ``####`` line and rewrites deterministically (``rng`` seeded
per problem): operator notation between numbers (``*`` -> ``x`` / ``×`` / ``times`` / ``·``, ``/`` -> ``÷`` /
``divided by``, ``+`` -> ``plus``, ``-`` -> ``minus``), number formats (``1200`` <-> ``1,200``, ``$N`` -> ``N dollars``,
integers as ``N.0``), ``=`` -> ``is`` / ``equals``, the order of adjacent independent lines (no value of the first
is used by the second), connective openers (``So``, ``Then``, ``Next``), a restated question number, and the final
answer as ``The answer is N.`` / ``\\boxed{N}`` / ``#### N``. Truth: a group's ``true`` labels.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

_ANNOT = re.compile(r"<<([^>]*)>>")
_OPERATOR = re.compile(r"(?<=[\d)])\s*([-+*/])\s*(?=[\d($])")
_INT = re.compile(r"(?<![\w.,$])(\d+)(?![\w.,]\d|%|\d)")
_MONEY = re.compile(r"\$(\d+(?:,\d{3})*(?:\.\d+)?)")
_EQ = re.compile(r"\s=\s")
_ALT = {"*": [" * ", " x ", " \u00d7 ", " times ", "\u00b7"], "/": [" / ", " \u00f7 ", " divided by "],
        "+": [" + ", " plus "], "-": [" - ", " minus "]}
_OPENERS = ["", "So ", "Then ", "Next, ", "Now "]
_FINAL = ["The answer is {a}.", "\\boxed{{{a}}}", "#### {a}", "So the answer is {a}."]


def _values(line: str) -> set[str]:
    return {m.split("=")[-1].strip() for m in _ANNOT.findall(line)}


def split_solution(answer: str) -> tuple[list[str], str]:
    """(solution lines without the '####' line, final answer string)."""
    body, _, final = answer.rpartition("####")
    lines = [x for x in body.strip().split("\n") if x.strip()]
    return lines, final.strip().replace(",", "")


def _swap_independent(lines: list[str], rng: random.Random) -> list[str]:
    lines = list(lines)
    for i in range(len(lines) - 1):
        produced = _values(lines[i])
        used = set(re.findall(r"\d[\d,.]*", _ANNOT.sub("", lines[i + 1])))
        if produced and not (produced & used) and rng.random() < 0.5:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return lines


def _fmt_int(m: re.Match, rng: random.Random) -> str:
    s = m.group(1)
    r = rng.random()
    if len(s) >= 4 and r < 0.5:
        return f"{int(s):,}"
    if r > 0.85:
        return s + ".0"
    return s


def paraphrase(lines: list[str], final: str, rng: random.Random, question_numbers: list[str] = ()) -> str:
    """One deterministic paraphrase of a gold solution (module docstring)."""
    lines = _swap_independent(lines, rng)
    out = []
    if question_numbers and rng.random() < 0.5:
        out.append(f"From the question we know {rng.choice(list(question_numbers))}.")
    for line in lines:
        text = _ANNOT.sub("", line)
        text = _OPERATOR.sub(lambda m: rng.choice(_ALT[m.group(1)]), text)
        if rng.random() < 0.4:
            text = _MONEY.sub(lambda m: m.group(1) + " dollars", text)
        text = _INT.sub(lambda m: _fmt_int(m, rng), text)
        if rng.random() < 0.3:
            text = _EQ.sub(rng.choice([" is ", " equals ", " = "]), text)
        opener = rng.choice(_OPENERS)
        out.append(opener + (text[:1].lower() + text[1:] if opener else text))
    out.append(rng.choice(_FINAL).format(a=final))
    return rng.choice(["\n", " ", "\n\n"]).join(out)


def _num(s: str) -> float | None:
    try:
        return round(float(s.replace(",", "").replace("$", "").rstrip("%")), 2)
    except ValueError:
        return None


def _distinct_last(rec: dict) -> bool:
    """Whether stopping before the last annotated line removes a quantity no other line or the question holds."""
    from harness.paths.numbers import question_numbers
    annotated = [x for x in rec["lines"] if _ANNOT.search(x)]
    last = {_num(v) for v in _values(annotated[-1])}
    before = {_num(v) for x in annotated[:-1] for v in _values(x)}
    return bool(last - before - set(question_numbers(rec["question"])) - {None})


def load_gold(path: str | Path, n_problems: int, min_steps: int = 2) -> list[dict]:
    """The first ``n_problems`` GSM8K records with at least ``min_steps`` annotated lines."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                rec = json.loads(raw)
                lines, final = split_solution(rec["answer"])
            except (json.JSONDecodeError, KeyError) as exc:
                raise ValueError(f"{path}:{lineno}: not a GSM8K record with 'question' and 'answer' ({exc})") from exc
            if sum(1 for x in lines if _ANNOT.search(x)) >= min_steps:
                rows.append({"line": lineno, "question": rec["question"], "lines": lines, "final": final})
            if len(rows) >= n_problems + 1:
                break
    return rows


def gold_groups(path: str | Path, n_problems: int = 300, copies: int = 3, seed: int = 0) -> list[dict]:
    """Per problem: ``{line, question, completions, true}`` (module docstring)."""
    recs = load_gold(path, n_problems)
    groups = []
    for i, rec in enumerate(recs[:n_problems]):
        rng = random.Random(seed * 1_000_003 + rec["line"])
        other = recs[i + 1] if i + 1 < len(recs) else recs[0]
        qnums = re.findall(r"(?<![\d.,])(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)", rec["question"])
        annotated = [j for j, x in enumerate(rec["lines"]) if _ANNOT.search(x)]
        short = rec["lines"][:annotated[-1]]
        short_final = sorted(_values(rec["lines"][annotated[-2]]))[0]
        kinds = [("gold", (rec["lines"], rec["final"]))]
        if _distinct_last(rec):
            kinds.append(("short", (short, short_final)))
        kinds.append(("other", (other["lines"], other["final"])))
        completions, truth = [], []
        for label, (lines, final) in kinds:
            for _ in range(copies):
                completions.append(paraphrase(lines, final, rng, qnums))
                truth.append(label)
        groups.append({"line": rec["line"], "question": rec["question"], "completions": completions, "true": truth})
    return groups
