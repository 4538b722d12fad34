#!/usr/bin/env python
"""Benchmark of the theory engine; results are recorded in docs/theory_benchmarks.md.

Prints:
1. one seed of the full paper reproduction in Monte-Carlo mode (target <= 1 s; the reference script ~78 s),
   per strategy;
2. the exact-mode table (target < 1 s);
3. one expected-gradient iteration of every method with an ``expected`` variant on a random TMC with
   >= 10^6 paths (target < 1 s, memory linear in the number of edges: tracemalloc peak reported).

Timings are the best of ``--repeat`` warm runs (imports and first-call set-up excluded; the cold first run is
printed too). Usage: ``python scripts/bench_theory.py [--repeat 3] [--depth 8 --width 8]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np


def bench_reproduction(exact: bool, repeat: int) -> None:
    from tmc_theory.reproduce import ReproduceConfig, run_seed

    cfg = ReproduceConfig(exact=exact)
    t0 = time.perf_counter()
    run_seed(cfg, 0)
    cold = time.perf_counter() - t0
    best = None
    for r in range(repeat):
        res = run_seed(cfg, r + 1)
        if best is None or res["timings"]["total"] < best["total"]:
            best = res["timings"]
    mode = "exact table" if exact else "Monte-Carlo, one seed"
    print(f"[reproduction, {mode}] best of {repeat}: {best['total']:.3f} s (cold first run {cold:.3f} s)")
    print("    " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in best.items() if k != "total"))


def bench_expected_iteration(depth: int, width: int, repeat: int) -> None:
    from tmc_theory.finetune.run import FinetuneConfig, StepContext
    from tmc_theory.generate import random_tmc
    from tmc_theory.pretrain import PretrainConfig, pretrain
    from tmc_theory.registry import FINETUNE

    tmc = random_tmc(depth, width, n_tasks=2, seed=0)
    task = tmc.tasks[0]
    n_paths = tmc.n_paths
    print(f"[expected-gradient iteration] random TMC depth {depth} width {width}: {n_paths:,} paths per start "
          f"state, {tmc.n_edges:,} edges")
    pol = pretrain(tmc, PretrainConfig(method="exact"))
    # instance-coupled methods (RL-rej, GRPO, textbook RAFT) read the task's enumerated valid paths from the
    # instance set; one instance is enough (population expectation)
    from tmc_theory.instances import draw_instances

    inst = draw_instances(tmc, task, 1, np.random.default_rng(0))
    print(f"    (instance set: {inst.valid_paths.shape[0]:,} enumerated valid paths, built outside the timing)")
    for key, entry in FINETUNE.items():
        for variant in ("expected", "expected_textbook"):
            fn = entry.variants.get(variant)
            if fn is None or getattr(fn, "closed_form", False):
                continue
            cfg = FinetuneConfig(method=key, variant=variant)
            ctx = StepContext(tmc, task, inst, cfg, [k.copy() for k in pol.kernels()])
            times = []
            peak = 0
            err = None
            for r in range(repeat):
                p = pol.copy()
                tracemalloc.start()
                t0 = time.perf_counter()
                try:
                    fn(p, ctx, np.random.default_rng(r))
                except Exception as e:  # report, do not hide
                    err = f"{type(e).__name__}: {e}"
                    tracemalloc.stop()
                    break
                times.append(time.perf_counter() - t0)
                peak = max(peak, tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
            if err:
                print(f"    {key:10s} {variant:18s} FAILED: {err[:150]}")
            else:
                print(f"    {key:10s} {variant:18s} {min(times) * 1000:8.1f} ms   peak memory {peak / 2**20:7.2f} MiB "
                      f"({peak / tmc.n_edges:.0f} bytes per edge)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--depth", type=int, default=8, help="random TMC layers (8 x width 8 = 2.1M paths per start)")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--skip", nargs="*", default=[], choices=["mc", "exact", "expected"])
    args = ap.parse_args()
    import os
    import platform

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}")
    if "mc" not in args.skip:
        bench_reproduction(False, args.repeat)
    if "exact" not in args.skip:
        bench_reproduction(True, args.repeat)
    if "expected" not in args.skip:
        bench_expected_iteration(args.depth, args.width, args.repeat)


if __name__ == "__main__":
    main()
