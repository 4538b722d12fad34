"""``tmc bon --config configs/bon_*.yaml --out DIR [--set key=value ...]``: Best-of-N selectors on a real LLM.

Runs every configured selector with every configured reward source on the candidate pool (sampled into
DIR/samples, or an existing sample run), ``runs`` times per problem, and writes DIR/selections.jsonl (one row
per selector run), DIR/results.json (``selectors.<key>.<reward>.pass_at_k`` with CIs, ``path_shares``,
generated tokens) and DIR/results.md. Re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.cpu_threads import add_threads_argument, apply_threads


def build_parser(prog: str = "tmc bon") -> argparse.ArgumentParser:
    from harness.help_text import plain

    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__.split("\n\n")[1].strip()),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Config fields: `tmc bon --describe`. Example: tmc bon --config "
                                       "configs/bon_tiny.yaml --set sample.model=DIR --out runs/bon/tiny")
    p.add_argument("--config", help="YAML file of BonConfig fields")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field (value read as YAML; nested: sample.limit=5), repeatable")
    p.add_argument("--out", help="output folder (default runs/bon/<config name>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--describe", action="store_true", help="print the documented config fields and exit")
    add_threads_argument(p)
    return p


def run(args) -> int:
    from tmc_core.config import load_cli_config

    from harness.pipeline import SampleConfig

    from .config import BonConfig

    cfg = load_cli_config(BonConfig, args, describe_also=(SampleConfig,))
    if cfg is None:  # --describe
        return 0
    out = Path(args.out or f"runs/bon/{Path(args.config or 'bon').stem}")
    apply_threads(args.threads)
    from harness.backends.base import BackendError
    from harness.data import DataError
    from harness.models import ModelError
    from harness.store import StoreError

    from .report import cluster_labels, markdown, summarise
    from .runner import run_bon

    try:
        rows, pool = run_bon(cfg, out, progress=not args.no_progress)
    except (StoreError, ModelError, DataError, BackendError) as e:
        print(f"tmc bon: {e}", file=sys.stderr)
        return 2
    res = summarise(rows, cfg.runs, n_boot=cfg.n_boot, seed=cfg.seed, clusters=cluster_labels(rows, pool))
    res["config"] = json.loads((out / "bon_config.json").read_text())["config"]
    res["definitions"] = {
        "pass_at_k": "chance that at least one of k independent selector runs on a problem is correct (unbiased "
                     "from `runs` runs), macro over problems, percentile bootstrap CI over problems",
        "path_shares": "share of returned completions by grader outcome (scheme grader_outcome) until reasoning-path "
                       "clusters are available (easy / rare_correct filled then)",
        "generated_tokens_per_run": "tokens the policy generated for one selector run (candidates, proposed steps "
                                    "incl. cut-off tails, Monte-Carlo rollouts)"}
    from .claim import claim_markdown, claim_table

    res["claim"] = claim_table(rows, pool, n_boot=cfg.n_boot, seed=cfg.seed)
    from .plots import plot_bon

    res["plots"] = plot_bon(res, out)
    (out / "results.json").write_text(json.dumps(res, indent=2, allow_nan=False) + "\n")
    md = markdown(res) + "\n## Population vs instance rewards (harness.select.claim)\n\n" + claim_markdown(res["claim"])
    (out / "results.md").write_text(md)
    print(md)
    print(f"results: {out / 'results.json'}")
    return 0
