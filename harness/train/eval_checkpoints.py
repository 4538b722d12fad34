"""``tmc eval-checkpoints <run>``: sample every saved checkpoint of a training run and plot pass@k over training.

For the base model (step 0, no adapter) and every ``<run>/checkpoint-<step>/`` adapter, sample n completions
per evaluation problem through ``run_sampling`` with the SAME prompt template as training and the SAME
decoding for every step (default T = 0.6, top-p 0.95, the Yue et al. 2025 protocol), into ONE sample run
``<run>/eval/`` with ``step`` = the checkpoint's step (resumable: finished samples are skipped). Then
``evaluate_run`` gives pass@k (k = 1..n, unbiased estimator, bootstrap CIs) per step, written to
``<out>/checkpoints_metrics.json`` (per step also: the problems solved at least once, which of the base
model's it lost and which it gained -- the solved-set picture of squeezing -- and the completions' mean
length, share cut at the token limit and grade statuses; printed as a second table; and each problem's
``{n, c}``, so that ``tmc analyze compare_steps`` can pair two committed reports without the sample stores) with
two figures:

* ``passk_vs_k.png``: pass@k against k (log axis), one curve per step, the base model dashed;
* ``passk_vs_step.png``: pass@k against training step for k = 1, 2, 4, ..., n, base values as dotted lines
  (the Yue et al. picture: RLVR raises pass@1 while large-k pass@k falls to or below the base).

**Path mass** (:mod:`harness.paths.mass`, the reported measure of squeezing): per step, the share of the step's
samples on the base model's easy path, its rare correct paths, its other correct and wrong paths, and on paths the
base never produced; distinct correct paths per problem; the base's rare correct paths seen again (an unseen one
with its 95% upper mass bound 1 - 0.05^(1/n)); pass@k on the base's hard problems (solved only by rare paths). Kept
per step as ``path_mass`` in ``checkpoints_metrics.json``, printed as a third table and drawn as
``path_mass_vs_step.png`` (stacked). It needs the completion texts and a base (step 0 in ``<run>/eval`` or
``--base-run``); without them it is skipped and the report says why (``paths_skipped``). The surface "CoT forms" of
``harness/analyze/cot_forms.py`` are only a secondary diagnostic.

``tmc eval-checkpoints --table RUN [RUN ...]`` samples nothing: it reads the runs' ``checkpoints_metrics.json``
(or takes ``checkpoints_metrics.json`` files themselves, such as the ones committed under ``docs/``) and prints
one Markdown table of pass@k (95% CI) against step for every method, with the base model (step 0, from whichever
run sampled it) as the first row (:func:`steps_table`), then the path-mass table across the runs that hold it
(:func:`harness.paths.mass.path_mass_table`). Two runs of one method are labelled by their run folder.
That table compares nothing (each cell is one step's own CI); to compare two steps or runs, pair them over the
problems with ``tmc analyze compare_steps`` (bootstrap CI and exact p). The lost/gained-vs-base columns of the second
table carry the exact sign test of lost against gained problems, Holm-corrected over the steps.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Callable

from harness.cpu_threads import add_threads_argument, apply_threads
from harness.help_text import first_paragraph


def checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every ``checkpoint-<step>`` folder holding an adapter, sorted by step."""
    out = []
    for p in Path(run_dir).glob("checkpoint-*"):
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and p.is_dir() and ((p / "adapter_config.json").exists() or (p / "config.json").exists()):
            out.append((int(m.group(1)), p))
    return sorted(out)


