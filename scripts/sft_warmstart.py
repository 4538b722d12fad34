"""Warm-start a model on a KNOWN mix of solution strategies, so that its reasoning paths have a known easy / rare split.

Why: zero-shot SmolLM2-135M-Instruct solves ~3-6% of the multi-strategy word problems and puts almost every sample on
its own path (results/multi_strategy_calibration*), so RL on it cannot show path mass moving between correct strategies.
This script supervised-fine-tunes it (LoRA, then merged) on the generator's own worked solutions
(scripts/make_multi_strategy.py), choosing for each training problem its FIRST listed strategy with probability
``--mix`` and one of the others uniformly otherwise. The fine-tuned model is the *base* of the RL experiment: by
construction the first strategy of each family is its easy (high-probability) path and the others are rare paths,
which is the paper's pretraining-discovers-the-tree picture with a tree we chose (arXiv 2511.07368, Sec. 3).

Objective: the standard SFT negative log-likelihood on completion tokens only (TRL ``SFTTrainer`` with
``completion_only_loss``; EOS appended), L = -sum_t log pi(y_t | x, y_<t), LoRA on all linear layers, then
``merge_and_unload`` so that sampling, training and evaluation load one plain transformers folder.

Completion text: the strategy's steps one per line as ``a * b = c`` (the ``<<a*b=c>>`` calculator annotations of the
GSM8K format are dropped) and the final line ``#### N``, i.e. the form the GSM8K grader reads first.

    python scripts/sft_warmstart.py --data data/multi_strategy/train.jsonl --mix 0.75 --out runs/warmstart/ms75

Writes ``OUT/`` (config.json, weights, tokenizer, generation_config) and ``OUT/warmstart.json`` (settings, the
strategy drawn for every training problem, the loss curve, timings).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

_ANNOT = re.compile(r"<<[^>]*>>")


def completion_text(solution: str) -> str:
    """A GSM8K-format worked solution without its ``<<...>>`` calculator annotations."""
    return "\n".join(_ANNOT.sub("", line).rstrip() for line in solution.strip().splitlines())


def choose_strategies(records: list[dict], mix: float, seed: int) -> list[int]:
    """Index of the strategy used for each record: 0 with probability ``mix``, else one of the others uniformly
    (records with a single strategy always get 0)."""
    if not 0.0 <= mix <= 1.0:
        raise SystemExit(f"--mix must be in [0, 1], got {mix}")
    rng = random.Random(seed)
    out = []
    for r in records:
        k = len(r["strategies"])
        out.append(0 if k == 1 or rng.random() < mix else rng.randrange(1, k))
    return out


def read_records(path: Path) -> list[dict]:
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; make it with: python scripts/make_multi_strategy.py")
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{i}: not JSON ({e.msg})") from None
        if not r.get("strategies"):
            raise SystemExit(f"{path}:{i}: record has no 'strategies' field; this script needs the multi-strategy "
                             f"format of scripts/make_multi_strategy.py")
        out.append(r)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/multi_strategy/train.jsonl", help="multi-strategy train file")
    ap.add_argument("--model", default="smollm2", help="base model (alias, local folder or hub id)")
    ap.add_argument("--mix", type=float, default=0.75, help="probability of each problem's first strategy (0.75)")
    ap.add_argument("--limit", type=int, default=None, help="use the first N training problems (all)")
    ap.add_argument("--epochs", type=float, default=2.0, help="SFT epochs (2)")
    ap.add_argument("--lr", type=float, default=5e-4, help="learning rate (5e-4)")
    ap.add_argument("--batch", type=int, default=16, help="per-step batch size (16)")
    ap.add_argument("--lora-r", type=int, default=16, help="LoRA rank (16; alpha = 2r)")
    ap.add_argument("--template", default="completion", choices=["chat", "completion"],
                    help="prompt template the RL runs will use too (completion: shorter prompts, cheaper on a CPU)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the strategy draw and of training (0)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--out", required=True, help="output folder of the merged model")
    a = ap.parse_args(argv)

    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from harness.data import load_problems
    from harness.data.prompts import build_prompt
    from harness.models import resolve_model

    if a.threads:
        torch.set_num_threads(a.threads)
    out = Path(a.out)
    if (out / "warmstart.json").exists():
        raise SystemExit(f"{out}: already holds a warm-started model (warmstart.json); choose another --out")
    t0 = time.time()
    path = Path(a.data)
    records = read_records(path)[: a.limit]
    problems = load_problems("gsm8k", split="train", source=str(path), limit=a.limit)
    if len(problems) != len(records):
        raise SystemExit(f"{path}: {len(records)} records but the loader read {len(problems)} problems")
    choice = choose_strategies(records, a.mix, a.seed)
    model_path = resolve_model(a.model)
    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    rows = [{"prompt": build_prompt(p, a.template, tok),
             "completion": completion_text(r["strategies"][c]["solution"])}
            for p, r, c in zip(problems, records, choice)]
    print(f"[sft_warmstart] {len(rows)} problems; first strategy in {sum(c == 0 for c in choice)} "
          f"({sum(c == 0 for c in choice) / len(rows):.3f}); example completion:\n{rows[0]['completion']}", flush=True)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    lora = LoraConfig(r=a.lora_r, lora_alpha=2 * a.lora_r, lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules="all-linear")
    args = SFTConfig(output_dir=str(out / "sft"), num_train_epochs=a.epochs, learning_rate=a.lr,
                     per_device_train_batch_size=a.batch, lr_scheduler_type="cosine", warmup_steps=5,
                     logging_steps=5, save_strategy="no", report_to="none", seed=a.seed, data_seed=a.seed,
                     completion_only_loss=True, disable_tqdm=True, bf16=False)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=lora)
    res = trainer.train()
    merged = trainer.model.merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out)
    tok.save_pretrained(out)
    gen = Path(model_path) / "generation_config.json"
    if gen.exists():
        (out / "generation_config.json").write_text(gen.read_text())
    losses = [h for h in trainer.state.log_history if "loss" in h]
    names = [r["strategies"][c]["name"] for r, c in zip(records, choice)]
    (out / "warmstart.json").write_text(json.dumps({
        "command": "python scripts/sft_warmstart.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "data": str(path), "base_model": a.model, "base_model_path": str(model_path), "mix": a.mix,
        "template": a.template,
        "epochs": a.epochs, "lr": a.lr, "batch": a.batch, "lora_r": a.lora_r, "seed": a.seed,
        "n_problems": len(rows), "first_strategy_share": sum(c == 0 for c in choice) / len(rows),
        "strategy_by_problem": {p.id: n for p, n in zip(problems, names)},
        "train_loss": float(res.training_loss), "loss_curve": losses, "seconds": round(time.time() - t0, 1),
    }, indent=1))
    print(f"[sft_warmstart] wrote {out} (train loss {res.training_loss:.4f}, {time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
