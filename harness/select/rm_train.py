"""``tmc rm train``: a population reward model on sample-store rows of a TRAIN split (never evaluated problems).

* ``kind: orm`` -- features phi(question, completion) (:mod:`.rewards.features`), label = the grader's 0/1.
* ``kind: prm`` -- Math-Shepherd soft labels: each completion is split into steps; for up to ``max_prefixes``
  of its proper prefixes s, y(s) = (1/n_mc) sum_i R_oracle(s + c_i) over n_mc continuations sampled from s by
  the same policy and decoding as the run; the whole completion gets its 0/1 grade. Labels stay soft.

Both fit :func:`.rewards.probe.fit_soft_logistic`. Problems (not rows) are split into train / held-out
(``heldout_frac``, seeded), and the held-out AUC, ECE, Brier and log loss (beside the constant base rate's)
go into ``OUT/rm.json`` with the sha1 of every prompt used, so ``tmc bon`` refuses to evaluate on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from tmc_core.config import ConfigError, check_literals, doc


@dataclass
class RMTrainConfig:
    kind: Literal["orm", "prm"] = field(default="orm", metadata=doc(
        "orm = outcome model; prm = step model on soft MC labels"))
    runs: list[str] = field(default_factory=list, metadata=doc(
        "sample-store runs (tmc sample) of a TRAIN split: the rows to learn from"))
    model: str | None = field(default=None, metadata=doc(
        "policy whose frozen features the probe reads; null = the runs' model (must be the policy tmc bon uses)"))
    heldout_frac: float = field(default=0.25, metadata=doc("share of PROBLEMS held out for AUC / ECE"))
    l2: float = field(default=0.01, metadata=doc("L2 penalty on the standardised weights"))
    max_rows: int | None = field(default=None, metadata=doc("use at most this many rows (first problems first)"))
    sep: str = field(default="\n\n", metadata=doc("prm: step separator ('\\n' for short CoTs)"))
    n_mc: int = field(default=4, metadata=doc("prm: continuations per soft label (Math-Shepherd used 8)"))
    max_prefixes: int = field(default=3, metadata=doc("prm: proper prefixes labelled per completion (evenly spaced)"))
    dtype: Literal["float32", "bfloat16"] = field(default="float32", metadata=doc(
        "policy dtype for features and rollouts"))
    batch_size: int = field(default=16, metadata=doc("rows per rollout generate call"))
    seed: int = field(default=0, metadata=doc("split and rollout seed"))
    out: str = field(default="runs/rm/orm", metadata=doc("output folder (rm.npz, rm.json)"))

    def __post_init__(self):
        check_literals(self)
        if not 0 <= self.heldout_frac < 1:
            raise ConfigError(f"heldout_frac: must be in [0, 1), got {self.heldout_frac}")
        for name in ("n_mc", "max_prefixes", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")


def _rows(cfg: RMTrainConfig):
    """(store rows, the runs' SampleConfig dict) of every run; refuses runs of a test split."""
    import pandas as pd

    from harness.store import SampleStore

    if not cfg.runs:
        raise ConfigError("runs: give at least one sample-store run of a train split (tmc sample --set split=train)")
    dfs, rc0 = [], None
    for r in cfg.runs:
        if not (Path(r) / "run.json").exists():
            raise ConfigError(f"runs: {r} is not a sample-store run (no run.json)")
        rc = SampleStore(r).config or {}
        if rc.get("split") != "train":
            raise ConfigError(f"runs: {r} was sampled from split {rc.get('split')!r}; a reward model must learn from "
                              f"a train split (sample one with --set split=train)")
        if rc0 is not None and SampleStore(r).id_scheme != rc0["id_scheme"]:
            from harness.data.ids import require_same_scheme

            require_same_scheme("runs", (cfg.runs[0], rc0["id_scheme"]), (r, SampleStore(r).id_scheme))
        rc0 = rc0 or {**rc, "id_scheme": SampleStore(r).id_scheme}
        dfs.append(SampleStore(r).read(step=0))
    df = pd.concat(dfs, ignore_index=True)
    df = df[df["grade_status"].isin(["ok", "no_answer", "truncated"])]
    df = df.sort_values(["problem_id", "sample_idx"], kind="stable")
    if cfg.max_rows:
        df = df.head(cfg.max_rows)
    return df.reset_index(drop=True), rc0


def _prm_examples(cfg, df, rc, progress: bool = False) -> tuple[list, list, list, list, int]:
    """(prompts, texts, soft labels, problem ids) of the PRM's training examples (rollouts for the labels)."""
    from harness.backends import make_backend
    from harness.data import load_problems

    from .rewards.mc import MCReward
    from .rewards.oracle import OracleReward
    from .steps import StepSampler, split_steps
    from .types import Candidate, ProblemCtx

    gold = {p.id: p for p in load_problems(rc["benchmark"], split=rc["split"], source=rc.get("source"),
                                           id_scheme=rc.get("id_scheme", 1))}
    backend = make_backend("hf", cfg.model or rc["model"], dtype=cfg.dtype, device="cpu", batch_size=cfg.batch_size)
    sampler = StepSampler(backend, cfg.sep, float(rc["temperature"]), float(rc["top_p"]), 1,
                          int(rc["max_new_tokens"]), seed=cfg.seed)
    mc = MCReward(OracleReward(), cfg.n_mc, "mc:oracle")
    P, T, Y, G = [], [], [], []
    rows = df.itertuples()
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, total=len(df), unit="completion", desc="prm soft labels", dynamic_ncols=True)
    for r in rows:
        p = gold[r.problem_id]
        ctx = ProblemCtx(r.problem_id, r.prompt, p.answer, p.benchmark, p.question)
        steps = split_steps(str(r.completion), cfg.sep)
        cut = sorted(set(np.linspace(1, len(steps) - 1, cfg.max_prefixes).round().astype(int))) \
            if len(steps) > 1 else []
        pre = []
        for j in cut:
            text = "".join(steps[:j])
            pre.append(Candidate(text, len(backend.tokenizer(text, add_special_tokens=False)["input_ids"]), False))
        if pre:
            v, _ = mc.values(ctx, pre, 1.0, sampler, f"{r.problem_id}|{r.sample_idx}")
            for c, vi in zip(pre, v):
                P.append(r.prompt)
                T.append(c.text)
                Y.append(float(vi))
                G.append(r.problem_id)
        P.append(r.prompt)
        T.append(str(r.completion))
        Y.append(float(bool(r.correct)))
        G.append(r.problem_id)
    return P, T, Y, G, sampler.generated_tokens


