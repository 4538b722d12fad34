"""Exact measurement of a TMC language model: the probability of every path, and the theory's metrics of it.

For a prompt ``x`` (``<T:k>`` or ``<any>``) and a path ``o = (o_0..o_{L-1})`` the model's probability is, by teacher
forcing (one batched forward pass over all enumerated paths),

    q(o | x) = prod_{i=0}^{L} pi_theta(y_i | x, y_<i),    y = (L0S{o_0}, ..., L{L-1}S{o_{L-1}}, <end>),

i.e. the sum of the completion tokens' log-probabilities, **including the end token**, with the full softmax over the
whole vocabulary (no restriction, no renormalisation). Then ``sum_o q(o | x) <= 1`` and the remainder

    malformed(x) = 1 - sum_o q(o | x)

is the probability that a sample is *ill-formed* (a token of the wrong layer, a prompt token, an early or missing
``<end>``; see :mod:`harness.tmclm.tokenizer`). Convention (documented choice): malformed mass is reported on its own
AND counted as *invalid* in the coverage (it never earns reward, exactly like an invalid path), it never enters
``C``, so it always counts as a miss in pass@K, and it is one extra outcome in the path entropy. After pretraining it
is ~1e-4; RL can only lower it (it is never rewarded).

All metrics go through ``tmc_theory``'s code: ``TMC.classify`` (easy/hard/invalid), ``exact.expected_pass_at_k``
(exact ``E_C[pass@K] = 1 - E_C[(1 - q(C))^K]`` over the instance distribution, no Monte Carlo) and
``exact.r_out``. ``expected_pass_at_k`` is called with ``normalise=False``: the malformed mass ``1 - sum q`` is an
outcome outside the path set that is never correct (never in ``C``) — exact, not renormalised away.

Markov projection (:func:`markov_kernels`): the transformer conditions on the whole prefix, so its path distribution
need not be Markov. The Markov kernels with the same one-step pair marginals,
``K_l[s, s'] = q(o_l = s, o_{l+1} = s') / q(o_l = s)`` over well-formed paths, are what we hand to code that takes
``base_kernels`` (the theory's starting policy, the inference selectors); :func:`non_markov_kl` reports the KL from
the transformer's (well-formed, renormalised) distribution to its projection, i.e. how much that hand-over loses.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .tokenizer import PathTokenizer

LOG_FLOOR = 1e-300


# ----------------------------------------------------------------------------------------------------------
# model -> path probabilities
# ----------------------------------------------------------------------------------------------------------
def sequence_logprobs(model, input_ids: np.ndarray, n_prompt: int = 1, batch_size: int = 8192) -> np.ndarray:
    """``sum_{i >= n_prompt} log pi(input_ids[:, i] | input_ids[:, :i])`` per row (teacher forcing, no grad)."""
    import torch

    ids = torch.as_tensor(np.asarray(input_ids), dtype=torch.long)
    out = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for b in range(0, len(ids), batch_size):
            x = ids[b:b + batch_size]
            logits = model(input_ids=x).logits.float()           # (n, T, V)
            logp = torch.log_softmax(logits[:, n_prompt - 1:-1], dim=-1)
            tgt = x[:, n_prompt:]
            out.append(logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1).sum(-1).double().cpu().numpy())
    if was_training:
        model.train()
    return np.concatenate(out) if out else np.zeros(0)


def model_path_probs(model, tok: PathTokenizer, prompt: str | None, paths: np.ndarray) -> np.ndarray:
    """``q(o, <end> | prompt)`` for every row of ``paths`` (prompt = task name, or None for ``<any>``)."""
    return np.exp(sequence_logprobs(model, tok.encode_paths(paths, prompt), n_prompt=1))


def prompts_of(tmc) -> list[str | None]:
    """The prompts measured: ``None`` (``<any>``, uniform-start Base Model) then every task."""
    return [None] + [t.name for t in tmc.tasks]


def prompt_key(prompt: str | None) -> str:
    return "<any>" if prompt is None else prompt


def all_path_probs(model, tok: PathTokenizer, tmc) -> dict[str, np.ndarray]:
    """``{prompt_key: q over tmc.enumerate_paths()}`` for ``<any>`` and every task prompt."""
    paths = tmc.enumerate_paths()
    return {prompt_key(p): model_path_probs(model, tok, p, paths) for p in prompts_of(tmc)}


# ----------------------------------------------------------------------------------------------------------
# the TMC's own distributions (what pretraining should reach)
# ----------------------------------------------------------------------------------------------------------
def tmc_path_probs(tmc, prompt: str | None, kernels: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """The TMC's distribution over ``tmc.enumerate_paths()`` for a prompt: uniform start for ``<any>``, the
    task's start for ``<T:k>`` (the convention :mod:`harness.tmclm.pretrain` trains with)."""
    paths = tmc.enumerate_paths()
    p = tmc.path_prob(paths, kernels)
    if prompt is None:
        return p / tmc.widths[0]
    return np.where(paths[:, 0] == tmc.task(prompt).start, p, 0.0)


