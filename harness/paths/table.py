"""The path table of a sample run: the real-model analogue of the TMC's table of easy / hard / wrong CoT shares.

For every problem of one step of a sample run, the completions are clustered into reasoning paths
(``cluster_fn(question, completions) -> list[int]``, by default :func:`harness.paths.cluster_paths`) and each path
gets one row:

* **base share** ``s = m / n`` (m of the problem's n completions on the path) with a two-sided ``confidence`` interval:
  ``wilson`` (default; the Wilson score interval, closed form, not degenerate at m = 0 or m = n) or
  ``clopper_pearson`` (the exact binomial interval, from Beta quantiles; conservative);
* **correct**: graded by the run's own grader (the store's ``correct`` column; null = ungraded counts as wrong, as in
  ``harness.evaluate``). A path holds several completions, and their grades can differ (a slip in the last step, a
  missing ``#### N``, a cut-off completion): ``correct_rule`` decides. ``majority`` (default): the path is correct
  when at least half of its completions are graded correct (a tie counts as correct); ``any``: one correct
  completion suffices; ``all``: every completion must be correct. ``correct_frac`` keeps the fraction itself, and
  the summary counts *mixed* paths (0 < correct_frac < 1);
* **role**: ``easy`` = the modal correct path (largest share among correct paths, ties to the path seen first) when
  its share is >= ``rare_threshold``; ``rare`` = a correct path whose share is < ``rare_threshold`` (this includes a
  modal correct path that is itself below the threshold); ``common`` = any other correct path at or above the
  threshold (a second frequent correct strategy); ``wrong`` = not correct by the rule.

Each problem gets a **status**: ``easy`` (it has an easy path), ``hard`` (it has correct paths and all of them are
rare: the problem is solved by the base only through low-probability paths, the paper's hard instance),
``no_correct_path`` (some completions are graded correct but every path is wrong by the rule), ``unsolved`` (no
completion correct).

Departures from the TMC: there, "easy" and "hard" are properties of the tree (the high / low edges); here they are
estimated from n samples, so a share has a resolution of 1/n and a CI (a path of 1 in 8 has share 0.125, Wilson
95% CI [0.022, 0.471]); paths that the base never produced in n samples are absent, not rare.

Outputs (:func:`write_path_table`): ``paths.parquet`` (one row per problem x path), ``paths_summary.json`` and
``paths_summary.md``.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from tmc_core.config import ConfigError, check_literals, doc

ClusterFn = Callable[[str, list[str]], list[int]]
DescribeFn = Callable[[str, str], str]

ROLES = ("easy", "common", "rare", "wrong")
STATUSES = ("easy", "hard", "no_correct_path", "unsolved")


@dataclass
class PathTableConfig:
    """How a sample run's paths are labelled (``tmc paths --describe`` prints these fields)."""

    rare_threshold: float = field(default=0.25, metadata=doc(
        "a correct path whose base share (count / n) is below this is rare; the modal correct path at or above it "
        "is easy"))
    ci: Literal["wilson", "clopper_pearson"] = field(default="wilson", metadata=doc(
        "interval of a path's share: wilson (score interval) or clopper_pearson (exact binomial)"))
    confidence: float = field(default=0.95, metadata=doc("two-sided confidence level of the share intervals"))
    correct_rule: Literal["majority", "any", "all"] = field(default="majority", metadata=doc(
        "when a path counts as correct: majority = at least half of its completions graded correct (a tie counts "
        "as correct); any = at least one; all = every one"))

    def __post_init__(self) -> None:
        check_literals(self)
        if not 0.0 < self.rare_threshold <= 1.0:
            raise ConfigError(f"rare_threshold: {self.rare_threshold} is not allowed; allowed values: 0 < t <= 1")
        if not 0.0 < self.confidence < 1.0:
            raise ConfigError(f"confidence: {self.confidence} is not allowed; allowed values: 0 < c < 1")


