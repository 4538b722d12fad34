"""Throughput of harness.paths.cluster_paths on one core (target >= 10,000 completions/s).

    python scripts/bench_paths.py [--repeats 5] [--run RUN_DIR [--run-inner 20]] [--ceiling] [--json OUT.json]

Corpora (grouped by problem; one ``cluster_paths(question, completions)`` call per problem, as a path table does):

* ``gold``      -- GSM8K train gold solutions, annotations stripped, 3 paraphrases each + a truncated solution +
                   another problem's solution (harness.paths.gold; 300 problems);
* ``synthetic`` -- the multi-strategy set (harness.paths.synthetic, 60 problems x 3 strategies x 5);
* ``hand``      -- tests/data/paths_handlabelled.jsonl (includes LaTeX, hence sympy);
* ``math``      -- MATH train reference solutions (first 300; LaTeX, one completion per problem, so cold every
                   symbolic piece is new -- the worst case for the LaTeX reader);
* ``long``      -- the gold corpus with each completion padded to ~1,000 characters by restating the question and
                   filler sentences (about a 256-token SmolLM2 completion);
* ``run``       -- with ``--run``: the completions of a sample store, e.g. SmolLM2 samples from ``tmc sample``,
                   with the question read from the stored prompt as ``tmc paths`` reads it
                   (``harness.paths.table.question_of``: the problem text inside the template; ``--run-prompt`` uses
                   the whole chat-templated prompt instead, as this benchmark did before 2026-12-07's fourth
                   session). A small store is timed ``--run-inner`` times per repeat (cold: the memos emptied
                   before each pass, outside the clock), so the rate is not one clock tick's worth.

Time is ``time.process_time()`` of this single-threaded process (CPU seconds: what one core spends, insensitive to
other processes on a shared machine) and wall time beside it. Two figures per corpus:

* **cold** -- every memo of the readers is emptied before each repeat (``harness.paths.clear_caches``: question
  numbers and items, LaTeX pieces, sympy forms, equation runs) and sympy's own expression cache too, so nothing is
  reused across problems or repeats; only what one ``cluster_paths`` call reuses within itself counts (the question
  read once, identical completion strings read once, a piece or an equation repeated inside the call's completions
  found in the memo filled by that call);
* **warm** -- the memos are kept from the previous repeat (a path table that sees the same problems again, or
  one problem's many samples repeating the same expressions across calls).

* **ceiling** (``--ceiling``) -- cold, except that the memo of sympy-built forms (``latex._sympy_piece``, filled
  by the warm-up) is kept: the cold rate if symbolic normalisation cost nothing, i.e. the bound on what any faster
  symbolic backend could reach with the rest of the reader as it is (``clear_caches(keep_symbolic=True)``; sympy's
  own cache is emptied, so a piece the warm-up did not see is built cold). Equal to *cold* on text without LaTeX.

The first repeat of each mode is a warm-up (imports sympy; for *warm* it fills the memos) and is not counted. A
calibration figure (CPU seconds of ``sum(range(10**7))``) and the load average are printed beside the rates: on a
shared machine they say how far the rates sit below an idle core's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.paths import clear_caches, cluster_paths  # noqa: E402
from harness.paths.validation import gold_groups, handlabelled_groups, synthetic_groups  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"
MATH = DATA.parents[1] / "math" / "train.jsonl"
FILLER = ["Let me check the numbers again.", "This makes sense because each part is counted once.",
          "We should be careful with the units here.", "Now we put the pieces together."]


def _pad(groups: list[dict], target: int = 1000, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for g in groups:
        comps = []
        for c in g["completions"]:
            text = "We read the problem: " + g["question"] + "\n" + c
            while len(text) < target:
                text += " " + rng.choice(FILLER)
            comps.append(text)
        out.append({**g, "completions": comps})
    return out


def _run_groups(run_dir: str, whole_prompt: bool = False) -> list[dict]:
    """One group per (step, problem) of a sample store; the question as ``tmc paths`` reads it from the prompt."""
    from harness.paths.table import question_of
    from harness.store import SampleStore
    df = SampleStore(run_dir).read(columns=["problem_id", "prompt", "completion", "step"])
    read = str if whole_prompt else question_of
    return [{"question": read(sub["prompt"].iloc[0]), "completions": sub["completion"].fillna("").tolist()}
            for _, sub in df.groupby(["step", "problem_id"], sort=False)]


def _clear_all(keep_symbolic: bool = False) -> None:
    """The cold state: the readers' memos and sympy's own cache (which else keeps the last repeat's expressions);
    ``keep_symbolic``: the sympy-built forms kept (the *ceiling* mode)."""
    clear_caches(keep_symbolic=keep_symbolic)
    if "sympy" in sys.modules:
        from sympy.core.cache import clear_cache
        clear_cache()


def time_pass(groups: list[dict], cold: bool, inner: int = 1, cluster=None, clear=None) -> tuple[float, float]:
    """(CPU s, wall s) of ``inner`` passes of ``cluster`` (default ``cluster_paths``) over ``groups``, one call per
    group; cold, ``clear`` (default: every memo and sympy's cache) runs before each pass, outside the clock."""
    cluster = cluster or cluster_paths
    c_s = w_s = 0.0
    for _ in range(inner):
        if cold:
            (clear or _clear_all)()
        t0, w0 = time.process_time(), time.perf_counter()
        for g in groups:
            cluster(g["question"], g["completions"])
        c_s += time.process_time() - t0
        w_s += time.perf_counter() - w0
    return c_s, w_s


def bench(groups: list[dict], repeats: int, cold: bool = True, inner: int = 1, keep_symbolic: bool = False) -> dict:
    """Completions per CPU-second over ``groups`` (:func:`time_pass`): ``repeats`` timed repeats after one warm-up;
    ``keep_symbolic`` (with ``cold``): the *ceiling* mode, the warm-up's sympy-built forms kept."""
    n = sum(len(g["completions"]) for g in groups)
    distinct = sum(len(set(g["completions"])) for g in groups)
    chars = sum(len(c) for g in groups for c in g["completions"]) / max(n, 1)
    _clear_all()
    clear = (lambda: _clear_all(keep_symbolic=True)) if keep_symbolic else None
    times = [time_pass(groups, cold, inner, clear=clear if i else None)  # repeat 0 is the warm-up (fills the forms)
             for i in range(repeats + 1)][1:]
    cpu, wall = [t[0] for t in times], [t[1] for t in times]
    n_all = n * inner
    best_cpu, med_cpu = min(cpu), sorted(cpu)[len(cpu) // 2]
    return {"problems": len(groups), "completions": n, "inner_passes": inner, "distinct_share": distinct / max(n, 1),
            "mean_chars": chars, "per_s_cpu_median": n_all / med_cpu, "per_s_cpu_best": n_all / best_cpu,
            "per_s_wall_median": n_all / sorted(wall)[len(wall) // 2]}


def load_corpora(data: str = str(DATA), run: str | None = None, whole_prompt: bool = False) -> dict[str, list[dict]]:
    """The benchmark corpora (module docstring), each a list of ``{question, completions}`` groups."""
    corpora = {}
    if Path(data).exists():
        gold = gold_groups(data, n_problems=300, copies=3, seed=0)
        corpora["gold"] = gold
        corpora["long"] = _pad(gold)
    else:
        print(f"note: {data} not found: gold and long corpora skipped", file=sys.stderr)
    corpora["synthetic"] = synthetic_groups(60, 5, seed=0)
    corpora["hand"] = handlabelled_groups()
    if MATH.exists():
        with open(MATH, encoding="utf-8") as fh:
            recs = [json.loads(line) for _, line in zip(range(300), fh)]
        corpora["math"] = [{"question": r["problem"], "completions": [r["solution"]]} for r in recs]
    if run:
        corpora["run"] = _run_groups(run, whole_prompt)
    return corpora


def calibration() -> dict:
    """CPU seconds of ``sum(range(10**7))`` and the 1-minute load average: how far a rate sits below an idle core's."""
    t0 = time.process_time()
    sum(range(10**7))
    calib = time.process_time() - t0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: CPU seconds for sum(range(10**7)) = {calib:.3f} (an idle recent x86 core: ~0.12-0.15); "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    return {"calibration_sum_range_1e7_cpu_s": calib, "load_average_1min": load, "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per corpus (after one warm-up)")
    ap.add_argument("--data", default=str(DATA), help="GSM8K train.jsonl (default: ../shared/data/gsm8k/train.jsonl)")
    ap.add_argument("--run", default=None, help="optional sample-store run folder to bench on its completions")
    ap.add_argument("--run-inner", type=int, default=20, help="passes over the --run corpus per timed repeat")
    ap.add_argument("--run-prompt", action="store_true",
                    help="read the --run corpus with the whole stored prompt as the question (default: the problem "
                         "text inside it, as tmc paths does)")
    ap.add_argument("--corpora", default=None, help="comma-separated subset of the corpora (default: all)")
    ap.add_argument("--ceiling", action="store_true",
                    help="also time the sympy-free ceiling (cold with the sympy-built forms kept; module docstring)")
    ap.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    corpora = load_corpora(args.data, args.run, args.run_prompt)
    if args.corpora:
        corpora = {k: v for k, v in corpora.items() if k in args.corpora.split(",")}
    results = calibration()
    print(f"{'corpus':10s} {'problems':>8s} {'compl.':>7s} {'distinct':>8s} {'chars':>6s} "
          f"{'cold compl/s (CPU, median)':>27s} {'(best)':>7s} {'warm (CPU, median)':>19s} {'(best)':>7s}"
          + (f" {'ceiling (CPU, median)':>22s} {'(best)':>7s}" if args.ceiling else ""))
    for name, groups in corpora.items():
        inner = args.run_inner if name == "run" else 1
        r = {"cold": bench(groups, args.repeats, True, inner), "warm": bench(groups, args.repeats, False, inner)}
        if args.ceiling:
            r["ceiling"] = bench(groups, args.repeats, True, inner, keep_symbolic=True)
        results[name] = r
        c, w = r["cold"], r["warm"]
        ceil = (f" {r['ceiling']['per_s_cpu_median']:22,.0f} {r['ceiling']['per_s_cpu_best']:7,.0f}"
                if args.ceiling else "")
        print(f"{name:10s} {c['problems']:8d} {c['completions']:7d} {c['distinct_share']:8.2f} {c['mean_chars']:6.0f} "
              f"{c['per_s_cpu_median']:27,.0f} {c['per_s_cpu_best']:7,.0f} {w['per_s_cpu_median']:19,.0f} "
              f"{w['per_s_cpu_best']:7,.0f}{ceil}")
    if args.json:
        write_json(args.json, "scripts/bench_paths.py", argv, results)
    return 0


def write_json(path: str, script: str, argv: list[str] | None, results: dict) -> None:
    """A benchmark's figures with the command that made them (``{"command": ..., "results": ...}``)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", script] + (argv or sys.argv[1:]))
    Path(path).write_text(json.dumps({"command": command, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
