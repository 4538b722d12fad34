"""``tmc analyze <tool> ...``: the analysis tools over finished sample and training runs.

Each tool is a module of this package with ``main(argv)``; this command picks one and passes the remaining
arguments on (``tmc analyze <tool> --help`` lists the tool's options). Modules are imported only when their tool
runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: tool -> one-line help. The module harness.analyze.<tool> must define main(argv).
TOOLS: dict[str, str] = {
    "compare_steps": "paired pass@k differences between two steps or two runs (bootstrap CIs), solve-count "
                     "histograms, problems lost and gained",
    "cot_forms": "the concentration of CoT surface forms per step (entropy, top form's share, forms per problem)",
    "seed_table": "rules x training seeds at one step, each rule paired against a reference rule of the same seed",
    "train_blocks": "training-time reward, length, KL and the correct completions that got no credit, per block",
    "adapter_drift": "how far the LoRA adapter moved per checkpoint and between runs; Adam's step size",
    "sampler_u1_rows": "the samples the pre-2026-12-01 row sampler corrupted (u = 1.0), or bounds on a report",
    "strategy_mass": "ground-truth strategy shares per step (multi-strategy data): easy / rare / correct-other / "
                     "wrong, paired vs the base, across seeds; the warm-start mix check",
    "regrade": "re-grade a run's stored completions with today's grader, under both truncation rules",
}


def build_parser(prog: str) -> argparse.ArgumentParser:
    width = max(map(len, TOOLS))
    tools = "\n".join(f"  {name.ljust(width)}  {help_}" for name, help_ in TOOLS.items())
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Analysis tools over finished runs. `%(prog)s <tool> --help` lists a tool's options.",
        epilog=f"tools:\n{tools}")
    p.add_argument("tool", metavar="tool", help="one of: " + ", ".join(TOOLS) + " (a '-' may stand for '_')")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the tool's own arguments")
    return p


def run(args: argparse.Namespace) -> int:
    tool = args.tool.replace("-", "_")
    if tool not in TOOLS:
        print(f"tmc analyze: unknown tool {args.tool!r}; allowed: {', '.join(TOOLS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"harness.analyze.{tool}")
    argv0, sys.argv[0] = sys.argv[0], f"tmc analyze {tool}"  # the tool's argparse names itself after argv[0]
    try:
        return int(module.main(list(args.args)) or 0)
    finally:
        sys.argv[0] = argv0