# ---------------------------------------------------------------------------------------------------- statistics
def wilson_interval(m: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion m/n: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    from scipy.stats import norm

    if n <= 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + confidence / 2))
    p = m / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(m: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval: [Beta(a/2; m, n-m+1), Beta(1-a/2; m+1, n-m)] quantiles, a = 1 - confidence."""
    from scipy.stats import beta

    if n <= 0:
        return 0.0, 1.0
    a = 1 - confidence
    lo = 0.0 if m == 0 else float(beta.ppf(a / 2, m, n - m + 1))
    hi = 1.0 if m == n else float(beta.ppf(1 - a / 2, m + 1, n - m))
    return lo, hi


def share_interval(m: int, n: int, cfg: PathTableConfig) -> tuple[float, float]:
    return (wilson_interval if cfg.ci == "wilson" else clopper_pearson_interval)(m, n, cfg.confidence)


def unseen_upper_bound(n: int, alpha: float = 0.05) -> float:
    """Upper (1 - alpha) confidence bound on the mass of a path seen 0 times in n samples: 1 - alpha^(1/n)
    (the exact one-sided Clopper-Pearson bound at zero successes; about 3/n for alpha = 0.05, the rule of three)."""
    if n <= 0:
        return 1.0
    return 1.0 - alpha ** (1.0 / n)


def path_is_correct(n_correct: int, count: int, rule: str) -> bool:
    """The path-correctness rule of :class:`PathTableConfig` (``majority``: 2·n_correct >= count)."""
    if count <= 0:
        return False
    if rule == "majority":
        return 2 * n_correct >= count
    if rule == "any":
        return n_correct > 0
    return n_correct == count


# ---------------------------------------------------------------------------------------------------- clustering
def default_cluster_fn() -> ClusterFn:
    """:func:`harness.paths.cluster_paths`, imported when first needed (the clustering lives in the package core)."""
    try:
        from harness.paths import cluster_paths
    except ImportError as e:
        raise ImportError(f"harness.paths.cluster_paths (the path clustering of the package core) cannot be imported "
                          f"({e}); pass cluster_fn= to use another clustering") from e
    return cluster_paths


def default_describe_fn() -> DescribeFn | None:
    """``describe_path(reasoning_path(question, completion))`` when the package core provides both, else None."""
    try:
        from harness.paths import describe_path, reasoning_path
    except ImportError:
        return None
    return lambda question, completion: describe_path(reasoning_path(question, completion))


def question_of(prompt: str | None) -> str:
    """The problem text inside a stored prompt: the part between a template's text before and after
    ``{question}`` (``harness.data.prompts.TEMPLATES``); a chat template's closing control token (``<|...``) ends it.
    A prompt that matches no template is returned whole (its extra numbers then count as "given")."""
    if not prompt:
        return ""
    from harness.data.prompts import TEMPLATES

    parts = [fmt.replace("{{", "{").replace("}}", "}").split("{question}") for b in TEMPLATES.values()
             for fmt in b.values()]
    for head, tail in sorted(parts, key=lambda ht: -len(ht[0])):  # the most specific template text first
        i = prompt.find(head)
        if i < 0:
            continue
        rest = prompt[i + len(head):]
        j = rest.find(tail) if tail else rest.find("<|")
        return rest if j < 0 else rest[:j]
    return prompt


def cluster_problem(question: str, completions: Sequence[str | None], cluster_fn: ClusterFn) -> list[int]:
    """``cluster_fn`` on one problem's completions (a null completion counts as empty text), checked: one int per
    completion."""
    texts = ["" if c is None or (isinstance(c, float) and math.isnan(c)) else str(c) for c in completions]
    labels = list(cluster_fn(question, texts))
    if len(labels) != len(texts):
        raise ValueError(f"cluster function returned {len(labels)} labels for {len(texts)} completions")
    return [int(x) for x in labels]


# ---------------------------------------------------------------------------------------------------- the table
def problem_paths(problem_id: str, labels: Sequence[int], correct: Sequence[bool], cfg: PathTableConfig,
                  examples: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of one problem: one per path (cluster label), sorted by count (descending), then first appearance.

    ``labels[i]`` is completion i's path, ``correct[i]`` its grade. Roles and the problem status follow the
    module docstring."""
    n = len(labels)
    order: dict[int, int] = {}
    counts: dict[int, int] = {}
    right: dict[int, int] = {}
    for i, (lab, ok) in enumerate(zip(labels, correct)):
        order.setdefault(lab, i)
        counts[lab] = counts.get(lab, 0) + 1
        right[lab] = right.get(lab, 0) + int(bool(ok))
    paths = sorted(counts, key=lambda lab: (-counts[lab], order[lab]))
    is_ok = {lab: path_is_correct(right[lab], counts[lab], cfg.correct_rule) for lab in paths}
    correct_paths = [lab for lab in paths if is_ok[lab]]  # already sorted: the first is the modal correct path
    modal = correct_paths[0] if correct_paths else None
    rows = []
    for lab in paths:
        share = counts[lab] / n
        lo, hi = share_interval(counts[lab], n, cfg)
        if not is_ok[lab]:
            role = "wrong"
        elif share < cfg.rare_threshold:
            role = "rare"
        elif lab == modal:
            role = "easy"
        else:
            role = "common"
        rows.append({"problem_id": problem_id, "path_id": int(lab), "n": n, "count": counts[lab], "share": share,
                     "share_lo": lo, "share_hi": hi, "n_correct": right[lab], "correct_frac": right[lab] / counts[lab],
                     "correct": is_ok[lab], "role": role, "modal_correct": lab == modal,
                     "example": (examples[order[lab]] if examples is not None else "")[:300]})
    # without an easy path the modal correct path is below the threshold, so every correct path is rare
    status = ("easy" if any(r["role"] == "easy" for r in rows) else "hard" if correct_paths
              else "no_correct_path" if any(correct) else "unsolved")
    for r in rows:
        r["status"] = status
    return rows


def path_table(df, cfg: PathTableConfig | None = None, cluster_fn: ClusterFn | None = None,
               describe_fn: DescribeFn | None = None, progress: bool = False):
    """The path table (pandas DataFrame, one row per problem x path) of one step's samples ``df`` (store columns
    ``problem_id, sample_idx, prompt, completion, correct``; an optional ``question`` column is used as is).
    ``cluster_fn`` None = :func:`harness.paths.cluster_paths` (and then ``describe_fn`` None = the core's
    ``describe_path``; with a custom ``cluster_fn`` the description column is left empty unless ``describe_fn``).
    ``progress``: a bar on stderr over problems, from the first problem on."""
    import pandas as pd

    cfg = cfg or PathTableConfig()
    if cluster_fn is None:
        cluster_fn = default_cluster_fn()
        describe_fn = describe_fn or default_describe_fn()
    rows: list[dict] = []
    d = df.sort_values(["problem_id", "sample_idx"])
    groups = d.groupby("problem_id", sort=True)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=groups.ngroups, unit="problem", desc="paths", file=sys.stderr, mininterval=0.5)
    for pid, g in groups:
        question = _question(g)
        comps = ["" if c is None or (isinstance(c, float) and math.isnan(c)) else str(c) for c in g["completion"]]
        ok = g["correct"].fillna(False).astype(bool).tolist()
        labels = cluster_problem(question, comps, cluster_fn)
        prow = problem_paths(str(pid), labels, ok, cfg, examples=comps)
        if describe_fn is not None:
            first = {}
            for lab, text in zip(labels, comps):
                first.setdefault(lab, text)
            for r in prow:
                r["description"] = str(describe_fn(question, first[r["path_id"]]))
        rows += prow
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    cols = ["problem_id", "path_id", "n", "count", "share", "share_lo", "share_hi", "n_correct", "correct_frac",
            "correct", "role", "modal_correct", "status", "description", "example"]
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    if "description" not in out:
        out["description"] = ""
    return out[cols]


