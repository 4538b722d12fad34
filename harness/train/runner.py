"""Shared machinery of every method: model + LoRA, data, reward, TRL config, callbacks, checkpoints, resume.

``train_policy_gradient(cfg, advantage_rule, ...)`` runs the ``RLVRTrainer`` (trainer.py) (grpo, grpo_kl, reinforce,
rl_rej, and ppo through its subclass). Checkpoints: HF ``checkpoint-<step>/`` folders every ``save_steps``
holding the LoRA adapter, optimizer, scheduler and RNG state. Resume: with ``resume: true`` a run whose
output_dir has a checkpoint continues from the last one; the data order is the same (TRL's RepeatSampler
is seeded by ``seed`` and the Trainer skips the batches already consumed), and the sample store and
metrics.jsonl are not duplicated (see callbacks.py).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from tmc_core.config import config_hash, to_dict

from .config import TrainConfig

log = logging.getLogger(__name__)


def resolved_dtype_name(dtype: str) -> str:
    """The weights dtype ``tmc train`` uses for a config's ``dtype``: ``auto`` is bfloat16 on a CUDA machine and
    float32 on a CPU (whatever its bf16 support: the policy is trained in float32 there)."""
    if dtype == "auto":
        import torch

        return "bfloat16" if torch.cuda.is_available() else "float32"
    return dtype


def torch_dtype(cfg: TrainConfig):
    import torch

    return getattr(torch, resolved_dtype_name(cfg.dtype))


def load_policy(cfg: TrainConfig):
    """(model, tokenizer) of ``cfg.model`` (resolved by resolve_model: aliases, local dirs, hub ids)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.models import resolve_model

    path = resolve_model(cfg.model)
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(cfg))
    return model, tok, path


def lora_config(cfg: TrainConfig):
    if not cfg.use_lora:
        return None
    from peft import LoraConfig

    targets = cfg.lora_target_modules
    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, task_type="CAUSAL_LM",
                      target_modules=targets[0] if targets == ["all-linear"] else list(targets))


def report_to(cfg: TrainConfig) -> list[str] | str:
    """HF ``report_to``: the back-ends HF's own callbacks handle. TensorBoard and W&B are ours (``RunTensorBoard``,
    ``RunWandb``: one run with each step once across resumes), so they are not passed to HF."""
    r = [x for x in cfg.report_to if x not in ("none", "tensorboard", "wandb")]
    return r or "none"


def run_name(cfg: TrainConfig) -> str:
    return cfg.run_name or f"{cfg.method}-{Path(cfg.output_dir).name}"


def logging_callbacks(cfg: TrainConfig, step_offset: int = 0) -> list:
    """Our logging callbacks for ``cfg.report_to``: ``RunTensorBoard`` (<output_dir>/tensorboard) and ``RunWandb``
    (after setting W&B's environment, :func:`wandb_env`). Each has ``step_offset`` and ``write(step, logs)``."""
    cbs: list = []
    if "tensorboard" in cfg.report_to:
        from .callbacks import RunTensorBoard

        cbs.append(RunTensorBoard(Path(cfg.output_dir) / "tensorboard", step_offset))
    if "wandb" in cfg.report_to:
        from .callbacks import RunWandb

        wandb_env(cfg)
        cbs.append(RunWandb(step_offset))
    return cbs


def wandb_env(cfg: TrainConfig) -> dict[str, str]:
    """Environment read by HF's ``WandbCallback`` / ``wandb.init``: project (``wandb_project``, unless
    WANDB_PROJECT is set) and a run id kept in ``<output_dir>/wandb_run_id`` with WANDB_RESUME=allow, so a
    resumed training continues the same W&B run instead of starting a second one. User-set WANDB_RUN_ID wins."""
    import secrets

    if process_rank() != 0:  # only rank 0 logs to W&B (HF's WandbCallback)
        return {}
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    id_file = out / "wandb_run_id"
    if not id_file.exists():
        id_file.write_text(secrets.token_hex(4))
    env = {"WANDB_PROJECT": os.environ.get("WANDB_PROJECT") or cfg.wandb_project,
           "WANDB_RUN_ID": os.environ.get("WANDB_RUN_ID") or id_file.read_text().strip(),
           "WANDB_RESUME": os.environ.get("WANDB_RESUME") or "allow"}
    os.environ.update(env)
    return env


