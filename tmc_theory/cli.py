"""``tmc theory``: reproduce the paper's TMC table, or sweep one parameter.

    tmc theory reproduce [--config configs/theory_paper.yaml] [--seeds N] [--exact] [--out DIR]
                         [--set KEY=VALUE ...] [--no-plots] [--describe]
    tmc theory sweep PARAM [VALUE ...] [--config FILE] [--out DIR] [--set KEY=VALUE ...] [--describe]
    tmc theory run --tmc FITTED.json|DIR [--method KEY ...] [--steps N] [--lr X] [--group-size G] [--beta B]
                   [--selectors KEY ...] [--n-candidates N] [--lam X] [--out DIR]

``run`` takes a fitted TMC exported by ``tmc theory-fit`` (one JSON or its trees/ folder; tmc_theory/fitted.py)
and runs each method's exact expected dynamics and each selector's exact output law on it (real reward: every
valid path correct).

Without ``--config`` the built-in defaults of ``ReproduceConfig`` (tmc_theory/reproduce.py) are used; they are
the paper's protocol and equal ``configs/theory_paper.yaml``. ``--set`` overrides any field with a dotted key
(``--set n_test=50 --set finetune.steps=200``). ``sweep`` delegates to ``run_sweep`` in tmc_theory/sweeps.py.
Without ``--out`` the results go to ``outputs/theory/reproduce`` / ``outputs/theory/sweep_<PARAM>`` (printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tmc_core.config import ConfigError, apply_overrides, from_dict, load_config, parse_override, to_dict


DEFAULT_REPRODUCE_OUT = "outputs/theory/reproduce"
DEFAULT_SWEEP_OUT = "outputs/theory/sweep_{param}"


def _sweep_help() -> str:
    """The sweepable parameters with one line each and their default grids (from tmc_theory/sweeps.py)."""
    what = {
        "beta": "GRPO-KL: closed-form tilt vs the sequence-level KL optimum vs trained GRPO-KL, per beta",
        "rej_tries": "RL-rej rejection tries T (0 = plain REINFORCE)",
        "steps": "number of fine-tuning steps, every method",
        "depth": "random TMCs of this many layers, every method",
        "width": "random TMCs of this many states per layer, every method",
        "low_weight": "raw weight of a low edge (paper 0.1)",
        "group_size": "GRPO / best-of-G RAFT / trained GRPO-KL group size",
        "pass_at_k": "exact E[pass@K] against K for the base model and every method, and where each crosses the base",
    }
    try:
        from .sweeps import DEFAULT_VALUES, PARAMS
    except ImportError:
        return "tmc_theory/sweeps.py is not available"
    lines = ["parameters (VALUE ... replaces the default grid):"]
    for name in PARAMS:
        grid = DEFAULT_VALUES.get(name, [])
        shown = f"{grid[0]}..{grid[-1]}" if len(grid) > 10 else " ".join(map(str, grid))
        lines.append(f"  {name:11s} {what.get(name, '')}; default grid: {shown}")
    lines.append("Fine-tuning is exact (expected dynamics) with --set exact=true, else stochastic over the config's "
                 "seeds; every point is evaluated exactly.")
    return "\n".join(lines)


def build_parser(prog: str = "tmc theory") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Exact TMC theory (arXiv 2511.07368): reproduce the paper's "
                                "simulation table, or sweep a parameter.")
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("reproduce", help="run the paper's protocol; table (ours vs paper), pass@K, figures",
                       description="Run the paper's TMC protocol: the easy/hard/invalid table of every strategy beside "
                                   "the published numbers, pass@K, fine-tuning curves and figures.")
    r.add_argument("--config", help="YAML ReproduceConfig (default: built-in paper protocol = "
                                    "configs/theory_paper.yaml)")
    r.add_argument("--seeds", type=int, help="number of seeds (Monte-Carlo mode; overrides the config)")
    r.add_argument("--exact", action="store_true", help="no randomness: exact pretraining, exact V/h, "
                                                        "expected-gradient fine-tuning, exact E[pass@K]")
    r.add_argument("--out", help=f"output folder: results.json, table.md and PNG figures (default "
                                 f"{DEFAULT_REPRODUCE_OUT})")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    r.add_argument("--no-plots", action="store_true", help="do not write PNG figures")
    r.add_argument("--describe", action="store_true", help="print every ReproduceConfig field with its default and "
                                                           "help, and exit")
    s = sub.add_parser("sweep", help="sweep one parameter, evaluated exactly, with a plot",
                       description="Vary one parameter of the paper's setting and evaluate every point exactly "
                                   "(coverage and E[pass@K]); writes sweep_<PARAM>.json and PNGs.",
                       epilog=_sweep_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("param", nargs="?", metavar="PARAM", help="the parameter to sweep (listed below)")
    s.add_argument("values", nargs="*", help="values (default: the sweep's built-in grid)")
    s.add_argument("--config", help="YAML ReproduceConfig used as the base setting (default: the paper protocol)")
    s.add_argument("--out", default=None, help=f"output folder (default {DEFAULT_SWEEP_OUT.format(param='<PARAM>')})")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    s.add_argument("--describe", action="store_true", help="print every ReproduceConfig field with its default and "
                                                           "help, and exit")
    f = sub.add_parser("run", help="methods and selectors on a fitted TMC exported by `tmc theory-fit`",
                       description="Run each fine-tuning method's exact expected dynamics and each selector's exact "
                                   "output law on fitted TMCs (tmc theory-fit's trees/*.json), with the real reward.")
    f.add_argument("--tmc", required=True, help="a fitted-TMC JSON, a folder of them, or a theory-fit output folder")
    f.add_argument("--method", nargs="+", default=["grpo"], help="fine-tuning method keys (default grpo)")
    f.add_argument("--steps", type=int, default=50)
    f.add_argument("--lr", type=float, default=0.5, help="SGD on logits (default 0.5)")
    f.add_argument("--group-size", type=int, default=8)
    f.add_argument("--beta", type=float, default=0.04)
    f.add_argument("--rej-tries", type=int, default=5)
    f.add_argument("--eval-every", type=int, default=5)
    f.add_argument("--selectors", nargs="*", default=[], help="inference keys: soft_bon orm_bon prm_bon dprm_bon "
                                                              "dprm_as (population reward R_out of the fitted TMC)")
    f.add_argument("--n-candidates", type=int, default=8, help="selectors: N (orm_bon returns the top 1 of N)")
    f.add_argument("--lam", type=float, default=0.5)
    f.add_argument("--out", default=None, help="output folder for run.json (default: print only)")
    return p


def run_fitted_action(args) -> int:
    """``tmc theory run``: mean over the fitted problems of the correct mass per step and per selector."""
    import json

    import numpy as np

    from .fitted import correct_mass, load_fitted, run_fitted
    from .registry import FINETUNE, get_inference
    from .inference.common import InferenceConfig

    for m in args.method:
        if m not in FINETUNE:
            raise ConfigError(f"--method: {m!r} is not allowed; allowed values: {', '.join(FINETUNE)}")
    probs = load_fitted(args.tmc)
    res: dict = {"tmc": str(args.tmc), "n_problems": len(probs), "methods": {}, "selectors": {}}
    base = float(np.mean([correct_mass(t.kernels, task) for _, t, task in probs]))
    print(f"{len(probs)} fitted problems; base correct mass {base:.4f}")
    for m in args.method:
        hs = [run_fitted(t, task, m, args.steps, args.lr, args.group_size, args.beta, args.rej_tries,
                         args.eval_every) for _, t, task in probs]
        traj = [{"step": h["step"], "correct": float(np.mean([x[i]["correct"] for x in hs]))}
                for i, h in enumerate(hs[0])]
        res["methods"][m] = traj
        print(f"{m}: correct mass " + ", ".join(f"step {h['step']}: {h['correct']:.4f}" for h in traj[::max(
            1, len(traj) // 5)]) + f", step {traj[-1]['step']}: {traj[-1]['correct']:.4f}")
    icfg = InferenceConfig(n_candidates=args.n_candidates, lam=args.lam, estimator="exact")
    for key in args.selectors:
        e = get_inference(key)
        acc = []
        for _, t, task in probs:
            kw = {"k": 1} if key == "orm_bon" else {}
            q = e.exact_distribution(t, task, icfg, **kw)
            acc.append(float(q[t.enumerate_paths()[:, -1] == task.target].sum()))
        res["selectors"][key] = {"n_candidates": args.n_candidates, "accuracy": float(np.mean(acc))}
        print(f"{key} (N={args.n_candidates}, population reward R_out): accuracy {np.mean(acc):.4f}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "run.json").write_text(json.dumps(res, indent=1))
        print(f"wrote {out / 'run.json'}")
    return 0


def load_reproduce_config(path: str | None, overrides: list[str] | None = None):
    """``ReproduceConfig`` from a YAML file (or the built-in defaults) with ``KEY=VALUE`` overrides."""
    from .reproduce import ReproduceConfig

    ov = dict(parse_override(o) for o in (overrides or []))
    if path:
        return load_config(ReproduceConfig, path, ov)
    return from_dict(ReproduceConfig, apply_overrides(to_dict(ReproduceConfig()), ov) if ov else {},
                     "<built-in paper config>")


def _parse_value(text: str):
    import yaml

    return yaml.safe_load(text)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "describe", False):
        from tmc_core.config import describe
        from .reproduce import ReproduceConfig

        print(describe(ReproduceConfig))
        return 0
    if args.action == "run":
        return run_fitted_action(args)
    if args.action == "reproduce":
        ov = list(args.set)
        if args.seeds is not None:
            ov.append(f"seeds={args.seeds}")
        if args.exact:
            ov.append("exact=true")
        cfg = load_reproduce_config(args.config, ov)
        from .reproduce import reproduce

        out = args.out or DEFAULT_REPRODUCE_OUT
        print(f"writing to {out}" + ("" if args.out else " (the default; --out DIR to choose)"), flush=True)
        res = reproduce(cfg, out, plots=not args.no_plots)
        print(f"wrote {Path(out) / 'results.json'} and {Path(out) / 'table.md'}"
              + ("" if args.no_plots else " and figures"))
        print(f"total {res['seconds']:.2f} s")
        return 0
    if args.action == "sweep":
        if not args.param:
            raise ConfigError("sweep: PARAM missing; allowed values: see `tmc theory sweep --help`")
        cfg = load_reproduce_config(args.config, args.set)
        try:
            from .sweeps import run_sweep
        except ImportError as e:
            raise ConfigError(f"sweep: tmc_theory.sweeps is not available ({e})") from None
        values = [_parse_value(v) for v in args.values] or None
        out = args.out or DEFAULT_SWEEP_OUT.format(param=args.param)
        print(f"writing to {out}" + ("" if args.out else " (the default; --out DIR to choose)"), flush=True)
        run_sweep(args.param, values, cfg, out)
        return 0
    raise ConfigError(f"unknown action {args.action!r}; allowed: reproduce, sweep, run")
