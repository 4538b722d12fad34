"""Calibrate ``data/multi_strategy`` on a sample run: mixed groups, and which of each problem's known strategies the
model's completions follow.

    python scripts/multi_strategy_calibration.py RUN [--data data/multi_strategy/test.jsonl] [--out DIR]

Clustering used here: :func:`harness.paths.strategies.label_strategy` (``strategy_match`` here; specific to this
data set, NOT the package's data-free ``harness.paths.reasoning_path``): a completion follows strategy S when it
writes every *distinctive* intermediate value of S (S's step values before the last, minus numbers the question
itself states), as a number anywhere in its text; exactly one match = that strategy, several = ``ambiguous``, none
= ``other``. Its rule and failure modes are documented there.

Writes ``DIR/calibration.json`` and ``DIR/calibration.md`` (per problem: n, correct, strategies used, by
correctness) and the path table of the run with this clustering (``DIR/paths/``, :mod:`harness.paths.table`).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from harness.paths.strategies import label_strategy, numbers  # noqa: F401  (the matcher lives in the package)

#: the old name of :func:`harness.paths.strategies.label_strategy`, kept for callers of this script
strategy_match = label_strategy


def strategy_clustering(records: dict[str, dict]):
    """A ``cluster_fn(question, completions)`` for :mod:`harness.paths.table` from :func:`strategy_match`: one path per
    strategy name (ids in order of first appearance)."""
    def cluster(question: str, completions: list[str]) -> list[int]:
        rec = records[question.strip()]
        ids: dict[str, int] = {}
        return [ids.setdefault(strategy_match(question, c, rec["strategies"]), len(ids)) for c in completions]

    return cluster


def calibrate(df, records: dict[str, dict]) -> dict:
    """Per-problem and overall counts: mixed groups (0 < c < n), strategies used (all and correct completions)."""
    from harness.paths.table import question_of

    per = {}
    for pid, g in df.groupby("problem_id", sort=True):
        q = question_of(g["prompt"].dropna().iloc[0]).strip()
        rec = records[q]
        ok = g["correct"].fillna(False).astype(bool).tolist()
        strat = [strategy_match(q, c or "", rec["strategies"]) for c in g["completion"]]
        names = {s["name"] for s in rec["strategies"]}
        per[str(pid)] = {"family": rec["family"], "n": len(ok), "c": sum(ok),
                         "strategies": dict(Counter(strat)),
                         "correct_strategies": dict(Counter(s for s, o in zip(strat, ok) if o)),
                         "n_named_used": len(names & set(strat)),
                         "n_named_used_correct": len(names & {s for s, o in zip(strat, ok) if o})}
    n_prob = len(per)
    total, by_family = Counter(), {}
    for p in per.values():
        total.update(p["strategies"])
        fam = by_family.setdefault(p["family"], {"problems": 0, "c": 0, "n": 0, "solved": 0})
        fam["problems"] += 1
        fam["c"] += p["c"]
        fam["n"] += p["n"]
        fam["solved"] += p["c"] > 0
    return {
        "n_problems": n_prob, "n_samples": int(len(df)),
        "pass_at_1": sum(p["c"] for p in per.values()) / max(1, sum(p["n"] for p in per.values())),
        "pass_at_n": sum(p["c"] > 0 for p in per.values()) / max(1, n_prob),  # share of problems with a correct one
        "mixed_groups": sum(0 < p["c"] < p["n"] for p in per.values()),
        "all_wrong_groups": sum(p["c"] == 0 for p in per.values()),
        "all_correct_groups": sum(p["c"] == p["n"] for p in per.values()),
        "problems_using_2plus_named_strategies": sum(p["n_named_used"] >= 2 for p in per.values()),
        "problems_solved_by_2plus_named_strategies": sum(p["n_named_used_correct"] >= 2 for p in per.values()),
        "strategy_counts": dict(total), "by_family": dict(sorted(by_family.items())), "per_problem": per,
    }


def markdown(res: dict) -> str:
    lines = [f"{res['n_problems']} problems, {res['n_samples']} samples; pass@1 {res['pass_at_1']:.3f}, pass@n "
             f"{res.get('pass_at_n', float('nan')):.3f}; mixed groups "
             f"(0 < c < n) {res['mixed_groups']} / {res['n_problems']}, all wrong {res['all_wrong_groups']}, all "
             f"correct {res['all_correct_groups']}; problems whose completions follow >= 2 named strategies: "
             f"{res['problems_using_2plus_named_strategies']}, with >= 2 among the correct ones: "
             f"{res['problems_solved_by_2plus_named_strategies']}.", "",
             "| problem | family | c / n | strategies (all completions) | strategies (correct completions) |",
             "|---|---|---:|---|---|"]
    for pid, p in res["per_problem"].items():
        fmt = lambda d: ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "-"  # noqa: E731
        lines.append(f"| {pid} | {p['family']} | {p['c']} / {p['n']} | {fmt(p['strategies'])} | "
                     f"{fmt(p['correct_strategies'])} |")
    lines += ["", "All completions by strategy: " + ", ".join(f"{k} {v}" for k, v in
                                                              sorted(res["strategy_counts"].items()))]
    if res.get("by_family"):
        lines += ["", "By family (problems solved / problems, correct / samples): " + ", ".join(
            f"{k} {f['solved']}/{f['problems']}, {f['c']}/{f['n']}" for k, f in res["by_family"].items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--data", default="data/multi_strategy/test.jsonl")
    ap.add_argument("--out", default=None, help="default: the run's parent folder")
    a = ap.parse_args(argv)
    from harness.paths.table import read_step, write_path_table

    records = {r["question"].strip(): r for r in map(json.loads, Path(a.data).read_text().splitlines())}
    _, step, df = read_step(a.run)
    res = calibrate(df, records)
    out = Path(a.out) if a.out else Path(a.run).parent
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps(res, indent=1))
    (out / "calibration.md").write_text(markdown(res))
    write_path_table(a.run, out=out / "paths", step=step, cluster_fn=strategy_clustering(records),
                     describe_fn=lambda q, c: strategy_match(q, c, records[q.strip()]["strategies"]))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
