"""THE one place where method keys (:mod:`tmc_core.names`) meet implementations, fine-tuning and inference.

``FINETUNE[key].variants`` maps a variant name to a step function ``step(policy, ctx, rng)`` (one iteration,
in place) or, for the GRPO-KL closed form, to a builder ``make(policy, ctx) -> TiltedPolicy`` marked
``closed_form = True``. A step function may carry ``.run(policy, ctx, rng, n_steps)``, a faster multi-step
runner of the same update that :func:`tmc_theory.finetune.run.finetune` prefers. Variant names:

* ``paper``             — the paper's reference-code update (docs/tmc_model.md §4), stochastic;
* ``expected``          — the exact expectation of the ``paper`` update (deterministic dynamics);
* ``textbook``          — the textbook method, where the paper departs from it;
* ``expected_textbook`` — the exact expected update of the textbook variant, where derived.

``INFERENCE[key]`` gives ``tmc_theory.inference.<key>`` functions ``exact_distribution`` and ``sample``
(imported lazily so that this module never fails to import).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from tmc_core import names


class RegistryError(KeyError):
    """Unknown method or variant; the message lists the allowed names."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class FinetuneEntry:
    key: str
    paper_name: str
    variants: dict[str, Callable]
    notes: str


@dataclass(frozen=True)
class InferenceEntry:
    key: str
    paper_name: str
    exact: Callable            #: exact_distribution(tmc, task, cfg, base_kernels=None) -> probs over all paths
    sample: Callable           #: sample(tmc, task, cfg, k, rng, base_kernels=None) -> (k, L) paths
    sample_batch: Callable     #: sample_batch(tmc, task, cfg, n_sets, k, rng, base_kernels) -> (n_sets, k, L)
    exact_pass_at_k: Callable  #: exact_pass_at_k(tmc, task, cfg, k, base_kernels, instances=None) -> E[pass@k]
    notes: str

    @property
    def exact_distribution(self) -> Callable:
        return self.exact


def _ft(key: str, module: str, variants: dict[str, str], notes: str) -> FinetuneEntry:
    mod = importlib.import_module(f"tmc_theory.finetune.{module}")
    return FinetuneEntry(key, names.BY_KEY[key].paper_name, {v: getattr(mod, f) for v, f in variants.items()},
                         notes.strip())


FINETUNE: dict[str, FinetuneEntry] = {e.key: e for e in (
    _ft("reinforce", "reinforce", {"paper": "paper_step", "expected": "expected_step"}, """
paper = faithful: 0/1 reward, no baseline, one instance and one path per iteration (textbook REINFORCE, batch 1).
expected = exact E[update] by forward/backward messages of q*P (O(#edges)). No textbook departure, so no textbook
variant."""),
    _ft("raft", "raft", {"paper": "paper_step", "expected": "expected_step", "textbook": "textbook_step",
                         "expected_textbook": "expected_textbook_step"}, """
paper = faithful to the reference code: R * (1 + log q) * grad log q — DEPARTS from textbook RAFT (the factor is
negative for q < 1/e, pushing rare correct edges down). textbook = SFT on the best of group_size samples per
prompt (Dong et al. 2023); expected_textbook = its exact expectation (g(p) = sum_{j<k} (1-p)^j)."""),
    _ft("ppo", "ppo", {"paper": "paper_step", "expected": "expected_step", "textbook": "textbook_step",
                       "expected_textbook": "expected_textbook_step"}, """
paper = faithful: (1 + eps sign A) A grad log q with ratio 1 (old policy reset each step, clip never binds),
A = Q - V from true-TMC Monte Carlo (15 continuations for Q, one per child for V); reward/instance unused.
expected = exact-advantage expectation (MC noise of Qhat not averaged: E|Ahat| > |E Ahat|). textbook = real
ratio + clipping over ppo_epochs per batch, advantage R - V_old with an oracle (exact) critic;
expected_textbook = exact gradient of the expected clipped surrogate per epoch."""),
    _ft("rl_rej", "rl_rej", {"paper": "paper_step", "expected": "expected_step"}, """
paper = faithful: skip the instance if any of rej_tries samples from the CURRENT model is correct, else REINFORCE
on a fresh path. expected = exact: weight E_C[1{o in C}(1 - q(C))^T] (derivation in rl_rej.py). No textbook
departure (no separate textbook variant)."""),
    _ft("grpo", "grpo", {"paper": "paper_step", "expected": "expected_step", "textbook": "textbook_step",
                         "expected_textbook": "expected_textbook_step"}, """
NOT in the paper. paper = OUR CHOICE in the paper's conventions: one instance, group_size on-policy paths,
group-normalised advantages, one gradient step (ratio 1) = textbook GRPO with one epoch (TRL default).
expected = exact (degree G-1 polynomial weight). textbook = clipped surrogate over grpo_epochs;
expected_textbook = expected (exact only for grpo_epochs = 1)."""),
    _ft("grpo_kl", "grpo_kl", {"paper": "paper_tilt", "expected": "exact_tilt", "textbook": "textbook_step",
                               "expected_textbook": "expected_textbook_step"}, """
paper = faithful: NOT trained; sampling-time per-step tilt p * exp(lam (V(prefix+s) - V(prefix)) / beta) with
fresh 15-continuation MC estimates of V (returns a TiltedPolicy, prefix-dependent). expected = the same tilt with
exact V. DEPARTS from textbook GRPO-KL (trained): textbook = GRPO + k3 KL penalty (its expected gradient is that
of the forward KL(q_ref || q)); expected_textbook = exact expected GRPO + exact k3 term."""),
)}


