"""Predict each RLVR method's expected dynamics on fitted problem trees with ``tmc_theory``'s own registry.

For one fitted problem (:mod:`harness.theory_fit.tree`) the prediction is ``tmc_theory.finetune.run.finetune`` from
``TabularPolicy.from_kernels(tree.tmc.kernels)`` (the fitted base, exactly), with the run's settings mapped onto
:class:`tmc_theory.finetune.run.FinetuneConfig`: method key, ``group_size`` (GRPO group / best-of-G), ``beta``
(GRPO-KL k3 weight, trained textbook form), ``rej_tries`` (RL-rej's leave-T-out rule), ``instance_dist =
"empirical"`` over the real reward's single instance (:func:`harness.theory_fit.tree.single_instance`). The variant
is ``expected_textbook`` where tmc_theory has one, else ``expected`` (exact expected-gradient dynamics, no noise;
GRPO-KL's closed-form ``expected`` tilt is never chosen because it needs the paper's ``R_out`` instance model).

Time: tmc_theory takes one step per instance; in a run with ``P`` problems and ``B`` prompts per optimizer step a
problem is drawn ``B / P`` times per step on average, so theory step ``t`` of one problem corresponds to run step
``t P / B``. Speeds differ anyway (Adam vs SGD on logits); compare by movement (:mod:`harness.tmclm.movement`).

A problem whose fitted tree has no correct mass (``c = 0`` and an unseen-leaf correctness of 0) gets a constant
trajectory: the theory's reweighting cannot create mass on paths that are not there. Known departure: PPO's
``expected_textbook`` critic is tmc_theory's oracle V of the paper's ``R_out`` instance model, not the real reward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tmc_core.config import check_literals, doc
from tmc_core.names import FinetuneKey

from .tree import ProblemTree, single_instance, tree_metrics


@dataclass
class PredictConfig:
    """The run's settings the theory is given (defaults: the CPU GRPO runs of docs/findings.md)."""

    method: FinetuneKey = field(default="grpo", metadata=doc("fine-tuning method key"))
    variant: Literal["auto", "expected", "expected_textbook"] = field(default="auto", metadata=doc(
        "tmc_theory variant: auto = expected_textbook where it exists, else expected"))
    steps: int = field(default=50, metadata=doc("theory steps per problem"))
    lr: float = field(default=0.5, metadata=doc("theory lr (SGD on logits; not the run's AdamW lr)"))
    group_size: int = field(default=8, metadata=doc("G: GRPO group size / RAFT best-of-G"))
    beta: float = field(default=0.04, metadata=doc("GRPO-KL: k3 KL weight"))
    rej_tries: int = field(default=5, metadata=doc("RL-rej: T other samples of the leave-T-out rule"))
    eval_every: int = field(default=5, metadata=doc("record the metrics every this many steps"))
    ks: list[int] = field(default_factory=lambda: [1, 8], metadata=doc("pass@k recorded per problem"))

    def __post_init__(self) -> None:
        check_literals(self)


def variant_for(method: str, requested: str = "auto") -> str:
    from tmc_theory.registry import FINETUNE

    variants = FINETUNE[method].variants
    if requested != "auto":
        if requested not in variants:
            raise ValueError(f"variant {requested!r} is not available for {method}; allowed values: auto, "
                             f"{', '.join(v for v in variants if v.startswith('expected'))}")
        return requested
    from tmc_theory.fitted import auto_variant

    return auto_variant(method)


def finetune_config(cfg: PredictConfig):
    from tmc_theory.finetune.run import FinetuneConfig

    return FinetuneConfig(method=cfg.method, variant=variant_for(cfg.method, cfg.variant), steps=cfg.steps, lr=cfg.lr,
                          group_size=cfg.group_size, beta=cfg.beta, rej_tries=cfg.rej_tries, batch_size=1,
                          instance_dist="empirical")


def predict_problem(tree: ProblemTree, cfg: PredictConfig) -> list[dict]:
    """``[{"step", "correct", "easy_correct", "rare_correct", "wrong", "pass@k"..., "leaf_probs"}]`` of the theory on
    one tree (path trees also ``mass_<category>`` for the six categories of :mod:`harness.paths.mass`)."""
    from tmc_theory.finetune.run import finetune
    from tmc_theory.policy import TabularPolicy

    pol = TabularPolicy.from_kernels(tree.tmc.kernels)

    def ev(step, p):
        m = tree_metrics(tree, p.kernels(), cfg.ks)
        for cat, v in m.pop("mass", {}).items():  # path trees: the six categories of harness.paths.mass
            m[f"mass_{cat}"] = v
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()}

    if tree_metrics(tree, tree.tmc.kernels)["correct"] <= 0.0:
        # no correct path in the fitted tree: every method's reward is 0 everywhere, reweighting cannot create mass
        # (and PPO's R_out-based critic would divide by a zero normaliser); the trajectory is constant
        base = ev(0, pol)
        return [{**base, "step": s} for s in range(0, cfg.steps + 1, cfg.eval_every)]

    _, hist = finetune(tree.tmc, tree.task, pol, single_instance(tree), finetune_config(cfg),
                       np.random.default_rng(0), eval_every=cfg.eval_every, eval_fn=ev)
    return hist


def predict_population(trees: list[ProblemTree], cfg: PredictConfig) -> dict:
    """Per-problem trajectories and their macro average over problems (each problem weighs 1)."""
    per = {t.problem_id: predict_problem(t, cfg) for t in trees}
    steps = [h["step"] for h in next(iter(per.values()))]
    first = next(iter(per.values()))[0]
    keys = ["correct", "easy_correct", "rare_correct", "wrong"] + [f"pass@{k}" for k in cfg.ks] + \
        sorted(k for k in first if k.startswith("mass_"))
    mean = [{"step": s, **{k: float(np.mean([per[p][i][k] for p in per])) for k in keys}} for i, s in enumerate(steps)]
    return {"method": cfg.method, "variant": variant_for(cfg.method, cfg.variant), "mean": mean,
            "per_problem": {p: [{k: h[k] for k in ["step"] + keys} for h in hs] for p, hs in per.items()}}
