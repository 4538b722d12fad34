"""Two steps of one sample run, paired over the same problems: did pass@k really move between them?

    tmc analyze compare_steps runs/train/<run>/eval --a 40 --b 50 [--boot 10000] [--json out.json]
    tmc analyze compare_steps runs/train/<grpo run>/eval --a 50 --b 50 --run-b runs/train/<other run>/eval
    tmc analyze compare_steps results/cpu_grpo/<x>/checkpoints_metrics.json --a 50 --b 60 [--run-b <y>.json]

Either side may be a sample run folder (its Parquet store) or a ``checkpoints_metrics.json`` written by
``tmc eval-checkpoints`` (its per-problem ``{n, c}``), so committed reports compare after ``runs/`` is gone.

The per-problem pass@k estimates (Chen et al. 2021, unbiased, from each problem's c of n) of step ``b`` minus
step ``a`` are averaged over the problems both steps have (two runs must name problems in one id scheme,
harness/data/ids.py; none in common is an error); the 95% CI comes from a paired bootstrap over
problems (the same resampled problems for both steps, so problem difficulty cancels -- narrower than comparing
two unpaired CIs). Next to it, per k, an exact test over problems (:mod:`harness.metrics.exact_tests`: the sign
test on the problems solved at one step only when k = n, the sign-flip permutation test on the per-problem pass@k
differences otherwise), the number of discordant problems, a warning when they are few (the bootstrap CI is then
anti-conservative), and the exact p-values Holm-corrected over the k's of the table (:func:`harness.metrics.holm`).
Also printed: how many problems each step solves c of n times (the histogram that shows
squeezing: mass moving to c = 0 and c = n) and the problems solved >= 1 time at one step but not the other.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from harness.metrics.holm import holm
from harness.metrics.paired import paired_pass_at_k_diff


def compare(df, a: int, b: int, n_boot: int = 10000, df_b=None) -> dict:
    """Step ``a`` of ``df`` against step ``b`` of ``df_b`` (default: the same run), over their common problems."""
    df_b = df if df_b is None else df_b
    sa = df[df["step"] == a].groupby("problem_id")["correct"].agg(["size", "sum"])
    sb = df_b[df_b["step"] == b].groupby("problem_id")["correct"].agg(["size", "sum"])
    common = sa.index.intersection(sb.index)
    if not len(common):
        raise SystemExit(f"step {a} and step {b}: no problem in common (ids like {next(iter(sa.index), None)!r} and "
                         f"{next(iter(sb.index), None)!r}); both sides must hold samples of the same problems")
    sa, sb = sa.loc[common], sb.loc[common]
    n_a, c_a = sa["size"].to_numpy(int), sa["sum"].to_numpy(int)
    n_b, c_b = sb["size"].to_numpy(int), sb["sum"].to_numpy(int)
    n = int(min(n_a.min(), n_b.min()))
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if k <= n]
    solved_a, solved_b = set(common[c_a > 0]), set(common[c_b > 0])
    diffs = paired_pass_at_k_diff(n_a, c_a, n_b, c_b, ks, n_boot=n_boot)
    for v, p_holm in zip(diffs.values(), holm([v["p_exact"] for v in diffs.values()])["adjusted"]):
        v["p_holm"] = p_holm
    return {"a": a, "b": b, "problems": len(common), "n": n,
            "histogram_a": np.bincount(c_a, minlength=n + 1).tolist() if (n_a == n).all() else None,
            "histogram_b": np.bincount(c_b, minlength=n + 1).tolist() if (n_b == n).all() else None,
            "lost": sorted(solved_a - solved_b), "gained": sorted(solved_b - solved_a),
            "pass_at_k_diff": diffs}


def render_diffs(diffs: dict) -> str:
    """The Markdown table of paired differences with exact p-values (Holm over the k's), warnings below it."""
    out = ["| k | pass@k(b) - pass@k(a) | paired bootstrap 95% CI | exact p | test | discordant | Holm p |",
           "|---:|---:|---|---:|---|---:|---:|"]
    for k, v in diffs.items():
        out.append(f"| {k} | {v['diff']:+.3f} | [{v['lo']:+.3f}, {v['hi']:+.3f}] | {v['p_exact']:.3g} | {v['test']} "
                   f"| {v['discordant']} | {v['p_holm']:.3g} |")
    out += [f"warning, k = {k}: {v['warning']}" for k, v in diffs.items() if v["warning"]]
    return "\n".join(out)


def frame_from_metrics(path: str, step: int):
    """Rows (step, problem_id, correct) rebuilt from a report's per-problem counts: c correct of n per problem.

    Only the counts matter to :func:`compare` (pass@k is a function of each problem's n and c), so the rows'
    order within a problem is arbitrary. Raises SystemExit naming the file when the step or the counts are absent.
    """
    import pandas as pd

    with open(path) as f:
        steps = json.load(f).get("steps", {})
    if str(step) not in steps:
        raise SystemExit(f"{path}: no step {step}; steps present: {sorted(map(int, steps))}")
    pp = steps[str(step)].get("per_problem")
    if pp is None:
        raise SystemExit(f"{path}: step {step} has no per_problem counts (a report written before they were kept); "
                         "re-run `tmc eval-checkpoints` on the run, or pass its sample run folder instead")
    return pd.DataFrame([{"step": step, "problem_id": pid, "correct": i < v["c"]}
                         for pid, v in pp.items() for i in range(int(v["n"]))])


def read_step(run: str, step: int):
    """The rows of ``step`` from a sample run folder or a ``checkpoints_metrics.json``, ``correct`` as bool."""
    if run.endswith(".json"):
        return frame_from_metrics(run, step)
    from harness.store import SampleStore

    df = SampleStore(run).read()
    if step not in set(df["step"].astype(int)):
        raise SystemExit(f"{run}: no samples for step {step}; steps present: {sorted(set(df['step'].astype(int)))}")
    return df.assign(correct=df["correct"].fillna(False).astype(bool))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a sample run folder holding both steps (e.g. <training run>/eval), or a "
                   "checkpoints_metrics.json of `tmc eval-checkpoints`")
    p.add_argument("--a", type=int, required=True, help="first step (0 = base)")
    p.add_argument("--b", type=int, required=True, help="second step")
    p.add_argument("--run-b", help="read step b from this sample run or checkpoints_metrics.json instead (e.g. "
                   "another method's <run>/eval, same problems and decoding)")
    p.add_argument("--boot", type=int, default=10000)
    p.add_argument("--json")
    args = p.parse_args(argv)
    if args.run_b:
        from harness.data.ids import require_same_scheme, run_scheme

        require_same_scheme("compare_steps --run-b", (args.run, run_scheme(args.run)),
                            (args.run_b, run_scheme(args.run_b)), error=SystemExit)
    frames = [read_step(run, step) for run, step in ((args.run, args.a), (args.run_b or args.run, args.b))]
    r = compare(frames[0], args.a, args.b, args.boot, df_b=frames[1])
    where = f" (b from {args.run_b})" if args.run_b else ""
    print(f"steps {r['a']} -> {r['b']}{where}, {r['problems']} problems, n = {r['n']}")
    if r["histogram_a"] is not None and r["histogram_b"] is not None:
        print("| problems solved c of n | " + " | ".join(str(c) for c in range(r["n"] + 1)) + " |")
        print("|---|" + "---:|" * (r["n"] + 1))
        for s, h in ((r["a"], r["histogram_a"]), (r["b"], r["histogram_b"])):
            print(f"| step {s} | " + " | ".join(map(str, h)) + " |")
    print(f"solved >= 1 at step {r['a']} but not {r['b']}: {len(r['lost'])}; the reverse: {len(r['gained'])}")
    print(render_diffs(r["pass_at_k_diff"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
