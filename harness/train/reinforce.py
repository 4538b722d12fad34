"""REINFORCE as in the paper's update (Williams 1992): advantage = reward, no baseline.

    A_i = r_i in {0, 1};   grad J = E[ r(y) grad log pi(y | x) ]

With TRL's ``dr_grpo`` aggregation and one optimisation pass per batch (ratio 1) the loss gradient is
exactly ``sum_i r_i sum_t grad log pi(y_it | ...) / (B * L_max)``. Consequence (tested): all-zero rewards
give a zero gradient and, with weight decay 0, leave every parameter unchanged. Departure: the group of
G samples per prompt is kept only because TRL's sampler draws them; no group statistic is used.
"""

from __future__ import annotations

import torch


def reinforce_advantage(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """A = r (NaN = unscorable -> 0)."""
    return torch.nan_to_num(rewards.float(), nan=0.0)
