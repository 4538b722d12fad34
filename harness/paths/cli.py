"""``tmc paths RUN [--out DIR] [--step S] [--rare-threshold T] [--ci wilson|clopper_pearson] [--correct-rule R]``:
the path table of a sample run (:mod:`harness.paths.table`): per problem, each reasoning path's base share with a CI,
its correctness, easy / common / rare / wrong, and the hard problems (solved only by rare paths). Writes
``DIR/paths.parquet`` (one row per problem x path), ``DIR/paths_summary.json`` and ``DIR/paths_summary.md``
(default DIR: ``RUN/paths``) and prints the Markdown summary. ``--describe`` prints the labelling fields.
"""

from __future__ import annotations

import argparse
import sys


def build_parser(prog: str = "tmc paths") -> argparse.ArgumentParser:
    from .table import PathTableConfig

    d = PathTableConfig()
    from harness.help_text import plain

    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", nargs="?", help="a sample run folder (`tmc sample`, or `tmc eval-checkpoints`' <run>/eval)")
    p.add_argument("--out", default=None, help="output folder (default RUN/paths)")
    p.add_argument("--step", type=int, default=None, help="which step of the run (needed when it holds several)")
    p.add_argument("--rare-threshold", type=float, default=d.rare_threshold,
                   help=f"a correct path with base share below this is rare (default {d.rare_threshold})")
    p.add_argument("--ci", default=d.ci, choices=("wilson", "clopper_pearson"), help=f"share interval (default {d.ci})")
    p.add_argument("--confidence", type=float, default=d.confidence, help=f"CI level (default {d.confidence})")
    p.add_argument("--correct-rule", default=d.correct_rule, choices=("majority", "any", "all"),
                   help=f"when a path counts as correct (default {d.correct_rule})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (stderr) over the problems")
    p.add_argument("--describe", action="store_true", help="print the labelling fields with defaults and exit")
    return p


def run(args: argparse.Namespace) -> int:
    from tmc_core.config import describe

    from harness.store import StoreError

    from .table import PathTableConfig, write_path_table

    if args.describe:
        print(describe(PathTableConfig))
        return 0
    if not args.run:
        print("tmc paths: give a sample run folder (RUN); see `tmc paths --help`", file=sys.stderr)
        return 2
    cfg = PathTableConfig(rare_threshold=args.rare_threshold, ci=args.ci, confidence=args.confidence,
                          correct_rule=args.correct_rule)
    try:
        summary = write_path_table(args.run, out=args.out, step=args.step, cfg=cfg,
                                   progress=not getattr(args, "no_progress", False))
    except (StoreError, ImportError) as e:
        print(f"tmc paths: {e}", file=sys.stderr)
        return 2
    from pathlib import Path

    print(Path(summary["files"][2]).read_text())
    print("wrote " + ", ".join(summary["files"]))
    return 0
