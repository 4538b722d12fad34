"""``LearnedBonConfig``: the knobs of ``tmc tmclm-bon`` (the section ``bon:`` of a ``TmclmConfig`` YAML).

Best-of-N selectors with reward models LEARNED from TMC-LM samples beside the exact population rewards and the
instance reward; see :mod:`harness.tmclm.learned_rewards` for the equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from tmc_core.config import ConfigError, check_literals, doc

TmclmSelector = Literal["soft_bon", "orm_bon", "orm_bon@1", "prm_bon", "dprm_bon", "dprm_as"]
SELECTOR_CHOICES: tuple[str, ...] = get_args(TmclmSelector)


@dataclass
class LearnedBonConfig:
    """Learned ORM / PRM from TMC-LM samples, and the five selectors run with every reward source."""

    conventions: Literal["textbook", "paper"] = field(default="textbook", metadata=doc(
        "'textbook' = every task scored with its own rewards, every selector from the task's start; 'paper' = "
        "every task scored with the first task's rewards, Soft-/ORM-BoN from a uniform start (docs/tmc_model.md §5)"))
    selectors: list[TmclmSelector] = field(default_factory=lambda: list(SELECTOR_CHOICES), metadata=doc(
        "selectors run; orm_bon@1 = ORM-BoN returning only the top-1 of N (orm_bon with the paper's K = 30 > N "
        "returns all N candidates, so its output does not depend on the reward)"))
    n_train: list[int] = field(default_factory=lambda: [30, 100, 300, 1000, 3000, 10000], metadata=doc(
        "numbers of solutions sampled from the TMC-LM to train the reward models (nested: the first n of one draw)"))
    rollouts_per_prefix: int = field(default=15, metadata=doc(
        "Math-Shepherd rollouts m from every proper prefix of every training solution (the paper's N_mc = 15)"))
    rollouts: Literal["tmclm", "tmc"] = field(default="tmclm", metadata=doc(
        "law of the PRM rollouts: 'tmclm' = the TMC-LM's exact conditional law (the policy's own rollouts, as "
        "Math-Shepherd); 'tmc' = the true TMC (the theory's V / h are defined with it, so the limit is exact)"))
    seeds: int = field(default=20, metadata=doc(
        "independent training sets per n (the spread of the learned rewards; CIs are percentiles over them)"))
    prior_strength: float = field(default=1.0, metadata=doc(
        "c: pseudo-samples of the tabular ORM's prior Beta(c g, c (1-g)) (g = pooled correct rate) and of the "
        "PRM's shrinkage to the parent prefix's value; 0 = plain MLE (unseen -> g / parent)"))
    logistic: bool = field(default=True, metadata=doc("also fit the logistic ORM on one-hot edge features"))
    lm_head: bool = field(default=True, metadata=doc(
        "also fit the 'head' ORM: logistic on the TMC-LM's last hidden state at <end> (a value head on the policy)"))
    l2: float = field(default=1e-3, metadata=doc("L2 penalty of the logistic ORMs (weights, not the bias)"))
    n_test_instances: int = field(default=200, metadata=doc(
        "test instances per task (the oracle reward, instance accuracy and the consistency-bias share)"))
    bootstrap: int = field(default=2000, metadata=doc("bootstrap resamples of test instances for the oracle CIs"))
    seed: int = field(default=0, metadata=doc("seed of training sets, test instances and the bootstrap"))

    def __post_init__(self):
        check_literals(self, "bon.")
        if not self.n_train or min(self.n_train) < 1:
            raise ConfigError(f"bon.n_train: {self.n_train} is not allowed; allowed values: a list of integers >= 1")
        if self.rollouts_per_prefix < 1:
            raise ConfigError(f"bon.rollouts_per_prefix: {self.rollouts_per_prefix} must be >= 1")
        if self.seeds < 1:
            raise ConfigError(f"bon.seeds: {self.seeds} must be >= 1")
        if self.prior_strength < 0:
            raise ConfigError(f"bon.prior_strength: {self.prior_strength} must be >= 0")
