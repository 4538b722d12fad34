"""``RLVRTrainer``: TRL's ``GRPOTrainer`` with a pluggable advantage rule, KL estimator and rejection.

All policy-gradient methods of arXiv 2511.07368 (grpo, grpo_kl, reinforce, rl_rej, ppo) are this one
trainer; only ``advantage_rule`` (and, for rl_rej, the in-loop rejection) changes. TRL generates the
group of G completions per prompt, scores them with the verifiable reward and builds the batch; we
then REPLACE ``inputs["advantages"]`` with ``advantage_rule(rewards, G)`` and TRL's clipped loss
does the rest:

    L(theta) = - agg_t [ min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t) ] + beta * agg_t KL_t,
    rho_t = pi_theta(y_t | x, y_<t) / pi_old(y_t | x, y_<t)

``agg`` is TRL's ``loss_type`` aggregation (default ``dr_grpo``: sum over tokens divided by the constant
batch x max_completion_length, so that with rho = 1 the gradient is the paper's sequence-level
``A * grad log pi(y|x)`` up to a constant, with no length normalisation).

GRPO advantage (Shao et al. 2024, arXiv 2402.03300), group g of G completions of one prompt:

    A_i = (r_i - mean_g r) / (std_g r + 1e-4)      (scale_rewards="group"; "none" drops the division)

identical to TRL's own formula (Bessel-corrected std, 1e-4 as in TRL); a group with equal rewards has
A = 0 exactly. Unscorable completions (reward NaN) get A = 0.

KL term, per token, with d = log pi_ref - log pi_theta and r = exp(d):

* ``k3`` (TRL's; Schulman's k3): KL_t = r - d - 1, an unbiased estimate of reverse KL(pi || pi_ref).
  Departure worth knowing: differentiating this estimate through log pi_theta (what TRL does) gives
  ``(1 - r) grad log pi``, whose on-policy expectation is the gradient of the FORWARD KL(pi_ref || pi)
  (Tang & Munos 2025, arXiv 2506.09477). We keep it because it is what users of TRL run.
* ``k2``: KL_t = 0.5 d^2; pathwise gradient ``-d grad log pi`` = the REVERSE-KL gradient in expectation
  (mode-seeking; the literature's GRPO-KL, arXiv 2509.07430 finds it hurts pass@k).
* ``forward``: the mass-covering KL(pi_ref || pi): value r log r - r + 1 (>= 0, unbiased under pi), and a
  surrogate whose gradient is ``-r grad log pi`` (expectation = grad KL(pi_ref || pi)) (DPH-RL, arXiv 2509.07430).

The logged ``kl`` is always the mean per-token value of the chosen estimator.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
from trl import GRPOTrainer
from trl.trainer.utils import nanstd

#: an advantage rule maps (rewards [N], group size G) -> advantages [N] (or [N, T] for token-level rules)
AdvantageRule = Callable[[torch.Tensor, int], torch.Tensor]


def group_normalised_advantage(rewards: torch.Tensor, group_size: int, scale: str = "group") -> torch.Tensor:
    """GRPO: ``(r - mean_group) / (std + 1e-4)`` (scale "group"/"batch") or ``r - mean_group`` ("none")."""
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


def kl_per_token(estimator: str, logp: torch.Tensor, ref_logp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss term whose gradient is the estimator's, detached value) per token; see the module docstring."""
    d = ref_logp - logp
    if estimator == "k3":
        term = torch.exp(d) - d - 1
        return term, term.detach()
    if estimator == "k2":
        term = 0.5 * d ** 2
        return term, term.detach()
    if estimator == "forward":
        r = torch.exp(d).detach()
        value = r * d.detach() - r + 1
        term = -r * (logp - logp.detach()) + value
        return term, value
    raise ValueError(f"kl_estimator: {estimator!r} is not allowed; allowed values: k3, k2, forward")