def train_rm(cfg: RMTrainConfig, progress: bool = True) -> dict:
    from .rewards.features import PolicyFeatures
    from .rewards.probe import LinearRM, fit_soft_logistic, report

    t0 = time.perf_counter()
    df, rc = _rows(cfg)
    model = cfg.model or rc["model"]
    feats = PolicyFeatures.load(model, dtype=cfg.dtype)
    rollout_tokens = 0
    if cfg.kind == "orm":
        P, T = list(df["prompt"]), [str(x) for x in df["completion"]]
        Y, G = [float(bool(x)) for x in df["correct"]], list(df["problem_id"])
    else:
        P, T, Y, G, rollout_tokens = _prm_examples(cfg, df, rc, progress)
    x = feats(P, T)
    y = np.array(Y)
    pids = sorted(set(G))
    rng = np.random.default_rng(cfg.seed)
    held = set(rng.choice(pids, size=round(cfg.heldout_frac * len(pids)), replace=False).tolist()) \
        if cfg.heldout_frac > 0 else set()
    te = np.array([g in held for g in G])
    if (~te).sum() < 2:
        raise ConfigError(f"runs: only {(~te).sum()} training examples after holding out problems; sample more")
    w, b, mu, sd = fit_soft_logistic(x[~te], y[~te], cfg.l2)
    meta = {"model": model, "features": "mean-pooled last hidden state of the completion (frozen policy)",
            "label": "0/1 grade" if cfg.kind == "orm" else f"soft Math-Shepherd MC value, n_mc={cfg.n_mc}",
            "runs": list(cfg.runs), "n_examples": len(y), "n_problems": len(pids),
            "heldout_problems": len(held), "l2": cfg.l2, "sep": cfg.sep,
            "rollout_generated_tokens": int(rollout_tokens),
            "train_prompt_sha1": sorted({hashlib.sha1(p.encode()).hexdigest() for p in P})}
    rm = LinearRM(w, b, mu, sd, cfg.kind, meta)
    base = float(y[~te].mean())
    meta["train_metrics"] = report(y[~te], rm.predict(x[~te]), base)
    meta["heldout_metrics"] = report(y[te], rm.predict(x[te]), base) if te.any() else None
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    rm.meta = meta
    rm.save(cfg.out)
    return meta


def build_parser(prog: str = "tmc rm") -> argparse.ArgumentParser:
    from harness.cpu_threads import add_threads_argument

    p = argparse.ArgumentParser(prog=prog, description="train a reward model (ORM / soft-label PRM) on a train-split "
                                                       "sample run: `tmc rm train --config configs/rm_*.yaml`")
    p.add_argument("action", choices=("train",))
    p.add_argument("--config", help="YAML file of RMTrainConfig fields")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", help="output folder (overrides `out`)")
    p.add_argument("--describe", action="store_true", help="print the documented config fields and exit")
    add_threads_argument(p)
    return p


def run(args) -> int:
    from harness.cpu_threads import apply_threads
    from tmc_core.config import load_cli_config

    cfg = load_cli_config(RMTrainConfig, args, out=args.out)
    if cfg is None:  # --describe
        return 0
    apply_threads(args.threads)
    meta = train_rm(cfg)
    show = {k: meta[k] for k in ("model", "n_examples", "n_problems", "heldout_problems", "train_metrics",
                                 "heldout_metrics", "seconds")}
    print(json.dumps(show, indent=2))
    print(f"reward model: {Path(cfg.out) / 'rm.json'}")
    return 0