def build_parser(prog: str = "tmc eval-checkpoints") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=first_paragraph(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="training run folder (output_dir of tmc train)")
    p.add_argument("--split", default="test", help="split of the evaluation problems (default test)")
    p.add_argument("--source", default=None, help="evaluation problems (JSONL / hub id); default ../shared/data")
    p.add_argument("--limit", type=int, default=100, help="number of evaluation problems")
    p.add_argument("--n", type=int, default=16, help="samples per problem (pass@k for k = 1..n)")
    p.add_argument("--temperature", type=float, default=0.6,
                   help="sampling temperature, the same for every step (default 0.6, Yue et al. 2025)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (default 0.95)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="default: the training max_completion_length")
    p.add_argument("--backend", default="hf", choices=("hf", "vllm"),
                   help="sampling backend: hf = transformers generate, vllm = vLLM engine (default hf)")
    p.add_argument("--batch-size", type=int, default=16,
                   help="rows (prompt x sample) per generate call (default 16)")
    p.add_argument("--dtype", default="train", choices=("train", "auto", "float32", "bfloat16", "float16"),
                   help="weights dtype for sampling; train (default) = the dtype `tmc train` trained the policy in on "
                        "this machine (float32 on a CPU, bf16 on a GPU for dtype: auto), so a CPU with native bf16 "
                        "does not evaluate a float32-trained policy in bf16; auto = the sampler's own choice (what "
                        "eval folders made before this option used: pass it to resume one of those)")
    p.add_argument("--seed", type=int, default=0,
                   help="sampling seed; sample j of problem p uses the same seed at every step (default 0)")
    p.add_argument("--steps", type=int, nargs="*", default=None, help="only these checkpoint steps (0 = base)")
    p.add_argument("--no-base", action="store_true", help="do not sample the base model (step 0)")
    p.add_argument("--base-run", default=None, metavar="RUN",
                   help="take step 0 from this `tmc sample` run (e.g. a base eval over the whole test set) instead of "
                        "sampling it: restricted to this evaluation's problems, and its decoding (benchmark, split, "
                        "template, temperature, top_p, max_new_tokens, seed) must equal this evaluation's")
    p.add_argument("--out", default=None, help="output folder for metrics/figures (default <run>/eval_report)")
    p.add_argument("--rare-threshold", type=float, default=0.25,
                   help="path mass: a correct base path with base share below this is rare (default 0.25)")
    p.add_argument("--no-paths", action="store_true", help="skip path mass (it clusters every step's completions)")
    p.add_argument("--table", nargs="*", metavar="RUN", default=None,
                   help="sample nothing: print the pass@k-vs-steps Markdown table of these runs (and `run`); each "
                        "RUN is a training run folder or a checkpoints_metrics.json (e.g. one committed to docs/)")
    add_threads_argument(p)
    return p


def sample_config(train_meta: dict, args) -> object:
    from harness.pipeline import SampleConfig
    from harness.train.runner import resolved_dtype_name

    cfg = train_meta["config"]
    dtype = getattr(args, "dtype", "train")
    dtype = resolved_dtype_name(cfg.get("dtype", "auto")) if dtype == "train" else dtype
    return SampleConfig(model=train_meta.get("model_path") or cfg["model"], backend=args.backend, dtype=dtype,
                        benchmark=cfg["benchmark"], split=args.split, source=args.source, limit=args.limit,
                        template=cfg["template"], n=args.n, temperature=args.temperature, top_p=args.top_p,
                        max_new_tokens=args.max_new_tokens or cfg["max_completion_length"], seed=args.seed,
                        batch_size=args.batch_size)


BASE_RUN_KEYS = ("model", "benchmark", "split", "source", "template", "temperature", "top_p", "max_new_tokens", "seed")


def eval_id_scheme(eval_dir: str | Path) -> int:
    """The problem-id scheme of the evaluation store ``eval_dir``: its run.json's, or the current one for a store
    not made yet (harness/data/ids.py)."""
    from harness.data.ids import ID_SCHEME, run_scheme

    return run_scheme(eval_dir) if (Path(eval_dir) / "run.json").is_file() else ID_SCHEME


def base_from_run(base_run: str | Path, scfg, id_scheme: int | None = None) -> dict:
    """Step 0 metrics from an existing base sample run, on the problems ``scfg`` evaluates.

    Same draws, not just the same distribution: sample j of problem p is seeded by derive_seed(seed, p, j) in
    every run (harness.pipeline), so a base run with equal decoding settings holds exactly the samples this
    evaluation would draw for step 0. Raises ConfigError naming every setting that differs (provenance.py), and when
    the base run names problems in another id scheme than ``id_scheme``, the evaluation store's (default: the
    current scheme): rows of two schemes never pair (harness/data/ids.py).
    """
    from harness.data import load_problems
    from harness.evaluate import evaluate_run
    from harness.store import resolved_at
    from tmc_core.config import ConfigError

    meta_path = Path(base_run) / "run.json"
    if not meta_path.exists():
        raise ConfigError(f"--base-run {base_run}: not a sample run (no run.json); allowed values: a `tmc sample` run")
    base_meta = json.loads(meta_path.read_text())
    base_cfg = base_meta.get("config", {})
    from .provenance import mismatches

    diff = mismatches(base_cfg, {key: getattr(scfg, key) for key in BASE_RUN_KEYS})
    if diff:
        raise ConfigError(f"--base-run {base_run}: {'; '.join(d.replace(' here', ' in this evaluation') for d in diff)}"
                          "; allowed values: a base run of the same model, data, template and decoding settings")
    # what the base was drawn in: run.json "resolved" where recorded (what `auto` became there), else its config
    base_dtype = base_cfg.get("dtype", "auto")
    drawn, how = sorted({e.get("dtype") for e in resolved_at(base_meta, 0)} - {None}), "run.json resolved"
    if not drawn and base_dtype != "auto":
        drawn, how = [base_dtype], "its config"
    if scfg.dtype != "auto" and drawn and drawn != [scfg.dtype]:
        raise ConfigError(f"--base-run {base_run}: drawn in {', '.join(drawn)} there (dtype {base_dtype!r}, {how}) "
                          f"but this evaluation samples in {scfg.dtype}; allowed values: a base run drawn in "
                          f"{scfg.dtype}, or --dtype {drawn[0]}")
    from harness.data.ids import ID_SCHEME, require_same_scheme, scheme_of

    base_scheme = scheme_of(base_meta)
    require_same_scheme("--base-run", (f"base run {base_run}", base_scheme),
                        ("this evaluation's store", ID_SCHEME if id_scheme is None else id_scheme))
    if int(base_cfg.get("n", 0)) < scfg.n:
        raise ConfigError(f"--base-run {base_run}: n = {base_cfg.get('n')} there, fewer than this evaluation's "
                          f"{scfg.n}")
    ids = [p.id for p in load_problems(scfg.benchmark, split=scfg.split, source=scfg.source, limit=scfg.limit,
                                       offset=getattr(scfg, "offset", 0), id_scheme=base_scheme)]
    return evaluate_run(base_run, step=0, problem_ids=ids)


def evaluate_checkpoints(run_dir: str | Path, args, sampler: Callable | None = None,
                         cluster_fn: Callable | None = None) -> dict:
    """Sample base + checkpoints into ``<run>/eval`` and evaluate each step; returns the metrics dict.

    ``--steps`` limits what is SAMPLED, not what is reported: the report (and ``checkpoints_metrics.json``) covers
    every step held in ``<run>/eval``, so a later call that samples only new checkpoints keeps the earlier steps,
    and a step whose checkpoint folder is gone (e.g. sampled on another machine) is evaluated from the store.
    Step 0 is reported from ``--base-run`` when given, else from the store when it holds step 0.
    ``cluster_fn`` (default :func:`harness.paths.cluster_paths`) groups completions into paths for the path mass.
    """
    from harness.evaluate import evaluate_run

    run_dir = Path(run_dir)
    meta_path = run_dir / "train_run.json"
    if not meta_path.exists():
        from tmc_core.config import ConfigError

        raise ConfigError(f"{run_dir}: not a training run (no train_run.json); allowed values: an output_dir of `tmc "
                          f"train`")
    meta = json.loads(meta_path.read_text())
    eval_dir = run_dir / "eval"
    base_run = getattr(args, "base_run", None)
    todo: list[tuple[int, str | None]] = [] if (args.no_base or base_run) else [(0, None)]
    todo += [(s, str(p)) for s, p in checkpoints(run_dir)]
    if args.steps is not None:
        todo = [(s, a) for s, a in todo if s in set(args.steps)]
    scfg = sample_config(meta, args) if (base_run or sampler is None) else None
    # settings and id scheme checked before any sampling
    base_metrics = base_from_run(base_run, scfg, eval_id_scheme(eval_dir)) if base_run else None
    if sampler is None:
        from harness.pipeline import run_sampling

        def sampler(step, adapter):
            return run_sampling(scfg, run_dir=eval_dir, step=step, adapter=adapter)
    for step, adapter in todo:
        sampler(step, adapter)
    steps = {s for s, _ in todo}
    if (eval_dir / "samples").is_dir():  # earlier calls' steps stay in the report
        from harness.store import SampleStore

        steps |= set(SampleStore(eval_dir).steps())
    if base_metrics is not None:
        steps.discard(0)
    # per_problem ({problem_id: {n, c}}) is kept so that a committed report alone supports paired comparisons
    # (harness/analyze/compare_steps.py reads it) after the ignored runs/ folder is gone
    # and resolved (the dtype/device/threads the step was drawn in, run.json) so the report says its precision
    keep = ("pass_at_k", "n", "n_problems", "maj_at_k", "n_solved", "solved", "mean_tokens", "grade_status",
            "finish_reason", "per_problem", "resolved")
    results = {}
    if base_metrics is not None:
        results[0] = {k: base_metrics.get(k) for k in keep}
        results[0]["source"] = str(base_run)
    for step in sorted(steps):
        r = evaluate_run(eval_dir, step=step)
        results[step] = {k: r.get(k) for k in keep}
    if 0 in results:
        for step in results:
            results[step]["vs_base"] = solved_set_change(results[0]["solved"], results[step]["solved"])
    out = Path(args.out) if args.out else run_dir / "eval_report"
    out.mkdir(parents=True, exist_ok=True)
    report = {"run": str(run_dir), "method": meta.get("method"), "eval_dir": str(eval_dir),
              "id_scheme": eval_id_scheme(eval_dir), "steps": results}
    title = f"{meta.get('method')} — {run_dir.name}"
    if getattr(args, "no_paths", False):
        report["paths_skipped"] = "--no-paths"
    else:
        report.update(add_path_mass(results, eval_dir, base_run, args, cluster_fn, out, title))
    (out / "checkpoints_metrics.json").write_text(json.dumps(report, indent=2))
    plot(results, out, title=title)
    return report


def add_path_mass(results: dict, eval_dir: Path, base_run, args, cluster_fn, out: Path, title: str) -> dict:
    """Put ``path_mass`` (:func:`harness.paths.mass.path_mass`) into every step of ``results`` and draw
    ``path_mass_vs_step.png``; returns the report's top-level ``paths`` entry, or ``paths_skipped`` with the reason
    (no base samples, or no completion texts in the store)."""
    from harness.paths.mass import checkpoint_path_mass, plot_path_mass
    from harness.paths.table import PathTableConfig, default_cluster_fn
    from harness.store import SampleStore

    if not (eval_dir / "samples").is_dir():
        return {"paths_skipped": f"{eval_dir}: no samples"}
    frames = {s: SampleStore(eval_dir).read(step=s) for s in results if s != 0 or base_run is None}
    if 0 not in results:
        return {"paths_skipped": "no base (step 0) samples: path mass is measured against the base's paths"}
    if base_run is not None:
        ids = set().union(*(set(map(str, f["problem_id"])) for f in frames.values())) if frames else set()
        base = SampleStore(base_run).read(step=0)
        frames[0] = base[base["problem_id"].astype(str).isin(ids)].reset_index(drop=True)
    missing = [s for s, f in frames.items() if "completion" not in f.columns or f["completion"].isna().all()]
    if missing:
        return {"paths_skipped": f"no completion texts at steps {sorted(missing)}"}
    cfg = PathTableConfig(rare_threshold=getattr(args, "rare_threshold", 0.25))
    cluster_fn = cluster_fn or default_cluster_fn()
    masses = checkpoint_path_mass(frames[0], frames, cluster_fn=cluster_fn, cfg=cfg)
    for s, pm in masses.items():
        results[s]["path_mass"] = pm
    plot_path_mass(masses, out / "path_mass_vs_step.png", title=f"path mass — {title}")
    hard = masses[0]["hard"]["problems"]
    return {"paths": {"config": {"rare_threshold": cfg.rare_threshold, "correct_rule": cfg.correct_rule,
                                 "ci": cfg.ci, "unseen_alpha": 0.05},
                      "clustering": f"{getattr(cluster_fn, '__module__', '?')}."
                                    f"{getattr(cluster_fn, '__qualname__', '?')}",
                      "hard_problems": hard}}


def solved_set_change(base_solved: list[str], solved: list[str]) -> dict:
    """Problems solved at least once (in n samples) by the base model but not at this step (``lost``: the
    forgotten ones that squeezing predicts) and the reverse (``gained``), as sorted id lists with counts."""
    b, s = set(map(str, base_solved)), set(map(str, solved))
    return {"lost": sorted(b - s), "gained": sorted(s - b), "n_lost": len(b - s), "n_gained": len(s - b),
            "n_kept": len(b & s)}


def shape_table(results: dict) -> str:
    """Markdown table per step: mean completion tokens, share cut at the token limit, share graded
    ``truncated``, problems solved >= 1 of n, and the solved-set change against the base model with the exact
    sign test of lost against gained problems (two-sided) and its Holm correction over the steps shown."""
    from harness.metrics.exact_tests import sign_test_counts
    from harness.metrics.holm import holm

    lines = ["| step | mean tokens | cut at limit | graded truncated | solved >= 1 | lost vs base | gained vs base "
             "| sign-test p (Holm over steps) |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    order = sorted(results, key=int)
    tests = [sign_test_counts(results[s]["vs_base"]["n_lost"], results[s]["vs_base"]["n_gained"])["p"]
             if int(s) != 0 and "n_lost" in results[s].get("vs_base", {}) else None for s in order]
    adjusted = holm(tests)["adjusted"]
    for step, p, p_holm in zip(order, tests, adjusted):
        r = results[step]
        total = max(1, sum(r.get("finish_reason", {}).values()))
        cut = r.get("finish_reason", {}).get("length", 0) / total
        trunc = r.get("grade_status", {}).get("truncated", 0) / max(1, sum(r.get("grade_status", {}).values()))
        vb = r.get("vs_base", {})
        mt = "-" if r.get("mean_tokens") is None else f"{r['mean_tokens']:.1f}"
        lines.append(f"| {'base' if int(step) == 0 else step} | {mt} | {cut:.1%} | {trunc:.1%} | {r['n_solved']} | "
                     f"{vb.get('n_lost', '-')} | {vb.get('n_gained', '-')} | "
                     + ("-" if p is None else f"{p:.3g} ({p_holm:.3g})") + " |")
    return "\n".join(lines)


def _finish(fig, ax, xlabel: str, ylabel: str, title: str, path: Path) -> Path:
    """Label, save (120 dpi) and close one figure; returns its path."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot(results: dict[int, dict], out: Path, title: str = "") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted(results)
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    cmap = plt.get_cmap("viridis")
    for i, s in enumerate(steps):
        pk = results[s]["pass_at_k"]
        ks = sorted(int(k) for k in pk)
        ax.plot(ks, [pk[str(k)]["mean"] for k in ks], "--" if s == 0 else "-", color="black" if s == 0 else
                cmap(i / max(1, len(steps) - 1)), label="base" if s == 0 else f"step {s}")
    ax.set_xscale("log", base=2)
    paths.append(_finish(fig, ax, "k", "pass@k", title, out / "passk_vs_k.png"))

    n = min(results[s]["n"] for s in steps)
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= n]
    fig, ax = plt.subplots(figsize=(6, 4))
    trained = [s for s in steps if s != 0]
    for j, k in enumerate(ks):
        color = plt.get_cmap("plasma")(j / max(1, len(ks) - 1))
        ax.plot(trained, [results[s]["pass_at_k"][str(k)]["mean"] for s in trained], "o-", color=color,
                label=f"pass@{k}")
        if 0 in results:
            ax.axhline(results[0]["pass_at_k"][str(k)]["mean"], color=color, ls=":", lw=1)
    ylabel = "pass@k (dotted: base)" if 0 in results else "pass@k (base not evaluated)"
    paths.append(_finish(fig, ax, "training step", ylabel, title, out / "passk_vs_step.png"))
    return paths


def report_labels(reports: list[dict]) -> list[str]:
    """Row label of each report: its method, or ``method (run folder name)`` when two reports share a method
    (e.g. two RL-rej thresholds), so that their rows can be told apart."""
    methods = [str(r.get("method")) for r in reports]
    return [m if methods.count(m) == 1 else f"{m} ({Path(str(r.get('run', '?'))).name})"
            for m, r in zip(methods, reports)]


def steps_table(reports: list[dict], ks: tuple[int, ...] = (1, 4, 16, 64)) -> str:
    """Markdown table: one row per (method, step) of every report (``checkpoints_metrics.json`` dicts), the base
    model (step 0) once at the top; pass@k as ``mean [lo, hi]`` for the ``ks`` that every row has (k <= n), and
    always for k = n, the largest k every row supports."""
    rows: list[tuple[str, int, dict]] = []
    base = next((r["steps"][s] for r in reports for s in r["steps"] if int(s) == 0), None)
    if base is not None:
        rows.append(("base", 0, base))
    for r, label in zip(reports, report_labels(reports)):
        for s in sorted(r["steps"], key=int):
            if int(s) != 0:
                rows.append((label, int(s), r["steps"][s]))
    if not rows:
        return "(no evaluated steps)"
    n = min(int(x["n"]) for _, _, x in rows)
    ks = sorted({k for k in ks if k <= n} | {n})
    lines = ["| model | step | problems | n | " + " | ".join(f"pass@{k}" for k in ks) + " |",
             "|---|---:|---:|---:|" + "---|" * len(ks)]
    for name, step, x in rows:
        cells = []
        for k in ks:
            v = x["pass_at_k"][str(k)]
            cells.append(f"{v['mean']:.3f} [{v['lo']:.3f}, {v['hi']:.3f}]")
        lines.append(f"| {name} | {step} | {x['n_problems']} | {x['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args) -> int:
    if args.table is not None:
        runs = [args.run, *args.table]
        reports = []
        for r in runs:  # a training run folder, or a checkpoints_metrics.json itself (e.g. one committed to docs/)
            f = Path(r) if Path(r).is_file() else Path(r) / "eval_report" / "checkpoints_metrics.json"
            if not f.exists():
                from tmc_core.config import ConfigError

                raise ConfigError(f"{f}: missing; allowed values: runs evaluated by `tmc eval-checkpoints <run>`, "
                                  "or their checkpoints_metrics.json")
            reports.append(json.loads(f.read_text()))
        print(steps_table(reports))
        if any(v.get("path_mass") for r in reports for v in r.get("steps", {}).values()):
            from harness.paths.mass import path_mass_table

            print()
            print(path_mass_table(reports, report_labels(reports)))
        return 0
    apply_threads(args.threads)
    report = evaluate_checkpoints(args.run, args)
    steps = sorted(report["steps"])
    n = min(report["steps"][s]["n"] for s in steps)
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= n]
    print("step  " + "  ".join(f"pass@{k:<4d}" for k in ks))
    for s in steps:
        pk = report["steps"][s]["pass_at_k"]
        print(f"{('base' if s == 0 else s)!s:5} " + "  ".join(f"{pk[str(k)]['mean']:.4f}   " for k in ks))
    print(shape_table(report["steps"]))
    if any(v.get("path_mass") for v in report["steps"].values()):
        from harness.paths.mass import mass_table

        print(mass_table({s: v.get("path_mass") for s, v in report["steps"].items()}, label=str(report["method"])))
    else:
        print(f"path mass skipped: {report.get('paths_skipped')}")
    print(f"metrics and figures: {Path(args.out) if args.out else Path(args.run) / 'eval_report'}")
    return 0
