"""RAFT: reward-ranked fine-tuning / rejection-sampling fine-tuning (Dong et al. 2023, arXiv 2304.06767).

For round k = 1..R (``raft_rounds``):
  1. take the next ``raft_prompts_per_round`` training prompts (a seeded permutation of the training set,
     so a resumed run continues with the same prompts) and sample n = ``num_generations`` completions each
     from the CURRENT policy (temperature / top_p / max_completion_length as in the config);
  2. grade them with the verifiable reward and KEEP ONLY those with reward 1 (the paper's RAFT row: the
     update is supervised learning on the reward-filtered samples, i.e. on pi(y|x) * 1[r(y) = 1] / Z);
  3. fine-tune the LoRA policy on the kept (prompt, completion) pairs with TRL's ``SFTTrainer``
     (loss on completion tokens only, EOS appended) for ``raft_epochs`` epochs.
The adapter is saved after every round as ``<output_dir>/checkpoint-<global SFT step>/`` (the same layout as
the RL methods, so ``tmc eval-checkpoints`` works), with ``raft_state.json`` (round, step). Total SFT steps
are capped by ``max_steps``. Resume: the last round's checkpoint is loaded and the next round starts.
Sampled completions of every round go to the training-time sample store with step = the global SFT step
of the policy that generated them. Several processes (accelerate launch / torchrun): each round's prompts are
split over the processes, the samples gathered to every rank, and the SFT is data-parallel (TRL/DDP); rank 0
writes checkpoints, logs and the store.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def generate(model, tokenizer, prompts: list[str], n: int, max_new_tokens: int, temperature: float, top_p: float,
             batch_size: int = 16):
    """n sampled completions per prompt: (texts [P*n], token id lists [P*n]) in prompt-major order."""
    import torch

    texts, ids_out = [], []
    model.eval()
    device = next(model.parameters()).device
    for i in range(0, len(prompts), max(1, batch_size // n)):
        chunk = prompts[i:i + max(1, batch_size // n)]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            gen = model.generate(**enc, do_sample=True, temperature=temperature, top_p=top_p,
                                 max_new_tokens=max_new_tokens, num_return_sequences=n,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        comp = gen[:, enc["input_ids"].size(1):]
        for row in comp.tolist():
            cut = []
            for t in row:
                if t == tokenizer.eos_token_id:
                    break
                if t != tokenizer.pad_token_id:
                    cut.append(t)
            ids_out.append(cut)
            texts.append(tokenizer.decode(cut, skip_special_tokens=True))
    model.train()
    return texts, ids_out


def sample_sharded(dist, model, tokenizer, prompts: list[str], cfg) -> tuple[list[str], list[list[int]]]:
    """``generate`` for this round's prompts, split over the processes (prompt i on rank i mod world) and
    gathered back to every rank in prompt-major order (one process: exactly ``generate``)."""
    n = cfg.num_generations
    mine = list(range(dist.process_index, len(prompts), dist.num_processes))
    texts, ids = generate(model, tokenizer, [prompts[i] for i in mine], n, cfg.max_completion_length,
                          cfg.temperature, cfg.top_p)
    if dist.num_processes == 1:
        return texts, ids
    from .gather import gather_lists

    rows = gather_lists(dist, [(mine[j // n], j, texts[j], ids[j]) for j in range(len(texts))])
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows], [r[3] for r in rows]


def train_raft(cfg, model=None, tokenizer=None) -> dict:
    from datasets import Dataset
    from peft import PeftModel, get_peft_model
    from trl import SFTConfig, SFTTrainer

    from .callbacks import MetricsJSONL
    from .data import build_train_dataset
    from .rewards import make_train_reward
    from accelerate import PartialState

    from .runner import common_args, load_policy, logging_callbacks, lora_config, make_recorder, multi_process_cpu
    from .runner import write_run_json

    # the process group (several processes) must exist before the first sampling round gathers its samples
    dist = PartialState(cpu=multi_process_cpu())
    main = dist.is_main_process
    if model is None:
        model, tokenizer, model_path = load_policy(cfg)
    else:
        model_path = getattr(model.config, "_name_or_path", "")
    out = Path(cfg.output_dir)
    h = write_run_json(cfg, model_path)
    dataset = build_train_dataset(cfg, tokenizer)
    reward_fn = make_train_reward(cfg, tokenizer)
    recorder = make_recorder(cfg, reward_fn, model_path, h)
    metrics = MetricsJSONL(out / "metrics.jsonl")

    # resume: last finished round
    state = {"round": 0, "global_step": 0}
    ckpts = sorted(out.glob("checkpoint-*/raft_state.json"), key=lambda p: json.loads(p.read_text())["round"])
    if cfg.resume and ckpts:
        state = json.loads(ckpts[-1].read_text())
    if main:
        metrics.truncate_after(state["global_step"])
    tb = logging_callbacks(cfg) if main else []  # RunTensorBoard / RunWandb: one run each, global step axis
    for cb in tb:
        cb.open(state["global_step"])
    if cfg.use_lora:
        if state["round"] > 0:
            model = PeftModel.from_pretrained(model, str(ckpts[-1].parent), is_trainable=True)
        else:
            model = get_peft_model(model, lora_config(cfg))
    model.to(dist.device)  # sample on the accelerator from round 1 on (SFTTrainer would only move it later)
    order = np.random.default_rng(cfg.seed).permutation(len(dataset)).tolist()
    rounds = []
    gs = state["global_step"]
    for k in range(state["round"], cfg.raft_rounds):
        if gs >= cfg.max_steps:
            break
        start = (k * cfg.raft_prompts_per_round) % len(dataset)
        idx = [order[(start + j) % len(dataset)] for j in range(min(cfg.raft_prompts_per_round, len(dataset)))]
        rows = [dataset[i] for i in idx]
        prompts = [r["prompt"] for r in rows]
        texts, ids = sample_sharded(dist, model, tokenizer, prompts, cfg)
        expanded = [r for r in rows for _ in range(cfg.num_generations)]

        class _State:  # the spurious reward seeds its permutation by step
            global_step = gs
        rewards = reward_fn(prompts=[r["prompt"] for r in expanded], completions=texts,
                            answer=[r["answer"] for r in expanded], trainer_state=_State, completion_ids=ids)
        if recorder is not None and main:
            recorder.record(gs, expanded, texts, ids, rewards)
            recorder.flush()
        kept = [{"prompt": r["prompt"], "completion": t, "problem_id": r["problem_id"]}
                for r, t, rew in zip(expanded, texts, rewards) if rew >= 1.0]
        info = {"round": k + 1, "n_sampled": len(texts), "n_kept": len(kept), "kept": kept,
                "reward_mean": float(np.mean(rewards)) if rewards else 0.0}
        log.info("RAFT round %d: kept %d of %d samples", k + 1, len(kept), len(texts))
        steps = 0
        if kept:
            args = common_args(cfg)
            args.update(output_dir=str(out / f"raft_round_{k + 1}"), save_strategy="no", report_to=args["report_to"],
                        num_train_epochs=cfg.raft_epochs, max_steps=-1,
                        gradient_checkpointing=cfg.gradient_checkpointing,
                        completion_only_loss=True, seed=cfg.seed + k)
            args.update(cfg.trl_overrides)
            for cb in tb:
                cb.step_offset = gs
            trainer = SFTTrainer(model=model, args=SFTConfig(**args), train_dataset=Dataset.from_list(
                [{"prompt": x["prompt"], "completion": x["completion"]} for x in kept]), processing_class=tokenizer,
                callbacks=tb)
            need = cfg.max_steps - gs
            per_step = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps * dist.num_processes
            trainer.args.max_steps = min(need, int(np.ceil(len(kept) / per_step)) * cfg.raft_epochs)
            res = trainer.train()
            steps = trainer.state.global_step
            info["sft_loss"] = float(res.training_loss)
            model = trainer.model
        gs += steps
        info["global_step"] = gs
        rounds.append(info)
        round_logs = {"raft/round": k + 1, "raft/n_kept": len(kept), "raft/n_sampled": len(texts),
                      "reward": info["reward_mean"], "loss": info.get("sft_loss", float("nan"))}
        if main:
            ck = out / f"checkpoint-{gs}"
            ck.mkdir(parents=True, exist_ok=True)
            model.save_pretrained(str(ck))
            (ck / "raft_state.json").write_text(json.dumps({"round": k + 1, "global_step": gs}))
            metrics.on_log(None, type("S", (), {"global_step": gs, "is_world_process_zero": True})(), None,
                           logs=round_logs)
            for cb in tb:
                cb.write(gs, round_logs)
        dist.wait_for_everyone()
    for cb in tb:
        cb.close()
    if main:
        model.save_pretrained(str(out / "final"))
    dist.wait_for_everyone()
    return {"method": "raft", "output_dir": str(out), "global_step": gs, "rounds": rounds,
            "resumed_from_round": state["round"], "model": model}
