"""Which stored samples the transformers backend's row sampler corrupted before 2026-12-01 (the u = 1.0 bug).

    tmc analyze sampler_u1_rows RUN [RUN ...] [--vocab 49152] [--json out.json]
    tmc analyze sampler_u1_rows --reports results/cpu_grpo/checkpoints_metrics.json ...   # stores gone: bounds

The sampler draws token ``argmax_v [log pi'(v) - log(-log u_{s,t,v})]`` with ``u`` hashed from (seed, decode
step, token) (harness/backends/row_sampler.py). Before the clamp, ``u`` rounded to exactly 1.0 in float32 for
128 of the 2^32 hash values, the noise was +inf, and that token was emitted whatever its probability (outside
the nucleus as -inf + inf = NaN, which argmax also picks): a token drawn uniformly from the vocabulary, in about
``1 - (1 - 128 V / 2^32)^L`` of the samples of L tokens (V = 49152: 1.5e-3 per step, 10% at L = 72).

The noise depends only on (seed, step, token), never on the model, so a stored sample's fate is decided by its
``seed`` and ``n_tokens`` alone: it was corrupted iff some decode step t < n_tokens had a token with u = 1.0 (at
the first such step the old sampler emitted that token, and the completion diverged from there). This script
recomputes the old noise for every stored row and reports, per step of the run, the share of corrupted samples
and the accuracy of both groups. ``--vocab`` must be the model's logit width (49152 for SmolLM2; 151936 for
Qwen2.5). A corrupted sample whose out-of-nucleus token was emitted also has ``logprob_sum = -inf``, which the
report cross-checks (in-nucleus hits keep a finite log-probability; with top_p = 1 every hit is in the nucleus).

Where the stores are gone and only committed reports remain (``checkpoints_metrics.json`` of ``tmc
eval-checkpoints`` or ``metrics.json`` of ``tmc eval``), ``--reports`` gives, per step, the expected corrupted
share at the report's mean length and the largest pass@1 the clean samples could have had, p_obs / (1 - s)
(if no corrupted sample was correct; measured, they were correct about half as often as clean ones).
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def first_hit_steps(seeds, n_tokens, vocab: int, rows_per_chunk: int = 128) -> np.ndarray:
    """For each row, the first decode step ``t < n_tokens`` at which the unclamped noise had ``u == 1.0`` for
    some token (the step the old sampler emitted a uniformly random token), or -1 where no step did."""
    import torch

    from harness.backends.row_sampler import hashed_uniform, seed_tensor

    seeds = seed_tensor([int(s) for s in seeds])
    n_tokens = np.asarray(n_tokens, dtype=np.int64)
    hit = np.full(len(n_tokens), -1, dtype=np.int64)
    for t in range(int(n_tokens.max(initial=0))):
        live = np.flatnonzero((n_tokens > t) & (hit < 0))
        for start in range(0, len(live), rows_per_chunk):
            rows = live[start:start + rows_per_chunk]
            u = hashed_uniform(seeds[torch.from_numpy(rows)], t, vocab, clamp=False)
            hit[rows[(u == 1.0).any(dim=1).numpy()]] = t
    return hit


def hit_rate_per_step(vocab: int) -> float:
    """P(some token of the step has u = 1.0) = 1 - (1 - 128 / 2^32)^V: 128 of the 2^32 hash values round to 1."""
    return float(-np.expm1(vocab * np.log1p(-128 / 2**32)))


def corrupted_share(mean_tokens: float, vocab: int) -> float:
    """s = 1 - (1 - q)^L at the mean length L: an upper estimate of the expected share over lengths (concavity)."""
    return float(-np.expm1(mean_tokens * np.log1p(-hit_rate_per_step(vocab))))


def bounds_from_reports(paths: list[str], vocab: int) -> list[dict]:
    """Per (report, step): mean tokens, expected corrupted share s, observed pass@1 and the bound p_obs / (1 - s)."""
    out = []
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        steps = d.get("steps") or {name: r for name, r in d.get("runs", {}).items()}
        if not steps:
            raise SystemExit(f"{path}: neither 'steps' (tmc eval-checkpoints) nor 'runs' (tmc eval); not a report")
        for step, r in steps.items():
            if r.get("mean_tokens") is None:
                raise SystemExit(f"{path}: step {step} has no mean_tokens")
            s, p = corrupted_share(r["mean_tokens"], vocab), r["pass_at_k"]["1"]["mean"]
            out.append({"report": path, "step": step, "mean_tokens": r["mean_tokens"], "corrupted_share": s,
                        "pass1": p, "pass1_clean_max": p / (1 - s),
                        "ci": [r["pass_at_k"]["1"]["lo"], r["pass_at_k"]["1"]["hi"]]})
    return out


def report(df, vocab: int) -> dict:
    """Per stored step: samples, corrupted share, accuracy of corrupted and clean samples, the -inf cross-check."""
    hit = first_hit_steps(df["seed"].to_numpy(), df["n_tokens"].fillna(0).astype(int).to_numpy(), vocab)
    df = df.assign(corrupted=hit >= 0, correct=df["correct"].fillna(False).astype(bool))
    out = {}
    for step, d in df.groupby("step", sort=True):
        bad, ok = d[d["corrupted"]], d[~d["corrupted"]]
        lp = d["logprob_sum"].astype(float) if "logprob_sum" in d else None
        out[int(step)] = {
            "samples": int(len(d)), "corrupted": int(len(bad)), "corrupted_share": float(len(bad) / max(len(d), 1)),
            "mean_tokens": float(d["n_tokens"].mean()),
            "accuracy_corrupted": float(bad["correct"].mean()) if len(bad) else None,
            "accuracy_clean": float(ok["correct"].mean()) if len(ok) else None,
            "logprob_neg_inf": int(np.isneginf(lp).sum()) if lp is not None else None,
            "logprob_neg_inf_outside_corrupted": (int(np.isneginf(lp[~d["corrupted"]]).sum())
                                                  if lp is not None else None),
        }
    return {"per_step": out, "rows": [{"problem_id": str(r.problem_id), "sample_idx": int(r.sample_idx),
                                       "step": int(r.step), "first_hit": int(h)}
                                      for r, h in zip(df.itertuples(), hit) if h >= 0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", help="sample run folders (tmc sample out, or <training run>/eval)")
    p.add_argument("--reports", nargs="*", default=[], help="committed checkpoints_metrics.json / metrics.json: "
                   "expected corrupted share and pass@1 bound from their mean lengths")
    p.add_argument("--vocab", type=int, default=49152, help="the model's logit width (default: SmolLM2's 49152)")
    p.add_argument("--json", help="write the per-step figures and the corrupted rows here")
    args = p.parse_args(argv)
    from harness.store import SampleStore

    if not args.runs and not args.reports:
        p.error("give sample run folders and/or --reports")
    result: dict = {}
    if args.reports:
        rows = result["report_bounds"] = bounds_from_reports(args.reports, args.vocab)
        print(f"per-step hit rate at V = {args.vocab}: {hit_rate_per_step(args.vocab):.3e}")
        print(
            "| report | step | mean tokens | expected corrupted share | pass@1 (95% CI) | pass@1 of clean samples at "
            "most |"
        )
        print("|---|---:|---:|---:|---|---:|")
        for r in rows:
            print(
                f"| {r['report']} | {r['step']} | {r['mean_tokens']:.1f} | {r['corrupted_share']:.1%} | "
                f"{r['pass1']:.4f} "
                f"[{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] | {r['pass1_clean_max']:.4f} |"
            )
    if not args.runs:
        return _write(result, args.json)
    print(
        "| run | step | samples | mean tokens | corrupted | accuracy corrupted | accuracy clean | logprob -inf "
        "(outside corrupted) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in args.runs:
        df = SampleStore(run).read()
        missing = [c for c in ("seed", "n_tokens", "step", "correct") if c not in df]
        if df.empty or missing:
            raise SystemExit(f"{run}: no samples, or no {missing} columns; expected a run written by `tmc sample`")
        r = result[run] = report(df, args.vocab)
        for step, s in r["per_step"].items():
            fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(
                f"| {run} | {step} | {s['samples']} | {s['mean_tokens']:.1f} | {s['corrupted']} "
                f"({s['corrupted_share']:.1%}) | "
                f"{fmt(s['accuracy_corrupted'])} | {fmt(s['accuracy_clean'])} | {s['logprob_neg_inf']} "
                f"({s['logprob_neg_inf_outside_corrupted']}) |"
            )
    return _write(result, args.json)


def _write(result: dict, path: str | None) -> int:
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
