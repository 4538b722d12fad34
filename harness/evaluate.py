"""Evaluate one run of the sample store: pass@k with bootstrap CIs, maj@k, counts, breakdowns.

``evaluate_run(run_dir, step=None, ks=None, n_boot=1000, seed=0) -> dict`` (JSON-serialisable) is what
``tmc eval`` and the training code call. Conventions:

* pass@k: unbiased estimator of Chen et al. 2021 per problem, macro-averaged over problems, for every
  k <= n (``ks=None``) with 95% percentile bootstrap CIs over problems (:mod:`harness.metrics`).
* If problems have different sample counts (an unfinished run), each problem uses its own n and k is
  limited to the smallest n; ``n_min``/``n_max`` report it and ``complete`` is False.
* maj@k: expected majority-vote accuracy over random size-k subsets (:mod:`harness.metrics.majority`),
  for k = 1, 2, 4, ..., n, on the first ``n_min`` samples (by sample_idx) of each problem.
* ``correct`` null (ungraded: grader timeout/error) counts as not solved; ``grade_status`` counts are
  reported so such samples are visible.
* ``problem_ids``: evaluate only these problems (e.g. the subset a checkpoint evaluation used, against a base
  run over the whole test set); every one of them must be in the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable


from .metrics import (
    bootstrap_mean,
    bootstrap_pass_at_k,
    breakdown,
    maj_at_k_per_problem,
    per_problem,
    powers_of_two,
    solved_set,
)
from .store import SampleStore, StoreError, resolved_at


def _counts(series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.fillna("<null>").value_counts().sort_index().items()}


def _first(df, col: str):
    if col not in df.columns:
        return None
    vals = df[col].dropna().unique().tolist()
    if not vals:
        return None
    v = vals[0] if len(vals) == 1 else sorted(map(str, vals))
    return v.item() if hasattr(v, "item") else v


def read_step(run_dir: str | Path, step: int | None = None) -> tuple[SampleStore, int, Any, list[int]]:
    """The samples of one step of a sample run: ``(store, step, DataFrame, all steps of the run)``, with one clear
    StoreError for a missing folder, a folder that is not a run, an empty run, or a step that is absent or not named
    when several exist."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise StoreError(f"{run_dir}: no such folder; expected a run dir written by `tmc sample`")
    if not (run_dir / "samples").is_dir():
        raise StoreError(f"{run_dir}: not a sample run (no samples/ folder); expected a run dir written by `tmc "
                         f"sample`")
    store = SampleStore(run_dir)
    df = store.read()
    if df.empty:
        raise StoreError(f"{run_dir}: the run holds no samples yet")
    steps = sorted(int(s) for s in df["step"].unique())
    if step is None:
        if len(steps) > 1:
            raise StoreError(f"{run_dir}: the run holds several steps {steps}; choose one with --step")
        step = steps[0]
    if step not in steps:
        raise StoreError(f"{run_dir}: no samples for step {step}; steps present: {steps}")
    return store, int(step), df[df["step"] == step], steps


