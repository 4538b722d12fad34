"""In-process A/B of harness.paths: the reader at a git revision ("before") against the working tree ("after").

    python scripts/bench_paths_ab.py [--before REV] [--repeats 9] [--corpora long,gold] [--run RUN_DIR]
                                     [--json OUT.json]

The files of ``harness/paths`` at ``REV`` are written to a temporary package ``paths_before`` (its
``harness.paths`` imports rewritten), so both readers live in one process and see the same machine: on a shared,
loaded machine two separate processes can differ by +-20 % from the load alone, while repeats interleaved in one
process (before, after, after, before, ...) share it. Per corpus and mode (cold / warm, as in
``scripts/bench_paths.py``, whose corpora and timer this uses), each side gets ``--repeats`` timed repeats after one
warm-up; cold, every memo of *both* readers and sympy's cache are emptied before each pass. Printed: median
completions per CPU-second of each side and their ratio (after / before), the median of the per-repeat ratios,
and the ratio of the best (fastest) repeats (the least disturbed by other processes).
Also checks, once per corpus, that both readers give the same clusters (a cheap guard; the real equality guard is
``tests/test_paths_speed_equivalence.py``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_paths  # noqa: E402
from harness.paths import clear_caches, cluster_paths  # noqa: E402


def load_before(rev: str, into: Path):
    """Import ``harness/paths`` as of git ``rev`` as the package ``paths_before`` (written under ``into``)."""
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{rev}:harness/paths"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    pkg = into / "paths_before"
    pkg.mkdir()
    for name in names:
        if name.endswith(".py"):
            text = subprocess.run(["git", "show", f"{rev}:harness/paths/{name}"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout
            (pkg / name).write_text(text.replace("harness.paths", "paths_before"))
    sys.path.insert(0, str(into))
    return importlib.import_module("paths_before")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="658fbf2", help="git revision of the 'before' reader (default: 658fbf2, "
                                                        "the reader before the 2026-12-07 cold-speed work)")
    ap.add_argument("--repeats", type=int, default=9, help="timed repeats per side, corpus and mode")
    ap.add_argument("--corpora", default="long,gold", help="comma-separated corpora of bench_paths (or 'all')")
    ap.add_argument("--modes", default="cold,warm", help="cold, warm or both")
    ap.add_argument("--run", default=None, help="a sample-store run folder: adds the 'run' corpus")
    ap.add_argument("--run-inner", type=int, default=20, help="passes over the run corpus per timed repeat")
    ap.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        before = load_before(args.before, Path(tmp))
        corpora = bench_paths.load_corpora(run=args.run)
        if args.corpora != "all":
            keep = args.corpora.split(",") + (["run"] if args.run else [])
            corpora = {k: v for k, v in corpora.items() if k in keep}

        def clear() -> None:
            before.clear_caches()
            clear_caches()
            if "sympy" in sys.modules:
                from sympy.core.cache import clear_cache
                clear_cache()

        results = {"command": " ".join(["python", "scripts/bench_paths_ab.py"] + (argv or sys.argv[1:])),
                   "before": args.before, "machine": bench_paths.calibration(), "corpora": {}}
        sides = {"before": before.cluster_paths, "after": cluster_paths}
        print(f"{'corpus':10s} {'mode':5s} {'n':>6s} {'before/s':>9s} {'after/s':>9s} {'ratio':>6s} "
              f"{'pair-ratio':>10s} {'best-ratio':>10s}")
        for name, groups in corpora.items():
            same = all(before.cluster_paths(g["question"], g["completions"]) ==
                       cluster_paths(g["question"], g["completions"]) for g in groups)
            inner = args.run_inner if name == "run" else 1
            n = sum(len(g["completions"]) for g in groups) * inner
            results["corpora"][name] = {"same_clusters": same, "completions_per_pass": n // inner, "inner": inner}
            for mode in args.modes.split(","):
                clear()
                cpu: dict[str, list[float]] = {"before": [], "after": []}
                for r in range(args.repeats + 1):
                    order = ("before", "after") if r % 2 else ("after", "before")
                    for side in order:
                        c_s, _ = bench_paths.time_pass(groups, mode == "cold", inner, sides[side], clear)
                        if r:  # repeat 0 is the warm-up (and fills the memos for 'warm')
                            cpu[side].append(c_s)
                b, a = statistics.median(cpu["before"]), statistics.median(cpu["after"])
                pair = statistics.median(x / y for x, y in zip(cpu["before"], cpu["after"]))
                best = min(cpu["before"]) / min(cpu["after"])
                results["corpora"][name][mode] = {"before_per_s": n / b, "after_per_s": n / a, "ratio": b / a,
                                                  "pair_ratio_median": pair, "best_ratio": best,
                                                  "cpu_s_before": cpu["before"], "cpu_s_after": cpu["after"]}
                print(f"{name:10s} {mode:5s} {n:6d} {n / b:9,.0f} {n / a:9,.0f} {b / a:6.2f} {pair:10.2f} {best:10.2f}"
                      + ("" if same else "  CLUSTERS DIFFER"))
    results["machine_after"] = bench_paths.calibration()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
