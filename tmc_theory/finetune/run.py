"""``finetune(...)``: run one of the six fine-tuning methods in one of its variants (docs/tmc_model.md §4).

Variants (see :mod:`tmc_theory.registry` for which is paper-faithful and every departure from the textbook):

* ``paper``: the reference code's stochastic update, one instance and one on-policy path per iteration.
* ``expected``: the exact expectation of the ``paper`` update over instances and on-policy samples, iterated
  deterministically (``logits += lr * E[update]``; zero Monte-Carlo noise).
* ``textbook``: the textbook method where the paper departs from it (batches of ``batch_size`` instances x
  ``group_size`` samples; ratio and clipping over several epochs; SFT on accepted samples; trained GRPO-KL).
* ``expected_textbook``: the exact expected update of the textbook variant, where one exists.

Each iteration of every variant is ``logits += lr * update``; evaluation hooks run every ``eval_every`` steps.
Step functions with a ``.run(policy, ctx, rng, n_steps)`` attribute (the single-path paper updates and the
population-mode expected dynamics) are executed by that fast multi-step runner (padded logits tensor, pre-drawn
noise); tests check that the runners follow the same (expected) update as the plain step functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, get_args

import numpy as np

from tmc_core.config import ConfigError, check_literals, doc
from tmc_core.names import FinetuneKey
from ..policy import TabularPolicy
from ..tmc import TMC, Task

Variant = Literal["paper", "expected", "textbook", "expected_textbook"]
VARIANTS = get_args(Variant)


@dataclass
class FinetuneConfig:
    """Fine-tuning settings; defaults are the paper's (docs/tmc_model.md §4, reference code ``finetune``)."""

    method: FinetuneKey = field(default="reinforce", metadata=doc(
        "fine-tuning method key (tmc_core.names)"))
    variant: Variant = field(default="paper", metadata=doc(
        "paper = reference-code stochastic update; expected = its exact expected-gradient dynamics; textbook = "
        "textbook form where the paper departs; expected_textbook = exact expectation of the textbook form "
        "(registry says which methods have which)"))
    steps: int = field(default=1000, metadata=doc("fine-tuning iterations; paper 1000"))
    lr: float = field(default=0.05, metadata=doc("learning rate (gradient ascent step); paper 0.05"))
    ppo_eps: float = field(default=0.2, metadata=doc(
        "PPO/GRPO clip epsilon; paper PPO uses (1 + eps*sign(A)) with ratio 1 (docs/tmc_model.md §4)"))
    ppo_mc: int = field(default=15, metadata=doc(
        "paper PPO: Monte-Carlo true-TMC continuations for Q (docs/tmc_model.md §4: 15); also the GRPO-KL tilt's "
        "MC budget"))
    rej_tries: int = field(default=5, metadata=doc(
        "RL-rej: samples from the CURRENT model used to detect an easy instance (paper 5)"))
    beta: float = field(default=1.0, metadata=doc(
        "GRPO-KL: KL coefficient beta (closed-form tilt exp(lam*A/beta); trained k3 penalty weight); paper 1"))
    lam: float = field(default=0.5, metadata=doc("GRPO-KL tilt: reward scale lambda (paper 0.5)"))
    group_size: int = field(default=8, metadata=doc(
        "G samples per instance for GRPO / textbook RAFT (best-of-G) / textbook PPO batches (not in the paper)"))
    ppo_epochs: int = field(default=4, metadata=doc(
        "textbook PPO: gradient epochs per batch (ratio != 1 after the first, so the clip binds)"))
    grpo_epochs: int = field(default=1, metadata=doc(
        "textbook GRPO / GRPO-KL: epochs per group (TRL num_iterations, default 1 -> ratio 1)"))
    batch_size: int = field(default=1, metadata=doc(
        "instances per iteration (paper 1); paper variants average batch_size independent single-path updates"))
    instance_dist: Literal["population", "empirical"] = field(default="population", metadata=doc(
        "expected variants: average over the instance DISTRIBUTION (each valid path in C w.p. R_out; no randomness)"
        " or over the given fine-tuning instance set (empirical)"))
    grpo_scale: Literal["group", "none"] = field(default="group", metadata=doc(
        "GRPO advantage: group = (R - mean)/(std + eps) (DeepSeekMath/TRL, unbiased std); none = R - mean "
        "(Dr. GRPO)"))
    grpo_std_eps: float = field(default=1e-4, metadata=doc("epsilon added to the group std (TRL uses 1e-4)"))
    tilt_mc: int = field(default=15, metadata=doc(
        "GRPO-KL paper tilt: fresh true-TMC continuations per PRM estimate (reference: 15); the expected variant"
        " uses the exact V (the tilt's N -> infinity limit)"))

    def __post_init__(self):
        check_literals(self)
        for name in ("steps", "ppo_mc", "rej_tries", "ppo_epochs", "grpo_epochs", "batch_size", "tilt_mc"):
            v = getattr(self, name)
            if v < 0 or (name in ("ppo_epochs", "grpo_epochs", "batch_size") and v < 1):
                raise ConfigError(f"{name}: must be >= "
                                  f"{1 if name in ('ppo_epochs', 'grpo_epochs', 'batch_size') else 0},"
                                  f" got {v}")
        if self.group_size < 2:
            raise ConfigError(f"group_size: must be >= 2 (group-normalised advantages need 2 samples), "
                              f"got {self.group_size}")
        if self.lr < 0:
            raise ConfigError(f"lr: must be >= 0, got {self.lr}")
        if self.beta <= 0:
            raise ConfigError(f"beta: must be > 0, got {self.beta}")
        if self.ppo_eps < 0:
            raise ConfigError(f"ppo_eps: must be >= 0, got {self.ppo_eps}")


