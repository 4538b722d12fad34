"""PPO for RLVR (Schulman et al. 2017, arXiv 1707.06347) on TRL 1.16's GRPO machinery (TRL's own PPOTrainer
was removed in 1.13).

Critic: a separate small value head V_phi(s_t) = w^T h_t + b on the policy's last hidden state h_t of the
prefix (x, y_<t), read WITHOUT gradient into the policy (stop-gradient trunk; the head has its own AdamW,
lr ``value_lr``). Rewards are terminal: r_T = R(y) in {0, 1} on the last completion token, 0 elsewhere
(no per-token KL shaping; use beta > 0 for a KL term in the loss as in GRPO-KL). Generalised advantage
estimation (Schulman et al. 2016, arXiv 1506.02438) with V_{T+1} = 0:

    delta_t = r_t + gamma V(s_{t+1}) - V(s_t),   A_t = sum_k (gamma lambda)^k delta_{t+k},   R_t = A_t + V(s_t)

(``gae_lambda = 1`` gives Monte-Carlo returns R_t = gamma^{T-t} R(y)). Advantages are whitened over the
batch's completion tokens (``whiten_advantages``). Per generated batch:

* critic: ``ppo_epochs`` full-batch steps on the clipped value loss
  0.5 * max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2), c = ``cliprange_value``; the advantages use
  V_old (before this update);
* policy: TRL's clipped surrogate with token-level advantages A_t, reusing the batch for ``ppo_epochs``
  passes (TRL ``num_iterations``), ratio pi_theta / pi_old with pi_old frozen at generation.

Departures from textbook PPO-RLHF: separate critic updated at generation time rather than jointly per
minibatch; no per-token KL penalty in the reward. Several processes (accelerate launch / torchrun): the critic
is data-parallel by hand (same zero init on every rank, gradients averaged over processes before each step, so
the replicas stay identical) and the whitening statistics are those of the global batch. The critic (and its
optimizer) are saved in every
checkpoint as ``critic.pt`` and restored on resume.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .advantages import gae, whiten
from .trainer import RLVRTrainer


class ValueHead(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.linear = nn.Linear(hidden, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h.float()).squeeze(-1)


def value_loss(v: torch.Tensor, v_old: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
               clip: float) -> torch.Tensor:
    v_clip = v_old + (v - v_old).clamp(-clip, clip)
    per = 0.5 * torch.maximum((v - returns) ** 2, (v_clip - returns) ** 2)
    m = mask.float()
    return (per * m).sum() / m.sum().clamp(min=1.0)


class PPOTrainer(RLVRTrainer):
    """RLVRTrainer whose advantage is token-level GAE from a learned critic (see module docstring)."""

    def __init__(self, *args, ppo_epochs: int = 4, gamma: float = 1.0, gae_lambda: float = 0.95,
                 value_lr: float = 1e-3, cliprange_value: float = 0.2, whiten_advantages: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        hidden = self.accelerator.unwrap_model(self.model).config.get_text_config().hidden_size
        self.critic = ValueHead(hidden).to(self.accelerator.device)
        self.critic_opt = torch.optim.AdamW(self.critic.parameters(), lr=value_lr, weight_decay=0.0)
        self.ppo_epochs, self.gamma, self.gae_lambda = ppo_epochs, gamma, gae_lambda
        self.cliprange_value, self.whiten_advantages = cliprange_value, whiten_advantages

    @torch.no_grad()
    def features(self, out: dict) -> torch.Tensor:
        """h_t of the prefix (x, y_<t) for every completion position t: [B, T, H] (no gradient)."""
        ids = torch.cat([out["prompt_ids"], out["completion_ids"]], dim=1)
        attn = torch.cat([out["prompt_mask"], out["completion_mask"]], dim=1)
        P, T = out["prompt_ids"].size(1), out["completion_ids"].size(1)
        h = self.model(input_ids=ids, attention_mask=attn, output_hidden_states=True).hidden_states[-1]
        return h[:, P - 1:P + T - 1].detach()

    def update_critic(self, feats: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                      v_old: torch.Tensor) -> list[float]:
        """``ppo_epochs`` full-batch steps on the clipped value loss; returns the loss before each step."""
        losses = []
        for _ in range(self.ppo_epochs):
            loss = value_loss(self.critic(feats), v_old, returns, mask, self.cliprange_value)
            self.critic_opt.zero_grad()
            loss.backward()
            if self.accelerator.num_processes > 1:  # data-parallel critic: average its gradients over processes
                for p in self.critic.parameters():
                    p.grad = self.accelerator.reduce(p.grad, reduction="mean")
            self.critic_opt.step()
            losses.append(loss.item())
        return losses

    def score_batch(self, inputs):
        out, rewards = super().score_batch(inputs)
        mask = out["completion_mask"]
        n = mask.size(0)
        pi = self.accelerator.process_index
        local_rewards = rewards[pi * n:(pi + 1) * n].to(mask.device)
        feats = self.features(out)
        with torch.no_grad():
            v_old = self.critic(feats) * mask
        adv, returns = gae(local_rewards, v_old, mask, self.gamma, self.gae_lambda)
        if self.model.training:
            losses = self.update_critic(feats, returns, mask, v_old)
            self.record_metric("ppo/value_loss", losses[0])
            self.record_metric("ppo/value_loss_last", losses[-1])
        self.record_metric("ppo/value_mean", ((v_old * mask).sum() / mask.sum().clamp(min=1)).item())
        reduce_sum = None
        if self.accelerator.num_processes > 1:
            reduce_sum = lambda t: self.accelerator.reduce(t, reduction="sum")  # noqa: E731
        out["advantages"] = whiten(adv, mask, reduce_sum) if self.whiten_advantages else adv
        return out, rewards

    def save_extra_state(self, checkpoint_dir: Path) -> None:
        state = {"critic": self.critic.state_dict(), "opt": self.critic_opt.state_dict()}
        torch.save(state, checkpoint_dir / "critic.pt")

    def load_extra_state(self, checkpoint_dir: Path) -> None:
        if (checkpoint_dir / "critic.pt").exists():
            state = torch.load(checkpoint_dir / "critic.pt", map_location=self.accelerator.device)
            self.critic.load_state_dict(state["critic"])
            self.critic_opt.load_state_dict(state["opt"])


def train_ppo(cfg, **kw) -> dict:
    from .runner import train_policy_gradient

    extra = dict(ppo_epochs=cfg.ppo_epochs, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda, value_lr=cfg.value_lr,
                 cliprange_value=cfg.cliprange_value, whiten_advantages=cfg.whiten_advantages)
    return train_policy_gradient(cfg, None, trainer_cls=PPOTrainer, grpo_extra={"num_iterations": cfg.ppo_epochs},
                                 trainer_extra=extra, **kw)
