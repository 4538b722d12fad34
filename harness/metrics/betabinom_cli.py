"""``tmc passk-extrapolate METRICS.json [--fit-n 8] [--out DIR]``: pass@K for K >> n from a beta-binomial fit.

Reads the per-problem ``(n, c)`` counts of a ``tmc eval`` report (``runs.<run>.per_problem``), and

1. **validation by holding out samples**: keeps ``--fit-n`` of each problem's ``n`` samples (hypergeometric
   subsample of the counts, one per ``--subsample-seeds`` seed), fits :mod:`harness.metrics.betabinom` on those
   counts and predicts pass@K for K up to ``n`` (bootstrap CI over problems), next to the unbiased pass@K measured
   from all ``n`` samples (Chen et al.; bootstrap CI over problems);
2. **extrapolation**: fits on all ``n`` samples and predicts pass@K for ``--extrapolate-ks`` (K >> n).

Writes ``DIR/betabinom.json``, ``DIR/table.md`` and ``DIR/passk_extrapolation.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def build_parser(prog: str = "tmc passk-extrapolate") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="pass@K beyond the samples: beta-binomial (and scaled Beta) fit "
                                "of per-problem counts, validated by holding out samples.")
    p.add_argument("metrics", help="a tmc eval metrics.json (per-problem n and c under runs.<run>.per_problem)")
    p.add_argument("--run", default=None, help="run name inside the report (default: the only / first one)")
    p.add_argument("--fit-n", type=int, default=8, help="samples per problem kept for the held-out fit (default 8)")
    p.add_argument("--subsample-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="seeds of the hypergeometric subsamples (default 0 1 2 3 4; the first gets bootstrap CIs)")
    p.add_argument("--models", nargs="+", default=["beta", "scaled_beta"], choices=["beta", "scaled_beta"])
    p.add_argument("--extrapolate-ks", type=int, nargs="+", default=[128, 256, 512, 1024, 4096, 16384])
    p.add_argument("--n-boot", type=int, default=100, help="bootstrap refits over problems (default 100)")
    p.add_argument("--out", default="outputs/passk_extrapolate", help="output folder")
    return p


def load_counts(path: str | Path, run: str | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """``(run, n, c)`` from a ``tmc eval`` metrics.json; one clear error if the file lacks per-problem counts."""
    data = json.loads(Path(path).read_text())
    runs = data.get("runs") if isinstance(data, dict) else None
    if not runs:
        raise ValueError(f"{path}: no 'runs' mapping; expected a `tmc eval` metrics.json")
    name = run or next(iter(runs))
    if name not in runs:
        raise ValueError(f"{path}: run {name!r} not found; allowed values: {', '.join(runs)}")
    pp = runs[name].get("per_problem")
    if not pp:
        raise ValueError(f"{path}: runs.{name}.per_problem is missing; re-run `tmc eval` to write per-problem counts")
    n = np.array([int(v["n"]) for v in pp.values()])
    c = np.array([int(v["c"]) for v in pp.values()])
    return name, n, c


def analyse(n: np.ndarray, c: np.ndarray, fit_n: int, seeds, models, extra_ks, n_boot: int) -> dict:
    from .betabinom import bootstrap_prediction, fit, subsample_counts
    from .bootstrap import bootstrap_pass_at_k

    n_min = int(n.min())
    ks = list(range(1, n_min + 1))
    meas = bootstrap_pass_at_k(n, c, ks, n_boot=1000, seed=0)
    out = {"n_problems": int(n.size), "n": n_min, "fit_n": fit_n,
           "measured": {"ks": ks, "mean": meas["mean"].tolist(), "lo": meas["lo"].tolist(),
                        "hi": meas["hi"].tolist(), "what": f"unbiased pass@k from all {n_min} samples, "
                                                          f"95% bootstrap CI over problems"},
           "held_out": {}, "extrapolation": {}}
    for m in models:
        runs = []
        for i, seed in enumerate(seeds):
            c_sub = subsample_counts(n, c, fit_n, np.random.default_rng(seed))
            n_sub = np.full_like(n, fit_n)
            if i == 0:
                rec = bootstrap_prediction(n_sub, c_sub, ks, m, n_boot=n_boot, seed=seed)
                sub = bootstrap_pass_at_k(n_sub, c_sub, list(range(1, fit_n + 1)), n_boot=1000, seed=seed)
                rec["measured_on_subsample"] = {"mean": sub["mean"].tolist(), "lo": sub["lo"].tolist(),
                                                "hi": sub["hi"].tolist()}
            else:
                f = fit(n_sub, c_sub, m)
                rec = {"fit": f.as_dict(), "ks": ks, "mean": f.pass_at_k(ks).tolist()}
            rec["seed"] = seed
            runs.append(rec)
        out["held_out"][m] = runs
        out["extrapolation"][m] = bootstrap_prediction(n, c, [n_min] + list(extra_ks), m, n_boot=n_boot, seed=0)
    return out


def table_md(res: dict) -> str:
    n, m = res["n"], res["fit_n"]
    meas = res["measured"]
    picks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= n]
    lines = [f"Held-out validation: fit on {m} of {n} samples per problem ({res['n_problems']} problems), predict "
             f"pass@K; measured = unbiased pass@K from all {n} samples (95% bootstrap CI over problems).", "",
             "| model | subsample seed | fit (a, b, s) | " + " | ".join(f"pass@{k} predicted" for k in picks) + " |",
             "|---|---|---|" + "---|" * len(picks),
             "| measured (all samples) | - | - | " + " | ".join(
                 f"{meas['mean'][k - 1]:.4f} [{meas['lo'][k - 1]:.4f}, {meas['hi'][k - 1]:.4f}]" for k in picks) + " |"]
    for model, runs in res["held_out"].items():
        for r in runs:
            f = r["fit"]
            cells = []
            for k in picks:
                v = f"{r['mean'][k - 1]:.4f}"
                if "lo" in r:
                    v += f" [{r['lo'][k - 1]:.4f}, {r['hi'][k - 1]:.4f}]"
                cells.append(v)
            lines.append(f"| {model} | {r['seed']} | ({f['a']:.3g}, {f['b']:.3g}, {f['s']:.3g}) | "
                         + " | ".join(cells) + " |")
    lines += ["", f"Extrapolation from all {n} samples (95% bootstrap CI over problems):", ""]
    any_m = next(iter(res["extrapolation"].values()))
    lines.append("| model | fit (a, b, s) | " + " | ".join(f"pass@{k}" for k in any_m["ks"]) + " |")
    lines.append("|---|---|" + "---|" * len(any_m["ks"]))
    for model, r in res["extrapolation"].items():
        f = r["fit"]
        lines.append(f"| {model} | ({f['a']:.3g}, {f['b']:.3g}, {f['s']:.3g}) | " + " | ".join(
            f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in zip(r["mean"], r["lo"], r["hi"])) + " |")
    return "\n".join(lines) + "\n"


def plot(res: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    meas = res["measured"]
    ks = np.array(meas["ks"])
    for ax in axes:
        ax.fill_between(ks, meas["lo"], meas["hi"], color="k", alpha=0.15)
        ax.plot(ks, meas["mean"], "k-", lw=2, label=f"measured, all {res['n']} samples (95% CI)")
    for j, (model, runs) in enumerate(res["held_out"].items()):
        r = runs[0]
        col = f"C{j}"
        axes[0].fill_between(ks, r["lo"], r["hi"], color=col, alpha=0.2)
        axes[0].plot(ks, r["mean"], "--", color=col, label=f"{model} fit on {res['fit_n']} (seed {r['seed']}, CI)")
        for rr in runs[1:]:
            axes[0].plot(ks, rr["mean"], ":", color=col, lw=0.8)
        e = res["extrapolation"][model]
        kk = np.array(e["ks"])
        axes[1].fill_between(kk, e["lo"], e["hi"], color=col, alpha=0.2)
        axes[1].plot(kk, e["mean"], "--o", ms=3, color=col, label=f"{model} fit on all {res['n']}")
    sub = res["held_out"][next(iter(res["held_out"]))][0].get("measured_on_subsample")
    if sub:
        axes[0].plot(np.arange(1, res["fit_n"] + 1), sub["mean"], "s", color="gray", ms=4,
                     label=f"measured on the {res['fit_n']} kept samples")
    axes[0].set_title(f"held out: fit on {res['fit_n']} samples/problem, predict up to {res['n']} "
                      f"(dotted: other subsample seeds)", fontsize=9)
    axes[1].set_title(f"extrapolation beyond n = {res['n']} (predicted, not measured)", fontsize=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("K")
        ax.set_ylabel("pass@K")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    name, n, c = load_counts(args.metrics, args.run)
    if args.fit_n > int(n.min()):
        raise SystemExit(f"--fit-n {args.fit_n} exceeds the smallest n ({int(n.min())}) in {args.metrics}")
    res = analyse(n, c, args.fit_n, args.subsample_seeds, args.models, args.extrapolate_ks, args.n_boot)
    res["source"] = {"metrics": str(args.metrics), "run": name}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "betabinom.json").write_text(json.dumps(res, indent=1))
    (out / "table.md").write_text(table_md(res))
    plot(res, out / "passk_extrapolation.png")
    print(table_md(res))
    print(f"wrote {out / 'betabinom.json'}, table.md, passk_extrapolation.png")
    return 0
