"""Reward sources of the selectors, chosen by name in the config (:func:`make_reward`).

Every source gives an OUTCOME reward ``R(o)`` in [0, 1] of a completion and, for the step-level selectors, a
prefix value ``V(prefix)`` and a Doob value ``h(prefix)``:

==============  ==========================================================================================
``oracle``      R = the grader with the gold answer (the paper's instance reward R(o; C)); on a prefix the
                grader reads the partial text (0 until an answer is written); h = exp(lam V)
``orm``         R = a learned population outcome model P(correct | question, completion) (:mod:`.learned`);
                on a prefix the same model scores the partial text ("ORM as PRM"); h = exp(lam V)
``mc:oracle``   Math-Shepherd soft estimation (:mod:`.mc`): V(prefix) = mean_i R(prefix + cont_i) over
``mc:orm``      n_mc continuations sampled from the prefix, h = mean_i exp(lam R(...)) -- the paper's
                likelihood PRM and DPRM, with the terminal reward ``oracle`` or ``orm``
``prm``         V = a learned step-level model trained on soft MC labels (:mod:`.learned`), or a published
                PRM (:mod:`.hub_prm`: Qwen2.5-Math-PRM, Math-Shepherd, Skywork-o1); h = exp(lam V)
==============  ==========================================================================================

``h = exp(lam V)`` for the point-valued sources is a departure: the paper's h = E[exp(lam R) | prefix] >=
exp(lam V) (Jensen); only the ``mc`` sources estimate the expectation itself. A complete (finished or cut)
completion needs no continuation: its V is its R, its h is exp(lam R), for every source.
"""

from __future__ import annotations

from typing import Literal, get_args

from tmc_core.config import ConfigError

RewardKey = Literal["oracle", "orm", "mc:oracle", "mc:orm", "prm"]
REWARDS: tuple[str, ...] = get_args(RewardKey)
POPULATION = ("orm", "mc:orm", "prm")  #: learned at the population level (the paper's ORM / PRM)
INSTANCE = ("oracle", "mc:oracle")     #: the instance's own verifier


def make_reward(name: str, orm=None, prm=None, n_mc: int = 4):
    """The reward source ``name`` (one of :data:`REWARDS`); ``orm``/``prm``: loaded :class:`.learned.LinearRM`."""
    from .learned import LearnedReward
    from .mc import MCReward
    from .oracle import OracleReward

    if name == "oracle":
        return OracleReward()
    if name in ("orm", "mc:orm") and orm is None:
        raise ConfigError(f"reward {name!r} needs a trained ORM: set `orm:` to a folder made by `tmc rm train` "
                          f"(kind: orm)")
    if name == "prm" and prm is None:
        raise ConfigError("reward 'prm' needs a trained PRM: set `prm:` to a folder made by `tmc rm train` (kind: prm)")
    if name == "orm":
        return LearnedReward(orm, "orm")
    if name == "prm":
        from .hub_prm import HubPRM

        return prm if isinstance(prm, HubPRM) else LearnedReward(prm, "prm")
    if name == "mc:oracle":
        return MCReward(OracleReward(), n_mc, name)
    if name == "mc:orm":
        return MCReward(LearnedReward(orm, "orm"), n_mc, name)
    raise ConfigError(f"unknown reward {name!r}; allowed: {', '.join(REWARDS)}")
