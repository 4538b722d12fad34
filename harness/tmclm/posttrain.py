"""Post-training the pretrained TMC-LM with the harness's RLVR trainer (TRL) and the TMC verifiable reward.

Every method runs through ``harness.train``'s ``RLVRTrainer`` (TRL ``GRPOTrainer`` with a pluggable advantage rule;
``PPOTrainer`` for PPO), configured by ``harness.train.config.TrainConfig`` and ``harness.train.runner.grpo_args``,
with full fine-tuning (no LoRA: the model has ~75k parameters) and AdamW. The training rows are question instances
(:mod:`harness.tmclm.reward`), G completions are sampled per instance, and the advantage rule comes from
``harness.train.advantages.advantage_rule`` (the one rule registry; sources below are in that module):

=========  ===============================================================  ==========================================
key        advantage of completion i (group of G on one instance C)         source
=========  ===============================================================  ==========================================
reinforce  A_i = r_i (no baseline)                                          advantages.reinforce_advantage
grpo       A_i = (r_i - mean_g r) / (std_g r + 1e-4)                        advantages.group_normalised_advantage
grpo_kl    same, + beta * KL(pi || pi_pretrained) (TRL k3 term)             same, TrainConfig.beta
rl_rej     A_i = r_i * prod_{j in S_i} (1 - r_j), S_i = the T = rej_tries   advantages.leave_out_advantage (rej_tries)
           next samples of the group (cyclically): the paper's "reject the
           instance if any of T fresh checks is in C", leave-T-out
raft       A_i = k_i * N / max(1, sum_batch k), k_i = 1 for the first        advantages.raft_online_advantage
           correct completion of each group (best-of-G), else 0: SFT on the
           kept samples, one online round per optimizer step
ppo        token-level GAE from a learned critic, clipped, ppo_epochs      harness.train.ppo.PPOTrainer
=========  ==============================================================  =============================================

Departures from harness.train (and why):

* ``rl_rej``: the leave-T-out rule, harness.train's ``rej_mode: leave_out`` (harness.train's default in-loop rejector
  drops groups whose pass rate exceeds a threshold and refills: DAPO dynamic sampling). With a 0/1 reward, rejecting
  "any success" there would leave only all-zero groups, i.e. no gradient at all, whereas the paper
  (docs/tmc_model.md §4) draws T checks and then a FRESH path. The leave-T-out rule is an unbiased estimate of the
  paper's expected update ``sum_o q(o) E_C[1{o in C} (1 - q(C))^T] grad log q(o)``
  (the T checks are independent of o_i given C), which is what tmc_theory's ``rl_rej`` "expected" variant computes.
* ``raft`` here is RAFT ONLINE (``raft_online_advantage``): harness.train's RAFT builds an SFTTrainer per round
  (seconds each); here a round is one batch and the
  SFT step on the kept samples is the RLVRTrainer step with the advantage above (with dr_grpo aggregation and
  completions of equal length L + 1 this is exactly the mean per-token SFT loss on the kept completions). Keeping the
  best (first correct) of each group is tmc_theory's textbook RAFT (SFT on the best of group_size samples).

With ``loss_type = dr_grpo`` and ``num_iterations = 1`` (all but PPO), the gradient of a step is
``(1 / (B (L + 1))) sum_i A_i grad log pi(y_i | x_i)``, the sequence-level policy gradient of the theory.
A "step" is one optimizer step; every ``eval_every`` steps a callback records the exact path distribution of every
prompt (:func:`harness.tmclm.measure.all_path_probs`).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from .config import PosttrainConfig
from .measure import all_path_probs
from .reward import TmcReward, instance_dataset
from .tokenizer import PathTokenizer

def _advantage_rule(method: str, cfg: PosttrainConfig):
    """The method's rule from harness.train's one rule registry (raft: ``raft_online_advantage``)."""
    from harness.train.advantages import advantage_rule

    if method == "rl_rej" and cfg.num_generations <= cfg.rej_tries:
        from tmc_core.config import ConfigError

        raise ConfigError(f"posttrain.num_generations: {cfg.num_generations} is too small for rl_rej; allowed "
                          f"values: > posttrain.rej_tries = {cfg.rej_tries}")
    return advantage_rule(method, scale_rewards="group", rej_mode="leave_out", rej_tries=cfg.rej_tries,
                          online_raft=True)


def train_config(method: str, cfg: PosttrainConfig, tok: PathTokenizer, out_dir: str | Path):
    """The ``harness.train.config.TrainConfig`` of one method (full fine-tuning, no logging back-ends)."""
    from harness.train.config import TrainConfig

    return TrainConfig(
        method=method, model="<in-memory TMC-LM>", use_lora=False, num_generations=cfg.num_generations,
        per_device_train_batch_size=cfg.num_generations * cfg.prompts_per_step,
        max_completion_length=tok.completion_length, temperature=cfg.temperature, top_p=1.0,
        max_steps=cfg.steps, learning_rate=cfg.lr, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=1.0, seed=cfg.seed, loss_type="dr_grpo", scale_rewards="group",
        beta=cfg.beta if method == "grpo_kl" else 0.0, kl_estimator="k3", ppo_epochs=2, gae_lambda=1.0,
        output_dir=str(out_dir), save_steps=10 ** 9, logging_steps=max(1, cfg.eval_every), report_to=["none"],
        store_completions=False, resume=False, dtype="float32",
    )


class _PathMassRecorder:
    """TrainerCallback: exact path distribution of every prompt at step 0, every ``every`` steps and at the end."""

    def __init__(self, tok, tmc, every: int):
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_train_begin(self, args, state, control, model=None, **kw):
                outer.record(0, model)

            def on_step_end(self, args, state, control, model=None, **kw):
                if state.global_step % outer.every == 0 or state.global_step == state.max_steps:
                    outer.record(state.global_step, model)

        self.tok, self.tmc, self.every = tok, tmc, max(1, every)
        self.history: list[dict] = []
        self.callback = CB()

    def record(self, step: int, model) -> None:
        if self.history and self.history[-1]["step"] == step:
            return
        probs = all_path_probs(model, self.tok, self.tmc)
        self.history.append({"step": int(step), "probs": {k: v.tolist() for k, v in probs.items()}})


def posttrain_method(model0, tok: PathTokenizer, tmc, method: str, cfg: PosttrainConfig, instances,
                     out_dir: str | Path) -> dict:
    """Fine-tune a COPY of ``model0`` with ``method`` on ``cfg.task``; returns ``{"history", "wall_s", "model",
    "train_log", "trainer"}`` where ``history`` holds the exact path distributions over steps."""
    import torch

    t0 = time.perf_counter()
    if not getattr(model0.config, "_name_or_path", "") and method == "grpo_kl":
        # TRL loads the KL reference model from config._name_or_path: save the starting model first
        from .pretrain import save_model

        save_model(model0, tok, Path(out_dir) / "reference_model")
    model = copy.deepcopy(model0)
    model.train()
    rule = _advantage_rule(method, cfg)
    tcfg = train_config(method, cfg, tok, out_dir)
    dataset = instance_dataset(tok, instances, cfg.task)
    reward = TmcReward(tok)
    rec = _PathMassRecorder(tok, tmc, cfg.eval_every)
    torch.manual_seed(cfg.seed)
    from harness.train.runner import grpo_args
    from harness.train.trainer import RLVRTrainer

    extra, cls = {}, RLVRTrainer
    grpo_extra = {"report_to": "none", "save_strategy": "no"}
    if method == "ppo":
        from harness.train.ppo import PPOTrainer

        cls = PPOTrainer
        extra = dict(ppo_epochs=tcfg.ppo_epochs, gamma=tcfg.gamma, gae_lambda=tcfg.gae_lambda,
                     value_lr=tcfg.value_lr, cliprange_value=tcfg.cliprange_value,
                     whiten_advantages=tcfg.whiten_advantages)
        grpo_extra["num_iterations"] = tcfg.ppo_epochs
    args = grpo_args(tcfg, **grpo_extra)
    trainer = cls(model=model, reward_funcs=[reward], args=args, train_dataset=dataset, processing_class=tok.hf,
                  callbacks=[rec.callback], advantage_rule=rule, kl_estimator=tcfg.kl_estimator,
                  method=method, **extra)
    used = f"harness.train.{cls.__name__}"
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)
    trainer.train()
    model.eval()
    logs = [{k: v for k, v in e.items() if isinstance(v, (int, float))} for e in trainer.state.log_history]
    return {"method": method, "history": rec.history, "wall_s": time.perf_counter() - t0, "model": model,
            "trainer_class": used, "train_log": logs}


def posttrain_all(model0, tok: PathTokenizer, tmc, cfg: PosttrainConfig, out_dir: str | Path,
                  progress=None) -> dict[str, dict]:
    """Run every method of ``cfg.methods`` from the same pretrained model and the same fine-tuning instances."""
    from tmc_theory.instances import draw_instances

    instances = draw_instances(tmc, cfg.task, cfg.n_instances, np.random.default_rng(cfg.seed + 1))
    out = {}
    for m in cfg.methods:
        res = posttrain_method(model0, tok, tmc, m, cfg, instances, Path(out_dir) / m)
        out[m] = res
        if progress:
            progress(m, res)
    return out
