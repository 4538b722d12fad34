"""``tmc theory``: reproduce the paper's TMC table, or sweep one parameter.

    tmc theory reproduce [--config configs/theory_paper.yaml] [--seeds N] [--exact] [--out DIR]
                         [--set KEY=VALUE ...] [--no-plots]
    tmc theory sweep PARAM VALUE [VALUE ...] [--config FILE] [--out DIR] [--set KEY=VALUE ...]

Without ``--config`` the built-in defaults of :class:`tmc_theory.reproduce.ReproduceConfig` are used; they are
the paper's protocol and equal ``configs/theory_paper.yaml``. ``--set`` overrides any field with a dotted key
(``--set n_test=50 --set finetune.steps=200``). ``sweep`` delegates to :func:`tmc_theory.sweeps.run_sweep`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tmc_core.config import ConfigError, apply_overrides, from_dict, load_config, parse_override, to_dict


def build_parser(prog: str = "tmc theory") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Exact TMC theory (arXiv 2511.07368): reproduce the paper's "
                                "simulation table, or sweep a parameter.")
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("reproduce", help="run the paper's protocol; table (ours vs paper), pass@K, figures")
    r.add_argument("--config", help="YAML ReproduceConfig (default: built-in paper protocol = "
                                    "configs/theory_paper.yaml)")
    r.add_argument("--seeds", type=int, help="number of seeds (Monte-Carlo mode; overrides the config)")
    r.add_argument("--exact", action="store_true", help="no randomness: exact pretraining, exact V/h, "
                                                        "expected-gradient fine-tuning, exact E[pass@K]")
    r.add_argument("--out", help="output folder: results.json, table.md and PNG figures")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    r.add_argument("--no-plots", action="store_true", help="do not write PNG figures")
    s = sub.add_parser("sweep", help="sweep one parameter (tmc_theory.sweeps)")
    s.add_argument("param", help="parameter to sweep (see tmc_theory.sweeps for the allowed names)")
    s.add_argument("values", nargs="*", help="values (default: the sweep's built-in grid)")
    s.add_argument("--config", help="YAML ReproduceConfig used as the base setting")
    s.add_argument("--out", default="runs/theory_sweep", help="output folder (default runs/theory_sweep)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    return p


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
    if args.action == "reproduce":
        ov = list(args.set)
        if args.seeds is not None:
            ov.append(f"seeds={args.seeds}")
        if args.exact:
            ov.append("exact=true")
        cfg = load_reproduce_config(args.config, ov)
        from .reproduce import reproduce

        res = reproduce(cfg, args.out, plots=not args.no_plots)
        if args.out:
            print(f"wrote {Path(args.out) / 'results.json'} and {Path(args.out) / 'table.md'}"
                  + ("" if args.no_plots else " and figures"))
        print(f"total {res['seconds']:.2f} s")
        return 0
    if args.action == "sweep":
        cfg = load_reproduce_config(args.config, args.set)
        try:
            from .sweeps import run_sweep
        except ImportError as e:
            raise ConfigError(f"sweep: tmc_theory.sweeps is not available ({e})") from None
        values = [_parse_value(v) for v in args.values] or None
        run_sweep(args.param, values, cfg, args.out)
        return 0
    raise ConfigError(f"unknown action {args.action!r}; allowed: reproduce, sweep")
