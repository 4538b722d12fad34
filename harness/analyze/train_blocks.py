"""Training curves of one or more `tmc train` runs, as means over blocks of steps (a Markdown table).

    tmc analyze train_blocks runs/train/<grpo run> runs/train/<rl_rej run> [--block 5] [--upto 50] [--json out.json]

From each run's ``metrics.jsonl``: ``reward`` (mean 0/1 correctness of the step's completions), completion
length, policy ``entropy`` and ``kl`` (when beta > 0). From its ``train_samples`` store (every training-time
completion with its reward, stored at the global step it was generated at, i.e. the update logged at step + 1):

* **correct, no credit**: among the correct completions, the share whose advantage under the run's own rule is
  exactly 0 -- the ``adv/frac_correct_zeroed`` metric that newer runs log themselves. GRPO / GRPO-KL: the
  group-normalised advantage ``(r_i - mean) / std`` is 0 for every member of an all-correct group.
  RL-rej ``leave_out``: ``A_i = r_i prod_{k=1..T} (1 - r_{(i+k) mod G})`` (harness/train/advantages.py) is 0 when
  any of the T checks also solved the prompt. REINFORCE: never. Other rules: not computed.
* **all-correct groups**: the share of groups whose G completions are all correct (easy prompts, in the paper's
  sense: ones the current model already solves).
* **length of credited completions**: the mean token count of the completions with a positive advantage under the
  run's rule (what the update pushes up), pooled over the block.
* **groups rejected (in-loop)** and **batch groups left unfilled**: RL-rej ``in_loop`` / ``both`` only, from
  ``rej/frac_rejected`` and ``rej/unfilled`` (harness/train/rl_rej.py), both fractions of the batch's groups
  (unfilled: rejected groups with no replacement after ``rej_max_refill`` rounds). Such a run's ``reward`` is
  TRL's mean over the step's scoring calls (first batch and each refill round, unweighted); **reward of trained
  groups** is ``rej/kept_reward``, the mean reward of the groups the update used (logged by runs started after the
  t = 0.99 seed-2 run). Its ``train_samples`` store holds the rejected groups too, so the sample-based rows are over
  every generated group, not the trained ones.
* **credited completions per step**: how many of the step's completions have a positive advantage (mean over the
  block's steps). Under GRPO, every correct completion of a mixed group; under RL-rej ``leave_out``, only those
  whose T checks all failed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def advantages(rewards: np.ndarray, rule: str, tries: int) -> np.ndarray:
    """Advantage per completion of one group (in generation order) under ``rule``, computed with the trainer's own
    advantage functions (harness/train/advantages.py)."""
    import torch

    from harness.train.advantages import group_normalised_advantage, leave_out_advantage, reinforce_advantage

    rules = {"grpo": group_normalised_advantage, "grpo_kl": group_normalised_advantage,
             "leave_out": lambda r, g: leave_out_advantage(r, g, tries=tries), "reinforce": reinforce_advantage}
    if rule not in rules:
        raise ValueError(f"rule: {rule!r}; allowed values: {', '.join(rules)}")
    r = torch.tensor(np.nan_to_num(rewards.astype(float)))
    return rules[rule](r, len(r)).numpy()


def correct_zeroed(rewards: np.ndarray, rule: str, tries: int, adv: np.ndarray | None = None) -> np.ndarray:
    """Boolean per completion of one group (in generation order): correct but given advantage 0 by ``rule``
    (``adv``: that group's advantages when the caller has them already)."""
    if adv is None:
        adv = advantages(rewards, rule, tries)
    return (np.nan_to_num(rewards.astype(float)) > 0) & (adv == 0)


def sample_stats(df, rule: str | None, tries: int, group_size: int | None = None) -> dict[int, dict]:
    """Per logged step (stored step + 1) of training samples ``df`` (step, problem_id, sample_idx, reward, and
    n_tokens when present): the share of correct completions with no credit under ``rule``, the share of
    all-correct groups, the number of completions with a positive advantage, and (total tokens, count) of them.

    A group is the G = ``group_size`` completions of one draw of a prompt: ``sample_idx`` counts a problem's
    completions within a step (0..G-1, then G..2G-1 when the problem is drawn again, e.g. by an RL-rej refill;
    harness/train/callbacks.py), so the group key is (problem_id, sample_idx // G). ``group_size`` None: one
    group per problem and step (right only when no problem is drawn twice in a step)."""
    df = df.sort_values(["step", "problem_id", "sample_idx"])
    has_len = "n_tokens" in df.columns
    out = {}
    for step, d in df.groupby("step"):
        zeroed, n_correct, all_correct, groups = 0, 0, 0, 0
        credited_len, n_credited = 0.0, 0
        draw = d["sample_idx"] // group_size if group_size else 0
        for _, g in d.assign(_draw=draw).groupby(["problem_id", "_draw"]):
            r = g["reward"].to_numpy()
            correct = np.nan_to_num(r.astype(float)) > 0
            groups += 1
            all_correct += bool(correct.all())
            n_correct += int(correct.sum())
            if rule is not None:
                adv = advantages(r, rule, tries)
                zeroed += int(correct_zeroed(r, rule, tries, adv).sum())
                n_credited += int((adv > 0).sum())
                if has_len:
                    credited_len += float(g["n_tokens"].to_numpy()[adv > 0].sum())
        out[int(step) + 1] = {"correct_zeroed": (zeroed / n_correct) if (rule and n_correct) else None,
                              "n_correct": n_correct, "all_correct_groups": all_correct / groups,
                              "n_credited": n_credited if rule else None,
                              "credited_length": (credited_len, n_credited) if (has_len and n_credited) else None}
    return out


def read_samples(run: Path):
    from harness.store import SampleStore

    store = run / "train_samples"
    return SampleStore(store).read() if store.exists() else None


def run_rule(cfg: dict) -> str | None:
    m = cfg["method"]
    if m == "rl_rej":  # in_loop / both: the store also holds the rejected groups, which were not trained on
        return "leave_out" if cfg.get("rej_mode") == "leave_out" else None
    return m if m in ("grpo", "grpo_kl", "reinforce") else None


def last_step(run: Path) -> int:
    from harness.train.callbacks import read_metrics

    return max((m["step"] for m in read_metrics(run / "metrics.jsonl") if "reward" in m), default=0)


def blocks(run: Path, block: int, last: int) -> dict:
    """Means over steps lo..hi for lo = 1, 1 + block, ... up to ``last`` (blocks past the run's end are empty)."""
    from harness.train.callbacks import read_metrics

    cfg = json.loads((run / "train_run.json").read_text())["config"]
    rule = run_rule(cfg)
    metrics = {m["step"]: m for m in read_metrics(run / "metrics.jsonl") if "reward" in m}
    df = read_samples(run)
    g = cfg.get("num_generations")
    samples = sample_stats(df, rule, int(cfg.get("rej_tries", 5)), int(g) if g else None) if df is not None else {}
    rows = {}
    for lo in range(1, last + 1, block):
        hi = min(lo + block - 1, last)
        steps = [s for s in range(lo, hi + 1) if s in metrics]

        def mean(key, src, steps=steps):
            v = [src[s][key] for s in steps if s in src and src[s].get(key) is not None]
            return float(np.mean(v)) if v else None

        # correct-no-credit pooled over the block's correct completions (not a mean of per-step shares)
        zs = [(samples[s]["correct_zeroed"], samples[s]["n_correct"]) for s in steps
              if s in samples and samples[s]["correct_zeroed"] is not None]
        pooled = sum(z * n for z, n in zs) / sum(n for _, n in zs) if zs else None
        cl = [samples[s]["credited_length"] for s in steps if s in samples and samples[s].get("credited_length")]
        credited = sum(t for t, _ in cl) / sum(n for _, n in cl) if cl else None
        rows[f"{lo}–{hi}"] = {"reward": mean("reward", metrics), "length": mean("completions/mean_length", metrics),
                              "entropy": mean("entropy", metrics), "kl": mean("kl", metrics), "correct_zeroed": pooled,
                              "all_correct_groups": mean("all_correct_groups", samples), "credited_length": credited,
                              "credited_per_step": mean("n_credited", samples),
                              "rejected": mean("rej/frac_rejected", metrics), "unfilled": mean("rej/unfilled", metrics),
                              "kept_reward": mean("rej/kept_reward", metrics)}
    return {"run": str(run), "method": cfg["method"], "rule": rule, "blocks": rows}


def labels(results: list[dict]) -> list[str]:
    """Row label per run: its method, or its folder name where two runs share a method."""
    methods = [r["method"] for r in results]
    return [m if methods.count(m) == 1 else Path(r["run"]).name for m, r in zip(methods, results)]


def table(results: list[dict]) -> str:
    cols = list(results[0]["blocks"])
    names_of = labels(results)
    lines = ["| steps | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    fmt = {"reward": "{:.2f}", "length": "{:.0f}", "entropy": "{:.2f}", "kl": "{:.3f}",
           "correct_zeroed": "{:.2f}", "all_correct_groups": "{:.2f}", "credited_length": "{:.0f}",
           "credited_per_step": "{:.1f}", "rejected": "{:.2f}", "unfilled": "{:.2f}", "kept_reward": "{:.2f}"}
    names = {"reward": "reward", "length": "length", "entropy": "entropy", "kl": "KL to base per token",
             "correct_zeroed": "correct, no credit", "all_correct_groups": "all-correct groups",
             "credited_length": "length of credited completions",
             "credited_per_step": "credited completions per step", "rejected": "groups rejected (in-loop)",
             "unfilled": "batch groups left unfilled", "kept_reward": "reward of trained groups"}
    for key in fmt:
        for r, label in zip(results, names_of):
            vals = [r["blocks"].get(c, {}).get(key) for c in cols]
            if all(v is None for v in vals):
                continue
            cells = ["–" if v is None else fmt[key].format(v) for v in vals]
            lines.append(f"| {names[key]}, {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="training run folders (output_dir of tmc train)")
    ap.add_argument("--block", type=int, default=5, help="steps per block")
    ap.add_argument("--upto", type=int, default=None, help="last step to include")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    last = max(last_step(Path(r)) for r in args.runs)
    last = min(last, args.upto) if args.upto else last
    results = [blocks(Path(r), args.block, last) for r in args.runs]
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
