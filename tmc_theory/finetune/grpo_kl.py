"""GRPO-KL: KL-regularised policy optimisation (docs/tmc_model.md §4).

The KL-regularised objective ``max_q E_q[A] - beta KL(q || p)`` has the closed-form maximiser
``q*(x) = p(x) exp(A(x)/beta) / Z`` (:func:`tilt`; Gibbs variational principle).

paper:    NOT trained. The reference code applies a per-step closed-form tilt of the pretrained model at
          SAMPLING time: ``q(o_{l+1} = s | prefix) ∝ p_theta(s | o_l) exp(lam (V(prefix + s) - V(prefix)) / beta)``,
          ``lam = 0.5``, ``beta = 1``, ``V`` the PRM potential of the task being sampled (TASK2 uses TASK2's
          potentials), each ``V`` a FRESH Monte-Carlo estimate with ``tilt_mc = 15`` true-TMC continuations
          (``V(prefix)`` is re-estimated for every child, as in the reference code). ``V`` depends on the whole
          prefix (``V = P(prefix) B2(o_l) / Z``), so the tilted sampler is Markov in the prefix, not the state:
          it is returned as a :class:`TiltedPolicy` with ``sample`` / ``path_distribution`` methods.
          Departure from the sequence-level optimum: the per-step normalisers ``Z(prefix)`` make it a myopic
          (one-step) tilt; the exact KL-optimal path distribution is ``p(o) exp(lam R_out(o)/beta) / Z``
          (:func:`sequence_tilt_distribution`).
expected: the same tilt with the EXACT ``V`` (the ``tilt_mc -> inf`` limit; zero Monte-Carlo noise). Its exact
          path distribution is computed by enumerating the paths from the task start (vectorised).
textbook: GRPO-KL trained by gradient (DeepSeekMath / TRL): group-normalised GRPO (see :mod:`.grpo`) plus the
          k3 estimator of ``KL(q_theta || q_ref)`` per token, ``k3 = q_ref/q - log(q_ref/q) - 1``, differentiated
          through the loss with the samples fixed (``beta`` = KL weight, ``q_ref`` = the pretrained policy).
          NOTE: in expectation that gradient is ``d_l(s) (q_l(.|s) - q_ref(.|s))`` per state, the gradient of the
          FORWARD KL(q_ref || q), not of the reverse KL of the closed form — the trained fixed point differs from
          the tilt (compare them with ``tmc theory sweep beta``).
expected_textbook: expected GRPO (exact, one epoch) minus ``beta * d_l(s) (q_l - q_ref_l)`` (exact, DP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exact import path_distribution, prm_potential
from ..policy import TabularPolicy, softmax_rows
from ..tmc import TMC, Task
from .common import FinetuneError, apply_update, mc_potential, r_out_paths, state_visits
from . import grpo


def tilt(p: np.ndarray, A: np.ndarray, beta: float) -> np.ndarray:
    """``p exp(A / beta) / Z`` along the last axis — the maximiser of ``E_q[A] - beta KL(q || p)``."""
    with np.errstate(divide="ignore"):
        x = np.log(np.asarray(p, float)) + np.asarray(A, float) / beta
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def kl_objective(q: np.ndarray, p: np.ndarray, A: np.ndarray, beta: float) -> float:
    """``E_q[A] - beta KL(q || p)`` for distributions over the last axis (summed over leading axes)."""
    q = np.asarray(q, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(q > 0, q * (np.log(q) - np.log(p)), 0.0)
    return float((q * A).sum() - beta * kl.sum())


@dataclass
class TiltedPolicy(TabularPolicy):
    """The paper's GRPO-KL sampler: base logits (the pretrained policy) + the per-step PRM tilt.

    ``kernels()`` is deliberately unavailable (the tilt is not Markov in the state); use :meth:`sample`,
    :meth:`path_distribution`, or :func:`tmc_theory.finetune.run.sample_policy` / ``policy_coverage``.
    """

    tmc: TMC = None
    lam: float = 0.5
    beta: float = 1.0
    mc: int = 0   # 0 = exact V, else fresh MC estimates with this many continuations

    def kernels(self):
        raise TypeError("TiltedPolicy (GRPO-KL closed-form tilt) is not a Markov kernel: the tilt depends on the "
                        "whole prefix. Use .sample(task, n, rng) / .path_distribution(task), or "
                        "tmc_theory.finetune.run.sample_policy / policy_coverage / policy_path_distribution; "
                        ".base_kernels() gives the untilted pretrained kernels")

    def base_kernels(self) -> list[np.ndarray]:
        return [softmax_rows(x) for x in self.logits]

    def copy(self) -> "TiltedPolicy":
        return TiltedPolicy([x.copy() for x in self.logits], self.tmc, self.lam, self.beta, self.mc)

    def step_probs(self, task: Task, prefixes: np.ndarray, rng: np.random.Generator | None = None,
                   exact: bool | None = None) -> np.ndarray:
        """Tilted next-state distribution for each prefix ``(n, l+1)`` -> ``(n, W_{l+1})``."""
        prefixes = np.atleast_2d(prefixes)
        n, lp = prefixes.shape
        l = lp - 1
        base = softmax_rows(self.logits[l])[prefixes[:, l]]
        W = base.shape[1]
        kids = np.empty((n * W, lp + 1), dtype=np.int64)
        kids[:, :lp] = np.repeat(prefixes, W, axis=0)
        kids[:, lp] = np.tile(np.arange(W), n)
        use_exact = (self.mc == 0) if exact is None else exact
        if use_exact:
            vk = prm_potential(self.tmc, task, kids).reshape(n, W)
            v0 = prm_potential(self.tmc, task, prefixes)[:, None]
        else:
            if rng is None:
                raise FinetuneError("TiltedPolicy with mc > 0 needs an rng (fresh Monte-Carlo PRM estimates)")
            vk = mc_potential(self.tmc, task, kids, self.mc, rng).reshape(n, W)
            v0 = mc_potential(self.tmc, task, np.repeat(prefixes, W, axis=0), self.mc, rng).reshape(n, W)
        return tilt(base, self.lam * (vk - v0), self.beta)

    def sample(self, task: Task, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` paths from ``task.start`` (vectorised; fresh MC estimates on every call when ``mc > 0``)."""
        L = len(self.logits) + 1
        out = np.empty((n, L), dtype=np.int64)
        out[:, 0] = task.start
        for l in range(L - 1):
            pr = self.step_probs(task, out[:, : l + 1], rng)
            cdf = np.cumsum(pr, axis=1)
            cdf[:, -1] = 1.0
            out[:, l + 1] = (rng.random(n)[:, None] > cdf).sum(axis=1)
        return out

    def path_distribution(self, task: Task) -> np.ndarray:
        """Exact probability of every path of ``tmc.enumerate_paths()`` (exact-V tilt; 0 off the task start)."""
        tmc = self.tmc
        paths = tmc.enumerate_paths(task.start)
        p = np.ones(len(paths))
        for l in range(tmc.n_layers - 1):
            pre, inv = np.unique(paths[:, : l + 1], axis=0, return_inverse=True)
            pr = self.step_probs(task, pre, exact=True)
            p = p * pr[inv.reshape(-1), paths[:, l + 1]]
        full = np.zeros(int(np.prod(tmc.widths)))
        block = len(paths)
        full[task.start * block:(task.start + 1) * block] = p
        return full