def _question(g) -> str:
    if "question" in g.columns and g["question"].notna().any():
        return str(g["question"].dropna().iloc[0])
    prompt = g["prompt"].dropna().iloc[0] if "prompt" in g.columns and g["prompt"].notna().any() else ""
    return question_of(prompt)


def summarize(table, cfg: PathTableConfig) -> dict[str, Any]:
    """Counts and mean shares of a path table: problems per status, hard problem ids, paths per problem, mixed
    paths, and the mean over problems of the share on each role (these four sum to 1 per problem)."""
    per: dict[str, dict[str, Any]] = {}
    for pid, g in table.groupby("problem_id", sort=True):
        mass = {role: float(g.loc[g["role"] == role, "share"].sum()) for role in ROLES}
        per[str(pid)] = {"n": int(g["n"].iloc[0]), "c": int(g["n_correct"].sum()), "status": str(g["status"].iloc[0]),
                         "n_paths": int(len(g)), "n_correct_paths": int(g["correct"].sum()),
                         "mass": mass}
    n_prob = len(per)
    statuses = {s: sum(p["status"] == s for p in per.values()) for s in STATUSES}
    mean_mass = {role: (sum(p["mass"][role] for p in per.values()) / n_prob if n_prob else 0.0) for role in ROLES}
    mixed = table[(table["correct_frac"] > 0) & (table["correct_frac"] < 1)] if len(table) else table
    return {
        "config": asdict(cfg),
        "n_problems": n_prob,
        "n_samples": int(table["count"].sum()) if len(table) else 0,
        "n_min": min((p["n"] for p in per.values()), default=0),
        "n_max": max((p["n"] for p in per.values()), default=0),
        "status_counts": statuses,
        "hard_problems": sorted(pid for pid, p in per.items() if p["status"] == "hard"),
        "mean_paths_per_problem": (sum(p["n_paths"] for p in per.values()) / n_prob) if n_prob else 0.0,
        "problems_with_2plus_paths": sum(p["n_paths"] >= 2 for p in per.values()),
        "problems_with_2plus_correct_paths": sum(p["n_correct_paths"] >= 2 for p in per.values()),
        "n_paths": int(len(table)),
        "n_mixed_paths": int(len(mixed)),
        "mean_mass": mean_mass,
        "per_problem": per,
    }


