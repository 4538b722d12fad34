"""Rules x seeds at one step: which differences between post-training rules hold in every training seed?

    tmc analyze seed_table --step 50 --ref GRPO \
        --run GRPO 1 results/cpu_grpo/grpo_seed1 --run GRPO 2 results/cpu_grpo/grpo_lr2e-4_seed2 \
        --run "t = 0.5" 1 results/cpu_grpo/rl_rej_group_t05_lr2e-4_seed1 \
        --run "t = 0.5" 2 results/cpu_grpo/rl_rej_group_t05_lr2e-4_seed2 [--boot 10000] [--json out.json]

Each ``--run RULE SEED PATH`` names one training run: PATH is its ``checkpoints_metrics.json`` (written by
``tmc eval-checkpoints``; it keeps each problem's n and c) or a folder holding one, and, when the folder also
holds the ``cot_forms.json`` of ``tmc analyze cot_forms --json``, that step's CoT-form entropy is shown too.

Printed, for ``--step`` (fixed before looking at the results: the last step of the runs, or a declared schedule,
never a peak chosen afterwards):
1. one row per (rule, seed): pass@1 and pass@n (unbiased, Chen et al. 2021), problems solved at least once, at
   0/n and at n/n (the pile-up that squeezing produces), the form entropy in bits, and the paired difference
   against the ``--ref`` rule of the SAME seed, at k = 1 and k = n, with a paired bootstrap 95% CI over the
   problems (:func:`harness.metrics.paired.paired_pass_at_k_diff`; both runs must share the problems), the exact
   test's p over problems (sign test at k = n, sign-flip permutation test at k = 1; :mod:`harness.metrics.exact_tests`)
   and that p Holm-corrected over every per-seed comparison of the table (rules x seeds x both k's);
2. one row per rule other than ``--ref`` -- the headline: the mean difference over seeds with its Student-t 95%
   interval and t-test p (:func:`harness.metrics.seeds.seed_t_interval`; the seed is the unit of a training claim),
   that p Holm-corrected over the rules x both k's, then the per-seed differences and how many seeds put the
   bootstrap CI above 0, across 0 and below 0 (secondary detail).

Training runs that differ only in the seed can end far apart (log/2026-11-cpu-grpo.md: two trajectories that
shared 20 steps differed by 0.14 in pass@8 ten steps later), so a single-seed difference is read against this table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from harness.metrics.holm import holm
from harness.metrics.paired import paired_pass_at_k_diff
from harness.metrics.passk import pass_at_k_matrix
from harness.metrics.seeds import seed_t_interval


def read_counts(path: str, step: int) -> tuple[dict[str, tuple[int, int]], float | None]:
    """``({problem_id: (n, c)}, form entropy in bits or None)`` of ``step`` of one run (module docstring).

    Raises SystemExit naming the file when it is missing, has no such step or has no per-problem counts."""
    p = Path(path)
    report = p / "checkpoints_metrics.json" if p.is_dir() else p
    if not report.is_file():
        raise SystemExit(f"{path}: no checkpoints_metrics.json (write one with `tmc eval-checkpoints RUN`)")
    steps = json.loads(report.read_text()).get("steps", {})
    if str(step) not in steps:
        raise SystemExit(f"{report}: no step {step}; steps present: {sorted(map(int, steps))}")
    pp = steps[str(step)].get("per_problem")
    if not pp:
        raise SystemExit(f"{report}: step {step} has no per_problem counts (a report written before they were "
                         "kept); re-run `tmc eval-checkpoints` on the run")
    forms = report.parent / "cot_forms.json"
    entropy = None
    if forms.is_file():
        entry = json.loads(forms.read_text()).get(str(step))
        entropy = None if entry is None else float(entry["entropy_bits"])
    return {pid: (int(v["n"]), int(v["c"])) for pid, v in pp.items()}, entropy


def run_row(counts: dict[str, tuple[int, int]], entropy: float | None) -> dict:
    """pass@1, pass@n, solved >= 1, at 0/n, at n/n and the form entropy of one run's step."""
    n = np.array([v[0] for v in counts.values()])
    c = np.array([v[1] for v in counts.values()])
    k_max = int(n.min())
    p = pass_at_k_matrix(n, c, [1, k_max]).mean(axis=0)
    return {"n": k_max, "problems": len(counts), "pass@1": float(p[0]), "pass@n": float(p[1]),
            "solved": int((c > 0).sum()), "at_0": int((c == 0).sum()), "at_n": int((c == n).sum()),
            "form_entropy_bits": entropy}


