"""Training data: GSM8K / MATH train splits as a TRL dataset with ``prompt`` and ``answer`` columns.

Problems come from ``load_problems`` and prompts from ``build_prompt`` with the SAME template the
evaluation pipeline uses, rendered to a plain string (the chat template is applied here, so TRL treats
the prompt as text and does not re-template it): a checkpoint is later sampled with exactly the prompt
it was trained on. Extra columns: ``problem_id``, ``benchmark``, ``level``, ``subject`` (passed to the
reward function and the training-time sample store); ids in the run's scheme (``runner.train_id_scheme``).
"""

from __future__ import annotations

from typing import Any


def build_train_dataset(cfg, tokenizer: Any, exclude_ids: set[str] | None = None):
    """``datasets.Dataset`` of the training problems named by ``cfg`` (minus ``exclude_ids``)."""
    from datasets import Dataset

    from harness.data import build_prompt, load_problems

    from .runner import train_id_scheme

    problems = load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit, offset=cfg.offset,
                             id_scheme=train_id_scheme(cfg))
    rows = []
    for p in problems:
        if exclude_ids and p.id in exclude_ids:
            continue
        rows.append({"prompt": build_prompt(p, cfg.template, tokenizer), "answer": p.answer, "problem_id": p.id,
                     "benchmark": p.benchmark, "level": p.level if p.level is not None else -1,
                     "subject": p.subject or ""})
    if not rows:
        from tmc_core.config import ConfigError

        raise ConfigError(f"limit/offset/rej_threshold: no training problems left for {cfg.benchmark} {cfg.split}")
    return Dataset.from_list(rows)