def process_rank() -> int:
    """This process's global rank (``RANK``, set by accelerate launch / torchrun; 0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """Processes of this run (``WORLD_SIZE``, set by accelerate launch / torchrun; 1 otherwise)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def generation_rows_per_process(cfg: TrainConfig, processes: int) -> tuple[int, str]:
    """Completions one process generates per generation round, and how they were computed.

    TRL's GRPOConfig: ``generation_batch_size = per_device_train_batch_size x num_processes x steps_per_generation``
    (global), with ``steps_per_generation`` defaulting to ``gradient_accumulation_steps``. Either may be set through
    ``trl_overrides``; the per-process share is ``generation_batch_size / num_processes``."""
    over = cfg.trl_overrides or {}
    if over.get("generation_batch_size") is not None:
        gbs = int(over["generation_batch_size"])
        return gbs // max(processes, 1), f"trl_overrides.generation_batch_size: {gbs} / {processes} processes"
    if over.get("steps_per_generation") is not None:
        spg = int(over["steps_per_generation"])
        return (cfg.per_device_train_batch_size * spg,
                f"per_device_train_batch_size: {cfg.per_device_train_batch_size} x "
                f"trl_overrides.steps_per_generation: {spg}")
    return (cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps,
            f"per_device_train_batch_size: {cfg.per_device_train_batch_size} x gradient_accumulation_steps: "
            f"{cfg.gradient_accumulation_steps}")


def require_whole_groups_per_process(cfg: TrainConfig, why: str) -> None:
    """Under several processes, raise a clear ConfigError unless each process's generation batch
    (:func:`generation_rows_per_process`: per_device_train_batch_size x steps_per_generation rows, TRL's default
    steps_per_generation = gradient_accumulation_steps) holds whole groups of num_generations completions."""
    n = world_size()
    rows, how = generation_rows_per_process(cfg, n)
    if n > 1 and rows % cfg.num_generations:
        from tmc_core.config import ConfigError

        raise ConfigError(f"{how} = {rows} completions per process is not a multiple of "
                          f"num_generations: {cfg.num_generations}, which method: {cfg.method!r} with rej_mode: "
                          f"{cfg.rej_mode!r} needs under WORLD_SIZE={n} ({why}); allowed values: "
                          "a per-process generation batch that is a multiple of num_generations, "
                          "or rej_mode offline / leave_out")


def multi_process_cpu() -> bool:
    """True when launched with several processes (accelerate launch / torchrun set WORLD_SIZE) on a machine
    without CUDA: HF then needs ``use_cpu=True`` to build a gloo process group (otherwise every process
    silently trains alone)."""
    import torch

    return world_size() > 1 and not torch.cuda.is_available()


def common_args(cfg: TrainConfig) -> dict[str, Any]:
    """TrainingArguments shared by GRPOConfig and SFTConfig."""
    import torch

    return dict(
        output_dir=cfg.output_dir, max_steps=cfg.max_steps, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type, warmup_steps=cfg.warmup_steps, weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm, seed=cfg.seed, data_seed=cfg.seed, logging_steps=cfg.logging_steps,
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit,
        report_to=report_to(cfg), gradient_checkpointing=cfg.gradient_checkpointing,
        bf16=(cfg.dtype in ("auto", "bfloat16") and torch.cuda.is_available()),
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, disable_tqdm=True, run_name=run_name(cfg),
        **({"use_cpu": True} if multi_process_cpu() else {}),
    )


def grpo_args(cfg: TrainConfig, **extra):
    from trl import GRPOConfig

    kw = common_args(cfg)
    kw.update(
        num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature, top_p=cfg.top_p, beta=cfg.beta, loss_type=cfg.loss_type,
        scale_rewards=cfg.scale_rewards, epsilon=cfg.epsilon, num_iterations=cfg.num_iterations,
        use_vllm=cfg.use_vllm, vllm_mode=cfg.vllm_mode, vllm_gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
        log_completions=False, remove_unused_columns=False,
    )
    kw.update(extra)
    kw.update(cfg.trl_overrides)
    return GRPOConfig(**kw)