def sequence_tilt_distribution(tmc: TMC, task: Task, base_kernels, lam: float, beta: float) -> np.ndarray:
    """The sequence-level KL optimum ``p(o) exp(lam R_out(o) / beta) / Z`` over ``tmc.enumerate_paths()``
    (``p`` = base sampler from ``task.start``)."""
    start = np.zeros(tmc.widths[0])
    start[task.start] = 1.0
    paths, p = path_distribution(base_kernels, start)
    q = p * np.exp(lam * r_out_paths(tmc, task, paths) / beta)
    return q / q.sum()


def _closed_form(mc_attr: str | None):
    def make(pol, ctx):
        mc = getattr(ctx.cfg, mc_attr) if mc_attr else 0
        return TiltedPolicy([x.copy() for x in pol.logits], ctx.tmc, ctx.cfg.lam, ctx.cfg.beta, int(mc))
    make.closed_form = True
    return make


paper_tilt = _closed_form("tilt_mc")
paper_tilt.__doc__ = "The paper's sampling-time tilt with fresh MC PRM estimates (``tilt_mc`` continuations)."
exact_tilt = _closed_form(None)
exact_tilt.__doc__ = "The same tilt with the exact PRM potential (no Monte-Carlo noise)."


def textbook_step(pol, ctx, rng) -> None:
    grpo.textbook_step(pol, ctx, rng, kl_beta=ctx.cfg.beta)


def kl_grad(pol, ctx) -> list[np.ndarray]:
    """Exact expected k3 gradient (ascent direction): ``-beta d_l(s) (q_l(.|s) - q_ref(.|s))``."""
    ks = pol.kernels()
    d = state_visits(ks, ctx.task.start)
    return [-ctx.cfg.beta * d[l][:, None] * (ks[l] - ctx.ref_kernels[l]) for l in range(len(ks))]


def expected_textbook_step(pol, ctx, rng=None) -> None:
    if ctx.cfg.grpo_epochs != 1:
        raise FinetuneError(f"grpo_epochs: expected_textbook GRPO-KL is exact only for grpo_epochs = 1 "
                            f"(got {ctx.cfg.grpo_epochs})")
    g = grpo.expected_grad(pol, ctx)
    k = kl_grad(pol, ctx)
    apply_update(pol.logits, [a + b for a, b in zip(g, k)], ctx.cfg.lr)
