"""``tmc sample --config configs/<x>.yaml [--set key=value ...] [--out DIR] [--allow-mixed]``.

Samples n completions per problem into the resumable sample store (see :mod:`harness.pipeline`).
Re-running the same command resumes: finished samples are skipped, none is lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import sys

from harness.cpu_threads import add_threads_argument, apply_threads
from harness.help_text import plain


def build_parser(prog: str = "tmc sample") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__.split("\n\n")[1].strip()),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Config fields: `tmc sample --describe`. Example: tmc sample --config "
                                       "configs/sample_gsm8k_smollm2.yaml --set limit=20 --set n=4")
    p.add_argument("--config", help="YAML file of SampleConfig fields")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field (value read as YAML), repeatable")
    p.add_argument("--out", help="run folder (overrides the config's `out`)")
    p.add_argument("--step", type=int, default=0, help="step label of these samples (0 = base model)")
    p.add_argument("--adapter", help="PEFT LoRA adapter folder evaluated at --step (recorded per row)")
    p.add_argument("--allow-mixed", action="store_true",
                   help="allow samples of a different config in an existing run folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--describe", action="store_true", help="print the documented config fields and exit")
    add_threads_argument(p)
    return p


def run(args) -> int:
    from tmc_core.config import ConfigError, load_cli_config

    from harness.pipeline import SampleConfig

    cfg = load_cli_config(SampleConfig, args, out=args.out)
    if cfg is None:  # --describe
        return 0
    from harness.backends.base import BackendError
    from harness.data import DataError
    from harness.models import ModelError
    from harness.pipeline import run_sampling
    from harness.store import StoreError

    apply_threads(args.threads)
    try:
        summary = run_sampling(cfg, step=args.step, adapter=args.adapter, allow_mixed=args.allow_mixed,
                               progress=not args.no_progress, announce=lambda m: print(m, flush=True))
    except (StoreError, ModelError, DataError, BackendError) as e:
        print(f"tmc sample: {e}", file=sys.stderr)
        return 2
    except ConfigError:
        raise
    s = summary
    if s["new_samples"]:
        print(f"{s['run_dir']}: {s['new_samples']} new samples ({s['skipped_samples']} already done) for "
              f"{s['n_problems']} problems in {s['seconds']:.1f} s; {s['samples_per_s']:.2f} samples/s, "
              f"{s['tokens_per_s']:.1f} tok/s; {s['new_correct']} correct")
    else:
        print(f"{s['run_dir']}: nothing to do, all {s['n_problems']} x {s['n']} samples are already stored")
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in s.items()}), file=sys.stderr)
    return 0