class RLVRTrainer(GRPOTrainer):
    """GRPOTrainer whose advantage is ``advantage_rule(rewards, G)``.

    Extra keyword arguments (the rest goes to ``GRPOTrainer``):
      advantage_rule: see ``AdvantageRule``; None keeps TRL's own GRPO advantage.
      kl_estimator: "k3" (TRL's), "k2" or "forward"; used when ``args.beta > 0``.
      rejector: an object with ``apply(trainer, inputs, out, rewards) -> out`` (rl_rej in-loop), or None.
      recorder: an object with ``record(step, inputs, completions, completion_ids, rewards, accelerator)``
        (training-time completions into the sample store; this process's rows, gathered to rank 0), or None.
      method: the method key, for logs.
    """

    def __init__(self, *args, advantage_rule: AdvantageRule | None = None, kl_estimator: str = "k3",
                 rejector: Any = None, recorder: Any = None, method: str = "grpo", **kwargs):
        super().__init__(*args, **kwargs)
        self.advantage_rule = advantage_rule
        self.kl_estimator = kl_estimator
        self.rejector = rejector
        self.recorder = recorder
        self.method = method
        self._last_scored: dict | None = None
        self._last_logps: torch.Tensor | None = None

    # ------------------------------------------------------------------ scoring hooks
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._last_scored = {"inputs": inputs, "prompts": prompts, "completions": completions,
                             "completion_ids": completion_ids_list, "rewards_per_func": rewards_per_func}
        return rewards_per_func

    def _rewards_from_scored(self) -> torch.Tensor:
        rpf = self._last_scored["rewards_per_func"]
        w = self.reward_weights.to(rpf.device).unsqueeze(0)
        rewards = (rpf * w).nansum(dim=1)
        rewards[torch.isnan(rpf).all(dim=1)] = torch.nan
        return rewards

    def _log_unrewarded_correct(self, rewards: torch.Tensor, adv: torch.Tensor) -> None:
        """``adv/frac_correct_zeroed``: among the completions of this generation (all processes) with reward > 0,
        the share whose advantage is 0, i.e. that the rule gives no credit: all-correct groups under GRPO, the
        correct completions the leave-T-out rule rejects because a check also solved the prompt under RL-rej
        (rl_rej.py), none under REINFORCE. Not logged when no completion is correct."""
        pos = torch.nan_to_num(rewards.float(), nan=0.0) > 0
        if pos.any():
            zeroed = (adv.detach().to(pos.device)[pos] == 0).float().mean().item()
            self._metrics["train" if self.model.training else "eval"]["adv/frac_correct_zeroed"].append(zeroed)

    def score_batch(self, inputs: list[dict]) -> tuple[dict, torch.Tensor]:
        """Generate + score ``inputs`` with TRL, then apply our advantage rule; returns (batch, rewards)."""
        t0 = time.perf_counter()
        out = super()._generate_and_score_completions(inputs)
        elapsed = time.perf_counter() - t0
        rewards = self._rewards_from_scored()
        n_local = len(self._last_scored["prompts"])
        if self.advantage_rule is not None:
            adv = self.advantage_rule(rewards, self.num_generations)
            if adv.dim() == 1:
                self._log_unrewarded_correct(rewards, adv)
            pi = self.accelerator.process_index
            adv = adv[pi * n_local:(pi + 1) * n_local]
            if adv.dim() == 2:  # token-level rule: align with the completion width
                adv = adv[:, : out["completion_ids"].size(1)]
            out["advantages"] = adv.to(out["completion_ids"].device)
        n_tok = int(out["completion_mask"].sum().item())
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["tokens_per_s"].append(n_tok / max(elapsed, 1e-9))
        if self.recorder is not None and mode == "train":
            s = self._last_scored
            pi = self.accelerator.process_index
            self.recorder.record(self.state.global_step, s["inputs"], s["completions"], s["completion_ids"],
                                 rewards[pi * n_local:(pi + 1) * n_local].tolist(), accelerator=self.accelerator)
        return out, rewards

    def _generate_and_score_completions(self, inputs):
        out, rewards = self.score_batch(inputs)
        if self.rejector is not None and self.model.training:
            out = self.rejector.apply(self, inputs, out, rewards)
        return out

    # ------------------------------------------------------------------ KL estimators
    def _get_per_token_logps_and_entropies(self, *args, **kwargs):
        logps, entropies, aux = super()._get_per_token_logps_and_entropies(*args, **kwargs)
        if torch.is_grad_enabled():
            self._last_logps = logps
        return logps, entropies, aux

    def aggregate(self, per_token: torch.Tensor, mask: torch.Tensor, inputs: dict) -> torch.Tensor:
        """TRL's loss aggregation for ``self.loss_type`` (same normalisers as GRPOTrainer._compute_loss)."""
        mode = "train" if self.model.training else "eval"
        ga = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        if self.loss_type in ("grpo", "sapo"):
            return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / ga
        if self.loss_type == "bnpo":
            return (per_token * mask).sum() / mask.sum().clamp(min=1.0) / ga
        if self.loss_type == "dr_grpo":
            return (per_token * mask).sum() / (per_token.size(0) * self.max_completion_length) / ga
        if self.loss_type in ("dapo", "cispo", "vespo"):
            norm = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            if mode == "train":
                norm = norm * self.current_gradient_accumulation_steps / self.args.steps_per_generation
            return (per_token * mask).sum() / norm
        raise ValueError(f"loss_type: {self.loss_type!r} is not supported with kl_estimator={self.kl_estimator!r}")

    def _compute_loss(self, model, inputs):
        if self.beta == 0.0 or self.kl_estimator == "k3":
            return super()._compute_loss(model, inputs)
        beta, self.beta = self.beta, 0.0  # TRL adds no KL term; we add ours below
        try:
            loss = super()._compute_loss(model, inputs)
        finally:
            self.beta = beta
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        term, value = kl_per_token(self.kl_estimator, self._last_logps, inputs["ref_per_token_logps"])
        loss = loss + beta * self.aggregate(term, mask, inputs)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["kl"].append(((value * mask).sum() / mask.sum().clamp(min=1.0)).item())
        return loss
