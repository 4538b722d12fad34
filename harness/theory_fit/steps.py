"""The input abstraction of the fit: per problem, each completion as a list of STEP KEYS plus its correctness.

A step key is any hashable string naming what a reasoning step *is* (two completions share a tree node iff their
first ``d`` step keys are equal). Where the keys come from is pluggable:

* :func:`text_step_keys` (default): split a completion into lines / sentences and normalise each (lower case,
  whitespace collapsed, every number replaced by ``#``), so steps that differ only in numbers coincide;
* a path-clustering function ``(question, completions) -> list[int]`` (the reasoning-path issue) plugs in with
  :func:`keys_from_cluster_ids`: each completion's step keys become its cluster's prefix chain.

:class:`StepPaths` is what :mod:`harness.theory_fit.tree` consumes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

_NUM = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
_SPLIT = re.compile(r"\n+|(?<=[.!?])\s+(?=[A-Z])")


def text_step_keys(text: str, max_steps: int | None = None, words: int | None = None) -> list[str]:
    """Default step keys of one completion: non-empty lines / sentences, lower-cased, numbers -> ``#``; with
    ``words``, only each step's first ``words`` words (a coarser key, so more completions share a node)."""
    parts = [p.strip() for p in _SPLIT.split(text or "")]
    keys = [re.sub(r"\s+", " ", _NUM.sub("#", p.lower())) for p in parts if p]
    if words:
        keys = [" ".join(k.split()[:words]) for k in keys]
    return keys[:max_steps] if max_steps else keys


def keys_from_cluster_ids(cluster_ids: Sequence[int]) -> list[list[str]]:
    """One-step keys from a path clustering (``cluster_paths(question, completions) -> list[int]``): a completion's
    only step is its cluster, so the fitted tree has one layer of clusters."""
    return [[f"cluster:{int(c)}"] for c in cluster_ids]


@dataclass
class StepPaths:
    """``problems[pid] = [(step_keys, correct), ...]`` for every sampled completion of every problem."""

    problems: dict[str, list[tuple[list[str], bool]]] = field(default_factory=dict)

    def add(self, problem_id: str, steps: Sequence[str], correct: bool) -> None:
        self.problems.setdefault(str(problem_id), []).append(([str(s) for s in steps], bool(correct)))

    @classmethod
    def from_records(cls, rows: Iterable[dict], key_fn: Callable[[str], list[str]] = text_step_keys) -> "StepPaths":
        """Rows with ``problem_id``, ``correct`` and either ``steps`` (a list of keys) or ``completion`` (text, split
        by ``key_fn``)."""
        out = cls()
        for i, r in enumerate(rows):
            for f in ("problem_id", "correct"):
                if f not in r:
                    raise ValueError(f"row {i}: missing field {f!r}; each row needs problem_id, correct and steps "
                                     "(list of step keys) or completion (text)")
            if "steps" in r and r["steps"] is not None:
                steps = list(r["steps"])
            elif "completion" in r:
                steps = key_fn(r["completion"])
            else:
                raise ValueError(f"row {i}: needs 'steps' (list of step keys) or 'completion' (text)")
            out.add(r["problem_id"], steps, bool(r["correct"]))
        return out

    @classmethod
    def load(cls, path: str | Path, key_fn: Callable[[str], list[str]] = text_step_keys) -> "StepPaths":
        """A JSONL file of rows (see :meth:`from_records`) or a sample store (Parquet file / folder of them)."""
        path = Path(path)
        if path.suffix == ".jsonl":
            rows = []
            for ln, line in enumerate(path.read_text().splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{path}:{ln}: not JSON ({e.msg})") from None
            return cls.from_records(rows, key_fn)
        import pandas as pd

        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise ValueError(f"{path}: no .jsonl file and no Parquet sample store found")
        df = pd.concat([pd.read_parquet(f, columns=["problem_id", "completion", "correct"]) for f in files])
        return cls.from_records(df.to_dict("records"), key_fn)
