"""Step-level search vs plain sampling of the same number of generated tokens, on the same backend, in one run.

    python scripts/bench_step_search.py [--model tiny|smollm2|DIR] [--selector prm_bon|beam_search] [--m 4]
        [--problems 2] [--max-steps 4] [--max-step-tokens 32] [--max-new-tokens 96] [--sep '\\n'] [--threads 1]
        [--reps 1] [--json results/bon/bench_step_search.json]

Modes, on the transformers backend (``harness.backends.hf``), per problem, same prompts:

* ``search_stop``: the selector (``prm_bon``: one walk; ``beam_search``: N = M * M candidates, M beams) on the
  step engine :class:`harness.select.steps.StepSampler`, M candidate next steps per step in one ``generate`` call
  (the M rows share the prompt + prefix KV cache: ``share_prompt_prefill``), each stopping at the separator;
* ``search_cut``: the same with ``stop_at_sep=False`` (every proposal decodes ``max_step_tokens`` and is cut at
  the separator: the engine before stop strings);
* ``plain``: plain sampling of the same prompts, ``generate`` with n = M rows each capped at the tokens still owed
  (ceil(remaining / M), at most ``max_new_tokens``), repeated until it has generated as many tokens as
  ``search_stop`` did on that problem (within M).

Figures per mode: wall seconds, generated tokens (every token decoded, cut-off tails included), tokens/s, seconds
inside ``generate``, ``generate`` calls. The reward is the oracle (the grader: microseconds), so the search's
extra cost over plain sampling is its many short ``generate`` calls (one prefill of prompt + prefix per step),
not the reward. ``--model tiny`` builds and warms up the tests' tiny model in a temporary folder (seconds).
``search_stop`` runs first in every repetition (plain needs its token counts); the other two alternate their order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
MODES = ("search_stop", "search_cut", "plain")


class Timed:
    """Wraps a backend: counts generate calls, their seconds and tokens."""

    def __init__(self, backend):
        self.backend, self.calls, self.seconds, self.tokens = backend, 0, 0.0, 0
        self.name, self.supports_stop = backend.name, getattr(backend, "supports_stop", False)

    def generate(self, *a, **kw):
        t0 = time.perf_counter()
        out = self.backend.generate(*a, **kw)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.tokens += sum(c.n_tokens for row in out for c in row)
        return out


def _model(args) -> str:
    if args.model != "tiny":
        return args.model
    from harness.testing.tiny_model import build_tiny_model, warm_up

    d = Path(tempfile.mkdtemp(prefix="bench_step_tiny_"))
    build_tiny_model(d)
    warm_up(d, steps=60)
    return str(d)


def _search(backend, ctx, args, stop: bool, seed: int):
    import numpy as np

    from harness.select import beam_search, prm_bon
    from harness.select.rewards.oracle import OracleReward
    from harness.select.steps import StepSampler

    sampler = StepSampler(backend, sep=args.sep, temperature=args.temperature, top_p=1.0,
                          max_step_tokens=args.max_step_tokens, max_new_tokens=args.max_new_tokens, seed=seed,
                          stop_at_sep=stop)
    cfg = SimpleNamespace(m=args.m, max_steps=args.max_steps, lam=0.5, n_candidates=args.m * args.m)
    sel = prm_bon if args.selector == "prm_bon" else beam_search
    c = sel.run(ctx, sampler, OracleReward(), np.random.default_rng(seed), cfg, f"{ctx.problem_id}|{seed}")
    return sampler.generated_tokens, c


def _plain(backend, prompt: str, args, target: int, seed: int) -> int:
    """n = M samples per call, each capped at the tokens still owed (<= max_new_tokens), until within M of target."""
    got, k = 0, 0
    while target - got >= args.m or got == 0:
        cap = min(args.max_new_tokens, max(1, -(-(target - got) // args.m)))
        out = backend.generate([prompt], n=args.m, temperature=args.temperature, top_p=1.0,
                               max_new_tokens=cap, seed=seed + 1000 * k)
        got += sum(c.n_tokens for c in out[0])
        k += 1
    return got


def bench(args) -> dict:
    import torch

    from harness.backends import make_backend
    from harness.data import build_prompt, load_problems
    from harness.select.types import ProblemCtx

    if args.threads:
        torch.set_num_threads(args.threads)
    model = _model(args)
    raw = make_backend("hf", model, dtype=args.dtype, batch_size=args.batch_size)
    problems = load_problems(args.benchmark, args.split, source=args.source, limit=args.problems)
    ctxs = [ProblemCtx(p.id, build_prompt(p, "chat", raw.tokenizer), p.answer, p.benchmark, p.question)
            for p in problems]
    raw.generate([ctxs[0].prompt], n=1, temperature=args.temperature, top_p=1.0, max_new_tokens=4, seed=0)  # warm-up
    res = {"model": args.model, "selector": args.selector, "m": args.m, "problems": len(ctxs), "sep": args.sep,
           "max_steps": args.max_steps, "max_step_tokens": args.max_step_tokens,
           "max_new_tokens": args.max_new_tokens, "temperature": args.temperature, "dtype": str(raw.dtype),
           "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "backend": "hf", "reps": []}
    for rep in range(args.reps):
        # plain needs search_stop's token count per problem, so search_stop runs first; the other two alternate
        order = MODES if rep % 2 == 0 else ("search_stop", "plain", "search_cut")
        row = {"rep": rep, "order": list(order), "load_avg_1m_before": round(os.getloadavg()[0], 2)}
        target: dict[str, int] = {}
        for mode in order:
            be = Timed(raw)
            t0 = time.perf_counter()
            n_final = 0
            for i, ctx in enumerate(ctxs):
                seed = 7919 * rep + i
                if mode == "plain":
                    _plain(be, ctx.prompt, args, target[ctx.problem_id], seed)
                else:
                    n, c = _search(be, ctx, args, stop=(mode == "search_stop"), seed=seed)
                    n_final += c.n_tokens
                    if mode == "search_stop":
                        target[ctx.problem_id] = n
            sec = time.perf_counter() - t0
            row[mode] = {"seconds": round(sec, 3), "generated_tokens": be.tokens,
                         "tokens_per_s": round(be.tokens / sec, 1), "generate_seconds": round(be.seconds, 3),
                         "generate_calls": be.calls}
            if mode != "plain":
                row[mode]["returned_completion_tokens"] = n_final
            print(f"rep {rep} {mode:11s} {sec:7.2f} s  {be.tokens:6d} tokens  {row[mode]['tokens_per_s']:7.1f} tok/s  "
                  f"{be.calls} generate calls", file=sys.stderr, flush=True)
        row["search_stop_vs_plain_tokens_per_s"] = round(row["search_stop"]["tokens_per_s"]
                                                         / row["plain"]["tokens_per_s"], 3)
        row["search_cut_vs_stop_tokens"] = round(row["search_cut"]["generated_tokens"]
                                                 / max(1, row["search_stop"]["generated_tokens"]), 3)
        res["reps"].append(row)
    return res


def report(res: dict) -> str:
    lines = [f"model {res['model']}, {res['selector']}, M = {res['m']}, {res['problems']} problems, sep "
             f"{res['sep']!r}, {res['torch_threads']} torch thread(s), dtype {res['dtype']}", "",
             "| rep | mode | seconds | generated tokens | tokens/s | generate calls | seconds in generate |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in res["reps"]:
        for m in MODES:
            x = r[m]
            lines.append(f"| {r['rep']} | {m} | {x['seconds']} | {x['generated_tokens']} | {x['tokens_per_s']} | "
                         f"{x['generate_calls']} | {x['generate_seconds']} |")
    for r in res["reps"]:
        lines.append(f"\nrep {r['rep']}: search (stop at sep) runs at {r['search_stop_vs_plain_tokens_per_s']}x the "
                     f"tokens/s of plain sampling; without the stop it generates {r['search_cut_vs_stop_tokens']}x "
                     f"the tokens.")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="tiny", help="tiny (built here, seconds), smollm2, or a model folder")
    p.add_argument("--selector", default="prm_bon", choices=("prm_bon", "beam_search"))
    p.add_argument("--benchmark", default="gsm8k", choices=("gsm8k", "math"))
    p.add_argument("--split", default="test")
    p.add_argument("--source", default=str(ROOT / "data/easy_arith/test.jsonl"))
    p.add_argument("--problems", type=int, default=2)
    p.add_argument("--m", type=int, default=4, help="candidate next steps per step (plain: samples per call)")
    p.add_argument("--max-steps", type=int, default=4)
    p.add_argument("--max-step-tokens", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--sep", default="\n", help="step separator (default a newline)")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--threads", type=int, default=None, help="torch threads (1 on a shared CPU)")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    args.sep = args.sep.encode().decode("unicode_escape") if "\\" in args.sep else args.sep
    res = bench(args)
    res["command"] = "python scripts/bench_step_search.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    print(report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
