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
larger run. Defaults: configs/main.yaml (`tmc main --describe` lists every field).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tmc_theory.config import doc

from harness.cpu_threads import add_threads_argument
from harness.help_text import plain
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
    from tmc_theory.config import apply_overrides, from_dict, load_config, parse_override

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


def _within(results: dict) -> tuple[int, int]:
    comp = results.get("comparison") or []
    return sum(bool(c["within"]) for c in comp), len(comp)


def theory_section(th: dict) -> list[str]:
    mc, ex = th["mc"], th.get("exact")
    within, total = _within(mc)
    seeds = len(mc["seeds"])
    lines = [f"## 1. Theory: the paper's TMC simulation, {seeds} Monte-Carlo seeds (mean ± sd) beside the paper", "",
             "The paper models reasoning as a tree-structured Markov chain: a chain of thought (CoT) is a path through "
             "4 layers of 2 states. TASK1 and TASK2 are two tasks that start in different states and must end in "
             "different states; they share the middle states, so training on TASK1 can make TASK2 forget. A CoT is "
             "*easy* when it follows only high-probability edges, *hard* when it is still a valid path of the task "
             "but uses a rare (low-probability) edge, *invalid* when it starts or ends in the wrong state. The "
             "table gives each strategy's shares in % of all sampled CoTs and pass@30 (the share of test instances "
             "solved by at least one of 30 samples): RL-style fine-tuning (REINFORCE, RAFT, PPO) moves almost all "
             "mass to the easy CoT and loses the hard ones; RL-rej and GRPO-KL keep them. The last five rows train "
             "nothing: they pick among samples at inference time (Best-of-N with an outcome or process reward model, "
             "scored with TASK1's rewards on both tasks, as in the paper).", "",
             f"The table is Monte-Carlo because the paper's numbers are: pretraining, fine-tuning and test instances "
             f"are sampled, so cells carry seed-to-seed spread (± sd over {seeds} seeds, {mc['seconds']:.1f} s of "
             f"compute here, so more seeds would be cheap too); {within}/{total} cells are within 2.5 points of the "
             "paper."]
    if ex is not None:
        ew, et = _within(ex)
        lines.append(f"Exact mode (exact pretraining, expected-gradient dynamics, exact distributions: no randomness) "
                     f"gives {ew}/{et} within 2.5 points ({ex['seconds']:.1f} s; table in theory_exact/table.md).")
    if any(th.get("reused", {}).values()):
        lines.append("Reused, not recomputed, this run: " + ", ".join(
            {"mc": "the Monte-Carlo table (theory/)", "exact": "the exact mode (theory_exact/)"}[k]
            for k, v in th["reused"].items() if v) + ", made earlier by the same config and settings.")
    lines += ["", (th.get("table_md") or "").strip(), ""]
    if mc.get("curves"):
        first = next(iter(mc["curves"].values()))
        start = first.get("TASK1_pass_at_k", [None])[0]
        base = mc["strategies"].get("Base Model", {}).get("TASK1", {}).get("pass_at_k")
        if start is not None and base is not None:
            lines += [f"The fine-tuning curves (theory/finetune_curves.png) start at {start:.1f}% TASK1 pass@30, not "
                      f"the table's {base:.2f}%: they measure the *pretrained learner* from TASK1's start state "
                      "with the exact expected pass@30, while the Base Model row samples the true TMC from a uniform "
                      "start state (the paper's convention) on 200 drawn instances.", ""]
    return lines


# ----------------------------------------------------------------------------------------------- TMC-LM
def _run_tmclm(cfg: MainConfig, out: Path, clock: Clock, threads: int | None) -> dict | None:
    from tmc_theory.config import apply_overrides, from_dict, to_dict

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


def tmclm_rows(res: dict) -> list[dict]:
    """Per method (and the pretrained start): task -> {lm: {...%}, theory: {...%}} at the final step."""
    k = res["config"]["measure"]["k"]
    tasks = [t["name"] for t in res["tmc"]["tasks"]]

    def pct(d):
        return {q: round(100 * d[q], 2) for q in ("easy", "hard", "invalid", f"pass@{k}", "start_ok") if q in d}

    rows = [{"method": "pretrained", **{t: {"lm": pct(res["base"]["metrics"][t][t]), "theory": None} for t in tasks}}]
    for m, c in res.get("comparison", {}).items():
        last = c["trajectory"][-1]
        rows.append({"method": m, "step": last.get("step"),
                     **{t: {"lm": pct(last[t]["transformer"]), "theory": pct(last[t]["theory"])} for t in tasks}})
    return rows


