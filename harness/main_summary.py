"""The text of ``tmc main``'s summary: one section per table (theory, TMC-LM, real model) with two or three plain
sentences on what it shows, the sentences that relate them, and the machine-readable records of summary.json. The
sentences about TMC-LM and the real model are computed from the run's own numbers, so they hold for whatever
settings ran."""

from __future__ import annotations

from tmc_core.config import to_dict


def within_2_5(results: dict) -> tuple[int, int]:
    comp = results.get("comparison") or []
    return sum(bool(c["within"]) for c in comp), len(comp)


def theory_section(th: dict) -> list[str]:
    mc, ex = th["mc"], th.get("exact")
    within, total = within_2_5(mc)
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
        ew, et = within_2_5(ex)
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


def tmclm_rows(res: dict) -> list[dict]:
    """Per method (and the pretrained start): task -> {lm: {...%}, theory: {...%}} at the final step."""
    k = res["config"]["measure"]["k"]
    tasks = [t["name"] for t in res["tmc"]["tasks"]]

    def pct(d):
        return {q: round(100 * d[q], 2) for q in ("easy", "hard", "invalid", f"pass@{k}", "start_ok") if q in d}

    rows = [{"method": "pretrained", **{t: {"lm": pct(res["base"]["metrics"][t][t]), "theory": None} for t in tasks}}]
    for m, c in res.get("comparison", {}).items():
        last = c["trajectory"][-1]
        mv = c.get("movement") or {}
        at = [e for e in (mv.get("by_metric") or {}).get(mv.get("metric"), []) if e.get("step") == last.get("step")]
        at = at[0] if at and at[0].get("reached") else None
        rows.append({"method": m, "step": last.get("step"),
                     **{t: {"lm": pct(last[t]["transformer"]), "theory": pct(last[t]["theory"]),
                            "theory_mv": pct(at[t]["theory"]) if at and t in at else None} for t in tasks}})
    return rows


def tmclm_section(res: dict) -> list[str]:
    k = res["config"]["measure"]["k"]
    tasks = [t["name"] for t in res["tmc"]["tasks"]]
    pc = res["config"]["posttrain"]
    rows = tmclm_rows(res)
    head = "| method | " + " | ".join(f"{t} easy / hard / invalid: transformer vs theory at equal step; at equal "
                                      f"movement | {t} pass@{k}: transformer vs theory (step; movement)"
                                      for t in tasks) + " |"
    lines = ["## 2. TMC-LM: a real transformer trained on the same TMC, beside the theory's prediction", "",
             "The theory's learner is a table of probabilities. Here a small transformer (about 76k parameters) is "
             f"pretrained on paths of the paper's TMC, then post-trained on {pc['task']} with each method "
             f"({pc['steps']} steps, {pc['prompts_per_step']} instances x {pc['num_generations']} samples per step). "
             "Because a CoT is only a few tokens, every path probability of the transformer is computed exactly, so "
             "the shares below are exact, not sampled. The theory column runs the theory's expected dynamics from "
             "the transformer's own starting point, with its learning rate matched on the first few steps only, and "
             "is read twice: at the same optimizer step, and where it has moved as far from its start (L1 distance "
             "of the path distribution) as the transformer has from its own (docs/tmclm.md). "
             "Shares and pass@k in %. The pretrained row is generated from each task's own prompt, so it starts in "
             "the task's start state: compare it with the start of table 1's fine-tuning curves, not with its Base "
             "Model row (uniform start).", "", head, "|" + "---|" * (1 + 2 * len(tasks))]

    def tri(d):
        return f"{d['easy']:.1f} / {d['hard']:.1f} / {d['invalid']:.1f}" if d else "-"

    for r in rows:
        cells = []
        for t in tasks:
            lm, th, mv = r[t]["lm"], r[t]["theory"], r[t].get("theory_mv")
            cells.append(f"{tri(lm)} vs {tri(th)}; {tri(mv)}" if th else tri(lm))
            cells.append(f"{lm[f'pass@{k}']:.1f} vs {th[f'pass@{k}']:.1f}; "
                         + (f"{mv[f'pass@{k}']:.1f}" if mv else "-") if th else f"{lm[f'pass@{k}']:.1f}")
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


def real_record(name: str, r: dict) -> dict:
    m, sm, s = r["metrics"], r["summary"], r["config"]
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
        gaps = [(r["method"], abs(r[task]["lm"]["hard"] - r[task]["theory_mv"]["hard"])) for r in rows
                if r[task].get("theory_mv")]
        out.append(f"Table 2 puts a real transformer, trained the way LLMs are, in the same world: its {task} hard "
                   f"share moves in the direction the theory predicts for {len(same)} of {len(rows)} methods"
                   f"{' (' + ', '.join(same) + ')' if same else ''}. At the same optimizer step the transformer has "
                   "moved further than the theory; read where both have moved equally far from their start, the "
                   f"{task} hard shares differ by "
                   + (", ".join(f"{m} {g:.1f}" for m, g in gaps) + " points" if gaps else "(not reached)")
                   + (f": where that gap is small ({', '.join(m for m, g in gaps if g < 2)}), the transformer "
                      "squeezes as the theory predicts, only faster per step."
                      if any(g < 2 for _, g in gaps) else "."))
    for rec in doc.get("real") or []:
        ks = sorted(rec["pass_at_k"], key=int)
        p1, pn = rec["pass_at_k"][ks[0]], rec["pass_at_k"][ks[-1]]
        out.append(f"Table 3 is the starting point on a real LLM: the base model's pass@k goes from {p1:.1f}% at "
                   f"k = {ks[0]} to {pn:.1f}% at k = {ks[-1]}"
                   + (", so many of the problems it solves are solved only by its rarer samples -- the mass that "
                      "the theory says RL post-training squeezes away" if pn > 1.5 * p1 > 0 else "")
                   + ". tmc train and tmc eval-checkpoints measure that on this very set "
                   "(docs/findings.md).")
    return out + [""]