@dataclass
class StepContext:
    """What one update step needs besides the policy and the RNG."""

    tmc: TMC
    task: Task
    instances: object          # tmc_theory.instances.Instances
    cfg: FinetuneConfig
    ref_kernels: list          # the policy's kernels before fine-tuning (KL reference)

    @property
    def widths(self) -> list[int]:
        return self.tmc.widths


def finetune(tmc: TMC, task: Task, policy: TabularPolicy, instances, cfg: FinetuneConfig,
             rng: np.random.Generator, eval_every: int = 0,
             eval_fn: Callable[[int, TabularPolicy], dict] | None = None) -> tuple[TabularPolicy, list[dict]]:
    """Fine-tune a COPY of ``policy`` on ``task`` with ``cfg.method`` / ``cfg.variant``.

    Returns ``(policy, history)``; ``history`` holds ``eval_fn(step, policy)`` (with ``"step"`` added) at step 0,
    every ``eval_every`` steps and at the end (``eval_every = 0``: no history). The GRPO-KL closed-form variants
    return a :class:`tmc_theory.finetune.grpo_kl.TiltedPolicy` (not trained: a sampling-time tilt; sample it with
    :func:`sample_policy`, get its exact distribution with :func:`policy_path_distribution`).
    """
    from ..registry import get_finetune_variant

    task = task if isinstance(task, Task) else tmc.task(task)
    if instances is not None and instances.task != task:
        raise ConfigError(f"instances are for task {instances.task.name}, but fine-tuning task is {task.name}")
    fn = get_finetune_variant(cfg.method, cfg.variant)
    pol = policy.copy()
    ctx = StepContext(tmc, task, instances, cfg, [k.copy() for k in policy.kernels()])
    history: list[dict] = []

    def record(step, p):
        if eval_fn is not None and eval_every > 0:
            rec = dict(eval_fn(step, p))
            rec["step"] = step
            history.append(rec)

    if getattr(fn, "closed_form", False):
        tilted = fn(pol, ctx)
        if eval_fn is not None and eval_every > 0:
            first = dict(eval_fn(0, tilted))
            for s in list(range(0, cfg.steps + 1, eval_every)) + ([cfg.steps] if cfg.steps % eval_every else []):
                history.append({**first, "step": s})
        return tilted, history

    record(0, pol)
    runner = getattr(fn, "run", None)
    step = 0
    while step < cfg.steps:
        nxt = cfg.steps
        if eval_every > 0:
            nxt = min(cfg.steps, (step // eval_every + 1) * eval_every)
        nxt = min(nxt, step + 1000)  # bounded chunks (the fast runners pre-draw their noise)
        if runner is not None:
            runner(pol, ctx, rng, nxt - step)
        else:
            for _ in range(nxt - step):
                fn(pol, ctx, rng)
        step = nxt
        if eval_every > 0 and (step % eval_every == 0 or step == cfg.steps):
            record(step, pol)
    return pol, history


# ---------------------------------------------------------------------------------------------------------
# uniform access to fine-tuned policies (tabular, or the GRPO-KL sampling-time tilt)
# ---------------------------------------------------------------------------------------------------------
def _onehot(n: int, i: int) -> np.ndarray:
    d = np.zeros(n)
    d[i] = 1.0
    return d


def policy_path_distribution(policy, tmc: TMC, task: Task) -> np.ndarray:
    """Exact probability of every path of ``tmc.enumerate_paths()`` when sampling ``policy`` from the task start."""
    from ..exact import path_distribution
    from .grpo_kl import TiltedPolicy

    if isinstance(policy, TiltedPolicy):
        return policy.path_distribution(task)
    return path_distribution(policy.kernels(), _onehot(tmc.widths[0], task.start))[1]


def policy_coverage(policy, tmc: TMC, task: Task) -> dict[str, float]:
    """Exact easy/hard/invalid shares of ``policy`` sampled from ``task``'s start (DP for tabular policies)."""
    from ..exact import coverage, coverage_of_distribution
    from .grpo_kl import TiltedPolicy

    if isinstance(policy, TiltedPolicy):
        return coverage_of_distribution(tmc, task, policy.path_distribution(task))
    return coverage(tmc, task, policy.kernels(), _onehot(tmc.widths[0], task.start))


def sample_policy(policy, tmc: TMC, task: Task, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` paths from ``task``'s start (vectorised; the GRPO-KL tilt uses fresh MC PRM estimates per call)."""
    from ..sampling import sample_paths
    from .grpo_kl import TiltedPolicy

    if isinstance(policy, TiltedPolicy):
        return policy.sample(task, n, rng)
    return sample_paths(policy.kernels(), task.start, rng, n)
