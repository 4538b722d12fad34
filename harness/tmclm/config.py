"""``TmclmConfig``: every knob of ``tmc tmclm`` (TMC-LM), typed and documented.

Loaded from YAML with :func:`load_tmclm_config` (``tmc_core.config.load_config``); an unknown field or a value
outside its ``Literal`` type raises ``ConfigError`` naming the file, the field and the allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from tmc_core.config import ConfigError, check_literals, doc, load_config
from tmc_core.names import FINETUNE_KEYS, INFERENCE_KEYS, FinetuneKey, InferenceKey

from .bon_config import LearnedBonConfig


@dataclass
class InstanceConfig:
    """Which TMC the language model is trained on."""

    kind: Literal["paper", "random"] = field(default="paper", metadata=doc(
        "'paper' = the published 4-layer x 2-state instance (docs/tmc_model.md §1, tmc_theory.tmc.paper_tmc); "
        "'random' = tmc_theory.generate.random_tmc(depth, width, n_tasks, high_weight, low_weight, c_size, seed)"))
    depth: int = field(default=5, metadata=doc("random: number of layers L"))
    width: int = field(default=3, metadata=doc("random: states per layer"))
    n_tasks: int = field(default=2, metadata=doc("random: number of tasks"))
    high_weight: float = field(default=1.0, metadata=doc("random: raw weight of a high edge (paper 1.0)"))
    low_weight: float = field(default=0.1, metadata=doc("random: raw weight of a low edge (paper 0.1)"))
    c_size: int = field(default=1, metadata=doc("random: high children per state (paper C_size = 1)"))
    seed: int = field(default=0, metadata=doc("random: generator seed (the paper instance ignores it)"))

    def __post_init__(self):
        check_literals(self)


@dataclass
class ModelConfig:
    """The small causal transformer (a transformers Qwen2 config, built from scratch, no hub)."""

    hidden_size: int = field(default=64, metadata=doc("model width (the issue caps it at 128)"))
    num_hidden_layers: int = field(default=2, metadata=doc("transformer blocks"))
    num_attention_heads: int = field(default=4, metadata=doc("attention heads"))
    num_key_value_heads: int = field(default=2, metadata=doc("key/value heads (grouped-query attention as in Qwen2)"))
    intermediate_size: int = field(default=128, metadata=doc("MLP width"))
    init_seed: int = field(default=0, metadata=doc("torch seed for the random initialisation"))

    def __post_init__(self):
        if not 1 <= self.hidden_size <= 128:
            raise ConfigError(f"model.hidden_size: {self.hidden_size} is not allowed; allowed values: 1..128")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(f"model.num_attention_heads: {self.num_attention_heads} must divide hidden_size "
                              f"{self.hidden_size}")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError(f"model.num_key_value_heads: {self.num_key_value_heads} must divide "
                              f"num_attention_heads {self.num_attention_heads}")


@dataclass
class TmclmPretrainConfig:
    """Pretraining = tree expansion: next-token cross-entropy on fresh TMC paths (plain torch loop, AdamW)."""

    steps: int = field(default=400, metadata=doc("optimizer steps; every step draws a FRESH batch from the TMC"))
    batch_size: int = field(default=256, metadata=doc("paths per step"))
    lr: float = field(default=5e-3, metadata=doc("AdamW peak learning rate (linear warm-up, cosine decay to 10%)"))
    warmup_steps: int = field(default=30, metadata=doc("linear warm-up steps"))
    weight_decay: float = field(default=0.0, metadata=doc("AdamW weight decay"))
    task_prompt_fraction: float = field(default=0.5, metadata=doc(
        "share of sequences whose prompt is a task token <T:k> with o_0 = the task's start (the fine-tuned models' "
        "convention, docs/tmc_model.md §5); the rest use the <any> prompt with o_0 uniform over layer 0 (the paper's "
        "uniform-start pretraining and Base Model). Both halves continue with the true TMC kernel."))
    seed: int = field(default=0, metadata=doc("seed of the path sampler and the data order"))
    log_every: int = field(default=100, metadata=doc("record loss and exact KL to the TMC every this many steps"))


@dataclass
class PosttrainConfig:
    """Post-training of the pretrained LM with the harness's RLVR trainer (TRL GRPOTrainer family)."""

    methods: list[FinetuneKey] = field(default_factory=lambda: list(FINETUNE_KEYS), metadata=doc(
        "fine-tuning methods to run (tmc_core.names keys)"))
    task: str = field(default="TASK1", metadata=doc("the task fine-tuned on (the paper fine-tunes on TASK1 only)"))
    n_instances: int = field(default=200, metadata=doc(
        "fine-tuning instances (each a random correct set C, docs/tmc_model.md §2); one training row each"))
    steps: int = field(default=40, metadata=doc("optimizer steps per method"))
    prompts_per_step: int = field(default=4, metadata=doc("instances (prompts) per optimizer step"))
    num_generations: int = field(default=8, metadata=doc("completions sampled per prompt (the group G)"))
    lr: float = field(default=3e-4, metadata=doc("AdamW learning rate of every method (full fine-tuning, no LoRA)"))
    beta: float = field(default=0.05, metadata=doc("grpo_kl: KL coefficient to the pretrained model"))
    temperature: float = field(default=1.0, metadata=doc(
        "sampling temperature during training (1.0 = the model's own distribution, as the theory assumes)"))
    eval_every: int = field(default=5, metadata=doc("measure the exact path distribution every this many steps"))
    seed: int = field(default=0, metadata=doc("seed of instances, data order and sampling"))
    rej_tries: int = field(default=5, metadata=doc(
        "rl_rej: T, the checks per instance of the leave-T-out rule (the paper's rej_tries = 5, docs/tmc_model.md §4); "
        "needs num_generations > rej_tries"))

    def __post_init__(self):
        check_literals(self)


