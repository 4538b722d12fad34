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

from tmc_core.config import ConfigError, check_literals, config_hash, doc


@dataclass
class RMTrainConfig:
    kind: Literal["orm", "prm"] = field(default="orm", metadata=doc(
        "orm = outcome model; prm = step model on soft MC labels"))
    runs: list[str] = field(default_factory=list, metadata=doc(
        "sample-store runs (tmc sample) of a TRAIN split: the rows to learn from"))
    model: str | None = field(default=None, metadata=doc(
        "policy whose frozen features the probe reads; null = the runs' model (must be the policy tmc bon uses)"))
    heldout_frac: float = field(default=0.25, metadata=doc("share of PROBLEMS held out for AUC / ECE"))
    l2: float = field(default=0.01, metadata=doc("L2 penalty on the standardised weights (unless l2_grid is set)"))
    l2_grid: list[float] | None = field(default=None, metadata=doc(
        "choose the L2 penalty from these by grouped cross-validation over the TRAINING problems (cv_folds folds "
        "of problems, mean held-out log loss); the held-out problems play no part; null = use `l2`"))
    cv_folds: int = field(default=4, metadata=doc("l2_grid: folds of training problems"))
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
        if self.l2_grid is not None and (not self.l2_grid or min(self.l2_grid) < 0):
            raise ConfigError(f"l2_grid: give one or more penalties >= 0, got {self.l2_grid}")
        for name in ("n_mc", "max_prefixes", "batch_size", "cv_folds"):
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


ROW_COLUMNS = ("problem_id", "sample_idx", "prompt", "completion", "correct")
"""The columns of a training row that the examples depend on (their fingerprint is part of the cache key)."""


def rows_fingerprint(df) -> str:
    """sha1 of the training rows' contents (``ROW_COLUMNS`` that ``df`` has, in row order): a store re-sampled in
    place with as many rows gives another fingerprint, so its cached examples are not reused."""
    h = hashlib.sha1()
    cols = [c for c in ROW_COLUMNS if c in df.columns]
    for row in df[cols].itertuples(index=False, name=None):
        h.update(repr(row).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def examples_key(cfg, df, model: str) -> str:
    """The cache key of ``OUT/examples.npz``: the labelling settings, the model and the rows' contents."""
    return config_hash({"kind": cfg.kind, "runs": [str(Path(r).resolve()) for r in cfg.runs], "model": model,
                        "max_rows": cfg.max_rows, "sep": cfg.sep, "n_mc": cfg.n_mc, "max_prefixes": cfg.max_prefixes,
                        "dtype": cfg.dtype, "seed": cfg.seed, "rows": len(df), "rows_sha1": rows_fingerprint(df)})


def _examples(cfg, df, rc, feats, model, progress):
    """(features, labels, problem ids, sha1 of every prompt, rollout tokens) of the training examples.

    Rollouts (the PRM's soft labels) and features are the expensive part: they are kept in ``OUT/examples.npz``
    under a key of everything they depend on, and reused when the key matches (e.g. refitting with another L2)."""
    key = examples_key(cfg, df, model)
    cache = Path(cfg.out) / "examples.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        if str(z["key"]) == key:
            print(f"rm train: reusing the examples of {cache} (same rows, model and labelling settings)")
            return (z["x"], z["y"], [str(g) for g in z["groups"]], [str(h) for h in z["sha1"]],
                    int(z["rollout_tokens"]))
    rollout_tokens = 0
    if cfg.kind == "orm":
        P, T = list(df["prompt"]), [str(x) for x in df["completion"]]
        Y, G = [float(bool(x)) for x in df["correct"]], list(df["problem_id"])
    else:
        P, T, Y, G, rollout_tokens = _prm_examples(cfg, df, rc, progress)
    x, y = feats(P, T), np.array(Y, float)
    sha = sorted({hashlib.sha1(p.encode()).hexdigest() for p in P})
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=key, x=x, y=y, groups=np.array(G), sha1=np.array(sha), rollout_tokens=rollout_tokens)
    return x, y, list(G), sha, rollout_tokens


def choose_l2(x, y, groups, grid, folds: int, seed: int) -> tuple[float, dict]:
    """The L2 penalty of ``grid`` with the lowest mean held-out log loss over ``folds`` folds of PROBLEMS
    (``groups``); ties go to the larger penalty. Returns (l2, {"grid", "cv_log_loss", "folds"})."""
    from .rewards.probe import LinearRM, fit_soft_logistic

    pids = np.array(sorted(set(groups.tolist())))
    if len(pids) < folds:
        raise ConfigError(f"cv_folds: {folds} folds need at least {folds} training problems, have {len(pids)}")
    fold_of = dict(zip(np.random.default_rng(seed).permutation(pids).tolist(), np.arange(len(pids)) % folds))
    f = np.array([fold_of[g] for g in groups.tolist()])
    losses = []
    for l2 in grid:
        tot = 0.0
        for k in range(folds):
            p = np.clip(LinearRM(*fit_soft_logistic(x[f != k], y[f != k], l2), "cv").predict(x[f == k]), 1e-9, 1 - 1e-9)
            tot += float(np.sum(-y[f == k] * np.log(p) - (1 - y[f == k]) * np.log(1 - p)))
        losses.append(tot / len(y))
    best = min(range(len(grid)), key=lambda i: (losses[i], -grid[i]))
    return float(grid[best]), {"grid": [float(g) for g in grid], "cv_log_loss": losses, "folds": folds}


def train_rm(cfg: RMTrainConfig, progress: bool = True) -> dict:
    from .rewards.features import PolicyFeatures
    from .rewards.probe import LinearRM, fit_soft_logistic, report

    t0 = time.perf_counter()
    df, rc = _rows(cfg)
    model = cfg.model or rc["model"]
    feats = PolicyFeatures.load(model, dtype=cfg.dtype)
    x, y, G, sha, rollout_tokens = _examples(cfg, df, rc, feats, model, progress)
    pids = sorted(set(G))
    rng = np.random.default_rng(cfg.seed)
    held = set(rng.choice(pids, size=round(cfg.heldout_frac * len(pids)), replace=False).tolist()) \
        if cfg.heldout_frac > 0 else set()
    te = np.array([g in held for g in G])
    if (~te).sum() < 2:
        raise ConfigError(f"runs: only {(~te).sum()} training examples after holding out problems; sample more")
    l2, cv = cfg.l2, None
    if cfg.l2_grid is not None:
        l2, cv = choose_l2(x[~te], y[~te], np.array(G)[~te], cfg.l2_grid, cfg.cv_folds, cfg.seed)
    w, b, mu, sd = fit_soft_logistic(x[~te], y[~te], l2)
    meta = {"model": model, "features": "mean-pooled last hidden state of the completion (frozen policy)",
            "label": "0/1 grade" if cfg.kind == "orm" else f"soft Math-Shepherd MC value, n_mc={cfg.n_mc}",
            "runs": list(cfg.runs), "n_examples": len(y), "n_problems": len(pids),
            "heldout_problems": len(held), "l2": l2, "l2_cv": cv, "sep": cfg.sep,
            "rollout_generated_tokens": int(rollout_tokens), "train_prompt_sha1": sha}
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