def tmclm_section(res: dict) -> list[str]:
    k = res["config"]["measure"]["k"]
    tasks = [t["name"] for t in res["tmc"]["tasks"]]
    pc = res["config"]["posttrain"]
    rows = tmclm_rows(res)
    head = "| method | " + " | ".join(f"{t} easy / hard / invalid: transformer vs theory | {t} pass@{k}: "
                                      f"transformer vs theory" for t in tasks) + " |"
    lines = ["## 2. TMC-LM: a real transformer trained on the same TMC, beside the theory's prediction", "",
             "The theory's learner is a table of probabilities. Here a small transformer (about 76k parameters) is "
             f"pretrained on paths of the paper's TMC, then post-trained on {pc['task']} with each method "
             f"({pc['steps']} steps, {pc['prompts_per_step']} instances x {pc['num_generations']} samples per step). "
             "Because a CoT is only a few tokens, every path probability of the transformer is computed exactly, so "
             "the shares below are exact, not sampled. The theory column runs the theory's expected dynamics from "
             "the transformer's own starting point, with its learning rate matched on the first few steps only. "
             "Shares and pass@k in %. The pretrained row is generated from each task's own prompt, so it starts in "
             "the task's start state: compare it with the start of table 1's fine-tuning curves, not with its Base "
             "Model row (uniform start).", "", head, "|" + "---|" * (1 + 2 * len(tasks))]

    def tri(d):
        return f"{d['easy']:.1f} / {d['hard']:.1f} / {d['invalid']:.1f}" if d else "-"

    for r in rows:
        cells = []
        for t in tasks:
            lm, th = r[t]["lm"], r[t]["theory"]
            cells.append(f"{tri(lm)} vs {tri(th)}" if th else tri(lm))
            cells.append(f"{lm[f'pass@{k}']:.1f} vs {th[f'pass@{k}']:.1f}" if th else f"{lm[f'pass@{k}']:.1f}")
        lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
    t = res.get("timings", {})
    took = "Reused from an earlier run of the same config (tmclm/), which took" if res.get("reused") else "It took"
    lines += ["", tmclm_reading(rows, pc["task"], [x for x in tasks if x != pc["task"]], k)
              + (f" {took} {t.get('total_s', 0):.0f} s wall, {t.get('total_cpu_s', 0):.0f} s CPU." if t else "")
              + " The full study (six methods, the inference selectors, figures): docs/tmclm.md.", ""]
    return lines


def tmclm_reading(rows: list[dict], task: str, others: list[str], k: int) -> str:
    """Two sentences read off the rows (so they hold for whatever config ran): the hard share of the trained task
    per method against the pretrained start and the theory, and the pass@k of the other tasks (forgetting)."""
    start = rows[0][task]["lm"]
    trained = rows[1:]
    if not trained:
        return ""
    hard = ", ".join(f"{r['method']} {r[task]['lm']['hard']:.1f}% (theory {r[task]['theory']['hard']:.1f}%)"
                     for r in trained)
    out = (f"Squeezing: post-training on {task} moves its hard share from {start['hard']:.1f}% at the pretrained "
           f"start to {hard}.")
    for o in others:
        forget = ", ".join(f"{r['method']} {r[o]['lm'][f'pass@{k}']:.1f}% (theory {r[o]['theory'][f'pass@{k}']:.1f}%)"
                           for r in trained)
        out += (f" Forgetting: {o}, never trained on, goes from pass@{k} {rows[0][o]['lm'][f'pass@{k}']:.1f}% to "
                f"{forget}.")
        if all("start_ok" in r[o]["lm"] for r in rows):
            out += (f" The table-based theory always starts {o} in its own start state; the transformer must produce "
                    f"it, and keeps " + ", ".join(f"{r[o]['lm']['start_ok']:.1f}%" + (f" ({r['method']})" if i else
                                                  " (pretrained)") for i, r in enumerate(rows))
                    + " of its mass there (the full study found a loss of this start state to be where the "
                    "transformer forgets more than the theory).")
    return out


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
    ids = [p.id for p in load_problems(s.benchmark, split=s.split, source=s.source, limit=s.limit, offset=s.offset)]
    metrics = evaluate_run(run_dir, n_boot=cfg.n_boot, problem_ids=ids, n=s.n)
    return {"summary": summary, "metrics": metrics, "config": s}


def real_record(name: str, r: dict) -> dict:
    m, sm, s = r["metrics"], r["summary"], r["config"]
    from tmc_theory.config import to_dict

    return {
        "name": name, "model": s.model, "run_dir": sm["run_dir"],
        "pass_at_k": {k: round(100 * v["mean"], 2) for k, v in m["pass_at_k"].items()},
        "pass_at_k_ci95": {k: [round(100 * v["lo"], 2), round(100 * v["hi"], 2)] for k, v in m["pass_at_k"].items()},
        "solved": int(m["n_solved"]), "n_problems": int(m["n_problems"]), "n": int(m["n"]),
        "n_samples": int(m["n_samples"]), "mean_tokens": m.get("mean_tokens"),
        "finish_reason": m.get("finish_reason"), "grade_status": m.get("grade_status"),
        "settings": {k: v for k, v in to_dict(s).items() if k != "out"},
        "sampling": {"new_samples": sm["new_samples"], "resumed_samples": sm["skipped_samples"],
                     "new_tokens": sm["new_tokens"], "tokens_per_s": round(sm.get("tokens_per_s", 0.0), 1),
                     "samples_per_s": round(sm.get("samples_per_s", 0.0), 3), "seconds": round(sm["seconds"], 1),
                     "torch_threads": sm.get("torch_threads")},
    }