def markdown(summary: dict[str, Any], table, title: str = "", max_hard: int = 20) -> str:
    """A Markdown page of the summary, with the paths of (up to ``max_hard``) hard problems."""
    cfg = summary["config"]
    ci = "Wilson score" if cfg["ci"] == "wilson" else "Clopper-Pearson exact"
    lines = [f"# Path table{': ' + title if title else ''}", "",
             f"{summary['n_problems']} problems, {summary['n_samples']} completions (n = {summary['n_min']}"
             + (f"..{summary['n_max']}" if summary["n_max"] != summary["n_min"] else "") + " per problem). "
             f"Rare: a correct path with base share < {cfg['rare_threshold']}; path correct by the "
             f"`{cfg['correct_rule']}` rule; share CIs: {ci} {cfg['confidence']:.0%}.", "",
             "| problems | easy | hard | no correct path | unsolved | mean paths / problem | >= 2 paths | "
             ">= 2 correct paths | mixed paths |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    s = summary["status_counts"]
    lines.append(f"| {summary['n_problems']} | {s['easy']} | {s['hard']} | {s['no_correct_path']} | {s['unsolved']} | "
                 f"{summary['mean_paths_per_problem']:.2f} | {summary['problems_with_2plus_paths']} | "
                 f"{summary['problems_with_2plus_correct_paths']} | {summary['n_mixed_paths']} of "
                 f"{summary['n_paths']} |")
    m = summary["mean_mass"]
    lines += ["", "Mean share of the samples per path role (mean over problems):", "",
              "| easy | common | rare | wrong |", "|---:|---:|---:|---:|",
              f"| {m['easy']:.3f} | {m['common']:.3f} | {m['rare']:.3f} | {m['wrong']:.3f} |"]
    hard = summary["hard_problems"]
    if hard:
        lines += ["", f"## Hard problems ({len(hard)}; the first {min(len(hard), max_hard)})", "",
                  "| problem | path | role | count / n | share [CI] | correct frac | description / first completion |",
                  "|---|---:|---|---:|---|---:|---|"]
        for pid in hard[:max_hard]:
            for r in table[table["problem_id"] == pid].itertuples():
                text = (r.description or r.example or "").replace("\n", " ").replace("|", "/")[:80]
                lines.append(f"| {pid} | {r.path_id} | {r.role} | {r.count} / {r.n} | {r.share:.3f} "
                             f"[{r.share_lo:.3f}, {r.share_hi:.3f}] | {r.correct_frac:.2f} | {text} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- a run
def read_step(run_dir: str | Path, step: int | None = None):
    """The samples of one step of a sample run, with a clear StoreError for a missing, empty or ambiguous run.
    Returns (store, step, DataFrame)."""
    from harness.evaluate import read_step as read_run_step
    from harness.store import StoreError

    run_dir = Path(run_dir)
    store, step, df, _ = read_run_step(run_dir, step)
    if "completion" not in df.columns or df["completion"].isna().all():
        raise StoreError(f"{run_dir}: step {step} has no completion texts (column 'completion' empty); paths need "
                         "the completions a `tmc sample` run stores")
    return store, int(step), df.reset_index(drop=True)


def write_path_table(run_dir: str | Path, out: str | Path | None = None, step: int | None = None,
                     cfg: PathTableConfig | None = None, cluster_fn: ClusterFn | None = None,
                     describe_fn: DescribeFn | None = None, progress: bool = False) -> dict[str, Any]:
    """Build the path table of one step of a sample run and write ``paths.parquet``, ``paths_summary.json`` and
    ``paths_summary.md`` into ``out`` (default ``<run>/paths``); returns the summary (with ``out`` and the file
    paths). ``progress``: a bar over problems on stderr (:func:`path_table`)."""
    cfg = cfg or PathTableConfig()
    store, step, df = read_step(run_dir, step)
    table = path_table(df, cfg, cluster_fn=cluster_fn, describe_fn=describe_fn, progress=progress)
    table.insert(0, "step", step)
    table.insert(0, "run_id", store.run_id)
    summary = {"run_dir": str(run_dir), "run_id": store.run_id, "step": step, **summarize(table, cfg)}
    out = Path(out) if out else Path(run_dir) / "paths"
    out.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out / "paths.parquet", index=False)
    (out / "paths_summary.json").write_text(json.dumps(summary, indent=1))
    (out / "paths_summary.md").write_text(markdown(summary, table, title=f"{store.run_id}, step {step}"))
    summary["files"] = [str(out / f) for f in ("paths.parquet", "paths_summary.json", "paths_summary.md")]
    return summary
