"""The one place where our code touches TRL's (and HF Trainer's) private methods and attributes.

``SeamTrainer`` subclasses TRL's ``GRPOTrainer`` and overrides exactly the private methods in ``OVERRIDDEN``; each
override calls TRL and exposes a PUBLIC hook that the rest of harness.train uses (trainer.py, ppo.py, rl_rej.py):

=====================================  ==============================================================================
TRL private (pinned: trl==TRL_VERSION)  our public hook
=====================================  ==============================================================================
_calculate_rewards                     ``last_scored`` (inputs, prompts, completions, ids, rewards per function) and
                                       ``scored_rewards()`` = TRL's weighted reward sum (NaN where unscorable)
_generate_and_score_completions        ``generate_and_score(inputs)`` (override) / ``trl_generate_and_score(inputs)``
_get_per_token_logps_and_entropies     ``last_logps``: the policy's per-token log-probs of the loss forward pass
_compute_loss                          ``policy_loss(model, inputs)`` (override) / ``trl_loss(model, inputs, beta)``
_save_checkpoint                       ``save_extra_state(checkpoint_dir)``
_load_optimizer_and_scheduler          ``load_extra_state(checkpoint_dir)``
_metrics, _tokenizer, _get_output_dir  ``record_metric(name, value)``, ``pad_token_id``
=====================================  ==============================================================================

``aggregate`` reproduces TRL's loss aggregation per ``loss_type`` (the normalisers of ``GRPOTrainer._compute_loss``)
so that a term we add (the k2 / forward KL) is aggregated exactly like TRL's own. tests/test_trl_seam.py pins all of
this to the installed TRL: the overridden methods' signatures, ``aggregate`` against TRL's loss for every allowed
``loss_type``, and ``scored_rewards`` against TRL's rewards. A TRL upgrade that breaks the seam fails there.
"""

from __future__ import annotations

from pathlib import Path

import torch
from trl import GRPOTrainer

#: the TRL version this seam was written against (pyproject pins it)
TRL_VERSION = "1.16.0"

#: TRL private methods we override -> their parameter names in TRL_VERSION (checked by tests/test_trl_seam.py)
OVERRIDDEN = {
    "_calculate_rewards": ["self", "inputs", "prompts", "completions", "completion_ids_list"],
    "_generate_and_score_completions": ["self", "inputs"],
    "_get_per_token_logps_and_entropies": None,  # many keyword arguments; we pass them through unchanged
    "_compute_loss": ["self", "model", "inputs"],
    "_save_checkpoint": ["self", "model", "trial"],
    "_load_optimizer_and_scheduler": ["self", "checkpoint"],
}
#: private attributes read (``_metrics``: TRL's metric buffers; ``_tokenizer``: its text tokenizer)
PRIVATE_ATTRIBUTES = ("_metrics", "_tokenizer")


class SeamTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with public hooks in place of its private methods (module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_scored: dict | None = None
        self.last_logps: torch.Tensor | None = None

    # ------------------------------------------------------------------ public hooks
    @property
    def mode(self) -> str:
        return "train" if self.model.training else "eval"

    @property
    def pad_token_id(self) -> int:
        return self._tokenizer.pad_token_id

    def record_metric(self, name: str, value: float, mode: str | None = None) -> None:
        """Append ``value`` to TRL's metric buffer ``name`` (averaged and logged by TRL at the next log step)."""
        self._metrics[mode or self.mode][name].append(value)

    def scored_rewards(self) -> torch.Tensor:
        """The reward of each completion of the last scoring round (all processes), as TRL sums it: the weighted
        ``nansum`` over reward functions, NaN where every function returned None."""
        rpf = self.last_scored["rewards_per_func"]
        w = self.reward_weights.to(rpf.device).unsqueeze(0)
        rewards = (rpf * w).nansum(dim=1)
        rewards[torch.isnan(rpf).all(dim=1)] = torch.nan
        return rewards

    def trl_generate_and_score(self, inputs: list[dict]) -> dict:
        """TRL's generation + scoring of ``inputs`` (its batch dict, with TRL's own GRPO advantages)."""
        return super()._generate_and_score_completions(inputs)

    def generate_and_score(self, inputs: list[dict]) -> dict:
        """Override point: the batch trained on for ``inputs``."""
        return self.trl_generate_and_score(inputs)

    def trl_loss(self, model, inputs: dict, beta: float | None = None) -> torch.Tensor:
        """TRL's loss on ``inputs`` with KL coefficient ``beta`` (None = the configured one; 0 = no TRL KL term)."""
        if beta is None:
            return super()._compute_loss(model, inputs)
        saved, self.beta = self.beta, beta
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self.beta = saved

    def policy_loss(self, model, inputs: dict) -> torch.Tensor:
        """Override point: the loss of one micro-batch."""
        return self.trl_loss(model, inputs)

    def aggregate(self, per_token: torch.Tensor, mask: torch.Tensor, inputs: dict) -> torch.Tensor:
        """TRL's loss aggregation for ``self.loss_type`` (same normalisers as GRPOTrainer._compute_loss)."""
        ga = self.current_gradient_accumulation_steps if self.mode == "train" else 1.0
        if self.loss_type in ("grpo", "sapo"):
            return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / ga
        if self.loss_type == "bnpo":
            return (per_token * mask).sum() / mask.sum().clamp(min=1.0) / ga
        if self.loss_type == "dr_grpo":
            return (per_token * mask).sum() / (per_token.size(0) * self.max_completion_length) / ga
        if self.loss_type in ("dapo", "cispo", "vespo"):
            norm = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            if self.mode == "train":
                norm = norm * self.current_gradient_accumulation_steps / self.args.steps_per_generation
            return (per_token * mask).sum() / norm
        raise ValueError(f"loss_type: {self.loss_type!r} has no aggregation here; allowed values: grpo, bnpo, "
                         "dr_grpo, dapo")

    def save_extra_state(self, checkpoint_dir: Path) -> None:
        """Override point: write extra state into a checkpoint folder (main process only)."""

    def load_extra_state(self, checkpoint_dir: Path) -> None:
        """Override point: restore what ``save_extra_state`` wrote."""

    # ------------------------------------------------------------------ TRL private methods (see OVERRIDDEN)
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self.last_scored = {"inputs": inputs, "prompts": prompts, "completions": completions,
                            "completion_ids": completion_ids_list, "rewards_per_func": rewards_per_func}
        return rewards_per_func

    def _generate_and_score_completions(self, inputs):
        return self.generate_and_score(inputs)

    def _get_per_token_logps_and_entropies(self, *args, **kwargs):
        logps, entropies, aux = super()._get_per_token_logps_and_entropies(*args, **kwargs)
        if torch.is_grad_enabled():
            self.last_logps = logps
        return logps, entropies, aux

    def _compute_loss(self, model, inputs):
        return self.policy_loss(model, inputs)

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

            self.save_extra_state(Path(self._get_output_dir(trial=trial)) /
                                  f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is not None:
            self.load_extra_state(Path(checkpoint))