def kl_divergence(p: np.ndarray, q: np.ndarray, q_malformed: float = 0.0) -> float:
    """``KL(p || q) = sum p log(p / q)`` over paths (p is a true distribution with no malformed mass; q's
    malformed mass only lowers q on the paths, so it is accounted for)."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    m = p > 0
    return float(np.sum(p[m] * (np.log(p[m]) - np.log(np.maximum(q[m], LOG_FLOOR)))))


# ----------------------------------------------------------------------------------------------------------
# metrics of one distribution for one task
# ----------------------------------------------------------------------------------------------------------
def path_entropy_of(probs: np.ndarray) -> float:
    """Shannon entropy (nats) of ``probs`` plus the malformed mass as one extra outcome."""
    p = np.concatenate([np.asarray(probs, float), [max(0.0, 1.0 - float(np.sum(probs)))]])
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def task_metrics(tmc, task, probs: np.ndarray, k: int) -> dict:
    """Exact coverage (easy/hard/invalid incl. malformed, malformed alone), E[pass@K] over the instance
    distribution, E[pass@1], path entropy, hard-path mass, start-state mass ``start_ok`` and
    ``valid_given_start`` of ``probs`` (over ``tmc.enumerate_paths()``)."""
    from tmc_theory.exact import expected_pass_at_k

    task = tmc.task(task) if not hasattr(task, "start") else task
    probs = np.asarray(probs, float)
    paths = tmc.enumerate_paths()
    cls = tmc.classify(paths, task)
    easy = float(probs[cls == 0].sum())
    hard = float(probs[cls == 1].sum())
    malformed = max(0.0, 1.0 - float(probs.sum()))
    pk = expected_pass_at_k(tmc, task, np.minimum(probs, 1.0) / max(1.0, float(probs.sum())), [1, k], paths=paths,
                            normalise=False)
    start_ok = float(probs[paths[:, 0] == task.start].sum())
    return {
        "easy": easy, "hard": hard, "invalid": max(0.0, 1.0 - easy - hard), "malformed": malformed,
        f"pass@{k}": float(pk[1]), "pass@1": float(pk[0]),
        "entropy": path_entropy_of(probs), "hard_mass": hard,
        # mass on the task's start state, and the valid share among paths that start there (the tabular theory
        # always starts at the task's start; the transformer generates o_0 and can lose it)
        "start_ok": start_ok, "valid_given_start": (easy + hard) / start_ok if start_ok > 0 else 0.0,
    }


def valid_path_masses(tmc, task, probs: np.ndarray) -> dict[str, float]:
    """``{"0-0-0-0": q, ...}`` for the task's valid paths (the per-path curves of the comparison)."""
    task = tmc.task(task) if not hasattr(task, "start") else task
    paths = tmc.enumerate_paths()
    valid = (paths[:, 0] == task.start) & (paths[:, -1] == task.target)
    return {path_name(p): float(q) for p, q in zip(paths[valid], np.asarray(probs)[valid])}


