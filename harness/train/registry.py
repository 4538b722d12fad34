"""The harness's registry: method key (``tmc_core.names``) -> training implementation.

Every entry is a function ``run(cfg: TrainConfig) -> dict``. The policy-gradient methods are ONE trainer
(``grpo.RLVRTrainer``) configured with a different advantage / selection rule:

=========  ===========================================  =========================================
key        advantage / selection rule                   implementation
=========  ===========================================  =========================================
grpo       (r - mean_g) / (std_g + 1e-4), beta = 0      RLVRTrainer + group_normalised_advantage
grpo_kl    same, + beta * KL(estimator) to the base     RLVRTrainer + group_normalised_advantage
reinforce  A = r (no baseline)                          RLVRTrainer + reinforce_advantage
rl_rej     A = r, easy prompts rejected (offline and/   RLVRTrainer + reinforce_advantage +
           or in-loop with refill), or the paper's      rl_rej.offline_rejected_ids / InLoopRejector,
           leave-T-out rule A_i = r_i prod(1 - r_j);    or rl_rej.leave_out_advantage;
           rej_baseline: group = GRPO's advantage on    group_normalised_advantage +
           the kept groups                              rejection
ppo        token-level GAE with a learned critic,       ppo.PPOTrainer (RLVRTrainer subclass)
           clipped objective over ppo_epochs passes
raft       keep correct samples, SFT on them, R rounds  raft.train_raft (SFTTrainer loop)
=========  ===========================================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from tmc_core.names import BY_KEY, FINETUNE_KEYS

from .config import TrainConfig


def _group_rule(cfg: TrainConfig):
    """GRPO's group-normalised advantage with the config's ``scale_rewards`` (grpo, grpo_kl, rl_rej group)."""
    from .grpo import group_normalised_advantage

    return partial(group_normalised_advantage, scale=cfg.scale_rewards)


def _run_grpo(cfg: TrainConfig, **kw) -> dict:
    from .runner import train_policy_gradient

    return train_policy_gradient(cfg, _group_rule(cfg), **kw)


def _run_reinforce(cfg: TrainConfig, **kw) -> dict:
    from .reinforce import reinforce_advantage
    from .runner import train_policy_gradient

    return train_policy_gradient(cfg, reinforce_advantage, **kw)


def _run_rl_rej(cfg: TrainConfig, **kw) -> dict:
    from .reinforce import reinforce_advantage
    from .rl_rej import InLoopRejector, leave_out_advantage, offline_rejected_ids
    from .runner import train_policy_gradient

    if cfg.rej_mode == "leave_out":
        return train_policy_gradient(cfg, partial(leave_out_advantage, tries=cfg.rej_tries), **kw)
    if cfg.rej_mode in ("in_loop", "both"):
        from .runner import require_whole_groups_per_process

        require_whole_groups_per_process(cfg, "in-loop rejection drops and refills whole groups in each process")
    exclude = None
    if cfg.rej_mode in ("offline", "both"):
        exclude, _ = offline_rejected_ids(cfg.rej_base_run, cfg.rej_threshold)
    rejector = (
        InLoopRejector(cfg.rej_threshold, cfg.rej_max_refill, cfg.seed) if cfg.rej_mode in ("in_loop", "both") else None
    )
    rule = _group_rule(cfg) if cfg.rej_baseline == "group" else reinforce_advantage
    return train_policy_gradient(cfg, rule, rejector=rejector, exclude_ids=exclude, **kw)


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


REGISTRY: dict[str, TrainMethod] = {
    "grpo": TrainMethod("grpo", BY_KEY["grpo"].paper_name, "group-normalised advantage", _run_grpo),
    "grpo_kl": TrainMethod("grpo_kl", BY_KEY["grpo_kl"].paper_name, "group-normalised advantage + beta*KL", _run_grpo),
    "reinforce": TrainMethod("reinforce", BY_KEY["reinforce"].paper_name, "advantage = reward", _run_reinforce),
    "rl_rej": TrainMethod(
        "rl_rej", BY_KEY["rl_rej"].paper_name, "advantage = reward, easy prompts rejected", _run_rl_rej
    ),
    "ppo": TrainMethod("ppo", BY_KEY["ppo"].paper_name, "GAE advantage from a learned critic", _run_ppo),
    "raft": TrainMethod("raft", BY_KEY["raft"].paper_name, "SFT on correct samples", _run_raft),
}
assert set(REGISTRY) == set(FINETUNE_KEYS), "harness.train.registry must cover tmc_core.names.FINETUNE_KEYS"


def get_method(key: str) -> TrainMethod:
    if key not in REGISTRY:
        from tmc_core.config import ConfigError

        raise ConfigError(f"method: {key!r} is not allowed; allowed values: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def run_training(cfg: TrainConfig, **kw) -> dict:
    """Train ``cfg.method`` as configured; returns the method's summary dict."""
    return get_method(cfg.method).run(cfg, **kw)
