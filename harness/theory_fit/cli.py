"""``tmc theory-fit SAMPLES --out DIR [--methods ...]``: fit a TMC per problem to a base run's reasoning paths, export
it, and predict each RLVR method's expected dynamics on it with tmc_theory.

SAMPLES is a sample store (``tmc sample``'s run folder) or a JSONL. ``--tree paths`` (default): one leaf per
reasoning path (:mod:`harness.theory_fit.path_tree`; JSONL rows ``{problem_id, question, completion, correct}``).
``--tree steps``: the prefix tree of text step keys (:mod:`harness.theory_fit.tree`; JSONL rows ``{problem_id,
correct, steps | completion}``, :mod:`harness.theory_fit.steps`). ``--bon`` adds the selectors' predicted vs
measured table (``bon_vs_theory.{json,md}``), ``--runs`` the trajectories by movement
(``runs_vs_theory.{json,md}``). Writes
``DIR/trees/<problem>.json`` (the fitted TMCs, :meth:`ProblemTree.to_json`), ``DIR/fit.json`` (per-problem tree
sizes, base correct / easy-correct / rare-correct mass against the measured c / n), ``DIR/predict.json`` (per
method: the macro-averaged trajectory and the per-problem ones) and ``DIR/predict.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def build_parser(prog: str = "tmc theory-fit") -> argparse.ArgumentParser:
    from tmc_core.names import FINETUNE_KEYS

    p = argparse.ArgumentParser(prog=prog, description="Fit a tmc_theory TMC to each problem's sampled reasoning "
                                "paths and predict what each RLVR method does to its path mass.")
    p.add_argument("samples", help="sample store folder / Parquet file, or a JSONL of step-key rows")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tree", choices=["paths", "steps"], default="paths",
                   help="paths (default): one leaf per reasoning path of harness.paths (a depth-1 star, "
                        "harness/theory_fit/path_tree.py); steps: prefix tree of text step keys (tree.py)")
    p.add_argument("--alpha", type=float, default=0.5, help="pseudo-count of the unseen branch per node (default 0.5)")
    p.add_argument("--step", type=int, default=None, help="paths: which step of the sample run (default: its only)")
    p.add_argument("--rare-threshold", type=float, default=0.25, help="paths: rare = correct with share below this")
    p.add_argument("--correct-rule", choices=["majority", "any", "all"], default="majority",
                   help="paths: when a path is correct (default majority, ties correct)")
    p.add_argument("--unseen-correct", type=float, default=0.0, help="paths: P(correct | unseen path) (default 0)")
    p.add_argument("--max-depth", type=int, default=3, help="steps: steps per path kept in the tree (default 3)")
    p.add_argument("--key-words", type=int, default=None,
                   help="steps: keep only each text step's first N words as its key (coarser tree)")
    p.add_argument("--selector-n", type=int, nargs="*", default=[4, 8, 16], metavar="N",
                   help="N of the selectors' predicted laws written to selectors.json (default 4 8 16; none: skip)")
    p.add_argument("--lam", type=float, default=0.5, help="selectors: lambda (default 0.5)")
    p.add_argument("--compare-steps", type=int, default=300,
                   help="--runs: theory steps available to reach the checkpoints' movement (default 300)")
    p.add_argument("--movement", choices=["l1_pop", "l1", "kl"], default="l1_pop",
                   help="--runs: movement clock: l1_pop (default) = L1 of the problem-averaged easy / rare-correct / "
                        "wrong masses (robust to the sampling noise of n samples per problem); l1 / kl = per problem "
                        "(biased upward by sampling noise at small n; harness/theory_fit/trajectory.py)")
    p.add_argument("--tol", type=float, default=0.05, help="--runs: agreement tolerance on the masses (default 0.05)")
    p.add_argument("--bon", nargs="+", default=[], metavar="BON_OUT",
                   help="`tmc bon` output folders (or results.json): measured vs predicted selector table "
                        "(harness.theory_fit.selectors), written to bon_vs_theory.{json,md}")
    p.add_argument("--runs", nargs="+", default=[], metavar="CHECKPOINTS",
                   help="`tmc eval-checkpoints` outputs (checkpoints_metrics.json or its folder; the training run's "
                        "train_run.json is found in it or its parents, or give CHECKPOINTS=TRAIN_RUN_DIR): measured "
                        "vs predicted path-mass trajectories by movement (harness.theory_fit.trajectory)")
    p.add_argument("--methods", nargs="+", default=list(FINETUNE_KEYS), choices=list(FINETUNE_KEYS))
    p.add_argument("--steps", type=int, default=50, help="theory steps per problem (default 50)")
    p.add_argument("--lr", type=float, default=0.5, help="theory lr, SGD on logits (default 0.5)")
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--beta", type=float, default=0.04, help="GRPO-KL k3 weight (default 0.04)")
    p.add_argument("--rej-tries", type=int, default=5)
    p.add_argument("--eval-every", type=int, default=5)
    return p


def plot(pred: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, (m, r) in enumerate(pred.items()):
        steps = [h["step"] for h in r["mean"]]
        for ax, key in zip(axes, ("correct", "easy_correct", "rare_correct")):
            ax.plot(steps, [h[key] for h in r["mean"]], "-", color=f"C{i}", label=m)
            ax.set_title(f"predicted {key.replace('_', ' ')} mass (mean over problems)", fontsize=9)
            ax.set_xlabel("theory step per problem")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    from .predict import PredictConfig, predict_population
    from .steps import StepPaths
    from .tree import fit_problem_tree, tree_metrics

    from functools import partial

    from .steps import text_step_keys

    out = Path(args.out)
    (out / "trees").mkdir(parents=True, exist_ok=True)
    if args.tree == "paths":
        from .path_tree import PathTreeConfig, fit_path_trees, load_sample_rows

        pcfg = PathTreeConfig(alpha=args.alpha, unseen_correct=args.unseen_correct,
                              rare_threshold=args.rare_threshold, correct_rule=args.correct_rule)
        trees = fit_path_trees(load_sample_rows(args.samples, args.step), pcfg)
        distinct = {t.problem_id: len(t.extra["path_ids"]) for t in trees}
    else:
        sp = StepPaths.load(args.samples, partial(text_step_keys, words=args.key_words))
        trees = [fit_problem_tree(pid, comps, args.max_depth, args.alpha) for pid, comps in sp.problems.items()]
        distinct = {pid: len({tuple(s[:args.max_depth]) for s, _ in comps}) for pid, comps in sp.problems.items()}
    fit_rows = []
    for t in trees:
        (out / "trees" / f"{t.problem_id.replace('/', '_')}.json").write_text(json.dumps(t.to_json()))
        m = tree_metrics(t, t.tmc.kernels)
        fit_rows.append({"problem_id": t.problem_id, "n": t.n, "c": t.c, "widths": t.tmc.widths,
                         "distinct_paths": distinct[t.problem_id], "base_correct": m["correct"],
                         "base_easy_correct": m["easy_correct"], "base_rare_correct": m["rare_correct"],
                         **({"base_mass": m["mass"], "roles": t.roles} if "mass" in m else {})})
    (out / "fit.json").write_text(json.dumps({"samples": str(args.samples), "tree": args.tree,
                                              "max_depth": args.max_depth if args.tree == "steps" else 1,
                                              "alpha": args.alpha, "problems": fit_rows}, indent=1))
    print(f"fitted {len(trees)} problems; mean measured pass@1 {np.mean([r['c'] / r['n'] for r in fit_rows]):.3f}, "
          f"fitted base correct mass {np.mean([r['base_correct'] for r in fit_rows]):.3f} (easy "
          f"{np.mean([r['base_easy_correct'] for r in fit_rows]):.3f}, rare "
          f"{np.mean([r['base_rare_correct'] for r in fit_rows]):.3f})")
    pred = {}
    for m in args.methods:
        cfg = PredictConfig(method=m, steps=args.steps, lr=args.lr, group_size=args.group_size, beta=args.beta,
                            rej_tries=args.rej_tries, eval_every=args.eval_every)
        pred[m] = predict_population(trees, cfg)
        last = pred[m]["mean"][-1]
        print(f"{m} ({pred[m]['variant']}): step {last['step']}: correct {last['correct']:.3f}, easy "
              f"{last['easy_correct']:.3f}, rare {last['rare_correct']:.3f}, pass@8 {last['pass@8']:.3f}")
    (out / "predict.json").write_text(json.dumps({"settings": vars(args), "methods": pred}, indent=1, default=str))
    plot(pred, out / "predict.png")
    print(f"wrote {out}/trees/, fit.json, predict.json, predict.png")
    if args.selector_n:
        from .selectors import write_selector_predictions

        print(write_selector_predictions(trees, args.selector_n, out, args.lam))
    if args.bon:
        from .selectors import write_bon_comparison

        print(write_bon_comparison(args.bon, trees, out))
    if args.runs:
        from .trajectory import write_run_comparison

        print(write_run_comparison(args.runs, trees, out, lr=args.lr, steps=args.compare_steps, metric=args.movement,
                                   tol=args.tol))
    return 0
