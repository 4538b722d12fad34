"""``BonConfig``: what ``tmc bon`` runs (every field documented; ``tmc bon --describe`` prints them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tmc_core.config import ConfigError, check_literals, config_hash, doc

from harness.pipeline import SampleConfig

from .registry import KEYS, SelectorKey
from .rewards import RewardKey


@dataclass
class BonConfig:
    sample: SampleConfig = field(default_factory=SampleConfig, metadata=doc(
        "the candidate pool and the policy: model, backend (hf; vllm: step search on harness.select.vllm_steps with "
        "prefix caching), data (benchmark, source, split, limit), decoding "
        "(temperature, top_p, max_new_tokens), n = pool size per problem. Sampled into OUT/samples unless "
        "samples_run is set; step-level selectors sample steps with the same model and decoding"))
    samples_run: str | None = field(default=None, metadata=doc(
        "an existing sample-store run (tmc sample) to take the pool from instead of sampling one; its model, "
        "data and decoding must be those of `sample` (checked)"))
    selectors: list[SelectorKey] = field(default_factory=lambda: list(KEYS), metadata=doc(
        "selector keys to run (tmc_core.names.INFERENCE keys + baselines)"))
    rewards: list[RewardKey] = field(default_factory=lambda: ["oracle"], metadata=doc(
        "reward sources; every selector that reads a reward runs with each (majority runs once)"))
    orm: str | None = field(default=None, metadata=doc("folder of a trained ORM (tmc rm train, kind: orm)"))
    prm: str | None = field(default=None, metadata=doc("folder of a trained PRM (tmc rm train, kind: prm)"))
    prm_adapter: Literal["probe", "qwen_prm", "math_shepherd", "skywork_prm"] = field(default="probe", metadata=doc(
        "what `prm` holds: probe = a folder of tmc rm train (kind: prm); qwen_prm / math_shepherd / skywork_prm = a "
        "LOCAL copy of Qwen2.5-Math-PRM / Math-Shepherd's PRM / Skywork-o1-Open-PRM (step token = sep; Skywork uses "
        "'\\n') read through harness.select.rewards.hub_prm"))
    lam: float = field(default=0.5, metadata=doc(
        "lambda: Soft-BoN weight exp(lam R); DPRM h = E[exp(lam R) | prefix], R_DPRM = log(h)/lam (paper 0.5)"))
    n_candidates: int = field(default=8, metadata=doc(
        "N: outcome-level selectors choose among N pool completions drawn without replacement per run (<= "
        "sample.n); beam_search keeps N/M beams and dvts runs N/M subtrees"))
    m: int = field(default=4, metadata=doc("M: candidate next steps sampled per step (step-level selectors)"))
    n_mc: int = field(default=4, metadata=doc("continuations per Monte-Carlo value (mc:* rewards; paper 15)"))
    sep: str = field(default="\n\n", metadata=doc("step separator ('\\n\\n'; '\\n' for short CoTs)"))
    max_step_tokens: int = field(default=64, metadata=doc("cap on tokens per proposed step (decoding stops at sep)"))
    step_decoding: Literal["stop_at_sep", "fixed_budget"] = field(default="stop_at_sep", metadata=doc(
        "how a proposed step is decoded: stop_at_sep = stop at the separator (vLLM `stop` semantics; every "
        "generated token counted); fixed_budget = decode max_step_tokens and cut at the first separator (the "
        "engine before 2026-12-07; about 2.35x the tokens on SmolLM2, docs/best_of_n.md). Part of the run hash, "
        "so an output folder made with one never resumes with the other"))
    max_steps: int = field(default=8, metadata=doc(
        "steps a walk takes before the rest is one plain continuation from the policy"))
    dprm_as_form: Literal["paper", "doob", "both"] = field(default="paper", metadata=doc(
        "DPRM-AS: paper = distinct proposed steps prop. to h (no base factor); doob = the M draws prop. to h "
        "(base-weighted Doob transform by resampling); both = run both (results key dprm_as and dprm_as:doob)"))
    soft_bon_distinct: bool = field(default=True, metadata=doc(
        "Soft-BoN: merge identical completions before weighting (the paper's N distinct paths)"))
    soft_bon_candidates: Literal["draws", "distinct_paths"] = field(default="draws", metadata=doc(
        "Soft-BoN's candidate set: draws = the N pool draws every outcome selector sees (identical texts merged "
        "if soft_bon_distinct); distinct_paths = the paper's N DISTINCT paths: the same N draws, then further pool "
        "draws in random order, until N distinct reasoning-path clusters (harness.paths.cluster_paths) are "
        "collected (fewer if the pool has fewer), every draw consumed counted in the generated tokens"))
    runs: int = field(default=4, metadata=doc(
        "independent selector runs per problem; pass@k (k <= runs) = chance that at least one of k runs is correct"))
    problems: Literal["all", "hard"] = field(default="all", metadata=doc(
        "all = every problem of the pool; hard = only the pool's hard problems (some candidate correct, none of "
        "them on a modal reasoning path: harness.select.claim.pool_modes), where the paper's claim about rare "
        "correct paths lives -- spends costly step-level search there"))
    n_boot: int = field(default=1000, metadata=doc("bootstrap replicates (over problems) for the CIs"))
    seed: int = field(default=0, metadata=doc("selector seed (choices, step sampling, rollouts)"))

    def __post_init__(self):
        check_literals(self)
        for name, lo in (("n_candidates", 1), ("m", 1), ("n_mc", 1), ("max_step_tokens", 1), ("max_steps", 1),
                         ("runs", 1), ("n_boot", 1)):
            if getattr(self, name) < lo:
                raise ConfigError(f"{name}: must be >= {lo}, got {getattr(self, name)}")
        if self.lam <= 0:
            raise ConfigError(f"lam: must be > 0, got {self.lam}")
        if not self.sep:
            raise ConfigError("sep: must be a non-empty string (e.g. '\\n\\n' or '\\n')")
        if self.n_candidates > self.sample.n:
            raise ConfigError(f"n_candidates: {self.n_candidates} > sample.n = {self.sample.n} (the pool per problem); "
                              f"raise sample.n or lower n_candidates")
        if self.sample.backend not in ("hf", "vllm"):
            raise ConfigError(f"sample.backend: {self.sample.backend!r}; allowed: hf, vllm")

    def hash(self, also_exclude: tuple[str, ...] = ()) -> str:
        # fields that joined the config later are left out at their defaults so older output folders still resume
        late = (("problems", "all"), ("soft_bon_candidates", "draws"))
        return config_hash(self, exclude=("n_boot",) + also_exclude + tuple(
            k for k, d in late if getattr(self, k) == d))

    def accepted_hashes(self) -> set[str]:
        """The stored hashes an output folder may hold to resume with this config: :meth:`hash`, and for a config
        without step-level selectors also the hash without ``step_decoding`` (a folder written before that field
        existed: it cannot change an outcome-level run; e.g. results/bon/easy_arith_smollm2)."""
        from .registry import SELECTORS

        if any(SELECTORS[k].level == "step" for k in self.selectors):
            return {self.hash()}
        return {self.hash(), self.hash(also_exclude=("step_decoding",))}