def paired_vs(ref: dict[str, tuple[int, int]], other: dict[str, tuple[int, int]], label: str,
              n_boot: int) -> dict:
    """``other - ref`` at k = 1 and k = n over the problems both hold (paired bootstrap CI, exact p)."""
    common = sorted(set(ref) & set(other))
    if not common:
        raise SystemExit(f"{label}: no problem in common with its --ref run of the same seed")
    n_a, c_a = (np.array([ref[q][i] for q in common]) for i in (0, 1))
    n_b, c_b = (np.array([other[q][i] for q in common]) for i in (0, 1))
    k_max = int(min(n_a.min(), n_b.min()))
    d = paired_pass_at_k_diff(n_a, c_a, n_b, c_b, [1, k_max], n_boot=n_boot)
    return {"problems": len(common), "k1": d["1"], "kn": d[str(k_max)]}


def build(runs: list[tuple[str, str, str]], step: int, ref: str, n_boot: int = 10000) -> dict:
    """Rows per (rule, seed) and per-rule summaries over seeds (module docstring). ``runs``: (rule, seed, path)."""
    if ref not in {r for r, _, _ in runs}:
        raise SystemExit(f"--ref {ref!r} names no --run; rules given: {sorted({r for r, _, _ in runs})}")
    seen: set[tuple[str, str]] = set()
    data = {}
    for rule, seed, path in runs:
        if (rule, seed) in seen:
            raise SystemExit(f"--run {rule!r} {seed}: given twice")
        seen.add((rule, seed))
        data[(rule, seed)] = (path, *read_counts(path, step))
    rows = []
    for (rule, seed), (path, counts, entropy) in data.items():
        row = {"rule": rule, "seed": seed, "path": path, **run_row(counts, entropy)}
        if rule != ref:
            if (ref, seed) not in data:
                raise SystemExit(f"--run {rule!r} {seed}: no --run {ref!r} {seed} to pair it with (--ref)")
            ref_path, ref_counts, ref_entropy = data[(ref, seed)]
            from harness.data.ids import require_same_scheme, run_scheme

            require_same_scheme("seed_table", (ref_path, run_scheme(ref_path)), (path, run_scheme(path)),
                                error=SystemExit)
            row["vs_ref"] = paired_vs(ref_counts, counts, f"{path} (step {step})", n_boot)
            if entropy is not None and ref_entropy is not None:
                row["vs_ref"]["form_entropy_bits"] = entropy - ref_entropy
        rows.append(row)
    per_seed = [r["vs_ref"][key] for r in rows if "vs_ref" in r for key in ("k1", "kn")]
    for d, p_holm in zip(per_seed, holm([d["p_exact"] for d in per_seed])["adjusted"]):
        d["p_holm"] = p_holm
    summary = []
    for rule in dict.fromkeys(r["rule"] for r in rows if r["rule"] != ref):
        mine = [r for r in rows if r["rule"] == rule]
        s = {"rule": rule, "seeds": [r["seed"] for r in mine]}
        for key in ("k1", "kn"):
            ds = [r["vs_ref"][key] for r in mine]
            t = seed_t_interval([d["diff"] for d in ds])
            s[key] = {"per_seed": [d["diff"] for d in ds], "mean": t["mean"], "t_lo": t["lo"], "t_hi": t["hi"],
                      "t_p": t["p"], "per_seed_p_exact": [d["p_exact"] for d in ds],
                      "above": sum(d["lo"] > 0 for d in ds), "below": sum(d["hi"] < 0 for d in ds)}
            s[key]["across"] = len(ds) - s[key]["above"] - s[key]["below"]
        ents = [r["vs_ref"].get("form_entropy_bits") for r in mine]
        s["form_entropy_bits"] = None if None in ents else {"per_seed": ents, "mean": float(np.mean(ents))}
        summary.append(s)
    heads = [s[key] for s in summary for key in ("k1", "kn")]
    for h, p_holm in zip(heads, holm([h["t_p"] for h in heads])["adjusted"]):
        h["t_p_holm"] = p_holm
    return {"step": step, "ref": ref, "rows": rows, "summary": summary}


