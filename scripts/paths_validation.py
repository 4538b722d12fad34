"""Validation figures of harness.paths against three ground truths (docs/paths.md, *Validation*).

    python scripts/paths_validation.py [--gold-problems 300] [--json results/paths/validation.json] [--examples 3]

Prints, per set, problems, completions, mean ARI over problems, share of problems with ARI = 1, pooled ARI, purity
and inverse purity (harness.paths.validation.score_groups), then a few failure examples per set (truth label,
cluster, path, completion) -- the material for the failure-mode list of docs/paths.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.paths.validation import (gold_groups, handlabelled_groups, score_groups,  # noqa: E402
                                      synthetic_groups)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold-problems", type=int, default=300)
    ap.add_argument("--data", default=str(DATA), help="GSM8K train.jsonl")
    ap.add_argument("--json", default=None, help="write the figures (and failure examples) to this JSON file")
    ap.add_argument("--examples", type=int, default=3, help="failure examples printed per set")
    args = ap.parse_args(argv)
    sets = {"synthetic": synthetic_groups(60, 5, seed=0),
            "synthetic_hard": synthetic_groups(60, 5, seed=0, hard=True),
            "gsm8k_gold": gold_groups(args.data, n_problems=args.gold_problems, copies=3, seed=0),
            "hand_all": handlabelled_groups(),
            "hand_arithmetic": handlabelled_groups(subset="arithmetic"),
            "hand_latex": handlabelled_groups(subset="latex")}
    out = {}
    print("| set | problems | completions | mean ARI | ARI = 1 | pooled ARI | purity | inverse purity |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, groups in sets.items():
        s = score_groups(groups)
        out[name] = s
        print(f"| {name} | {s['problems']} | {s['completions']} | {s['mean_ari']:.3f} | {s['perfect']:.2f} | "
              f"{s['pooled_ari']:.3f} | {s['purity']:.3f} | {s['inverse_purity']:.3f} |")
    for name, s in out.items():
        for f in s["failures"][:args.examples]:
            print(f"\n### {name}: problem {f['id']} (ARI {f['ari']:.2f}) -- {f['question'][:150]}")
            for truth, cluster, path, text in f["rows"]:
                print(f"  {truth:22s} {cluster:2d}  {path[:60]:60s} | {text[:140]!r}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        slim = {k: {**v, "failures": v["failures"][:10]} for k, v in out.items()}
        Path(args.json).write_text(json.dumps({"command": "python scripts/paths_validation.py "
                                               + " ".join(argv if argv is not None else sys.argv[1:]),
                                               "sets": slim}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