@dataclass
class MeasureConfig:
    k: int = field(default=30, metadata=doc("K of pass@K (docs/tmc_model.md §2: K = 30)"))
    lam: float = field(default=0.5, metadata=doc("lambda of Soft-BoN / DPRM (docs/tmc_model.md §2: 0.5)"))
    n_bon: int = field(default=15, metadata=doc("N of the Best-of-N selectors (docs/tmc_model.md §5: 15)"))
    inference: list[InferenceKey] = field(default_factory=lambda: list(INFERENCE_KEYS), metadata=doc(
        "inference selectors run with the pretrained LM as base sampler"))

    def __post_init__(self):
        check_literals(self)


@dataclass
class CompareConfig:
    theory_variant: Literal["auto", "expected", "expected_textbook", "paper", "textbook"] = field(
        default="auto", metadata=doc(
        "tmc_theory.finetune variant the transformer is compared with: 'auto' = expected_textbook where the registry "
        "has it, else expected (exact expected-gradient dynamics, no sampling noise)"))
    lr_match: Literal["initial_speed", "fixed"] = field(default="initial_speed", metadata=doc(
        "learning-rate matching rule: 'initial_speed' = choose the theory's lr so that over the first eval interval "
        "its path distribution moves (L1 distance on the task's paths) as far as the transformer's did; the rest of "
        "the trajectory is then a prediction. 'fixed' = use theory_lr"))
    theory_lr: float = field(default=0.05, metadata=doc("theory lr for lr_match='fixed' (paper: 0.05)"))
    theory_steps_per_step: int = field(default=1, metadata=doc(
        "theory expected-gradient steps per transformer optimizer step (time grid of the comparison)"))
    movement_metric: Literal["l1", "kl"] = field(default="l1", metadata=doc(
        "clock of the movement-matched comparison (harness/tmclm/movement.py): the theory is read where it has moved "
        "as far from its start as the transformer has from its own. l1 = sum |q_t - q_0| over the task's paths + "
        "malformed mass (bounded, symmetric); kl = KL(q_t || q_0). Both are computed and stored; this one is used in "
        "the tables and plots"))
    movement_max_steps_factor: float = field(default=25.0, metadata=doc(
        "the theory runs at most this many times the transformer's steps to reach the transformer's movement; rows "
        "it does not reach are marked reached=false"))

    def __post_init__(self):
        check_literals(self)


@dataclass
class TmclmConfig:
    """TMC-LM: pretrain a transformer on TMC paths, post-train it with six methods, compare with the theory."""

    instance: InstanceConfig = field(default_factory=InstanceConfig, metadata=doc("the TMC"))
    model: ModelConfig = field(default_factory=ModelConfig, metadata=doc("the transformer"))
    pretrain: TmclmPretrainConfig = field(default_factory=TmclmPretrainConfig, metadata=doc("pretraining"))
    posttrain: PosttrainConfig = field(default_factory=PosttrainConfig, metadata=doc("post-training"))
    measure: MeasureConfig = field(default_factory=MeasureConfig, metadata=doc("metrics and inference selectors"))
    compare: CompareConfig = field(default_factory=CompareConfig, metadata=doc("theory vs transformer"))
    bon: LearnedBonConfig = field(default_factory=LearnedBonConfig, metadata=doc(
        "tmc tmclm-bon: selectors with reward models learned from TMC-LM samples (harness.tmclm.bon_config)"))
    out_dir: str = field(default="runs/tmclm/paper", metadata=doc("output folder (results.json, PNGs, model/)"))
    threads: int = field(default=2, metadata=doc("torch.set_num_threads (the target machine has 2 cores)"))


def load_tmclm_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TmclmConfig:
    return load_config(TmclmConfig, path, overrides)