def path_name(path: Sequence[int]) -> str:
    return "-".join(str(int(s)) for s in path)


def measure_all(model, tok: PathTokenizer, tmc, k: int = 30) -> dict:
    """Exact metrics of the model for every prompt x task pair, plus the raw path probabilities.

    ``out["probs"][prompt]`` are ``q`` over ``tmc.enumerate_paths()``; ``out["metrics"][prompt][task]`` the
    task metrics; ``out["kl_to_tmc"][prompt]`` = ``KL(TMC || model)`` on the prompt's true distribution.
    """
    probs = all_path_probs(model, tok, tmc)
    out = {"probs": probs, "metrics": {}, "kl_to_tmc": {}}
    for p in prompts_of(tmc):
        key = prompt_key(p)
        out["metrics"][key] = {t.name: task_metrics(tmc, t, probs[key], k) for t in tmc.tasks}
        out["kl_to_tmc"][key] = kl_divergence(tmc_path_probs(tmc, p), probs[key])
    return out


# ----------------------------------------------------------------------------------------------------------
# Markov projection
# ----------------------------------------------------------------------------------------------------------
def markov_kernels(tmc, probs: np.ndarray, prior: Sequence[np.ndarray] | None = None,
                   min_mass: float = 1e-12) -> list[np.ndarray]:
    """Kernels ``K_l[s, s'] = q(o_l=s, o_{l+1}=s') / q(o_l=s)`` of the well-formed part of ``probs``.

    Rows of states the distribution (almost) never visits (mass < ``min_mass``) take the row of ``prior``
    (default: uniform) — they do not affect any path probability of this distribution.
    """
    paths = tmc.enumerate_paths()
    w = tmc.widths
    out = []
    for l in range(tmc.n_layers - 1):
        joint = np.zeros((w[l], w[l + 1]))
        np.add.at(joint, (paths[:, l], paths[:, l + 1]), probs)
        rows = joint.sum(axis=1, keepdims=True)
        fallback = (np.full((w[l], w[l + 1]), 1.0 / w[l + 1]) if prior is None else np.asarray(prior[l], float))
        k = np.where(rows > min_mass, joint / np.maximum(rows, LOG_FLOOR), fallback)
        out.append(k / k.sum(axis=1, keepdims=True))
    return out


def markov_kernels_from_prompts(tmc, probs_by_prompt: dict[str, np.ndarray]) -> list[np.ndarray]:
    """One set of Markov kernels for all tasks: layer-0 rows of each task start from that task's prompt, all other
    rows from the ``<any>`` (uniform-start) distribution, which visits every state."""
    base = markov_kernels(tmc, probs_by_prompt["<any>"])
    for t in tmc.tasks:
        if t.name in probs_by_prompt:
            kt = markov_kernels(tmc, probs_by_prompt[t.name], prior=base)
            base[0] = base[0].copy()
            base[0][t.start] = kt[0][t.start]
    return base


def non_markov_kl(tmc, probs: np.ndarray, kernels: Sequence[np.ndarray] | None = None) -> float:
    """``KL(q_wf || Markov(q))`` where ``q_wf`` is ``probs`` renormalised over well-formed paths and ``Markov(q)``
    the chain with ``q``'s own start marginal and kernels (default :func:`markov_kernels`). 0 iff q is Markov."""
    q = np.asarray(probs, float) / max(float(np.sum(probs)), LOG_FLOOR)
    ks = markov_kernels(tmc, q) if kernels is None else kernels
    paths = tmc.enumerate_paths()
    start = np.zeros(tmc.widths[0])
    np.add.at(start, paths[:, 0], q)
    m = start[paths[:, 0]] * tmc.path_prob(paths, ks)
    return kl_divergence(q, m)
