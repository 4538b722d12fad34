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

KL term: ``kl.py`` (k3 is TRL's own term; k2 and forward are added here with TRL's mask and aggregation).
The advantage rules live in ``advantages.py``; every access to TRL's private methods goes through ``trl_seam.py``.

The logged ``kl`` is always the mean per-token value of the chosen estimator.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from .advantages import AdvantageRule
from .kl import kl_penalty
from .trl_seam import SeamTrainer


class RLVRTrainer(SeamTrainer):
    """GRPOTrainer whose advantage is ``advantage_rule(rewards, G)``.

    Extra keyword arguments (the rest goes to ``GRPOTrainer``):
      advantage_rule: see ``advantages.AdvantageRule``; None keeps TRL's own GRPO advantage.
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

    def _log_unrewarded_correct(self, rewards: torch.Tensor, adv: torch.Tensor) -> None:
        """``adv/frac_correct_zeroed``: among the completions of this generation (all processes) with reward > 0,
        the share whose advantage is 0, i.e. that the rule gives no credit: all-correct groups under GRPO, the
        correct completions the leave-T-out rule rejects because a check also solved the prompt under RL-rej,
        none under REINFORCE. Not logged when no completion is correct."""
        pos = torch.nan_to_num(rewards.float(), nan=0.0) > 0
        if pos.any():
            self.record_metric("adv/frac_correct_zeroed", (adv.detach().to(pos.device)[pos] == 0).float().mean().item())

    def score_batch(self, inputs: list[dict]) -> tuple[dict, torch.Tensor]:
        """Generate + score ``inputs`` with TRL, then apply our advantage rule; returns (batch, rewards of all
        processes)."""
        t0 = time.perf_counter()
        out = self.trl_generate_and_score(inputs)
        elapsed = time.perf_counter() - t0
        rewards = self.scored_rewards()
        n_local = len(self.last_scored["prompts"])
        pi = self.accelerator.process_index
        if self.advantage_rule is not None:
            adv = self.advantage_rule(rewards, self.num_generations)
            self._log_unrewarded_correct(rewards, adv)
            out["advantages"] = adv[pi * n_local:(pi + 1) * n_local].to(out["completion_ids"].device)
        self.record_metric("tokens_per_s", int(out["completion_mask"].sum().item()) / max(elapsed, 1e-9))
        if self.recorder is not None and self.mode == "train":
            s = self.last_scored
            self.recorder.record(self.state.global_step, s["inputs"], s["completions"], s["completion_ids"],
                                 rewards[pi * n_local:(pi + 1) * n_local].tolist(), accelerator=self.accelerator)
        return out, rewards

    def generate_and_score(self, inputs):
        out, rewards = self.score_batch(inputs)
        if self.rejector is not None and self.model.training:
            out = self.rejector.apply(self, inputs, out, rewards)
        return out

    def policy_loss(self, model, inputs):
        """TRL's loss; for the k2 / forward estimators TRL's k3 term is replaced by ours (kl.py)."""
        if self.beta == 0.0 or self.kl_estimator == "k3":
            return self.trl_loss(model, inputs)
        loss = self.trl_loss(model, inputs, beta=0.0)  # TRL adds no KL term; we add ours below
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        term, value = kl_penalty(self.kl_estimator, self.last_logps, inputs["ref_per_token_logps"], mask,
                                 lambda t, m: self.aggregate(t, m, inputs))
        self.record_metric("kl", value)
        return loss + self.beta * term