def _ci(d: dict) -> str:
    return f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] p {d['p_exact']:.2g} (Holm {d['p_holm']:.2g})"


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.2g}"


def _t(v: dict) -> str:
    """Mean over seeds with its t-interval (one seed: the mean alone)."""
    if v["t_lo"] is None:
        why = "1 seed" if len(v["per_seed"]) == 1 else "identical per-seed differences"
        return f"{v['mean']:+.3f} ({why}, no interval)"
    return f"{v['mean']:+.3f} [{v['t_lo']:+.3f}, {v['t_hi']:+.3f}]"


def render(result: dict) -> str:
    """The two Markdown tables of :func:`build`."""
    ns = {r["n"] for r in result["rows"]}
    n = str(ns.pop()) if len(ns) == 1 else "n"
    ref = result["ref"]
    out = [f"Step {result['step']}; differences are paired against {ref} of the same seed: mean over problems, 95% "
           "bootstrap CI over problems, exact p over problems (sign test at k = n, sign-flip at k = 1) and that p "
           "Holm-corrected over every per-seed comparison in this table.", "",
           f"| rule | seed | pass@1 | pass@{n} | solved >= 1 | at 0/{n} | at {n}/{n} | form entropy (bits) "
           f"| - {ref}, k = 1 | - {ref}, k = {n} |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in sorted(result["rows"], key=lambda r: (r["rule"] != ref, r["rule"], r["seed"])):
        ent = "" if r["form_entropy_bits"] is None else f"{r['form_entropy_bits']:.2f}"
        vs = r.get("vs_ref")
        d1, dn = (_ci(vs["k1"]), _ci(vs["kn"])) if vs else ("", "")
        out.append(f"| {r['rule']} | {r['seed']} | {r['pass@1']:.3f} | {r['pass@n']:.3f} | {r['solved']} "
                   f"| {r['at_0']} | {r['at_n']} | {ent} | {d1} | {dn} |")
    warn = [f"warning, {r['rule']} seed {r['seed']}, {k}: {r['vs_ref'][key]['warning']}"
            for r in result["rows"] if "vs_ref" in r for key, k in (("k1", "k = 1"), ("kn", f"k = {n}"))
            if r["vs_ref"][key]["warning"]]
    out += ([""] + warn if warn else [])
    out += ["", "Headline: mean of the per-seed differences with its Student-t 95% interval over seeds and the "
                "t-test p, Holm-corrected over the rules x both k's; then the per-seed differences (exact p) and "
                "how many seeds' bootstrap CIs lie above / across / below 0.", "",
            f"| rule - {ref} | seeds | k = 1: mean [t 95%] | t p (Holm) | per seed (exact p) | above / across / below "
            f"| k = {n}: mean [t 95%] | t p (Holm) | per seed (exact p) | above / across / below "
            "| form entropy per seed (bits) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        cells = []
        for key in ("k1", "kn"):
            v = s[key]
            cells += [_t(v), f"{_p(v['t_p'])} ({_p(v['t_p_holm'])})",
                      ", ".join(f"{x:+.3f} ({p:.2g})" for x, p in zip(v["per_seed"], v["per_seed_p_exact"])),
                      f"{v['above']} / {v['across']} / {v['below']}"]
        fe = s["form_entropy_bits"]
        cells.append("" if fe is None else ", ".join(f"{x:+.2f}" for x in fe["per_seed"]))
        out.append(f"| {s['rule']} | {', '.join(s['seeds'])} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", nargs=3, action="append", required=True, metavar=("RULE", "SEED", "PATH"),
                   help="one training run: its rule's label, its seed, its checkpoints_metrics.json or folder")
    p.add_argument("--step", type=int, required=True, help="the checkpoint step to compare (0 = base)")
    p.add_argument("--ref", required=True, help="the rule every other rule is paired against, seed by seed")
    p.add_argument("--boot", type=int, default=10000, help="bootstrap replicates (default 10000)")
    p.add_argument("--json", help="also write the rows and summaries here")
    args = p.parse_args(argv)
    result = build([tuple(r) for r in args.run], args.step, args.ref, args.boot)
    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
