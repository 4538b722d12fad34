"""``tmc train --config configs/<x>.yaml [--set key=value ...]``: RLVR post-training of one method.

``--describe`` prints every TrainConfig field with its default and help. Multi-GPU:
``accelerate launch -m harness.cli train --config ...`` (the same config; TRL handles the processes).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def build_parser(prog: str = "tmc train") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="RLVR post-training with LoRA on TRL "
                                "(grpo, grpo_kl, reinforce, rl_rej, ppo, raft); see docs/training.md")
    p.add_argument("--config", help="YAML TrainConfig (configs/train_*.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (value read as YAML), repeatable: --set method=grpo_kl --set "
                        "beta=0.05")
    p.add_argument("--describe", action="store_true", help="print every config field with its default and help")
    p.add_argument("--allow-config-change", action="store_true",
                   help="resume a run although its config changed (the change is recorded in train_run.json)")
    return p


def load_from_args(args):
    from tmc_core.config import ConfigError, parse_override

    from .config import load_train_config, train_config_from_dict

    overrides = dict(parse_override(o) for o in args.overrides)
    if getattr(args, "allow_config_change", False):
        overrides["allow_config_change"] = True
    if args.config:
        return load_train_config(args.config, overrides)
    if not overrides:
        raise ConfigError("--config: missing; allowed values: a YAML file such as configs/train_tiny.yaml")
    return train_config_from_dict(overrides, "--set")


def preflight(cfg) -> None:
    """Check the model and the training data before any trainer is built, so a wrong path is one message (ModelError /
    DataError naming the path and the fix) within seconds rather than a traceback after the imports."""
    from harness.data import load_problems
    from harness.models import resolve_model

    resolve_model(cfg.model)
    load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit, offset=cfg.offset)


def run(args) -> int:
    if args.describe:
        from tmc_core.config import describe

        from .config import TrainConfig

        print(describe(TrainConfig))
        return 0
    cfg = load_from_args(args)
    from harness.backends.base import BackendError
    from harness.data import DataError
    from harness.models import ModelError
    from harness.store import StoreError

    try:
        preflight(cfg)
    except (ModelError, DataError) as e:
        print(f"tmc train: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from .registry import run_training
    from .runner import process_rank

    try:
        res = run_training(cfg)
    except (ModelError, DataError, StoreError, BackendError) as e:
        print(f"tmc train: {e}", file=sys.stderr)
        return 2
    summary = {k: v for k, v in res.items() if k not in ("trainer", "model", "rounds")}
    if "rounds" in res:
        summary["rounds"] = [{k: v for k, v in r.items() if k != "kept"} for r in res["rounds"]]
    if process_rank() == 0:  # under `accelerate launch`, one summary (rank 0's), not one per rank
        print(json.dumps(summary, indent=2, default=str), flush=True)
    return 0
