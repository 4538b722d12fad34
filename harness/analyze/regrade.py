"""Re-grade every stored completion of a sample run with today's grader, under both truncation rules.

    tmc analyze regrade RUN [--first N] [--source FILE] [--json OUT]

Answers two questions about a run graded elsewhere (a GPU machine) or by an older version:
1. Do the stored ``correct`` flags agree with the grader here? (Per grade status; a mismatch means the grader
   changed, or the run used a different gold source.)
2. How much do completions cut at the token limit move pass@k? ``strict`` is the current rule (a cut completion's
   last number does not count: ``harness.grading.truncation_rule``), ``lenient`` is lm-eval's flexible extract
   (it does, ``flexible_on_truncated=True``). Unbiased pass@k (Chen et al. 2021) macro-averaged over problems.

``--first N`` restricts to the first N problems in file order (to compare with a partial run). Gold answers come
from the run's own config (benchmark, split, source), or ``--source``. Nothing is written to the run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

KS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def regrade(run: str | Path, first: int | None = None, source: str | None = None) -> dict:
    """Agreement of stored and fresh grades, and pass@k (strict vs lenient truncation rule) over the run's problems."""
    from harness.data import load_problems
    from harness.grading import grade, truncation_rule
    from harness.metrics import pass_at_k_matrix
    from harness.store import SampleStore

    run = Path(run)
    cfg = json.loads((run / "run.json").read_text()).get("config", {})
    bench = cfg.get("benchmark", "gsm8k")
    problems = load_problems(bench, split=cfg.get("split", "test"), source=source or cfg.get("source"),
                             id_scheme=SampleStore(run).id_scheme)
    order = [p.id for p in problems]
    gold = {p.id: p.answer for p in problems}
    df = SampleStore(run).read()
    missing = sorted(set(df["problem_id"]) - set(gold))
    if missing:
        raise SystemExit(f"{run}: {len(missing)} stored problems are not in the gold source (e.g. {missing[:3]}); "
                         "pass --source")
    if first is not None:
        df = df[df["problem_id"].isin(set(order[:first]))]
    cut = (df["finish_reason"] == "length").to_numpy()
    fresh = [grade(bench, c, gold[p]) for c, p in zip(df["completion"], df["problem_id"])]
    strict = [truncation_rule(g, t) for g, t in zip(fresh, cut)]
    lenient = [truncation_rule(g, t, flexible_on_truncated=True) for g, t in zip(fresh, cut)]
    d = df.assign(strict=[g.correct for g in strict], lenient=[g.correct for g in lenient],
                  status=[g.status for g in strict], stored=df["correct"].fillna(False).astype(bool))
    agree = {s: {"samples": int(len(g)), "agree": int((g["strict"] == g["stored"]).sum())}
             for s, g in d.groupby("status")}
    n = int(d.groupby("problem_id").size().min())
    ks = [k for k in KS if k <= n]
    out = {"run": str(run), "problems": int(d["problem_id"].nunique()), "samples": int(len(d)), "n": n,
           "cut_at_limit": int(cut.sum()), "agreement_with_stored": agree, "pass_at_k": {}}
    for rule in ("stored", "strict", "lenient"):
        per = d.groupby("problem_id")[rule].agg(["size", "sum"])
        m = pass_at_k_matrix(per["size"].to_numpy(), per["sum"].to_numpy().astype(int), ks)
        out["pass_at_k"][rule] = {str(k): float(v) for k, v in zip(ks, np.asarray(m).mean(axis=0))}
        out[f"correct_samples_{rule}"] = int(d[rule].sum())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a sample run folder (run.json + samples/)")
    ap.add_argument("--first", type=int, default=None, help="only the first N problems in file order")
    ap.add_argument("--source", default=None, help="gold answers from this JSONL instead of the run's config")
    ap.add_argument("--json", default=None, help="also write the result here")
    a = ap.parse_args(argv)
    r = regrade(a.run, a.first, a.source)
    print(f"{r['run']}: {r['problems']} problems x n = {r['n']}, {r['samples']} samples, {r['cut_at_limit']} cut at "
          f"the limit")
    for s, x in r["agreement_with_stored"].items():
        print(f"  grade status {s:10s}: {x['agree']} of {x['samples']} agree with the stored flag")
    ks = list(r["pass_at_k"]["strict"])
    print("| rule | correct samples | " + " | ".join(f"pass@{k}" for k in ks) + " |")
    print("|---|---:|" + "---:|" * len(ks))
    for rule in ("stored", "strict", "lenient"):
        print(f"| {rule} | {r[f'correct_samples_{rule}']} | "
              + " | ".join(f"{r['pass_at_k'][rule][k]:.4f}" for k in ks) + " |")
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
