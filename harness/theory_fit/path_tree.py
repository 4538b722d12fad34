"""Fit one problem's TMC from its REASONING PATHS (``harness.paths`` clusters): the default tree of ``tmc theory-fit``.

Shape: a depth-1 tree (a star). Layer 0 = the problem's start (one state); layer 1 = the problem's reasoning paths
(clusters of ``cluster_paths(question, completions)``, ordered as ``harness.paths.table.problem_paths`` orders them:
by count, then first appearance) plus one ``<unseen>`` leaf; layer 2 = ``{0: correct (the task's target), 1: wrong}``.

Why a star and not a prefix tree over each path's ordered derived quantities: a ``PathKey`` is a SET of derived
quantities, order-free by definition (the reasoning-path issue: the order of independent steps, wording and notation
must not change the path). The key holds no order, and re-reading one from the text would split one path into one
branch per step order -- exactly what the clustering was built to merge. A prefix tree over the sorted values would
share prefixes by numerical accident, not by computation. What is lost: (1) shared sub-computations -- two strategies
that derive the same first quantity share no edge, so the theory's credit assignment through a shared prefix (a
reward on one path moving mass onto its siblings' common prefix) is absent and each path's logit moves alone;
(2) the step-wise selectors (PRM-BoN, DPRM-BoN, DPRM-AS) make one choice among whole paths, so process- and
outcome-level selection coincide up to their scoring rules; (3) within-path variation (how a path is finished).

Transition probabilities (add-alpha with one unseen leaf, a Chinese-restaurant "new table" prior):

* ``P_0[start, path j] = m_j / (n + alpha)``  (m_j of the n samples on path j),
* ``P_0[start, <unseen>] = alpha / (n + alpha)``: the mass of paths the n samples did not show;
* ``P_1[path j] = (1, 0)`` if path j is correct by ``correct_rule`` (``harness.paths.table.path_is_correct``:
  majority by default, ties correct) else ``(0, 1)`` -- correctness is a property of the path, deterministic, so no
  method can train it; the fraction itself is kept in ``extra.correct_frac`` (lost: mixed paths count as all-correct
  or all-wrong);
* ``P_1[<unseen>] = (unseen_correct, 1 - unseen_correct)``, default ``(0, 1)``: an unseen path is wrong (the prior
  claims no correct mass the base was not seen to have).

With ``alpha = 0`` the star's path probabilities are exactly the sample shares and its base masses by role equal
``harness.paths.mass.path_mass`` on the same rows; with ``alpha > 0`` every seen share is ``n / (n + alpha)`` times
the sample share and ``alpha / (n + alpha)`` sits on ``<unseen>`` (counted as ``new_wrong`` / ``new_correct``).

Roles (per leaf, :mod:`harness.paths.table`): ``easy`` / ``common`` / ``rare`` / ``wrong`` from the base sample,
``unseen`` for the prior leaf. High edges (``TMC.high``): the root edges of paths with share >= ``rare_threshold``
(easy, common and frequent wrong paths), so the theory's "easy correct" (all-high) = easy + common mass; the
category masses below are read by role and do not depend on the high flags.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from tmc_core.config import ConfigError, check_literals, doc

from .tree import CORRECT, UNSEEN, ProblemTree

CATEGORIES = ("easy", "common", "rare", "wrong", "new_correct", "new_wrong")


@dataclass
class PathTreeConfig:
    """How a problem's reasoning paths become a TMC (``tmc theory-fit --tree paths``)."""

    alpha: float = field(default=0.5, metadata=doc(
        "pseudo-count of the <unseen> leaf: P(unseen) = alpha / (n + alpha); 0 = the sample shares exactly"))
    unseen_correct: float = field(default=0.0, metadata=doc(
        "P(correct | <unseen>): 0 = an unseen path is wrong (default; claims no unseen correct mass)"))
    rare_threshold: float = field(default=0.25, metadata=doc(
        "a correct path with base share below this is rare (harness.paths.table)"))
    correct_rule: Literal["majority", "any", "all"] = field(default="majority", metadata=doc(
        "when a path counts as correct (harness.paths.table): majority (ties correct), any, all"))

    def __post_init__(self) -> None:
        check_literals(self)
        if self.alpha < 0:
            raise ConfigError(f"alpha: {self.alpha} is not allowed; allowed values: alpha >= 0")
        if not 0.0 <= self.unseen_correct <= 1.0:
            raise ConfigError(f"unseen_correct: {self.unseen_correct} is not allowed; allowed values: 0..1")

    def table_config(self):
        from harness.paths.table import PathTableConfig

        return PathTableConfig(rare_threshold=self.rare_threshold, correct_rule=self.correct_rule)


