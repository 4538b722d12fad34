"""``tmc tmclm --config configs/tmclm_paper.yaml [--out DIR] [--set KEY=VALUE ...]``.

Runs the whole TMC-LM study and writes ``DIR/results.json`` plus PNGs:

1. pretrain the transformer on TMC paths (:mod:`.pretrain`), save it to ``DIR/model/``; exact KL to the TMC and
   per-path probabilities (model vs TMC) per prompt;
2. exact metrics of the pretrained model (:mod:`.measure`) and the five inference selectors with it as base
   sampler (:mod:`.inference`);
3. post-train a copy with each method through the harness trainer (:mod:`.posttrain`), recording the exact path
   distribution every ``eval_every`` steps;
4. the theory's expected dynamics from the same start, lr matched (:mod:`.compare`); table + plots
   ``path_mass_<TASK>.png``, ``coverage_final.png``, ``forgetting_<TASK2>.png``, ``pretrain_paths.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from .config import TmclmConfig


def build_parser(prog: str = "tmc tmclm") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="TMC-LM: a transformer pretrained on TMC paths, post-trained "
                                "with the harness's six methods, measured exactly against the theory.")
    p.add_argument("--config", default=None, help="YAML TmclmConfig (e.g. configs/tmclm_paper.yaml); "
                   "default: built-in defaults (paper instance)")
    p.add_argument("--out", default=None, help="output folder (overrides out_dir)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field with a dotted key, e.g. --set posttrain.steps=20")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--recompare", metavar="RUN_DIR", default=None,
                   help="only recompute the theory comparison (step- and movement-matched) of a finished run from "
                        "RUN_DIR/results.json, no training; --set compare.*=... may change its settings")
    p.add_argument("--describe", action="store_true", help="print every TmclmConfig field with its default and help, "
                                                           "and exit")
    return p


def build_tmc(cfg: TmclmConfig):
    ic = cfg.instance
    if ic.kind == "paper":
        from tmc_theory.tmc import paper_tmc

        return paper_tmc()
    from tmc_theory.generate import random_tmc

    return random_tmc(ic.depth, ic.width, n_tasks=ic.n_tasks, high_weight=ic.high_weight, low_weight=ic.low_weight,
                      c_size=ic.c_size, seed=ic.seed)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x


def pretrain_report(tmc, probs_by_prompt: dict) -> dict:
    """Per-path probabilities model vs TMC for every prompt (paths with TMC mass > 0)."""
    from .measure import path_name, tmc_path_probs

    paths = tmc.enumerate_paths()
    out = {}
    for key, q in probs_by_prompt.items():
        p = tmc_path_probs(tmc, None if key == "<any>" else key)
        out[key] = {path_name(pp): {"tmc": float(a), "model": float(b)} for pp, a, b in zip(paths, p, q) if a > 0}
    return out


def plot_pretrain(tmc, probs_by_prompt: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .measure import path_name, tmc_path_probs

    keys = list(probs_by_prompt)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.4), squeeze=False)
    paths = tmc.enumerate_paths()
    for ax, key in zip(axes[0], keys):
        p = tmc_path_probs(tmc, None if key == "<any>" else key)
        m = p > 0
        x = np.arange(int(m.sum()))
        ax.bar(x - 0.2, p[m], 0.4, label="TMC")
        ax.bar(x + 0.2, probs_by_prompt[key][m], 0.4, label="TMC-LM")
        if m.sum() <= 16:
            ax.set_xticks(x)
            ax.set_xticklabels([path_name(pp) for pp in paths[m]], rotation=90, fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"prompt {key}", fontsize=9)
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_ylabel("path probability")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary_table(tmc, comparisons: dict, base: dict, k: int) -> str:
    """Markdown table: final coverage and pass@K, TMC-LM vs theory, per method (train task and cross tasks)."""
    tasks = [t.name for t in tmc.tasks]
    head = "| method | theory lr | " + " | ".join(
        f"{t} easy/hard/inv TMC-LM | {t} easy/hard/inv theory | {t} pass@{k} LM/theory" for t in tasks) + " |"
    lines = [head, "|" + "---|" * (2 + 3 * len(tasks))]

    def cov(d):
        return f"{100 * d['easy']:.1f}/{100 * d['hard']:.1f}/{100 * d['invalid']:.1f}"

    row = "| pretrained (task prompt) | - | "
    row += " | ".join(f"{cov(base[t][t])} | - | {base[t][t][f'pass@{k}']:.3f}/-" for t in tasks) + " |"
    lines.append(row)
    for m, c in comparisons.items():
        last = c["trajectory"][-1]
        row = f"| {m} | {c['theory_lr']:.3g} | "
        row += " | ".join(f"{cov(last[t]['transformer'])} | {cov(last[t]['theory'])} | "
                          f"{last[t]['transformer'][f'pass@{k}']:.3f}/{last[t]['theory'][f'pass@{k}']:.3f}"
                          for t in tasks) + " |"
        lines.append(row)
    return "\n".join(lines)


def write_comparison_plots(tmc, comparisons: dict, task: str, out: Path) -> None:
    """The comparison figures: per-path mass, final coverage, cross-task forgetting, step-and-movement."""
    from .compare import plot_coverage_bars, plot_forgetting, plot_path_mass
    from .movement_report import plot_step_and_movement

    if not comparisons:
        return
    tasks = [t.name for t in tmc.tasks]
    plot_path_mass(comparisons, task, out / f"path_mass_{task}.png")
    final = {m: c["trajectory"][-1] for m, c in comparisons.items()}
    plot_coverage_bars(final, tasks, out / "coverage_final.png")
    for t in tasks:
        if t != task:
            plot_forgetting(comparisons, t, out / f"forgetting_{t}.png")
    for metric in ("l1", "kl"):
        plot_step_and_movement(comparisons, task, out / f"step_and_movement_{metric}_{task}.png", metric)


def movement_tables(tmc, comparisons: dict, k: int) -> str:
    """Markdown: the final-step comparison at equal step and at equal movement, for both movement metrics."""
    from .movement_report import movement_table

    if not comparisons:
        return ""
    parts = []
    for metric in ("l1", "kl"):
        parts.append(f"\n### Final step: theory at equal step vs at equal movement ({metric})\n\n"
                     + movement_table(tmc, comparisons, k, metric) + "\n")
    return "".join(parts)


def migrate_stored_config(config: dict) -> dict:
    """A run's stored config, read by today's TmclmConfig. Runs made before 2026-12-07 hold
    ``posttrain.use_harness_trainer`` (always true, no effect; the field is gone) and no ``posttrain.rej_tries``
    (it was the constant 5, which is also the field's default): drop the one, the default covers the other."""
    config = json.loads(json.dumps(config))
    config.get("posttrain", {}).pop("use_harness_trainer", None)
    return config


def recompare(run_dir: str | Path, cfg_overrides: dict | None = None, plots: bool = True, progress=print) -> dict:
    """Recompute the theory side (step- and movement-matched) of a finished run from its ``results.json`` (the
    transformer's path distributions are stored there), without re-training; rewrites results.json, table.md and
    the comparison plots. ``cfg_overrides`` may change ``compare.*`` fields."""
    from tmc_core.config import apply_overrides, from_dict, to_dict
    from tmc_theory.instances import draw_instances

    from .compare import compare_method

    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    stored = migrate_stored_config(results["config"])
    cfg = from_dict(TmclmConfig, apply_overrides(stored, cfg_overrides or {}), str(run_dir))
    tmc = build_tmc(cfg)
    pc, k = cfg.posttrain, cfg.measure.k
    instances = draw_instances(tmc, pc.task, pc.n_instances, np.random.default_rng(pc.seed + 1))
    comparisons = {}
    for m, post in results["posttrain"].items():
        hist = [{"step": h["step"], "probs": {kk: np.asarray(v) for kk, v in h["probs"].items()}}
                for h in post["history"]]
        comparisons[m] = compare_method(tmc, m, hist, instances, pc, cfg.compare, k)
        if progress:
            progress(f"[tmclm] recompared {m}")
    base = {kk: {t: v for t, v in d.items()} for kk, d in results["base"]["metrics"].items()}
    table = summary_table(tmc, comparisons, base, k)
    results["config"] = to_dict(cfg)
    results["comparison"] = comparisons
    results["table_md"] = table
    (run_dir / "results.json").write_text(json.dumps(_jsonable(results), indent=1))
    (run_dir / "table.md").write_text(table + "\n" + movement_tables(tmc, comparisons, k))
    if plots:
        write_comparison_plots(tmc, comparisons, pc.task, run_dir)
    if progress:
        progress((run_dir / "table.md").read_text())
    return results


def run_study(cfg: TmclmConfig, out_dir: str | Path, plots: bool = True, progress=print) -> dict:
    """The whole study; returns the results dict (also written to ``out_dir/results.json``)."""
    import torch

    from tmc_core.config import to_dict
    from tmc_theory.instances import draw_instances

    from .compare import compare_method
    from .inference import run_inference
    from .measure import measure_all, non_markov_kl
    from .posttrain import posttrain_method
    from .pretrain import pretrain

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(cfg.threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda *a, **k: None)
    t_all, cpu_all = time.perf_counter(), time.process_time()
    timings = {}
    tmc = build_tmc(cfg)
    k = cfg.measure.k
    pc = cfg.posttrain
    if pc.task not in [t.name for t in tmc.tasks]:
        from tmc_core.config import ConfigError

        raise ConfigError(f"posttrain.task: {pc.task!r} is not allowed; allowed values: "
                          f"{', '.join(t.name for t in tmc.tasks)}")

    # 1. pretraining
    say(f"[tmclm] TMC {tmc.name}: widths {tmc.widths}, tasks {[t.name for t in tmc.tasks]}; pretraining "
        f"{cfg.pretrain.steps} steps x {cfg.pretrain.batch_size} paths")
    model, tok, pre = pretrain(tmc, cfg.model, cfg.pretrain, out_dir=out / "model",
                               progress=(lambda r: say(f"  step {r['step']}: loss {r['loss']:.4f}, "
                                                       + ", ".join(f"{kk} {v:.4f}" for kk, v in r.items()
                                                                   if kk.startswith("kl[")))))
    timings["pretrain_s"] = pre["wall_s"]
    say(f"[tmclm] pretrained in {pre['wall_s']:.1f} s; exact KL(TMC || LM): "
        + ", ".join(f"{kk} {v:.4f}" for kk, v in pre["kl"].items()) + f"; loss floor {pre['loss_floor']:.4f}")

    # 2. exact measurement + inference selectors
    t0 = time.perf_counter()
    base = measure_all(model, tok, tmc, k)
    base_probs = base["probs"]
    pre["paths"] = pretrain_report(tmc, base_probs)
    pre["non_markov_kl"] = {kk: non_markov_kl(tmc, v) for kk, v in base_probs.items()}
    inf = run_inference(tmc, base_probs, cfg.measure.inference, cfg.measure.n_bon, cfg.measure.lam, k)
    timings["measure_inference_s"] = time.perf_counter() - t0
    say("[tmclm] base model: " + "; ".join(
        f"{p} -> {t}: easy {d['easy']:.3f} hard {d['hard']:.3f} invalid {d['invalid']:.3f} (malformed "
        f"{d['malformed']:.4f})" for p, m in base["metrics"].items() for t, d in m.items() if p == t or p == "<any>"))

    # 3. post-training + 4. comparison
    instances = draw_instances(tmc, pc.task, pc.n_instances, np.random.default_rng(pc.seed + 1))
    post, comparisons = {}, {}
    for m in pc.methods:
        res = posttrain_method(model, tok, tmc, m, pc, instances, out / "posttrain" / m)
        t1 = time.perf_counter()
        comp = compare_method(tmc, m, res["history"], instances, pc, cfg.compare, k)
        comp["compare_s"] = time.perf_counter() - t1
        comparisons[m] = comp
        post[m] = {"wall_s": res["wall_s"], "trainer_class": res["trainer_class"], "train_log": res["train_log"],
                   "history": res["history"]}
        timings[f"posttrain_{m}_s"] = res["wall_s"]
        last = comp["trajectory"][-1][pc.task]
        say(f"[tmclm] {m}: {res['wall_s']:.1f} s ({res['trainer_class']}); {pc.task} easy/hard/invalid "
            f"TMC-LM {last['transformer']['easy']:.3f}/{last['transformer']['hard']:.3f}/"
            f"{last['transformer']['invalid']:.3f} vs theory {last['theory']['easy']:.3f}/{last['theory']['hard']:.3f}/"
            f"{last['theory']['invalid']:.3f} (theory {comp['theory_variant']}, lr {comp['theory_lr']:.3g})")

    table = summary_table(tmc, comparisons, base["metrics"], k)
    if plots:
        t0 = time.perf_counter()
        plot_pretrain(tmc, base_probs, out / "pretrain_paths.png")
        write_comparison_plots(tmc, comparisons, pc.task, out)
        timings["plots_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_all
    timings["total_cpu_s"] = time.process_time() - cpu_all  # this process's CPU time (robust to other load)
    try:
        timings["load_average_1min_at_end"] = os.getloadavg()[0]
    except OSError:
        pass
    results = {
        "config": to_dict(cfg), "tmc": {"name": tmc.name, "widths": tmc.widths,
                                        "tasks": [t.__dict__ for t in tmc.tasks],
                                        "kernels": [kk.tolist() for kk in tmc.kernels]},
        "torch_threads": cfg.threads, "timings": timings,
        "pretrain": pre, "base": {"metrics": base["metrics"], "kl_to_tmc": base["kl_to_tmc"],
                                  "probs": {kk: v.tolist() for kk, v in base_probs.items()}},
        "inference": inf, "posttrain": post, "comparison": comparisons, "table_md": table,
        "paths_order": tmc.enumerate_paths().tolist(),
    }
    (out / "results.json").write_text(json.dumps(_jsonable(results), indent=1))
    (out / "table.md").write_text(table + "\n" + movement_tables(tmc, comparisons, k))
    say(table)
    say(f"[tmclm] total {timings['total_s']:.1f} s wall, {timings['total_cpu_s']:.1f} s CPU; "
        f"wrote {out / 'results.json'}")
    return results


def run(args) -> int:
    from tmc_core.config import load_cli_config, parse_override

    if args.recompare and not args.describe:
        overrides = dict(parse_override(s) for s in args.set)
        recompare(args.recompare, overrides, plots=not args.no_plots, progress=None if args.quiet else print)
        return 0
    cfg = load_cli_config(TmclmConfig, args, sets="set", source="<defaults>")
    if cfg is None:  # --describe
        return 0
    out = args.out or cfg.out_dir
    run_study(cfg, out, plots=not args.no_plots, progress=None if args.quiet else print)
    return 0
