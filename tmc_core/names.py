"""The project's one vocabulary of method names, shared by ``tmc_theory`` and ``harness``.

Each half keeps its own registry mapping these keys to implementations
(``tmc_theory.registry`` for the exact/sampled TMC versions, ``harness.train.registry``
for the TRL trainers on real LLMs, ``harness.select.registry`` for the Best-of-N selectors). Both
import the keys from here, so a method is spelled the same everywhere; ``paper_name`` is the row label of the
paper's Table 3 (arXiv 2511.07368).

The allowed keys are ``Literal`` types (``FinetuneKey``, ``InferenceKey``): a config field annotated
with one is checked by the loader (``tmc_core.config``), which names the allowed values in its error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

#: fine-tuning methods (the paper's Table 3 rows above the inference block)
FinetuneKey = Literal["reinforce", "raft", "ppo", "rl_rej", "grpo", "grpo_kl"]
#: inference-time selectors
InferenceKey = Literal["soft_bon", "orm_bon", "prm_bon", "dprm_bon", "dprm_as"]
#: every strategy of the paper's table: the base model, then the fine-tuning and inference methods
MethodKey = Literal["base", FinetuneKey, InferenceKey]


@dataclass(frozen=True)
class MethodName:
    key: str          #: identifier used in configs, CLIs and result files
    paper_name: str   #: row label in the paper's Table 3
    kind: str         #: "finetune" or "inference"
    summary: str      #: one line: what the method does


FINETUNE = (
    MethodName("reinforce", "REINFORCE", "finetune",
               "policy gradient with the 0/1 verifiable reward as advantage, no baseline"),
    MethodName("raft", "RAFT", "finetune", "reward-ranked fine-tuning: keep correct samples, fine-tune on them"),
    MethodName("ppo", "PPO", "finetune", "clipped policy gradient with a value baseline (advantage = Q - V)"),
    MethodName("rl_rej", "RL-rej", "finetune", "REINFORCE that rejects easy instances (already solved by the model)"),
    MethodName("grpo", "GRPO", "finetune", "group-normalised advantages over G samples per prompt, clipped objective"),
    MethodName("grpo_kl", "GRPO-KL", "finetune",
               "GRPO with a KL penalty to the base model (closed form: p*exp(A/beta)/Z)"),
)

INFERENCE = (
    MethodName("soft_bon", "Soft-BoN", "inference",
               "draw N distinct samples, resample proportionally to exp(lambda*R_out)"),
    MethodName("orm_bon", "ORM-BoN", "inference", "draw N samples, keep the top by outcome reward R_out"),
    MethodName("prm_bon", "PRM-BoN", "inference",
               "greedy step-wise choice of the child with the highest PRM potential V"),
    MethodName("dprm_bon", "DPRM-BoN", "inference",
               "greedy step-wise choice by the Doob-transformed reward (1/lambda) log h"),
    MethodName("dprm_as", "DPRM-AS", "inference", "step-wise sampling proportional to exp(lambda * R_DPRM)"),
)

BASE = MethodName("base", "Base Model", "base", "the pretrained model, sampled as is")

ALL = (BASE,) + FINETUNE + INFERENCE
BY_KEY = {m.key: m for m in ALL}
BY_PAPER_NAME = {m.paper_name: m for m in ALL}
FINETUNE_KEYS: tuple[str, ...] = get_args(FinetuneKey)
INFERENCE_KEYS: tuple[str, ...] = get_args(InferenceKey)
METHOD_KEYS: tuple[str, ...] = get_args(MethodKey)
assert METHOD_KEYS == tuple(m.key for m in ALL), "MethodKey and ALL disagree"
assert FINETUNE_KEYS == tuple(m.key for m in FINETUNE), "FinetuneKey and FINETUNE disagree"
assert INFERENCE_KEYS == tuple(m.key for m in INFERENCE), "InferenceKey and INFERENCE disagree"


def lookup(name: str) -> MethodName:
    """Find a method by key (``grpo_kl``) or paper name (``GRPO-KL``); clear error otherwise."""
    if name in BY_KEY:
        return BY_KEY[name]
    if name in BY_PAPER_NAME:
        return BY_PAPER_NAME[name]
    raise KeyError(f"unknown method {name!r}; allowed: {', '.join(BY_KEY)}")