def last_checkpoint(output_dir: str | Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    d = Path(output_dir)
    return get_last_checkpoint(str(d)) if d.is_dir() else None


#: fields that may change when a run is resumed (length, logging, output); every other field changes training
RESUMABLE_FIELDS = ("max_steps", "resume", "save_steps", "report_to", "logging_steps", "output_dir", "run_name",
                    "wandb_project", "allow_config_change")


def config_changes(old: dict, new: dict) -> list[str]:
    """``field: old -> new`` for every field outside RESUMABLE_FIELDS whose value differs (a field missing from an
    older run's config counts as its current default, i.e. unchanged when the new value is the default)."""
    from dataclasses import fields

    defaults = {f.name: to_dict(TrainConfig()).get(f.name) for f in fields(TrainConfig)}
    out = []
    for k in sorted(set(old) | set(new)):
        if k in RESUMABLE_FIELDS:
            continue
        a, b = old.get(k, defaults.get(k)), new.get(k, defaults.get(k))
        if a != b:
            out.append(f"{k}: {a!r} -> {b!r}")
    return out


def train_id_scheme(cfg: TrainConfig) -> int:
    """The problem-id scheme (harness/data/ids.py) of training run ``cfg.output_dir``: a resumed run keeps the one
    its train_run.json records (1 when it records none: a run started before schemes existed), so its dataset, its
    train_samples store and its offline-rejected ids stay in one scheme; a new run uses the current ``ID_SCHEME``."""
    from harness.data.ids import ID_SCHEME, scheme_of

    path = Path(cfg.output_dir) / "train_run.json"
    if cfg.resume and path.exists():
        return scheme_of(json.loads(path.read_text()))
    return ID_SCHEME


def write_run_json(cfg: TrainConfig, model_path: str) -> str:
    """Write ``<output_dir>/train_run.json`` (method, model, config, hash, resolved dtype, config_history, id_scheme).

    Resuming (``resume: true`` and a train_run.json already there) with a config that differs in a field outside
    RESUMABLE_FIELDS raises ConfigError listing the changed fields, unless ``allow_config_change``; each launch
    appends ``{config_hash, config, changed}`` to ``config_history``. Every process checks; rank 0 writes."""
    from datetime import datetime, timezone

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    h = config_hash(cfg, exclude=RESUMABLE_FIELDS)
    id_scheme = train_id_scheme(cfg)
    path = out / "train_run.json"
    new = to_dict(cfg)
    history: list[dict] = []
    changed: list[str] = []
    if path.exists():
        old = json.loads(path.read_text())
        history = old.get("config_history") or [{"config_hash": old.get("config_hash"), "config": old.get("config"),
                                                 "changed": []}]
        changed = config_changes(old.get("config") or {}, new)
        if cfg.resume and changed and not cfg.allow_config_change:
            from tmc_core.config import ConfigError

            raise ConfigError(f"{out}: resuming with a changed config ({'; '.join(changed)}); allowed values: the "
                              "run's config (fields that may change: " + ", ".join(RESUMABLE_FIELDS[:-1]) + "), a new "
                              "output_dir, resume: false, or --allow-config-change to continue with the change "
                              "(recorded in train_run.json's config_history)")
        if not cfg.resume:
            history, changed = [], []
    history.append({"config_hash": h, "config": new, "changed": changed,
                    "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    # the precision the policy is trained in (``dtype: auto`` differs between CPU and CUDA machines), as resolved
    # by this launch; tmc eval-checkpoints --dtype train samples in it
    meta = {"method": cfg.method, "model_path": model_path, "config": new, "config_hash": h,
            "resolved_dtype": resolved_dtype_name(cfg.dtype), "config_history": history, "id_scheme": id_scheme}
    if process_rank() == 0:
        tmp = out / f".train_run.json.tmp-{os.getpid()}"  # atomic
        tmp.write_text(json.dumps(meta, indent=2, default=str))
        os.replace(tmp, path)
    return h


def make_recorder(cfg: TrainConfig, reward_fn, model_path: str, h: str):
    if not cfg.store_completions:
        return None
    from .callbacks import CompletionRecorder

    return CompletionRecorder(Path(cfg.output_dir) / "train_samples", to_dict(cfg), h, reward_fn, model_path,
                              cfg.temperature, cfg.top_p, cfg.max_completion_length, cfg.seed,
                              id_scheme=train_id_scheme(cfg))


def train_policy_gradient(cfg: TrainConfig, advantage_rule, trainer_cls=None, rejector=None,
                          exclude_ids: set[str] | None = None, grpo_extra: dict | None = None,
                          trainer_extra: dict | None = None, model=None, tokenizer=None,
                          extra_callbacks: list | None = None) -> dict:
    """Run one RLVRTrainer training job described by ``cfg``; returns a summary dict."""
    from .callbacks import MetricsJSONL
    from .data import build_train_dataset
    from .trainer import RLVRTrainer
    from .rewards import make_train_reward

    trainer_cls = trainer_cls or RLVRTrainer
    if model is None:
        model, tokenizer, model_path = load_policy(cfg)
    else:
        model_path = getattr(model.config, "_name_or_path", "")
    h = write_run_json(cfg, model_path)
    dataset = build_train_dataset(cfg, tokenizer, exclude_ids=exclude_ids)
    reward_fn = make_train_reward(cfg, tokenizer)
    recorder = make_recorder(cfg, reward_fn, model_path, h)
    metrics_cb = MetricsJSONL(Path(cfg.output_dir) / "metrics.jsonl")
    trainer = trainer_cls(
        model=model, reward_funcs=[reward_fn], args=grpo_args(cfg, **(grpo_extra or {})), train_dataset=dataset,
        processing_class=tokenizer, peft_config=lora_config(cfg),
        callbacks=[metrics_cb, *([recorder] if recorder is not None else []), *logging_callbacks(cfg),
                   *(extra_callbacks or [])],
        advantage_rule=advantage_rule, kl_estimator=cfg.kl_estimator, rejector=rejector, recorder=recorder,
        method=cfg.method, **(trainer_extra or {}),
    )
    ckpt = last_checkpoint(cfg.output_dir) if cfg.resume else None
    if ckpt:
        log.info("resuming from %s", ckpt)
    result = trainer.train(resume_from_checkpoint=ckpt)
    trainer.save_model(str(Path(cfg.output_dir) / "final"))
    return {"method": cfg.method, "output_dir": cfg.output_dir, "global_step": trainer.state.global_step,
            "resumed_from": ckpt, "train_loss": float(result.training_loss), "n_train_prompts": len(dataset),
            "trainer": trainer}