def evaluate_run(
    run_dir: str | Path, step: int | None = None, ks: Iterable[int] | None = None, n_boot: int = 1000, seed: int = 0,
    maj_subsets: int = 200, problem_ids: Iterable[str] | None = None, n: int | None = None,
) -> dict[str, Any]:
    """Metrics of one run (one step). See the module docstring; raises StoreError on an empty/missing run.

    ``problem_ids`` / ``n``: only these problems / only samples ``0..n-1`` of each, so a run that was once extended
    further is reported as the smaller job that asked for it."""
    run_dir = Path(run_dir)
    store, step, df, steps = read_step(run_dir, step)
    if problem_ids is not None:
        wanted = set(map(str, problem_ids))
        missing = wanted - set(df["problem_id"].astype(str))
        if missing:
            raise StoreError(f"{run_dir}: step {step} lacks {len(missing)} of the {len(wanted)} requested problems "
                             f"(e.g. {sorted(missing)[:3]})")
        df = df[df["problem_id"].astype(str).isin(wanted)]
    if n is not None:
        df = df[df["sample_idx"] < int(n)]
    df = df.sort_values(["problem_id", "sample_idx"]).reset_index(drop=True)
    pp = per_problem(df)
    n, c = pp["n"].to_numpy(), pp["c"].to_numpy()
    n_min, n_max = int(n.min()), int(n.max())
    k_all = list(range(1, n_min + 1)) if ks is None else sorted({int(k) for k in ks})
    bad = [k for k in k_all if k < 1 or k > n_min]
    if bad:
        raise StoreError(f"{run_dir}: k values {bad} are not in 1..{n_min} (the smallest per-problem sample count)")
    boot = bootstrap_pass_at_k(n, c, k_all, n_boot=n_boot, seed=seed)
    pass_at_k = {
        str(k): {"mean": float(m), "lo": float(lo), "hi": float(hi)}
        for k, m, lo, hi in zip(boot["ks"], boot["mean"], boot["lo"], boot["hi"])
    }

    # maj@k on the first n_min samples of every problem
    maj_ks = [k for k in powers_of_two(n_min) if ks is None or k in set(k_all)]
    maj: dict[str, dict[str, float]] = {}
    if maj_ks:
        head = df.groupby("problem_id", sort=True).head(n_min)
        import pandas as pd

        # a completion graded 'truncated' (cut at the token limit, its only answer a flexible last-number match:
        # harness.grading.truncation_rule) has no answer, so it does not vote; before this, its number joined the
        # class of a completed sample with the same answer and maj@1 exceeded pass@1
        voting = (
            head["extracted"].where(head["grade_status"] != "truncated")
            if "grade_status" in head
            else head["extracted"]
        )
        grouped = head.assign(extracted=voting).groupby("problem_id", sort=True)
        answers = grouped["extracted"].apply(lambda s: [None if pd.isna(v) else str(v) for v in s.tolist()]).tolist()
        oks = grouped["correct"].apply(lambda s: s.fillna(False).astype(bool).tolist()).tolist()
        per = maj_at_k_per_problem(answers, oks, maj_ks, n_subsets=maj_subsets, seed=seed)
        for j, k in enumerate(maj_ks):
            m, lo, hi = bootstrap_mean(per[:, j], n_boot=n_boot, seed=seed + 1)
            maj[str(k)] = {"mean": m, "lo": lo, "hi": hi}

    table_ks = [k for k in powers_of_two(n_min) if str(k) in pass_at_k]
    result: dict[str, Any] = {
        "run_dir": str(run_dir),
        "run_id": store.run_id,
        "step": int(step),
        "steps": steps,
        "model": _first(df, "model"),
        "benchmark": _first(df, "benchmark"),
        "temperature": _first(df, "temperature"),
        "top_p": _first(df, "top_p"),
        "config_hash": store.config_hash,
        "config_hashes_in_rows": sorted(map(str, df["config_hash"].dropna().unique())) if "config_hash" in df else [],
        # what dtype/device the samples of this step were actually drawn in (run.json "resolved"; absent for
        # runs sampled before it was recorded)
        "resolved": resolved_at(store.meta, step),
        "n": n_min,
        "n_min": n_min,
        "n_max": n_max,
        "complete": n_min == n_max,
        "n_problems": int(len(pp)),
        "n_samples": int(len(df)),
        "ks": [int(k) for k in boot["ks"]],
        "table_ks": table_ks,
        "pass_at_k": pass_at_k,
        "maj_at_k": maj,
        "n_boot": int(n_boot),
        "ci": 0.95,
        "per_problem": {str(pid): {"n": int(r.n), "c": int(r.c)} for pid, r in pp.iterrows()},
        "solved": sorted(solved_set(pp)),
        "n_solved": int((c > 0).sum()),
        "grade_status": _counts(df["grade_status"]) if "grade_status" in df else {},
        "finish_reason": _counts(df["finish_reason"]) if "finish_reason" in df else {},
        "mean_tokens": float(df["n_tokens"].dropna().astype(float).mean())
        if "n_tokens" in df and df["n_tokens"].notna().any()
        else None,
        "by_level": breakdown(pp, "level", table_ks),
        "by_subject": breakdown(pp, "subject", table_ks),
    }
    return result
