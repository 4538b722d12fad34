"""``tmc main``: the README's main job, offline, sized for about five minutes on an idle 2-core CPU.

It runs four steps and prints a line at each one, then writes outputs/main/summary.md and summary.json:
1. the theory table: the paper's TMC simulation (tmc theory reproduce) over Monte-Carlo seeds beside the
   published numbers, plus the same protocol in exact mode (no randomness) as a check;
2. TMC-LM: a small transformer pretrained on TMC paths and post-trained with three methods, its exact path
   shares beside the theory's prediction (configs/tmclm_main.yaml, a cut-down configs/tmclm_paper.yaml);
3. the offline real model (SmolLM2-135M-Instruct, converted once from its PyPI GGUF);
4. that model on one-step arithmetic word problems (data/easy_arith): n samples per problem, graded, stored in a
   resumable sample store, reported as unbiased pass@k (k = 1..n) in % with bootstrap CIs.

Re-running resumes: finished samples are skipped, and a theory or TMC-LM step whose output for the same config is
already there is reused (the summary says so). A re-run with other settings reports what it ran, never an older
larger run. Defaults: configs/main.yaml (`tmc main --describe` lists every field); the summary text:
harness/main_summary.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tmc_core.config import doc

from harness.cpu_threads import add_threads_argument
from harness.help_text import plain
from harness.main_summary import (within_2_5, real_record, real_section, relation_section, theory_section, tmclm_rows,
                                  tmclm_section)
from harness.pipeline import SampleConfig

REPO = Path(__file__).resolve().parents[1]


def _main_sample() -> SampleConfig:
    return SampleConfig(model="smollm2", backend="hf", benchmark="gsm8k", split="test",
                        source="data/easy_arith/test.jsonl", limit=24, n=4, temperature=0.7, top_p=1.0,
                        max_new_tokens=96, seed=0, batch_size=16, template="chat", out="outputs/main/easy_arith")


@dataclass
class MainConfig:
    """The main job: theory table, TMC-LM comparison, a small offline real-model pass@k run."""

    out: str = field(default="outputs/main", metadata=doc("output folder of the whole job (printed at the start)"))
    threads: int | None = field(default=None, metadata=doc(
        "torch threads of the TMC-LM and real-model steps (null = all cores; --threads N overrides)"))
    theory: bool = field(default=True, metadata=doc("run the paper's TMC table (numpy only, seconds)"))
    theory_config: str = field(default="configs/theory_paper.yaml", metadata=doc(
        "ReproduceConfig YAML (relative paths are looked up in the working folder, then the repo)"))
    theory_seeds: int = field(default=5, metadata=doc(
        "Monte-Carlo seeds of the theory table (mean ± sd); 5 seeds take about 5 s"))
    theory_exact: bool = field(default=True, metadata=doc(
        "also run the protocol in exact mode (no randomness, under 1 s) and report how many cells match the paper"))
    tmclm: bool = field(default=True, metadata=doc("run the TMC-LM transformer-vs-theory comparison"))
    tmclm_config: str = field(default="configs/tmclm_main.yaml", metadata=doc(
        "TmclmConfig YAML of the TMC-LM step (the full study: configs/tmclm_paper.yaml, about 45 s)"))
    real: bool = field(default=True, metadata=doc("run the real-model sampling + pass@k step"))
    real_name: str = field(default="easy_arith", metadata=doc("name of the real-model run in the summary"))
    sample: SampleConfig = field(default_factory=_main_sample, metadata=doc(
        "SampleConfig of the real-model step (its `out` is ignored: samples go to "
        "<out>/<real_name>_<model>_<first 8 hex of its config hash>, so a changed decoding setting gets its own run)"))
    n_boot: int = field(default=1000, metadata=doc("bootstrap resamples of the pass@k CIs"))


def _find(path: str) -> Path | None:
    p = Path(path)
    if p.exists():
        return p
    if not p.is_absolute() and (REPO / p).exists():
        return REPO / p
    return None


def build_parser(prog: str = "tmc main") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Config fields: tmc main --describe. Example (a quicker look): tmc main "
                                       "--set sample.limit=8 --skip-tmclm")
    p.add_argument("--config", help="MainConfig YAML (default: configs/main.yaml of the repo, else built-in)")
    p.add_argument("--out", help="output folder (default outputs/main; printed at the start)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, e.g. --set sample.limit=10 --set sample.n=2 --set theory_seeds=2")
    p.add_argument("--skip-theory", action="store_true", help="skip the theory table")
    p.add_argument("--skip-tmclm", action="store_true", help="skip the TMC-LM comparison")
    p.add_argument("--skip-real", action="store_true", help="skip the real-model step")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (the step lines are still printed)")
    p.add_argument("--describe", action="store_true", help="print every MainConfig field with its default and help")
    add_threads_argument(p)
    return p


def load_main_config(path: str | None, overrides: list[str]) -> MainConfig:
    from tmc_core.config import apply_overrides, from_dict, load_config, parse_override

    ov = dict(parse_override(s) for s in overrides)
    if path is None:
        default = REPO / "configs" / "main.yaml"
        if default.exists():
            return load_config(MainConfig, default, ov)
        return from_dict(MainConfig, apply_overrides({}, ov), "<built-in main config>")
    return load_config(MainConfig, path, ov)


class Clock:
    """Wall and process CPU time (user + sys of this process, all threads) since the start and per step."""

    def __init__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.steps: dict[str, dict[str, float]] = {}

    def say(self, msg: str) -> None:
        el = time.perf_counter() - self.t0
        print(f"[main {int(el // 60)}:{int(el % 60):02d}] {msg}", flush=True)

    def step(self, name: str):
        clock = self

        class _Step:
            def __enter__(self):
                self.t, self.c = time.perf_counter(), time.process_time()
                return self

            def __exit__(self, *exc):
                clock.steps[name] = {"wall_s": round(time.perf_counter() - self.t, 2),
                                     "cpu_s": round(time.process_time() - self.c, 2)}
                return False

        return _Step()

    def total(self) -> dict[str, float]:
        return {"wall_s": round(time.perf_counter() - self.t0, 2), "cpu_s": round(time.process_time() - self.c0, 2)}


def _stamp(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _reusable(folder: Path, stamp: str, needed: str) -> bool:
    f = folder / ".tmc_main_stamp"
    return (folder / needed).exists() and f.exists() and f.read_text().strip() == stamp


# ----------------------------------------------------------------------------------------------- theory
def _run_theory(cfg: MainConfig, out: Path, clock: Clock) -> dict | None:
    """Monte-Carlo table (+ exact mode); returns {mc: results, exact: results|None, reused: bool}."""
    from tmc_theory.cli import load_reproduce_config
    from tmc_theory.reproduce import reproduce

    cfg_path = _find(cfg.theory_config)
    if cfg_path is None:
        clock.say(f"theory: {cfg.theory_config} not found, using the built-in paper protocol")
    src = cfg_path.read_text() if cfg_path else "<built-in>"
    res: dict = {"reused": {}}
    runs = [("mc", out / "theory", [f"seeds={cfg.theory_seeds}", "exact=false"], True)]
    if cfg.theory_exact:
        runs.append(("exact", out / "theory_exact", ["exact=true"], False))
    for key, folder, ov, plots in runs:
        stamp = _stamp(src, *ov, "plots" if plots else "")
        if _reusable(folder, stamp, "results.json"):
            res[key] = json.loads((folder / "results.json").read_text())
            res["reused"][key] = True
            clock.say(f"theory ({key}): reused {folder} (same config and settings)")
            continue
        rcfg = load_reproduce_config(str(cfg_path) if cfg_path else None, ov)
        what = f"{cfg.theory_seeds} Monte-Carlo seeds" if key == "mc" else "exact mode (no randomness)"
        clock.say(f"theory: the paper's TMC table, {what} -> {folder}")
        r = reproduce(rcfg, folder, plots=plots, log=None)
        (folder / ".tmc_main_stamp").write_text(stamp + "\n")
        res[key], res["reused"][key] = json.loads((folder / "results.json").read_text()), False
        clock.say(f"theory ({key}): done in {r['seconds']:.1f} s")
    return res


# ----------------------------------------------------------------------------------------------- TMC-LM
def _run_tmclm(cfg: MainConfig, out: Path, clock: Clock, threads: int | None) -> dict | None:
    from tmc_core.config import apply_overrides, from_dict, to_dict

    from harness.tmclm.cli import run_study
    from harness.tmclm.config import TmclmConfig, load_tmclm_config

    path = _find(cfg.tmclm_config)
    tcfg = load_tmclm_config(str(path)) if path else from_dict(TmclmConfig, {}, "<defaults>")
    if threads and threads < tcfg.threads:  # --threads caps the config's own (small) thread count
        tcfg = from_dict(TmclmConfig, apply_overrides(to_dict(tcfg), {"threads": threads}), "<tmclm + --threads>")
    folder = out / "tmclm"
    stamp = _stamp(json.dumps(to_dict(tcfg), sort_keys=True))
    if _reusable(folder, stamp, "results.json"):
        clock.say(f"TMC-LM: reused {folder} (same config)")
        res = json.loads((folder / "results.json").read_text())
        res["reused"] = True
        return res
    pc = tcfg.posttrain
    clock.say(f"TMC-LM: pretrain a {tcfg.model.num_hidden_layers}-layer transformer on TMC paths "
              f"({tcfg.pretrain.steps} steps), post-train it with {', '.join(pc.methods)} ({pc.steps} steps each), "
              f"compare with the theory -> {folder}")
    import torch

    before = torch.get_num_threads()
    try:  # run_study sets torch's thread count for its small model; the steps after it keep the job's own
        res = run_study(tcfg, folder, plots=False, progress=lambda m: clock.say("  " + m.splitlines()[0][:150])
                        if not m.startswith("|") else None)
    finally:
        torch.set_num_threads(before)
    (folder / ".tmc_main_stamp").write_text(stamp + "\n")
    res = json.loads((folder / "results.json").read_text())
    res["reused"] = False
    return res


# ----------------------------------------------------------------------------------------------- real model
def _prepare_model(cfg: MainConfig, clock: Clock) -> None:
    from harness.models import resolve_model
    from harness.models.prepare import default_model_dir, is_prepared
    from harness.models.resolve import ALIASES

    if str(cfg.sample.model).lower() in ALIASES and not is_prepared(default_model_dir()):
        clock.say("model: converting SmolLM2-135M-Instruct from its PyPI GGUF once (about 20-60 s; cached in "
                  f"{default_model_dir()})")
    path = resolve_model(cfg.sample.model)
    clock.say(f"model: {path}")


def _run_real(cfg: MainConfig, out: Path, progress: bool, clock: Clock) -> dict:
    from harness.data import load_problems
    from harness.evaluate import evaluate_run
    from harness.pipeline import run_sampling

    s = cfg.sample
    src = _find(s.source) if s.source else None
    if s.source and src is not None and not Path(s.source).exists():  # repo-relative data from another folder
        from dataclasses import replace

        s = replace(s, source=str(src))
    run_dir = out / f"{cfg.real_name}_{Path(str(s.model)).name}_{s.hash()[:8]}"
    clock.say(f"real model: {cfg.real_name}: {s.limit} problems x {s.n} samples, model {s.model}, T = {s.temperature}, "
              f"max_new_tokens = {s.max_new_tokens} -> {run_dir}")
    import torch

    threads = torch.get_num_threads()
    summary = run_sampling(s, run_dir=run_dir, progress=progress, announce=lambda m: clock.say("  " + m))
    summary["torch_threads"] = threads
    ids = [p.id for p in load_problems(s.benchmark, split=s.split, source=s.source, limit=s.limit, offset=s.offset,
                                       id_scheme=summary["id_scheme"])]
    metrics = evaluate_run(run_dir, n_boot=cfg.n_boot, problem_ids=ids, n=s.n)
    return {"summary": summary, "metrics": metrics, "config": s}


def busy_hint(threads: int | None) -> str | None:
    """A line when the machine is already busy and no thread count was given: torch's threads then wait on each other
    (measured on a 2-core machine at load 8-10: 2.0 tok/s with 2 threads against 8.6 tok/s with --threads 1)."""
    import os

    try:
        load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    except (OSError, AttributeError):
        return None
    if threads or load < cores + 0.5:
        return None
    return (f"the machine is busy (1-minute load {load:.1f} on {cores} cores): torch's threads will wait on each "
            f"other; --threads 1 is usually several times faster on a shared machine")


def run(args) -> int:
    if args.describe:
        from tmc_core.config import describe

        print(describe(MainConfig))
        return 0
    from harness.backends.base import BackendError
    from harness.data import DataError
    from harness.models import ModelError
    from harness.store import StoreError

    clock = Clock()
    cfg = load_main_config(args.config, args.overrides)
    out = Path(args.out or cfg.out)
    threads = args.threads or cfg.threads
    do_theory = cfg.theory and not args.skip_theory
    do_tmclm = cfg.tmclm and not args.skip_tmclm
    do_real = cfg.real and not args.skip_real
    plan = [n for n, on in (("theory table", do_theory), ("TMC-LM", do_tmclm), ("real model", do_real)) if on]
    clock.say(f"tmc main: {', '.join(plan) or 'nothing'}; results in {out} (summary.md, summary.json)"
              + ("" if args.out or cfg.out != "outputs/main" else " -- the default folder, --out DIR to choose"))
    busy = busy_hint(threads)
    if busy:
        clock.say(busy)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("summary.md", "summary.json", "real_metrics.json"):  # a failed re-run must not show an old result
        (out / stale).unlink(missing_ok=True)
    if threads:
        from harness.cpu_threads import apply_threads

        apply_threads(threads)
    doc_: dict = {"config": None, "threads": threads, "theory": None, "tmclm": None, "real": [], "timings": {}}
    from tmc_core.config import to_dict

    doc_["config"] = to_dict(cfg)
    parts = ["# tmc main", ""]
    status = 0
    if do_theory:
        with clock.step("theory"):
            th = _run_theory(cfg, out, clock)
        th["table_md"] = (out / "theory" / "table.md").read_text()
        parts += theory_section(th)
        mc = th["mc"]
        doc_["theory"] = {
            "mode": mc["mode"], "seeds": len(mc["seeds"]), "k": mc["k"], "unit": "% of sampled CoTs; pass@k in %",
            "cells": mc["strategies"], "sd": mc["sd"], "paper": mc.get("paper"),
            "within_2_5": list(within_2_5(mc)), "reused": th["reused"].get("mc", False),
            "exact": ({"cells": th["exact"]["strategies"], "within_2_5": list(within_2_5(th["exact"])),
                       "reused": th["reused"].get("exact", False)} if th.get("exact") else None),
            "finetune_curve_start_task1": (next(iter(mc["curves"].values()))["TASK1_pass_at_k"][0]
                                           if mc.get("curves") else None),
        }
    if do_tmclm:
        try:
            with clock.step("tmclm"):
                tm = _run_tmclm(cfg, out, clock, threads)
            parts += tmclm_section(tm)
            doc_["tmclm"] = {"rows": tmclm_rows(tm), "config": tm["config"], "reused": tm["reused"],
                             "timings": tm.get("timings")}
        except ModuleNotFoundError as e:
            clock.say(f"TMC-LM skipped: needs the package {e.name!r} (install the LLM stack: scripts/install.sh)")
            status = 1
    if do_real:
        try:
            with clock.step("model"):
                _prepare_model(cfg, clock)
            with clock.step("real"):
                r = _run_real(cfg, out, progress=not args.no_progress, clock=clock)
        except (StoreError, ModelError, DataError, BackendError) as e:
            print(f"tmc main: {e}", file=sys.stderr)
            return 2
        rec = real_record(cfg.real_name, r)
        doc_["real"].append(rec)
        parts += real_section(rec)
    if sum(x is not None and x != [] for x in (doc_["theory"], doc_["tmclm"], doc_["real"])) >= 2:
        parts += relation_section(doc_)
    doc_["timings"] = {**clock.steps, "total": clock.total()}
    try:
        import os

        doc_["timings"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    tl = doc_["timings"]
    parts += ["## Timings", "",
              "| step | wall s | CPU s (user + sys, this process) |", "|---|---|---|"]
    parts += [f"| {k} | {v['wall_s']:.1f} | {v['cpu_s']:.1f} |" for k, v in tl.items() if isinstance(v, dict)]
    parts += ["", f"torch threads: {threads or 'all cores'}; 1-minute load average at the end: "
              f"{tl.get('load_average_1min_at_end', '?')} (CPU time is what the job itself used; wall time also "
              "depends on what else runs on the machine).", ""]
    text = "\n".join(parts)
    (out / "summary.json").write_text(json.dumps(doc_, indent=1, default=str))
    (out / "summary.md").write_text(text)
    print("\n" + text)
    clock.say(f"wrote {out / 'summary.md'} and {out / 'summary.json'}")
    return status
