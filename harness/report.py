"""``tmc report RUN [RUN ...] --out DIR``: one self-contained page (HTML with embedded PNGs, and Markdown) per set of
runs, each figure saying what was measured and what was predicted.

Recognised inputs (by content, not name):

* a TMC-LM run folder (``results.json`` with ``comparison``; ``tmc tmclm``): the movement-matched comparison table
  and the step-and-movement, path-mass and coverage figures (transformer measured exactly, theory predicted);
* a ``checkpoints_metrics.json`` (``tmc eval-checkpoints``): Yue-style pass@k vs k for the base and every checkpoint
  with 95% bootstrap CIs over problems (measured), the crossover K (smallest K where the base's pass@K reaches the
  checkpoint's; measured up to n, and predicted beyond n by the beta-binomial fit of both);
* a ``tmc eval`` ``metrics.json`` (``runs.<run>.per_problem``): pass@k vs k with CIs (measured) and the beta-binomial
  extrapolation to K = 1024 (predicted);
* a ``tmc theory-fit`` output folder (``fit.json``): checkpoints' path mass vs the fitted trees' prediction matched by
  movement, crossover K measured vs predicted, and the selectors measured vs predicted (``--runs`` / ``--bon``).
"""

from __future__ import annotations

import argparse
import base64
import html
import json
from pathlib import Path

import numpy as np

EXTRA_KS = [16, 32, 64, 128, 256, 512, 1024]


def build_parser(prog: str = "tmc report") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Self-contained HTML + Markdown report of TMC-LM runs, "
                                "checkpoint evaluations and sample runs (measured vs predicted).")
    p.add_argument("runs", nargs="+", help="TMC-LM run folders, checkpoints_metrics.json or tmc eval metrics.json")
    p.add_argument("--out", required=True, help="output folder (report.html, report.md, PNGs)")
    return p


