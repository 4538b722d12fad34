"""The harness's registry: method key (``tmc_core.names``) -> training implementation.

Every entry is a function ``run(cfg: TrainConfig) -> dict``. The policy-gradient methods are ONE trainer
(``trainer.RLVRTrainer``) configured with a different advantage rule (all in ``advantages.py``, chosen by
``advantages.advantage_rule``, the registry TMC-LM's post-training uses too) and selection rule:

=========  ===========================================  =========================================
key        advantage / selection rule                   implementation
=========  ===========================================  =========================================
grpo       (r - mean_g) / (std_g + 1e-4), beta = 0      RLVRTrainer + group_normalised_advantage
grpo_kl    same, + beta * KL(estimator) to the base     RLVRTrainer + group_normalised_advantage
reinforce  A = r (no baseline)                          RLVRTrainer + reinforce_advantage
rl_rej     A = r, easy prompts rejected (offline and/   RLVRTrainer + reinforce_advantage +
           or in-loop with refill), or the paper's      rl_rej.offline_rejected_ids / InLoopRejector,
           leave-T-out rule A_i = r_i prod(1 - r_j);    or leave_out_advantage;
           rej_baseline: group = GRPO's advantage on    group_normalised_advantage +
           the kept groups                              rejection
ppo        token-level GAE with a learned critic,       ppo.PPOTrainer (RLVRTrainer subclass)
           clipped objective over ppo_epochs passes
raft       keep correct samples, SFT on them, R rounds  raft.train_raft (SFTTrainer loop; TMC-LM uses
                                                        raft_online_advantage, one round per step)
=========  ===========================================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tmc_core.names import BY_KEY, FINETUNE_KEYS

from .config import TrainConfig


def rule_for(cfg: TrainConfig):
    """The advantage rule of ``cfg.method`` from the one rule registry (advantages.advantage_rule)."""
    from .advantages import advantage_rule

    return advantage_rule(cfg.method, scale_rewards=cfg.scale_rewards, rej_mode=cfg.rej_mode, rej_tries=cfg.rej_tries,
                          rej_baseline=cfg.rej_baseline)


def _run_policy_gradient(cfg: TrainConfig, **kw) -> dict:
    from .runner import train_policy_gradient

    return train_policy_gradient(cfg, rule_for(cfg), **kw)


def _run_rl_rej(cfg: TrainConfig, **kw) -> dict:
    from .rl_rej import InLoopRejector, offline_rejected_ids
    from .runner import require_whole_groups_per_process, train_policy_gradient

    if cfg.rej_mode == "leave_out":
        return train_policy_gradient(cfg, rule_for(cfg), **kw)
    if cfg.rej_mode in ("in_loop", "both"):
        require_whole_groups_per_process(cfg, "in-loop rejection drops and refills whole groups in each process")
    exclude = None
    if cfg.rej_mode in ("offline", "both"):
        exclude, _ = offline_rejected_ids(cfg.rej_base_run, cfg.rej_threshold, cfg)
    in_loop = cfg.rej_mode in ("in_loop", "both")
    rejector = InLoopRejector(cfg.rej_threshold, cfg.rej_max_refill, cfg.seed) if in_loop else None
    return train_policy_gradient(cfg, rule_for(cfg), rejector=rejector, exclude_ids=exclude, **kw)


def _run_ppo(cfg: TrainConfig, **kw) -> dict:
    from .ppo import train_ppo

    return train_ppo(cfg, **kw)


def _run_raft(cfg: TrainConfig, **kw) -> dict:
    from .raft import train_raft

    return train_raft(cfg, **kw)


@dataclass(frozen=True)
class TrainMethod:
    key: str
    paper_name: str
    rule: str
    run: Callable[..., dict]


REGISTRY: dict[str, TrainMethod] = {m.key: m for m in (
    TrainMethod("grpo", BY_KEY["grpo"].paper_name, "group-normalised advantage", _run_policy_gradient),
    TrainMethod("grpo_kl", BY_KEY["grpo_kl"].paper_name, "group-normalised advantage + beta*KL",
                _run_policy_gradient),
    TrainMethod("reinforce", BY_KEY["reinforce"].paper_name, "advantage = reward", _run_policy_gradient),
    TrainMethod("rl_rej", BY_KEY["rl_rej"].paper_name, "advantage = reward, easy prompts rejected", _run_rl_rej),
    TrainMethod("ppo", BY_KEY["ppo"].paper_name, "GAE advantage from a learned critic", _run_ppo),
    TrainMethod("raft", BY_KEY["raft"].paper_name, "SFT on correct samples", _run_raft),
)}
assert set(REGISTRY) == set(FINETUNE_KEYS), "harness.train.registry must cover tmc_core.names.FINETUNE_KEYS"


def get_method(key: str) -> TrainMethod:
    if key not in REGISTRY:
        from tmc_core.config import ConfigError

        raise ConfigError(f"method: {key!r} is not allowed; allowed values: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def run_training(cfg: TrainConfig, **kw) -> dict:
    """Train ``cfg.method`` as configured; returns the method's summary dict."""
    return get_method(cfg.method).run(cfg, **kw)