def real_section(rec: dict) -> list[str]:
    s = rec["settings"]
    ks = sorted(rec["pass_at_k"], key=int)
    sm = rec["sampling"]
    sampled = (f"Sampled this run: {sm['new_samples']} new samples ({sm['resumed_samples']} found stored) at "
               f"{sm['tokens_per_s']:.1f} tok/s." if sm["new_samples"] else
               f"All {sm['resumed_samples']} samples were found stored (a resumed run): nothing sampled this run.")
    lines = [f"## 3. Real model: SmolLM2-135M-Instruct on one-step arithmetic ({rec['name']})", "",
             f"{rec['n_problems']} held-out word problems of one addition or subtraction (data/easy_arith, numbers up "
             f"to 20), {rec['n']} samples each at T = {s['temperature']}, at most {s['max_new_tokens']} new tokens, "
             "graded against the answer (a completion cut at the token limit counts only if it states its answer). "
             "pass@k is the unbiased estimate of the share of problems solved by at least one of k samples, in %, "
             "with a 95% bootstrap CI over problems. A 135M model is weak: on GSM8K it solves about 1% per sample, "
             "so this small set is where its pass@k is visibly above zero and grows with k.", "",
             "| k | " + " | ".join(ks) + " |", "|---|" + "---|" * len(ks),
             "| pass@k (%) | " + " | ".join(f"{rec['pass_at_k'][k]:.1f}" for k in ks) + " |",
             "| 95% CI | " + " | ".join("{:.1f}-{:.1f}".format(*rec["pass_at_k_ci95"][k]) for k in ks) + " |",
             "", f"Solved at least once: {rec['solved']} of {rec['n_problems']} problems. "
             f"Mean completion {rec['mean_tokens'] or 0:.0f} tokens; finish reasons {rec['finish_reason']}; "
             f"grades {rec['grade_status']}. " + sampled, ""]
    return lines


def relation_section(doc: dict) -> list[str]:
    """How the tables relate; the sentences about tables 2 and 3 are read off this run's numbers."""
    out = ["## How the tables relate", "",
           "Table 1 is the paper's claim in its own toy world: post-training only reweights the CoTs pretraining "
           "found; RL-style methods raise the easy share and lose the hard CoTs, and rejecting easy instances "
           "(RL-rej) or a KL penalty (GRPO-KL) keeps them."]
    tm = doc.get("tmclm")
    if tm:
        task = tm["config"]["posttrain"]["task"]
        rows = [r for r in tm["rows"][1:] if r[task]["theory"]]
        start = tm["rows"][0][task]["lm"]["hard"]
        same = [r["method"] for r in rows
                if (r[task]["lm"]["hard"] - start) * (r[task]["theory"]["hard"] - start) > 0]
        harder = [r["method"] for r in rows if r[task]["lm"]["hard"] < r[task]["theory"]["hard"]]
        out.append(f"Table 2 puts a real transformer, trained the way LLMs are, in the same world: its {task} hard "
                   f"share moves in the direction the theory predicts for {len(same)} of {len(rows)} methods"
                   f"{' (' + ', '.join(same) + ')' if same else ''}, and ends below the theory's prediction for "
                   f"{', '.join(harder) or 'no method'} (squeezing harder than the theory).")
    for rec in doc.get("real") or []:
        ks = sorted(rec["pass_at_k"], key=int)
        p1, pn = rec["pass_at_k"][ks[0]], rec["pass_at_k"][ks[-1]]
        out.append(f"Table 3 is the starting point on a real LLM: the base model's pass@k goes from {p1:.1f}% at "
                   f"k = {ks[0]} to {pn:.1f}% at k = {ks[-1]}"
                   + (", so many of the problems it solves are solved only by its rarer samples -- the mass that "
                      "the theory says RL post-training squeezes away" if pn > 1.5 * p1 > 0 else "")
                   + ". tmc train and tmc eval-checkpoints measure that on this very set "
                   "(docs/cpu_grpo_easy_arith.md).")
    return out + [""]


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
        from tmc_theory.config import describe

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
    from tmc_theory.config import to_dict

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
            "within_2_5": list(_within(mc)), "reused": th["reused"].get("mc", False),
            "exact": ({"cells": th["exact"]["strategies"], "within_2_5": list(_within(th["exact"])),
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
