"""The candidate pool of ``tmc bon``: sampled completions per problem from a sample-store run.

``load_pool(cfg, out, backend) -> list[PoolProblem]`` samples ``cfg.sample`` into ``OUT/samples`` (resumable,
:func:`harness.pipeline.run_sampling`) or reads ``cfg.samples_run`` (checking that its model, data and
decoding are those of ``cfg.sample``, since step-level selectors sample with ``cfg.sample``'s settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tmc_core.config import ConfigError, to_dict

from .types import Candidate, ProblemCtx

#: fields of the pool's SampleConfig that must match an existing samples_run
MATCH = ("model", "benchmark", "split", "source", "template", "temperature", "top_p", "max_new_tokens", "adapter")


@dataclass
class PoolProblem:
    ctx: ProblemCtx
    cands: list[Candidate]
    correct: list[bool]
    answers: list[str | None]


def load_pool(cfg, out: Path, backend, progress: bool = True) -> list[PoolProblem]:
    from harness.data import load_problems
    from harness.pipeline import run_sampling
    from harness.store import SampleStore

    s = cfg.sample
    if cfg.samples_run is None:
        run_dir = Path(out) / "samples"
        run_sampling(s, run_dir=run_dir, backend=backend, progress=progress)
    else:
        run_dir = Path(cfg.samples_run)
        if not (run_dir / "run.json").exists():
            raise ConfigError(f"samples_run: {run_dir} is not a sample-store run (no run.json); make one with "
                              f"`tmc sample` or leave samples_run null to sample")
        rc = SampleStore(run_dir).config or {}
        mine = to_dict(s)
        bad = [k for k in MATCH if k in rc and rc[k] != mine[k]]
        if bad:
            raise ConfigError(f"samples_run: {run_dir} was sampled with {bad[0]}={rc[bad[0]]!r} but sample.{bad[0]} is "
                              f"{mine[bad[0]]!r}; set sample.{bad[0]} to the run's value")
    store = SampleStore(run_dir)
    df = store.read(step=0)
    problems = load_problems(s.benchmark, split=s.split, source=s.source, limit=s.limit, offset=s.offset,
                             id_scheme=store.id_scheme)
    pool = []
    for p in problems:
        rows = df[df["problem_id"] == p.id].sort_values("sample_idx").head(s.n)
        if len(rows) < cfg.n_candidates:
            raise ConfigError(f"samples_run: problem {p.id} has {len(rows)} samples < n_candidates = "
                              f"{cfg.n_candidates}; sample more (tmc sample --set n=...)")
        ctx = ProblemCtx(p.id, str(rows["prompt"].iloc[0]), p.answer, p.benchmark, p.question)
        cands = [Candidate(str(r.completion), int(r.n_tokens), r.finish_reason == "stop") for r in rows.itertuples()]
        answers = [None if r.grade_status == "truncated" or r.extracted is None else str(r.extracted)
                   for r in rows.itertuples()]
        pool.append(PoolProblem(ctx, cands, [bool(x) for x in rows["correct"]], answers))
    return pool