def _counts(pp: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.array([v["n"] for v in pp.values()]), np.array([v["c"] for v in pp.values()])


def _curve(n, c, ks):
    from harness.metrics.bootstrap import bootstrap_pass_at_k

    b = bootstrap_pass_at_k(n, c, ks, n_boot=1000, seed=0)
    return {"ks": list(map(int, ks)), "mean": b["mean"].tolist(), "lo": b["lo"].tolist(), "hi": b["hi"].tolist()}


def crossover(base: list[float], other: list[float], ks: list[int]) -> int | None:
    """Smallest K where the base's pass@K reaches the other's (at or after which base >= other); None if never."""
    for k, a, b in zip(ks, base, other):
        if a >= b:
            return int(k)
    return None


def checkpoints_section(path: Path, out: Path, idx: int) -> tuple[str, list[tuple[str, str]]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.metrics.betabinom import fit

    d = json.loads(path.read_text())
    steps = sorted((s for s, v in d["steps"].items() if "per_problem" in v), key=int)
    skipped = sorted((s for s, v in d["steps"].items() if "per_problem" not in v), key=int)
    if not steps:
        raise ValueError(f"{path}: no step has per-problem counts (per_problem); re-run `tmc eval-checkpoints`")
    curves, fits = {}, {}
    for s in steps:
        n, c = _counts(d["steps"][s]["per_problem"])
        curves[s] = _curve(n, c, range(1, int(n.min()) + 1))
        fits[s] = fit(n, c, "beta")
    base = steps[0]
    nmax = len(curves[base]["ks"])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    lines = [f"| step | pass@1 | pass@{nmax} | crossover K measured (K <= {nmax}) | crossover K predicted "
             f"(beta-binomial, K <= {EXTRA_KS[-1]}) |", "|---|---|---|---|---|"]
    allk = list(range(1, EXTRA_KS[-1] + 1))
    pb = fits[base].pass_at_k(allk)
    for i, s in enumerate(steps):
        cv = curves[s]
        ax.fill_between(cv["ks"], cv["lo"], cv["hi"], color=f"C{i}", alpha=0.15)
        ax.plot(cv["ks"], cv["mean"], "-", color=f"C{i}", label=f"step {s}")
        if s != base:
            meas = crossover(curves[base]["mean"], cv["mean"], cv["ks"])
            pred = crossover(pb.tolist(), fits[s].pass_at_k(allk).tolist(), allk)
            lines.append(f"| {s} | {cv['mean'][0]:.3f} | {cv['mean'][-1]:.3f} | {meas or 'none'} | {pred or 'none'} |")
        else:
            tag = "base" if s == "0" else "reference: first step with counts, not the base"
            lines.append(f"| {s} ({tag}) | {cv['mean'][0]:.3f} | {cv['mean'][-1]:.3f} | - | - |")
    ax.set_xscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (unbiased, 95% CI over problems)")
    ax.set_title(f"{d.get('method', '')} {d.get('run', path.name)}: pass@k vs k per checkpoint (measured)", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    png = out / f"passk_vs_k_{idx}.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    md = (f"## Checkpoints: {d.get('run', path)} ({d.get('method', '?')})\n\nSource: `{path}`. Measured: unbiased "
          f"pass@k from each checkpoint's samples with 95% bootstrap CIs over problems. Predicted: the crossover K "
          f"beyond n from beta-binomial fits (harness/metrics/betabinom.py) of the base and the checkpoint.\n\n"
          + "\n".join(lines) + "\n"
          + (f"\nSteps without per-problem counts in the file (left out): {', '.join(skipped)}.\n" if skipped else ""))
    return md, [(png.name, "pass@k vs k per checkpoint (Yue et al. style); measured, 95% CIs")]


def eval_section(path: Path, out: Path, idx: int) -> tuple[str, list[tuple[str, str]]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.metrics.betabinom import fit

    d = json.loads(path.read_text())
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    rows = ["| run | n | pass@1 | pass@n | predicted pass@" + " | predicted pass@".join(map(str, EXTRA_KS)) + " |",
            "|---|---|---|---|" + "---|" * len(EXTRA_KS)]
    for i, (name, r) in enumerate(d["runs"].items()):
        n, c = _counts(r["per_problem"])
        cv = _curve(n, c, range(1, int(n.min()) + 1))
        f = fit(n, c, "beta")
        ax.fill_between(cv["ks"], cv["lo"], cv["hi"], color=f"C{i}", alpha=0.15)
        ax.plot(cv["ks"], cv["mean"], "-", color=f"C{i}", label=f"{name} measured")
        ax.plot(EXTRA_KS, f.pass_at_k(EXTRA_KS), "--o", ms=3, color=f"C{i}", label=f"{name} predicted (beta)")
        rows.append(f"| {name} | {int(n.min())} | {cv['mean'][0]:.4f} | {cv['mean'][-1]:.4f} | "
                    + " | ".join(f"{v:.3f}" for v in f.pass_at_k(EXTRA_KS)) + " |")
    ax.set_xscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k")
    ax.set_title("pass@k: measured (solid, 95% CI) and beta-binomial extrapolation (dashed)", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    png = out / f"passk_extrapolated_{idx}.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    md = (f"## Sample runs: `{path}`\n\nMeasured: unbiased pass@k (k <= n) with 95% bootstrap CIs over problems. "
          f"Predicted: pass@K beyond n from a maximum-likelihood beta-binomial fit of the per-problem counts "
          f"(validation: docs/passk_extrapolation.md).\n\n" + "\n".join(rows) + "\n")
    return md, [(png.name, "pass@k measured and extrapolated")]


def tmclm_section(path: Path, out: Path, idx: int) -> tuple[str, list[tuple[str, str]]]:
    import shutil

    table = (path / "table.md").read_text() if (path / "table.md").exists() else ""
    figs = []
    for name, what in [("step_and_movement_l1_TASK1.png", "TASK1 easy/hard share vs optimizer step (top) and vs L1 "
                        "distance moved from the base (bottom): TMC-LM measured exactly (solid), theory predicted "
                        "(dashed)"),
                       ("path_mass_TASK1.png", "per-path mass vs step: TMC-LM measured (solid), theory at equal step "
                        "(dashed)"),
                       ("coverage_final.png", "final coverage: TMC-LM measured vs theory at equal step")]:
        if (path / name).exists():
            dst = f"tmclm{idx}_{name}"
            shutil.copy(path / name, out / dst)
            figs.append((dst, what))
    md = (f"## TMC-LM run: `{path}`\n\nMeasured: the transformer's exact path distribution. Predicted: tmc_theory's "
          f"expected dynamics from the same start, read at the same step and at the same distance moved "
          f"(docs/tmclm.md).\n\n{table}\n")
    return md, figs


def theory_fit_section(path: Path, out: Path, idx: int) -> tuple[str, list[tuple[str, str]]]:
    """A ``tmc theory-fit`` output folder: its measured-vs-predicted tables (``runs_vs_theory.md``: path-mass
    trajectories matched by movement and crossover K; ``bon_vs_theory.md``: selectors) and figures."""
    import shutil

    parts, figs = [], []
    for name in ("runs_vs_theory.md", "bon_vs_theory.md"):
        if (path / name).exists():
            parts.append((path / name).read_text())
    for name, what in [("runs_vs_theory.png", "easy / rare-correct / wrong path mass against movement from the base: "
                        "training checkpoints measured (dots), tmc_theory on the fitted path trees predicted "
                        "(dashed), matched by movement"),
                       ("predict.png", "predicted path mass per method on the fitted trees (theory steps)")]:
        if (path / name).exists():
            dst = f"theoryfit{idx}_{name}"
            shutil.copy(path / name, out / dst)
            figs.append((dst, what))
    if not parts:
        parts.append("(no runs_vs_theory.md / bon_vs_theory.md: run `tmc theory-fit` with --runs / --bon)\n")
    md = (f"## Fitted TMC vs runs: `{path}`\n\nMeasured: path mass of checkpoints (harness.paths.mass) and Best-of-N "
          f"selections (tmc bon). Predicted: tmc_theory on per-problem trees fitted to the base's reasoning paths "
          f"(docs/theory_vs_runs.md).\n\n" + "\n".join(parts))
    return md, figs


def kind_of(p: Path) -> str:
    if p.is_dir() and (p / "fit.json").exists():
        return "theory_fit"
    if p.is_dir() and (p / "results.json").exists():
        return "tmclm"
    if p.is_file() and p.suffix == ".json":
        d = json.loads(p.read_text())
        if "steps" in d and isinstance(d["steps"], dict):
            return "checkpoints"
        if "runs" in d:
            return "eval"
    raise ValueError(f"{p}: not a TMC-LM run folder (with results.json), a theory-fit folder (with fit.json), a "
                     "checkpoints_metrics.json or a tmc eval metrics.json")


def render_html(sections: list[tuple[str, list[tuple[str, str]]]], out: Path) -> str:
    body = []
    for md, figs in sections:
        body.append(f"<pre style='white-space:pre-wrap;font-size:12px'>{html.escape(md)}</pre>")
        for name, what in figs:
            b64 = base64.b64encode((out / name).read_bytes()).decode()
            body.append(f"<figure><img style='max-width:100%' src='data:image/png;base64,{b64}'>"
                        f"<figcaption>{html.escape(what)}</figcaption></figure>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tmc report</title></head><body>"
            "<h1>tmc report</h1>" + "\n".join(body) + "</body></html>")


def run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    for i, r in enumerate(args.runs):
        p = Path(r)
        k = kind_of(p)
        fn = {"tmclm": tmclm_section, "checkpoints": checkpoints_section, "eval": eval_section,
              "theory_fit": theory_fit_section}[k]
        sections.append(fn(p, out, i))
    md = "# tmc report\n\n" + "\n".join(
        s + "\n" + "\n".join(f"![{w}]({n})" for n, w in figs) + "\n" for s, figs in sections)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(render_html(sections, out))
    print(f"wrote {out / 'report.html'} and {out / 'report.md'}")
    return 0
