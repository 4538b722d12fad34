"""transformers backend: ``generate`` (every row decoded until the longest stops) vs the backend's own loop
that drops finished rows (``compact_rows``), on the same prompts, seeds and batches, side by side in one process.

    python scripts/bench_row_compaction.py [--model smollm2] [--adapter runs/train/<run>/checkpoint-20] \
        [--source data/easy_arith/test.jsonl] [--problems 8] [--n 8] [--max-new-tokens 96] [--batch-size 32] \
        [--temperature 0.7] [--reps 2] [--json out.json]

Each repetition runs both modes over all rows, alternating which goes first (ABBA over repetitions) so that
drift in the machine's load hits both alike. Reported per mode: seconds, samples/s, new tokens/s, the rows fed
to the model summed over decode steps, and how many completions are token-for-token identical between modes
(the same seeds draw the same tokens unless logits differ in the last bits: the backend's known limit).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def bench(args) -> dict:
    import torch

    from harness.backends import make_backend
    from harness.data import build_prompt, load_problems

    backend = make_backend("hf", args.model, dtype=args.dtype, adapter=args.adapter, batch_size=args.batch_size)
    problems = load_problems(args.benchmark, args.split, source=args.source, limit=args.problems)
    prompts = [build_prompt(p, "chat", backend.tokenizer) for p in problems]
    kw = dict(n=args.n, temperature=args.temperature, top_p=1.0, max_new_tokens=args.max_new_tokens, seed=0)
    backend.generate(prompts[:1], n=1, temperature=args.temperature, top_p=1.0, max_new_tokens=4, seed=0)  # warm-up
    res = {"model": args.model, "adapter": args.adapter, "source": args.source, "problems": len(prompts),
           "n": args.n, "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
           "temperature": args.temperature, "dtype": str(backend.dtype), "torch_threads": torch.get_num_threads(),
           "cpu_count": os.cpu_count(), "reps": []}
    for rep in range(args.reps):
        order = (False, True) if rep % 2 == 0 else (True, False)
        out, row = {}, {"rep": rep, "order": ["compact" if m else "generate" for m in order]}
        for compact in order:
            backend.compact_rows = compact
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            out[compact] = backend.generate(prompts, **kw)
            sec = time.perf_counter() - t0
            st = backend.last_stats
            name = "compact" if compact else "generate"
            row[name] = {"seconds": round(sec, 2), "samples_per_s": round(st["rows"] / sec, 3),
                         "tokens_per_s": round(st["new_tokens"] / sec, 1), "new_tokens": st["new_tokens"],
                         "load_avg_1m_before": round(load0, 2)}
            if compact:
                row[name]["decode_row_steps"] = st["decode_row_steps"]
                row[name]["decode_row_steps_uncompacted"] = st["decode_row_steps_uncompacted"]
            print(f"rep {rep} {name:8s} {sec:7.1f} s  {row[name]['tokens_per_s']:6.1f} tok/s", file=sys.stderr,
                  flush=True)
        pairs = [(a, b) for ra, rb in zip(out[False], out[True]) for a, b in zip(ra, rb)]
        row["identical"] = sum(a.token_ids == b.token_ids for a, b in pairs)
        row["samples"] = len(pairs)
        row["speedup"] = round(row["generate"]["seconds"] / row["compact"]["seconds"], 3)
        res["reps"].append(row)
    return res


def report(res: dict) -> str:
    lines = ["| rep | generate s | compact s | speed-up | generate tok/s | compact tok/s | rows fed (compact / all) "
             "| identical samples |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["reps"]:
        g, c = r["generate"], r["compact"]
        lines.append(f"| {r['rep']} | {g['seconds']} | {c['seconds']} | {r['speedup']}x | {g['tokens_per_s']} | "
                     f"{c['tokens_per_s']} | {c['decode_row_steps']} / {c['decode_row_steps_uncompacted']} | "
                     f"{r['identical']}/{r['samples']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2")
    p.add_argument("--adapter", default=None, help="a LoRA checkpoint folder (merged into the weights)")
    p.add_argument("--benchmark", default="gsm8k", choices=("gsm8k", "math"))
    p.add_argument("--split", default="test")
    p.add_argument("--source", default="data/easy_arith/test.jsonl")
    p.add_argument("--problems", type=int, default=8)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    res = bench(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    print(report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
