"""Every advantage rule of the real-LLM trainers, and the one map from a method to its rule.

An advantage rule maps (rewards [N], group size G) -> advantages [N]; the N = B x G completions come in groups of
G consecutive completions of one prompt. Rewards are 0/1 (NaN = unscorable, which every rule treats as 0 credit).
The trainer (trainer.py) hands the rule's output to TRL's clipped loss; with one pass per batch (ratio 1) and the
``dr_grpo`` aggregation the update is the sequence-level policy gradient ``sum_i A_i grad log pi(y_i | x_i)``.

=====================  =====================================================  ==================================
rule                   advantage of completion i (group g of G)               methods
=====================  =====================================================  ==================================
group                  (r_i - mean_g r) / (std_g r + 1e-4)  (GRPO, Shao et    grpo, grpo_kl, rl_rej with
                       al. 2024, arXiv 2402.03300; TRL's formula, Bessel std;  rej_baseline: group
                       scale "batch" divides by the batch std, "none" by 1)
reinforce              r_i  (Williams 1992; the paper's update, no baseline)   reinforce, rl_rej in_loop /
                                                                               offline / both (baseline none)
leave_out              r_i prod_{k=1..T} (1 - r_{(i+k) mod G})  (the paper's   rl_rej with rej_mode: leave_out
                       RL-rej: skip C if any of T checks solves it)
raft_online            k_i N / max(1, sum_batch k), k_i = 1 for the first      TMC-LM's raft (one online round
                       correct completion of its group (best-of-G SFT)         per optimizer step)
gae (token level)      A_t = sum_k (gamma lambda)^k delta_{t+k}, whitened      ppo (ppo.PPOTrainer, with its
                                                                               learned critic)
=====================  =====================================================  ==================================

RAFT means two clearly named things: ``raft`` in ``tmc train`` is rounds of sampling, filtering and SFT with TRL's
SFTTrainer (raft.py, no advantage rule); ``raft_online`` is the same filter applied as an advantage rule in one
RLVRTrainer step per round (TMC-LM's post-training, harness/tmclm/posttrain.py), tmc_theory's textbook RAFT.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import torch
from trl.trainer.utils import nanstd  # Bessel-corrected, NaN-aware: the std TRL's own GRPO uses

#: an advantage rule maps (rewards [N], group size G) -> advantages [N]
AdvantageRule = Callable[[torch.Tensor, int], torch.Tensor]


def group_normalised_advantage(rewards: torch.Tensor, group_size: int, scale: str = "group") -> torch.Tensor:
    """GRPO: ``(r - mean_group) / (std + 1e-4)`` (std of the group for scale "group", of the batch for "batch") or
    ``r - mean_group`` ("none"). A group with equal rewards has A = 0 exactly; unscorable completions get 0."""
    r = rewards.float()
    grouped = r.view(-1, group_size)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(group_size)
    adv = r - mean
    if scale == "group":
        std = nanstd(grouped, dim=1).repeat_interleave(group_size) if group_size > 1 else torch.zeros_like(r)
        adv = adv / (std + 1e-4)
    elif scale == "batch":
        adv = adv / (nanstd(r) + 1e-4)
    elif scale != "none":
        raise ValueError(f"scale_rewards: {scale!r} is not allowed; allowed values: group, batch, none")
    return torch.nan_to_num(adv, nan=0.0)


def reinforce_advantage(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """REINFORCE as in the paper's update: A = r (NaN = unscorable -> 0). With dr_grpo and ratio 1 the gradient is
    ``sum_i r_i sum_t grad log pi(y_it | ...) / (B L_max)``; all-zero rewards give a zero gradient. The group of G
    is kept only because TRL's sampler draws it; no group statistic is used."""
    return torch.nan_to_num(rewards.float(), nan=0.0)


def leave_out_advantage(rewards: torch.Tensor, group_size: int, tries: int = 5) -> torch.Tensor:
    """The paper's RL-rej as ``A_i = r_i prod_{k=1..T} (1 - r_{(i + k) mod G})`` within each group (needs G > T):
    the T next completions of the group are the checks. Given the prompt the checks are independent of completion i,
    so E[A_i grad log pi(y_i)] is the expected RL-rej update (tmc_theory's ``rl_rej`` "expected" variant); an easy
    prompt gets A ~ 0 instead of being dropped (rl_rej.py). Unscorable completions count as incorrect."""
    if group_size <= tries:
        raise ValueError(f"rej_tries: {tries} needs num_generations > rej_tries, got num_generations={group_size}")
    r = torch.nan_to_num(rewards.float(), nan=0.0).view(-1, group_size)
    keep = torch.ones_like(r)
    for k in range(1, tries + 1):
        keep = keep * (1.0 - torch.roll(r, shifts=-k, dims=1))
    return (r * keep).view(-1)


