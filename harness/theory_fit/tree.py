"""Fit one problem's reasoning tree as a ``tmc_theory`` TMC, and read the theory's metrics off any policy on it.

Input: the problem's completions as step-key lists (:mod:`harness.theory_fit.steps`) and their correctness.

Tree: every completion is cut or padded to ``D = min(max_depth, longest)`` steps (padding key ``<stop>``; a cut
completion's remaining steps are merged into its depth-``D`` node). A node at depth ``d`` is a prefix of ``d`` keys.

TMC layers (``tmc_theory.tmc.TMC``): layer 0 = the root (one state, the task's start), layer ``d`` = the nodes at
depth ``d`` (``1..D``), layer ``D+1`` = ``{0: correct (the task's target), 1: wrong}``. Kernels:

* ``P_d[node, child] = n(child) / (n(node) + alpha)`` for the children seen in the samples, and
  ``alpha / (n(node) + alpha)`` for one extra ``<unseen>`` child per branching node: the prior for branches the
  ``n`` samples did not see (a Chinese-restaurant / add-alpha "new branch" mass; ``alpha = 0`` turns it off).
  The ``<unseen>`` child continues as a chain of ``<unseen>`` nodes to depth ``D``; ``<stop>`` nodes likewise
  have one child with probability 1. Edges between nodes that are not parent and child have probability 0.
* ``P_D[leaf, correct] = c(leaf) / n(leaf)`` (the share of the completions reaching that leaf that were correct);
  an ``<unseen>`` leaf gets ``unseen_correct`` (default: the problem's overall rate ``c / n``).

Edge types (``high``): an edge is *high* iff it is a most probable child of its node (ties all high), so the
theory's *easy* correct paths are the modal ones and *rare* correct paths take at least one non-modal edge.

The verifiable reward is the real one: a path is correct iff it ends in ``correct``; this is one instance whose
correct set ``C`` is every valid path (:func:`single_instance`), NOT the paper's random-``C`` instance model
(``R_out = P / Z``), which has no meaning for one real question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

STOP, UNSEEN = "<stop>", "<unseen>"
CORRECT, WRONG = 0, 1


@dataclass
class ProblemTree:
    """A fitted problem: node labels per layer (prefix tuples), visit counts, and its TMC."""

    problem_id: str
    labels: list[list[tuple]]          # layers 0..D: prefixes; layer D+1 is ("correct", "wrong")
    counts: list[np.ndarray]           # layers 0..D: samples through each node (0 for <unseen> nodes)
    correct_counts: np.ndarray         # layer D: correct samples per leaf
    tmc: object                        # tmc_theory.tmc.TMC
    alpha: float
    n: int
    c: int
    kind: str = "steps"                # "steps" (text step-key prefixes) or "paths" (harness.paths clusters, depth 1)
    roles: list | None = None          # paths: per layer-1 leaf, easy / common / rare / wrong / unseen
    extra: dict | None = None          # paths: correct_frac, rare_threshold, correct_rule, unseen_correct, modal

    @property
    def depth(self) -> int:
        return len(self.labels) - 1

    @property
    def task(self):
        return self.tmc.tasks[0]

    # ---- JSON --------------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"format": "tmc-reweighting/problem-tree/1", "problem_id": self.problem_id, "alpha": self.alpha,
                "n": self.n, "c": self.c, "labels": [[list(p) for p in layer] for layer in self.labels],
                "counts": [c.tolist() for c in self.counts], "correct_counts": self.correct_counts.tolist(),
                "kernels": [k.tolist() for k in self.tmc.kernels], "high": [h.tolist() for h in self.tmc.high],
                "task": {"name": self.task.name, "start": self.task.start, "target": self.task.target},
                "tree": self.kind, "roles": self.roles, "extra": self.extra}

    @classmethod
    def from_json(cls, d: dict, src: str = "<dict>") -> "ProblemTree":
        """The tree of a ``to_json`` document; a bad document gets one error naming ``src`` and the field
        (:func:`tmc_theory.fitted.check_fitted`)."""
        from tmc_theory.fitted import tmc_from_fitted

        tmc, _ = tmc_from_fitted(d, src)
        for f in ("problem_id", "labels", "counts", "correct_counts", "alpha", "n", "c"):
            if f not in d:
                raise ValueError(f"{src}: field {f!r}: missing (a problem tree written by `tmc theory-fit`)")
        return cls(d["problem_id"], [[tuple(p) for p in layer] for layer in d["labels"]],
                   [np.asarray(c, float) for c in d["counts"]], np.asarray(d["correct_counts"], float), tmc,
                   d["alpha"], d["n"], d["c"], d.get("tree", "steps"), d.get("roles"), d.get("extra"))


def _modal(k: np.ndarray) -> np.ndarray:
    return (k >= k.max(axis=1, keepdims=True) - 1e-12) & (k > 0)


def fit_problem_tree(problem_id: str, completions: Sequence[tuple[Sequence[str], bool]], max_depth: int = 4,
                     alpha: float = 0.5, unseen_correct: float | None = None) -> ProblemTree:
    """The fitted TMC of one problem (module docstring); ``completions = [(step_keys, correct), ...]``."""
    from tmc_theory.tmc import TMC, Task

    if not completions:
        raise ValueError(f"problem {problem_id}: no completions to fit")
    if max_depth < 1 or alpha < 0:
        raise ValueError(f"need max_depth >= 1 and alpha >= 0, got max_depth={max_depth}, alpha={alpha}")
    D = max(1, min(max_depth, max(len(s) for s, _ in completions)))
    padded = [tuple(list(s[:D]) + [STOP] * (D - len(s[:D]))) for s, _ in completions]
    ok = np.array([bool(c) for _, c in completions])
    n, c = len(padded), int(ok.sum())
    rho_unseen = c / n if unseen_correct is None else float(unseen_correct)
    labels: list[list[tuple]] = [[()]]
    counts: list[dict] = [{(): n}]
    for d in range(1, D + 1):
        cnt: dict[tuple, int] = {}
        for p in padded:
            cnt[p[:d]] = cnt.get(p[:d], 0) + 1
        nodes = sorted(cnt)
        # <unseen> children of branching nodes, and the <unseen> chain below earlier <unseen> nodes
        for par in labels[d - 1]:
            last = par[-1] if par else None
            if (alpha > 0 and last not in (STOP, UNSEEN)) or last == UNSEEN:
                nodes.append(par + (UNSEEN,))
        labels.append(nodes)
        counts.append({p: cnt.get(p, 0) for p in nodes})
    kernels, highs = [], []
    for d in range(D):
        idx = {p: j for j, p in enumerate(labels[d + 1])}
        k = np.zeros((len(labels[d]), len(labels[d + 1])))
        for i, par in enumerate(labels[d]):
            kids = [p for p in labels[d + 1] if p[:-1] == par]
            last = par[-1] if par else None
            if last in (STOP, UNSEEN):
                k[i, idx[kids[0]]] = 1.0          # a chain: one child
                continue
            tot = counts[d][par] + (alpha if (par + (UNSEEN,)) in idx else 0.0)
            for ch in kids:
                k[i, idx[ch]] = (alpha if ch[-1] == UNSEEN and counts[d + 1][ch] == 0 else counts[d + 1][ch]) / tot
        kernels.append(k)
        highs.append(_modal(k))
    leaf_idx = {p: j for j, p in enumerate(labels[D])}
    cc = np.zeros(len(labels[D]))
    for p, o in zip(padded, ok):
        cc[leaf_idx[p]] += o
    rho = np.array([cc[j] / counts[D][p] if counts[D][p] > 0 else rho_unseen for p, j in leaf_idx.items()])
    last = np.stack([rho, 1 - rho], 1)
    kernels.append(last)
    highs.append(_modal(last))
    tmc = TMC(kernels, highs, [Task(f"problem:{problem_id}", 0, CORRECT)], name=f"fit:{problem_id}")
    return ProblemTree(str(problem_id), labels + [[("correct",), ("wrong",)]],
                       [np.array([counts[d][p] for p in labels[d]], float) for d in range(D + 1)], cc, tmc, alpha,
                       n, c)


def tree_metrics(tree: ProblemTree, kernels: Sequence[np.ndarray], ks: Sequence[int] = (1,)) -> dict:
    """Exact metrics of a policy (its kernels) on the fitted tree, by forward messages from the root:
    ``correct`` (= pass@1), ``easy_correct`` (correct by all-high edges), ``rare_correct`` (correct with at least
    one low edge), ``wrong``, ``pass@k = 1 - (1 - correct)^k`` (one problem, independent samples), and the leaf
    distribution (for movement distances). A path tree (``kind == "paths"``) also gets ``mass``: the six categories of
    :mod:`harness.paths.mass` (:func:`harness.theory_fit.path_tree.category_masses`), and there ``easy_correct`` is the
    mass on the easy path and ``rare_correct`` every other correct mass (as ``tmc bon``'s path shares)."""
    m = np.ones(1)
    mh = np.ones(1)
    for k, h in zip(kernels[:-1], tree.tmc.high[:-1]):
        m = m @ k
        mh = mh @ (k * h)
    last, hl = kernels[-1], tree.tmc.high[-1]
    correct = float(m @ last[:, CORRECT])
    easy = float(mh @ (last * hl)[:, CORRECT])
    out = {"correct": correct, "easy_correct": easy, "rare_correct": correct - easy, "wrong": 1.0 - correct,
           "leaf_probs": m}
    if tree.kind == "paths" and tree.roles is not None:
        from .path_tree import category_masses

        out["mass"] = category_masses(tree, m, last)
        out["easy_correct"] = out["mass"]["easy"]
        out["rare_correct"] = correct - out["mass"]["easy"]
    for k in ks:
        out[f"pass@{k}"] = 1.0 - (1.0 - correct) ** k
    return out


def single_instance(tree: ProblemTree, max_valid_paths: int = 200_000):
    """``tmc_theory`` Instances for the real reward: one instance, ``C`` = every valid path (ends in ``correct``);
    :func:`tmc_theory.fitted.single_instance`."""
    from tmc_theory.fitted import single_instance as si

    return si(tree.tmc, tree.task, max_valid_paths)
