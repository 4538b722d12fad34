"""The one place where a selector key meets its implementation.

Keys: the theory's ``tmc_core.names.INFERENCE_KEYS`` (soft_bon, orm_bon, prm_bon, dprm_bon, dprm_as) --
imported from there, so a method is spelled the same in ``tmc_theory`` and here -- plus the baselines
:data:`BASELINE_KEYS`. Each entry is a :class:`Selector`: ``level`` "outcome" (``choose(rewards, rng, lam,
answers=, keys=) -> index`` over N candidates) or "step" (``run(ctx, sampler, reward, rng, cfg, key) ->
Candidate``), and whether it reads a reward at all (``majority`` does not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from tmc_core.config import ConfigError
from tmc_core.names import INFERENCE_KEYS, InferenceKey

from . import beam_search, dprm_as, dprm_bon, dvts, majority, orm_bon, prm_bon, soft_bon

BaselineKey = Literal["majority", "weighted_majority", "beam_search", "dvts"]
SelectorKey = Literal[InferenceKey, BaselineKey]  #: what a config may name (checked by the loader)
BASELINE_KEYS: tuple[str, ...] = get_args(BaselineKey)


@dataclass(frozen=True)
class Selector:
    key: str
    level: str              #: "outcome" | "step"
    fn: Callable            #: choose(...) for outcome level, run(...) for step level
    uses_reward: bool = True


_IMPL = {
    "soft_bon": Selector("soft_bon", "outcome", soft_bon.choose),
    "orm_bon": Selector("orm_bon", "outcome", orm_bon.choose),
    "prm_bon": Selector("prm_bon", "step", prm_bon.run),
    "dprm_bon": Selector("dprm_bon", "step", dprm_bon.run),
    "dprm_as": Selector("dprm_as", "step", dprm_as.run),
    "majority": Selector("majority", "outcome", majority.choose, uses_reward=False),
    "weighted_majority": Selector("weighted_majority", "outcome", majority.choose_weighted),
    "beam_search": Selector("beam_search", "step", beam_search.run),
    "dvts": Selector("dvts", "step", dvts.run),
}

KEYS = INFERENCE_KEYS + BASELINE_KEYS
SELECTORS = {k: _IMPL[k] for k in KEYS}
assert set(_IMPL) == set(KEYS), "every key of tmc_core.names.INFERENCE and BASELINE_KEYS needs an implementation"


def get(key: str) -> Selector:
    if key not in SELECTORS:
        raise ConfigError(f"unknown selector {key!r}; allowed: {', '.join(KEYS)}")
    return SELECTORS[key]