def raft_online_advantage(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Best-of-G RAFT as one policy-gradient step: keep the FIRST correct completion of each group
    (``k_i = r_i prod_{j<i in group}(1 - r_j)``) and take the mean SFT loss over the kept ones,
    ``A_i = k_i N / max(1, sum k)``. With dr_grpo and completions of equal length L this is exactly the mean
    per-token SFT loss on the kept completions (TMC-LM; ``tmc train``'s raft uses SFTTrainer rounds instead)."""
    r = torch.nan_to_num(rewards.float(), nan=0.0).view(-1, group_size)
    before = torch.cumsum(r, dim=1) - r  # correct completions earlier in the group
    kept = (r * (before == 0).float()).view(-1)
    return kept * kept.numel() / torch.clamp(kept.sum(), min=1.0)


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float):
    """Token-level generalised advantage estimation (Schulman et al. 2016, arXiv 1506.02438) for terminal rewards.

    rewards [B] (the 0/1 reward sits on the LAST completion token, index L_b - 1), values/mask [B, T] (right-padded
    completions) -> (advantages, returns) [B, T], 0 off the mask. With V = 0 past the last token:

        delta_t = r_t + gamma V_{t+1} - V_t,   A_t = delta_t + gamma lambda A_{t+1},   R_t = A_t + V_t
    """
    B, T = values.shape
    mask = mask.float()
    lengths = mask.sum(1).long()
    r = torch.zeros_like(values)
    last = (lengths - 1).clamp(min=0)
    r[torch.arange(B), last] = torch.nan_to_num(rewards.float(), nan=0.0).to(values.dtype) * (lengths > 0).float()
    v = values * mask
    adv = torch.zeros_like(values)
    running = torch.zeros(B, dtype=values.dtype, device=values.device)
    for t in reversed(range(T)):
        v_next = v[:, t + 1] if t + 1 < T else torch.zeros_like(running)
        delta = r[:, t] + gamma * v_next - v[:, t]
        running = delta + gamma * lam * running * (mask[:, t + 1] if t + 1 < T else 0.0)
        adv[:, t] = running * mask[:, t]
    returns = (adv + v) * mask
    return adv, returns


def whiten(x: torch.Tensor, mask: torch.Tensor, reduce_sum=None) -> torch.Tensor:
    """``(x - mean) / sqrt(var + 1e-8)`` over the masked entries (population variance), 0 off the mask.
    ``reduce_sum`` (e.g. an all-reduce over processes) makes the mean and variance those of the GLOBAL batch."""
    m = mask.float()
    stats = torch.stack([m.sum(), (x * m).sum(), (x * x * m).sum()])
    if reduce_sum is not None:
        stats = reduce_sum(stats)
    n = stats[0].clamp(min=1.0)
    mean = stats[1] / n
    var = (stats[2] / n - mean ** 2).clamp(min=0.0)
    return (x - mean) / torch.sqrt(var + 1e-8) * m


def advantage_rule(method: str, *, scale_rewards: str = "group", rej_mode: str = "in_loop", rej_tries: int = 5,
                   rej_baseline: str = "none", online_raft: bool = False) -> AdvantageRule | None:
    """The advantage rule of ``method`` (None = PPO: token-level GAE inside ``ppo.PPOTrainer``; raft without
    ``online_raft``: SFT rounds, no rule). The one registry of rules, used by ``tmc train`` (registry.py) and by
    TMC-LM's post-training (``online_raft=True``: raft as ``raft_online_advantage``)."""
    if method in ("grpo", "grpo_kl"):
        return partial(group_normalised_advantage, scale=scale_rewards)
    if method == "reinforce":
        return reinforce_advantage
    if method == "rl_rej":
        if rej_mode == "leave_out":
            return partial(leave_out_advantage, tries=rej_tries)
        return partial(group_normalised_advantage, scale=scale_rewards) if rej_baseline == "group" else \
            reinforce_advantage
    if method == "raft":
        return raft_online_advantage if online_raft else None
    if method == "ppo":
        return None
    from tmc_core.config import ConfigError

    raise ConfigError(f"method: {method!r} is not allowed; allowed values: grpo, grpo_kl, reinforce, rl_rej, raft, ppo")