def _lazy(key: str, attr: str) -> Callable:
    def call(*args, **kwargs):
        mod = importlib.import_module(f"tmc_theory.inference.{key}")
        return getattr(mod, attr)(*args, **kwargs)
    call.__name__ = f"{key}.{attr}"
    call.__qualname__ = call.__name__
    return call


_INFERENCE_NOTES = {
    "soft_bon": "true-TMC samples (uniform start), 15 distinct, resampled ∝ exp(lam R_out^TASK1) "
                "(docs/tmc_model.md §5)",
    "orm_bon": "15 true-TMC samples (uniform start) ranked by R_out^TASK1; K=30 > 15 returns all",
    "prm_bon": "greedy child with the highest PRM potential from the task start, random tie-break",
    "dprm_bon": "greedy child with the highest R_DPRM = (1/lam) log h",
    "dprm_as": "child sampled ∝ exp(lam R_DPRM) (no base-probability factor, as the reference code)",
}

def _inference_entry(m: names.MethodName, notes: str) -> InferenceEntry:
    return InferenceEntry(m.key, m.paper_name, _lazy(m.key, "exact_distribution"), _lazy(m.key, "sample"),
                          _lazy(m.key, "sample_batch"), _lazy(m.key, "exact_pass_at_k"), notes)


INFERENCE: dict[str, InferenceEntry] = {m.key: _inference_entry(m, _INFERENCE_NOTES[m.key]) for m in names.INFERENCE}

#: The "Base Model" row: the base sampler itself (true TMC or the pretrained policy), same interface.
BASE = _inference_entry(names.BASE, "the base sampler as is (paper: true TMC with uniform start)")


def sampler(key: str) -> InferenceEntry:
    """The sampling interface of ``base`` or an inference method (what the reproduction table rows sample)."""
    return BASE if key == "base" else get_inference(key)


def get_inference(key: str) -> InferenceEntry:
    e = get(key)
    if not isinstance(e, InferenceEntry):
        raise RegistryError(f"method {key!r} is a fine-tuning method, not an inference method; allowed: "
                            f"{', '.join(INFERENCE)}")
    return e


def resolve_variant(method: str, variant: str, exact: bool) -> str:
    """The fine-tuning variant actually run. In exact mode the deterministic counterpart (paper -> expected,
    textbook -> expected_textbook); a method without a textbook form falls back to its paper-faithful update
    (REINFORCE and RL-rej do not depart from the textbook)."""
    avail = get(method).variants
    v = {"paper": "expected", "textbook": "expected_textbook"}.get(variant, variant) if exact else variant
    if v not in avail:
        v = "expected" if exact else "paper"
    return v


def _allowed() -> str:
    return ", ".join([f"{k} ({e.paper_name})" for k, e in FINETUNE.items()] +
                     [f"{k} ({e.paper_name})" for k, e in INFERENCE.items()])


def get(key_or_paper_name: str) -> FinetuneEntry | InferenceEntry:
    """Entry by key (``grpo_kl``) or paper name (``GRPO-KL``); RegistryError listing the allowed names."""
    for table in (FINETUNE, INFERENCE):
        if key_or_paper_name in table:
            return table[key_or_paper_name]
        for e in table.values():
            if e.paper_name == key_or_paper_name:
                return e
    raise RegistryError(f"unknown method {key_or_paper_name!r}; allowed: {_allowed()}")


def get_finetune_variant(method: str, variant: str) -> Callable:
    """The step function for ``method`` / ``variant``; RegistryError listing the allowed names."""
    e = get(method)
    if not isinstance(e, FinetuneEntry):
        raise RegistryError(f"method {method!r} is an inference method, not a fine-tuning method; allowed: "
                            f"{', '.join(FINETUNE)}")
    if variant not in e.variants:
        raise RegistryError(f"method {e.key!r} has no variant {variant!r}; allowed: {', '.join(e.variants)}")
    return e.variants[variant]
