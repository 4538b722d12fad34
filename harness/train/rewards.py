"""Verifiable rewards for training: the benchmark grader (``harness.grading``) and the spurious control.

``GraderReward(benchmark)`` is a TRL reward function ``f(prompts, completions, answer, **kw) -> list[float]``:
r = 1 if the grader marks the completion's final answer equal to the gold ``answer`` column, else 0
(the paper's 0/1 verifiable outcome reward). A completion that reached ``max_completion_length`` tokens WITHOUT
ending in EOS was cut at the limit (the evaluation samplers' ``finish_reason == "length"``; one whose last token,
exactly at the limit, is EOS finished on its own and is not cut — TRL's completion ids keep the EOS): as in
evaluation, its GSM8K last-number fallback does not count (``harness.grading.truncation_rule``)
unless ``flexible_on_truncated`` — otherwise RL would reward stopping mid-sentence after the right number.
It keeps the last batch's ``Grade`` objects in
``last_grades`` so the training-time sample store can record ``extracted``/``correct``/``grade_status``
without grading twice.

``spurious=True`` is the random-reward control (Shao et al. 2025, "Spurious Rewards", arXiv 2506.10947):
the true 0/1 rewards of the generation batch are randomly PERMUTED across its completions, so the batch
mean is exactly the true mean (same reward scale and sparsity) while the reward says nothing about the
completion it is attached to. The permutation is seeded by (seed, global step): reproducible and the
same after a resume.
"""

from __future__ import annotations

import numpy as np


def _text(c) -> str:
    if isinstance(c, str):
        return c
    if isinstance(c, list) and c and isinstance(c[-1], dict):  # chat message list
        return str(c[-1].get("content", ""))
    return str(c)


class GraderReward:
    def __init__(self, benchmark: str, timeout_s: float = 5.0, spurious: bool = False, seed: int = 0,
                 max_tokens: int | None = None, flexible_on_truncated: bool = False,
                 eos_token_ids: set[int] | None = None):
        self.max_tokens = max_tokens
        self.eos_token_ids = set(eos_token_ids or ())
        self.flexible_on_truncated = flexible_on_truncated
        self.benchmark = benchmark
        self.timeout_s = timeout_s
        self.spurious = spurious
        self.seed = seed
        self.__name__ = "random_reward" if spurious else "correct"
        self.last_grades: list = []

    def is_cut(self, ids) -> bool:
        """Cut at the token limit: ``max_tokens`` tokens and the last is not EOS/pad (TRL keeps the EOS in the ids;
        RAFT's sampler strips it, so there a completion ended by EOS at the limit has max_tokens - 1 ids)."""
        return len(ids) >= self.max_tokens and not (len(ids) and int(ids[-1]) in self.eos_token_ids)

    def __call__(self, prompts, completions, answer, trainer_state=None, completion_ids=None, **kwargs) -> list[float]:
        from harness.grading import grade_many

        texts = [_text(c) for c in completions]
        truncated = None
        if self.max_tokens is not None and completion_ids is not None:  # cut at the limit (TRL passes the ids)
            truncated = [self.is_cut(ids) for ids in completion_ids]
        grades = grade_many(self.benchmark, texts, list(answer), self.timeout_s, truncated=truncated,
                            flexible_on_truncated=self.flexible_on_truncated)
        self.last_grades = grades
        rewards = np.array([1.0 if g.correct else 0.0 for g in grades])
        if self.spurious:
            step = getattr(trainer_state, "global_step", 0) if trainer_state is not None else 0
            rng = np.random.default_rng([self.seed, int(step)])
            rewards = rewards[rng.permutation(len(rewards))]
        return rewards.tolist()


def make_train_reward(cfg, tokenizer=None) -> GraderReward:
    """The reward named by ``cfg.reward`` ("grader" | "random"); ``tokenizer`` gives the EOS (and pad) ids that end
    a completion on its own."""
    eos = {i for i in (getattr(tokenizer, "eos_token_id", None), getattr(tokenizer, "pad_token_id", None))
           if i is not None}
    return GraderReward(cfg.benchmark, cfg.grading_timeout_s, spurious=(cfg.reward == "random"), seed=cfg.seed,
                        max_tokens=cfg.max_completion_length, flexible_on_truncated=cfg.flexible_on_truncated,
                        eos_token_ids=eos)