def fit_path_tree(problem_id: str, labels: Sequence[int], correct: Sequence[bool], cfg: PathTreeConfig | None = None,
                  names: dict | None = None) -> ProblemTree:
    """The star TMC of one problem (module docstring) from its completions' path labels and grades;
    ``names[label]`` (optional) is a path's stable text (``PathKey.as_text()``), stored as its node label."""
    from tmc_theory.tmc import TMC, Task

    from harness.paths.table import problem_paths

    cfg = cfg or PathTreeConfig()
    if len(labels) == 0:
        raise ValueError(f"problem {problem_id}: no completions to fit")
    if len(labels) != len(correct):
        raise ValueError(f"problem {problem_id}: {len(labels)} path labels but {len(correct)} grades")
    rows = problem_paths(str(problem_id), list(labels), list(correct), cfg.table_config())
    n, a = len(labels), cfg.alpha
    k = len(rows) + (1 if a > 0 else 0)
    p0 = np.zeros((1, k))
    p1 = np.zeros((k, 2))
    for j, r in enumerate(rows):
        p0[0, j] = r["count"] / (n + a)
        p1[j, CORRECT if r["correct"] else 1 - CORRECT] = 1.0
    if a > 0:
        p0[0, -1] = a / (n + a)
        p1[-1] = [cfg.unseen_correct, 1.0 - cfg.unseen_correct]
    shares = np.array([r["share"] for r in rows] + ([0.0] if a > 0 else []))
    h0 = (shares >= cfg.rare_threshold)[None, :]
    h1 = (p1 >= p1.max(axis=1, keepdims=True) - 1e-12) & (p1 > 0)
    tmc = TMC([p0, p1], [h0, h1], [Task(f"problem:{problem_id}", 0, CORRECT)], name=f"fit:{problem_id}")
    names = names or {}
    leaf_labels = [(str(names.get(r["path_id"], f"cluster:{r['path_id']}")),) for r in rows] + \
        ([(UNSEEN,)] if a > 0 else [])
    modal = 0  # rows are sorted by count then first appearance: row 0 is the most frequent path overall
    return ProblemTree(
        str(problem_id), [[()], leaf_labels, [("correct",), ("wrong",)]],
        [np.array([float(n)]), np.array([float(r["count"]) for r in rows] + ([0.0] if a > 0 else []))],
        np.array([float(r["n_correct"]) for r in rows] + ([0.0] if a > 0 else [])), tmc, a, n, int(sum(map(bool,
                                                                                                         correct))),
        kind="paths", roles=[r["role"] for r in rows] + (["unseen"] if a > 0 else []),
        extra={"correct_frac": [r["correct_frac"] for r in rows], "path_ids": [int(r["path_id"]) for r in rows],
               "status": rows[0]["status"], "modal": modal, "rare_threshold": cfg.rare_threshold,
               "correct_rule": cfg.correct_rule, "unseen_correct": cfg.unseen_correct})


def category_masses(tree: ProblemTree, leaf_probs: np.ndarray, last: np.ndarray) -> dict:
    """Mass of a policy (its layer-1 distribution ``leaf_probs`` and last kernel ``last``) on the six categories of
    :mod:`harness.paths.mass`: a seen path's mass goes to its base role; the ``<unseen>`` leaf's to ``new_correct``
    / ``new_wrong`` by its correctness."""
    out = dict.fromkeys(CATEGORIES, 0.0)
    for j, role in enumerate(tree.roles):
        if role == "unseen":
            out["new_correct"] += float(leaf_probs[j] * last[j, CORRECT])
            out["new_wrong"] += float(leaf_probs[j] * last[j, 1 - CORRECT])
        else:
            out[role] += float(leaf_probs[j])
    return out


def _texts(series) -> list[str]:
    return ["" if c is None or (isinstance(c, float) and math.isnan(c)) else str(c) for c in series]


def fit_path_trees(df, cfg: PathTreeConfig | None = None, cluster_fn=None) -> list[ProblemTree]:
    """Star TMCs of every problem of one step's sample rows (``problem_id, sample_idx, prompt|question, completion,
    correct``), clustered exactly as :func:`harness.paths.mass.path_mass` clusters the base (same question text,
    same order, null grades wrong)."""
    from harness.paths.table import _question, cluster_problem, default_cluster_fn

    cfg = cfg or PathTreeConfig()
    default = cluster_fn is None
    cluster_fn = cluster_fn or default_cluster_fn()
    if "sample_idx" not in df.columns:
        df = df.assign(sample_idx=df.groupby("problem_id").cumcount())
    trees = []
    for pid, g in df.groupby("problem_id", sort=True):
        g = g.sort_values("sample_idx")
        q, comps = _question(g), _texts(g["completion"])
        ok = g["correct"].fillna(False).astype(bool).tolist()
        labels = cluster_problem(q, comps, cluster_fn)
        names = {}
        if default:
            from harness.paths import reasoning_path

            for lab, text in zip(labels, comps):
                if lab not in names:
                    names[lab] = reasoning_path(q, text).as_text()
        trees.append(fit_path_tree(str(pid), labels, ok, cfg, names))
    return trees


def load_sample_rows(samples: str | Path, step: int | None = None):
    """Rows of a base sample run (a ``tmc sample`` folder, read with ``harness.paths.table.read_step``) or of a JSONL
    file (``problem_id, question, completion, correct`` per line, ``sample_idx`` optional)."""
    import pandas as pd

    path = Path(samples)
    if path.suffix == ".jsonl":
        rows = []
        for ln, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise ConfigError(f"{path}:{ln}: not JSON ({e.msg})") from None
            for f in ("problem_id", "completion", "correct"):
                if f not in r:
                    raise ConfigError(f"{path}:{ln}: missing field {f!r}; each row needs problem_id, completion, "
                                      "correct (and question)")
            rows.append(r)
        return pd.DataFrame(rows)
    from harness.paths.table import read_step

    return read_step(path, step)[2]
