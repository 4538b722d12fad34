"""Prompt templates: one zero-shot chat template (instruct models) and one plain completion template
(base models). Base and post-trained models are always evaluated with the SAME template, as in Yue
et al. 2025 (arXiv:2504.13837), so that pass@k differences come from the model, not the prompt.

``TEMPLATES[template][benchmark]`` is a ``str.format`` string with the one field ``{question}`` (literal
braces are doubled: ``\\boxed{{}}`` renders as ``\\boxed{}``).

* ``chat``: the text is the single user message, rendered with
  ``tokenizer.apply_chat_template([...], tokenize=False, add_generation_prompt=True)``.
* ``completion``: plain text ending in ``Answer:`` (GSM8K) or ``Solution:`` (MATH) for base models.

The instruction asks for the final answer in the form the grader reads first: ``#### N`` for GSM8K
(the reference format of Cobbe et al. 2021) and ``\\boxed{}`` for MATH (Hendrycks et al. 2021).
"""

from __future__ import annotations

from typing import Any

from .records import DataError, Problem

_GSM8K_INSTRUCTION = (
    "Solve the following math problem step by step. "
    'Write the final answer as a number on the last line in the form "#### N".'
)
_MATH_INSTRUCTION = (
    "Solve the following math problem step by step. "
    "Put your final answer within \\boxed{{}}."
)

#: template name -> benchmark -> str.format string with the field {question}.
TEMPLATES: dict[str, dict[str, str]] = {
    "chat": {
        "gsm8k": _GSM8K_INSTRUCTION + "\n\n{question}",
        "math": _MATH_INSTRUCTION + "\n\n{question}",
    },
    "completion": {
        "gsm8k": _GSM8K_INSTRUCTION + "\n\nQuestion: {question}\nAnswer:",
        "math": _MATH_INSTRUCTION + "\n\nProblem: {question}\nSolution:",
    },
}


def user_message(problem: Problem, template: str = "chat") -> str:
    """The filled template text (for ``chat``: the user message before the chat template)."""
    if template not in TEMPLATES:
        raise DataError(f"unknown prompt template {template!r}; allowed: {', '.join(TEMPLATES)}")
    by_bench = TEMPLATES[template]
    if problem.benchmark not in by_bench:
        raise DataError(
            f"template {template!r} has no text for benchmark {problem.benchmark!r}; allowed: {', '.join(by_bench)}"
        )
    return by_bench[problem.benchmark].format(question=problem.question)


def build_prompt(problem: Problem, template: str, tokenizer: Any = None) -> str:
    """The full prompt string for ``problem`` under ``template`` ("chat" | "completion")."""
    text = user_message(problem, template)
    if template == "completion":
        return text
    if tokenizer is None:
        raise DataError(
            "template 'chat' needs a tokenizer (its chat template renders the prompt); use template 'completion' for "
            "base models"
        )
    if not getattr(tokenizer, "chat_template", None):
        raise DataError(
            f"template 'chat': tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template; "
            f"use template 'completion' for base models"
        )
    out = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
    if not isinstance(out, str):  # some tokenizers return a list/BatchEncoding despite tokenize=False
        raise DataError(f"apply_chat_template returned {type(out).__name__}, expected str")
    return out
