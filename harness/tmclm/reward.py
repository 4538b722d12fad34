"""The TMC verifiable reward for TRL, and the training rows (one row = one question instance).

A row is an instance of the fine-tuning task (docs/tmc_model.md §2): the task prompt ``<T:k>`` and its random correct
set ``C`` (each valid path of task k is in C independently with probability ``R_out``, drawn by
``tmc_theory.instances.draw_instances``), serialised in the column ``correct`` as ``"0-0-0-0;0-1-1-0"`` (path names,
``;``-separated; ``""`` for an empty C). The reward is

    R(o; C) = 1  if the completion decodes to a well-formed path o (see harness.tmclm.tokenizer) and o in C,
              0  otherwise (ill-formed, invalid, or valid but not in C).

It is computed from TRL's ``completion_ids`` (token ids up to and including ``<end>``), not from the decoded text,
so an ill-formed sequence can never be mistaken for a path.
"""

from __future__ import annotations

import numpy as np

from .measure import path_name
from .tokenizer import PathTokenizer


def instance_rows(tok: PathTokenizer, instances, task_name: str) -> list[dict]:
    """One dict per instance: ``prompt``, ``task``, ``problem_id``, ``instance``, ``correct``."""
    rows = []
    for i in range(len(instances)):
        correct = [path_name(p) for p in instances.valid_paths[instances.in_C[i]]]
        rows.append({"prompt": tok.prompt_text(task_name), "task": task_name, "problem_id": f"{task_name}/{i}",
                     "instance": i, "correct": ";".join(correct)})
    return rows


def instance_dataset(tok: PathTokenizer, instances, task_name: str):
    """The rows as a ``datasets.Dataset`` (TRL's ``train_dataset``)."""
    from datasets import Dataset

    return Dataset.from_list(instance_rows(tok, instances, task_name))


class TmcReward:
    """TRL reward function ``f(prompts, completions, completion_ids, correct, **kw) -> list[float]``."""

    def __init__(self, tok: PathTokenizer):
        self.tok = tok
        self.__name__ = "tmc_reward"

    def paths(self, completion_ids) -> np.ndarray:
        """Decoded paths ``(n, L)``, rows of ill-formed completions ``-1``."""
        return self.tok.decode_batch(completion_ids)

    def __call__(self, prompts=None, completions=None, completion_ids=None, correct=None, **kwargs) -> list[float]:
        if completion_ids is None or correct is None:
            raise ValueError("tmc_reward needs TRL's completion_ids and the dataset column 'correct'")
        out = []
        for ids, c in zip(completion_ids, correct):
            p = self.tok.decode_ids(ids)
            out.append(float(p is not None and path_name(p) in set(filter(None, c.split(";")))))
        return out
