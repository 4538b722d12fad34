"""Agreement of :func:`harness.paths.cluster_paths` with three ground truths (docs/paths.md, *Validation*).

``score_groups(groups) -> dict`` takes groups ``{question, completions, true}`` (one group = one problem, clustered
by one ``cluster_paths`` call) and returns: ``problems``, ``completions``, ``mean_ari`` (mean over problems of the
adjusted Rand index of ``true`` vs the clusters), ``perfect`` (share of problems with ARI = 1), ``pooled_ari``,
``purity`` and ``inverse_purity`` over all completions with labels made unique per problem, and ``failures`` (the
problems with ARI < 1, each with its truth, clusters and the paths, for the docs' failure examples).

The three sets: :func:`synthetic_groups` (:mod:`harness.paths.synthetic`, truth by construction),
:func:`gold_groups` (:mod:`harness.paths.gold`, GSM8K train gold solutions), :func:`handlabelled_groups` (the
committed ``tests/data/paths_handlabelled.jsonl``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from harness.paths import cluster_paths, describe_path, reasoning_path
from harness.paths.agreement import adjusted_rand_index, inverse_purity, purity
from harness.paths.gold import gold_groups  # noqa: F401 -- re-exported: one place for the three sets
from harness.paths.synthetic import synthetic_set

HANDLABELLED = Path(__file__).resolve().parents[2] / "tests" / "data" / "paths_handlabelled.jsonl"


def _grouped(rows: list[dict], key: str = "problem") -> list[dict]:
    by: dict = defaultdict(list)
    for r in rows:
        by[r[key]].append(r)
    return [{"id": k, "question": rs[0]["question"], "completions": [r["completion"] for r in rs],
             "true": [r["strategy"] for r in rs]} for k, rs in by.items()]


def synthetic_groups(n_problems: int = 60, per_strategy: int = 5, seed: int = 0, hard: bool = False) -> list[dict]:
    return _grouped(synthetic_set(n_problems, per_strategy, seed, hard))


def handlabelled_groups(path: str | Path = HANDLABELLED, subset: str | None = None) -> list[dict]:
    """The hand-labelled set; ``subset``: None = all, 'latex' = LaTeX math in the question, 'arithmetic' = the rest."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                r = json.loads(line)
                r["question"], r["strategy"], r["completion"], r["problem"]  # noqa: B018 -- presence check
            except (json.JSONDecodeError, KeyError) as exc:
                raise ValueError(f"{path}:{lineno}: need JSON with problem, question, strategy, completion "
                                 f"({exc})") from exc
            is_latex = "\\" in r["question"] or re.search(r"\$[^\d\s]", r["question"]) is not None
            if subset is None or (subset == "latex") == is_latex:
                rows.append(r)
    return _grouped(rows)


def score_groups(groups: list[dict]) -> dict:
    """Agreement figures of one set (module docstring)."""
    aris, truth, pred, failures = [], [], [], []
    for i, g in enumerate(groups):
        labels = cluster_paths(g["question"], g["completions"])
        ari = adjusted_rand_index(g["true"], labels)
        aris.append(ari)
        truth += [f"{i}:{t}" for t in g["true"]]
        pred += [f"{i}:{p}" for p in labels]
        if ari < 1 - 1e-9:
            failures.append({"id": g.get("id", g.get("line", i)), "ari": ari, "question": g["question"],
                             "rows": [(t, p, describe_path(reasoning_path(g["question"], c)), c)
                                      for t, p, c in zip(g["true"], labels, g["completions"])]})
    aris_a = np.asarray(aris)
    return {"problems": len(groups), "completions": len(truth), "mean_ari": float(aris_a.mean()),
            "perfect": float((aris_a > 1 - 1e-9).mean()), "pooled_ari": adjusted_rand_index(truth, pred),
            "purity": purity(truth, pred), "inverse_purity": inverse_purity(truth, pred), "failures": failures}
