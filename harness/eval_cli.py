"""``tmc eval <run> [<run> ...]``: pass@k (with 95% bootstrap CIs) and maj@k tables for sample runs,
a pass@k-vs-k plot comparing them, and with ``--out DIR`` the files ``DIR/metrics.json`` and
``DIR/pass_at_k.png``. All numbers come from :func:`harness.evaluate.evaluate_run`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.help_text import plain


def build_parser(prog: str = "tmc eval") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories written by `tmc sample` (each holds run.json and samples/)")
    p.add_argument("--out", default=None, help="write DIR/metrics.json and DIR/pass_at_k.png here")
    p.add_argument("--ks", type=int, nargs="+", default=None, help="k values for pass@k (default: every k <= n; the "
                                                                   "table shows 1, 2, 4, ..., n)")
    p.add_argument("--step", type=int, default=None, help="which step of the runs to evaluate (needed when a run holds "
                                                          "several)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates over problems for the 95%% CIs "
                                                            "(default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and of maj@k's random subsets")
    p.add_argument("--labels", nargs="+", default=None, help="display names for the runs (default: run ids)")
    return p


def _labels(results: list[dict], given: list[str] | None) -> list[str]:
    if given:
        if len(given) != len(results):
            raise SystemExit(f"tmc eval: --labels has {len(given)} names for {len(results)} runs")
        return list(given)
    out: list[str] = []
    for r in results:
        base = str(r["run_id"])
        label, i = base, 2
        while label in out:
            label, i = f"{base}#{i}", i + 1
        out.append(label)
    return out


def format_table(label: str, r: dict) -> str:
    incomplete = "" if r["complete"] else " (incomplete: n ranges %d..%d)" % (r["n_min"], r["n_max"])
    head = (f"{label}: model={r.get('model')} benchmark={r.get('benchmark')} step={r['step']} "
            f"n={r['n']}{incomplete} problems={r['n_problems']} solved-at-least-once={r['n_solved']}")
    lines = [head, f"  {'k':>5}  {'pass@k':>7}  {'95% CI':^14}  {'maj@k':>7}  {'95% CI':^14}"]
    ks = r["table_ks"] or r["ks"]
    for k in ks:
        pk = r["pass_at_k"][str(k)]
        mj = r["maj_at_k"].get(str(k))
        mj_s = f"{mj['mean']:7.3f}  [{mj['lo']:.3f}, {mj['hi']:.3f}]" if mj else f"{'-':>7}  {'':>14}"
        lines.append(f"  {k:>5}  {pk['mean']:7.3f}  [{pk['lo']:.3f}, {pk['hi']:.3f}]  {mj_s}")
    res = r.get("resolved") or []
    if res:
        drawn = "; ".join(f"{e.get('dtype')} on {e.get('device')}"
                          + (f", {e['threads']} threads" if "threads" in e else "") for e in res)
        mixed = len({e.get('dtype') for e in res}) > 1
        lines.append(f"  drawn in: {drawn}" + ("  (mixed precisions)" if mixed else ""))
    gs = r.get("grade_status") or {}
    if gs:
        lines.append("  grade status: " + ", ".join(f"{k}={v}" for k, v in gs.items()))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_run
    from .store import StoreError

    results = []
    for rd in args.runs:
        try:
            results.append(evaluate_run(rd, step=args.step, ks=args.ks, n_boot=args.n_boot, seed=args.seed))
        except StoreError as e:
            print(f"tmc eval: {e}", file=sys.stderr)
            return 2
    labels = _labels(results, args.labels)
    for label, r in zip(labels, results):
        print(format_table(label, r))
        print()
    if args.out:
        from .metrics import plot_pass_at_k

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        payload = {"runs": {label: r for label, r in zip(labels, results)}, "order": labels}
        tmp = out / ".metrics.json.tmp"
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(out / "metrics.json")
        curves = {
            label: {
                "ks": r["ks"],
                "mean": [r["pass_at_k"][str(k)]["mean"] for k in r["ks"]],
                "lo": [r["pass_at_k"][str(k)]["lo"] for k in r["ks"]],
                "hi": [r["pass_at_k"][str(k)]["hi"] for k in r["ks"]],
            }
            for label, r in zip(labels, results)
        }
        maj = {label: {"ks": [int(k) for k in r["maj_at_k"]], "mean": [v["mean"] for v in r["maj_at_k"].values()]}
               for label, r in zip(labels, results) if r["maj_at_k"]}
        bench = {r.get("benchmark") for r in results}
        plot_pass_at_k(curves, out / "pass_at_k.png", title=f"pass@k ({', '.join(map(str, bench))})", maj=maj)
        print(f"wrote {out / 'metrics.json'} and {out / 'pass_at_k.png'}")
    return 0
