"""The KL estimators of grpo_kl: per-token term, its gradient, and the masked penalty added to the loss.

Per completion token, with d = log pi_ref - log pi_theta and r = exp(d) = pi_ref / pi_theta:

* ``k3`` (TRL's; Schulman's k3): KL_t = r - d - 1, an unbiased estimate of reverse KL(pi || pi_ref).
  Departure worth knowing: differentiating this estimate through log pi_theta (what TRL does) gives
  ``(1 - r) grad log pi``, whose on-policy expectation is the gradient of the FORWARD KL(pi_ref || pi)
  (Tang & Munos 2025, arXiv 2506.09477). So "k3" runs are regularised by the forward-KL gradient, although the
  logged value estimates the reverse KL. We keep it because it is what users of TRL run.
* ``k2``: KL_t = 0.5 d^2; pathwise gradient ``-d grad log pi`` = the REVERSE-KL gradient in expectation
  (mode-seeking; arXiv 2509.07430 finds it hurts pass@k).
* ``forward``: the mass-covering KL(pi_ref || pi): value r log r - r + 1 (>= 0, unbiased under pi), and a
  surrogate whose gradient is ``-r grad log pi`` (expectation = grad KL(pi_ref || pi)) (DPH-RL, arXiv 2509.07430).

Every estimator's value is 0 where pi_theta = pi_ref; there k3 and k2 have zero gradient, while forward's per-token
surrogate gradient is -grad log pi (zero only in expectation, sum_y pi grad log pi = 0).
``k3`` is added by TRL itself; ``k2`` and ``forward``
by ``kl_penalty`` with the same mask and aggregation as TRL's loss (trl_seam.aggregate).
"""

from __future__ import annotations

from typing import Callable

import torch

ESTIMATORS = ("k3", "k2", "forward")


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
    raise ValueError(f"kl_estimator: {estimator!r} is not allowed; allowed values: {', '.join(ESTIMATORS)}")


def kl_penalty(estimator: str, logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor,
               aggregate: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> tuple[torch.Tensor, float]:
    """(loss term ``aggregate(KL_t, mask)``, mean KL value per completion token): tokens off ``mask`` (padding,
    tool output) contribute neither to the loss, its gradient, nor the logged value. Multiply by beta outside."""
    term, value = kl_per_token(estimator, logp, ref_logp)
    m = mask.to(value.dtype)
    return aggregate(term, mask), ((value * m).sum() / m.sum().clamp(min=1.0)).item()
