"""Benchmark one GRPO training step: ours (RLVRTrainer: own advantage rule, sample-store recorder, metrics
callback) vs a bare TRL ``GRPOTrainer`` with identical settings (same model, LoRA, data, reward, seed,
generation length). Each variant runs in its own process (clean peak RSS); reports the median step time
over ``--steps`` measured steps after one warm-up step, the overhead in percent (target <= 5%), and peak
memory (RSS on CPU; max allocated on CUDA).

With ``--gradient-checkpointing`` the two variants are instead ours without and with ``gradient_checkpointing``
(activations recomputed in the backward pass): the memory saved and the time it costs, side by side.

    python scripts/bench_train.py --model smollm2 --steps 3 --max-new-tokens 64
    python scripts/bench_train.py --model tiny            # the tiny offline model (seconds)
    python scripts/bench_train.py --model smollm2 --steps 2 --max-new-tokens 96 --batch 32 --gradient-checkpointing
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r'''
import json, os, resource, sys, time
import torch
from transformers import TrainerCallback
cfgd = json.loads(sys.argv[1]); variant = sys.argv[2]
if not torch.cuda.is_available():
    torch.set_num_threads(cfgd.pop("threads"))
else:
    cfgd.pop("threads")
from harness.train.config import train_config_from_dict
from harness.train.runner import grpo_args, load_policy, lora_config
from harness.train.data import build_train_dataset
from harness.train.rewards import make_train_reward
cfg = train_config_from_dict(cfgd)
times = []
class T(TrainerCallback):
    def on_step_begin(self, *a, **k): self.t = time.perf_counter()
    def on_step_end(self, *a, **k): times.append(time.perf_counter() - self.t)
model, tok, path = load_policy(cfg)
ds = build_train_dataset(cfg, tok)
reward = make_train_reward(cfg)
if variant.startswith("ours"):
    from functools import partial
    from harness.train.callbacks import MetricsJSONL
    from harness.train.advantages import group_normalised_advantage
    from harness.train.trainer import RLVRTrainer
    from harness.train.runner import make_recorder, write_run_json
    h = write_run_json(cfg, path)
    tr = RLVRTrainer(model=model, reward_funcs=[reward], args=grpo_args(cfg), train_dataset=ds, processing_class=tok,
                     peft_config=lora_config(cfg), callbacks=[T(), MetricsJSONL(cfg.output_dir + "/metrics.jsonl")],
                     advantage_rule=partial(group_normalised_advantage, scale=cfg.scale_rewards),
                     recorder=make_recorder(cfg, reward, path, h))
else:
    from trl import GRPOTrainer
    tr = GRPOTrainer(model=model, reward_funcs=[reward], args=grpo_args(cfg), train_dataset=ds, processing_class=tok,
                     peft_config=lora_config(cfg), callbacks=[T()])
tr.train()
peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else
resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print("RESULT " + json.dumps({"times": times, "peak_gib": peak}))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2", help="'smollm2', 'tiny', a local dir or hub id")
    ap.add_argument("--steps", type=int, default=3, help="measured steps (after 1 warm-up step)")
    ap.add_argument("--num-generations", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch", type=int, default=None,
                    help="completions per step (per_device_train_batch_size; default --num-generations)")
    ap.add_argument("--gradient-checkpointing", action="store_true",
                    help="compare ours without and with gradient_checkpointing instead of bare vs ours")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--out", default=None, help="write the JSON result here")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_train_")
    model, source = a.model, None
    if a.model == "tiny":
        from harness.train.testing import prepare_rl_tiny

        d = prepare_rl_tiny(os.path.join(tmp, "tiny"))
        model, source = str(d / "model"), str(d / "train.jsonl")
    res = {}
    variants = ("ours", "ours_gc") if a.gradient_checkpointing else ("bare", "ours")
    for variant in variants:
        cfgd = dict(method="grpo", model=model, source=source, limit=a.limit, num_generations=a.num_generations,
                    per_device_train_batch_size=a.batch or a.num_generations, max_completion_length=a.max_new_tokens,
                    max_steps=a.steps + 1, save_steps=10_000, report_to=["none"], temperature=0.7,
                    output_dir=os.path.join(tmp, variant), threads=a.threads, learning_rate=1e-5,
                    gradient_checkpointing=variant == "ours_gc")
        t0 = time.time()
        p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfgd), variant], capture_output=True, text=True,
                           env=dict(os.environ, HF_HUB_OFFLINE="1"))
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode or not line:
            print(p.stderr[-3000:], file=sys.stderr)
            return 1
        r = json.loads(line[0][7:])
        r["median_step_s"] = statistics.median(r["times"][1:]) if len(r["times"]) > 1 else r["times"][0]
        r["wall_s"] = time.time() - t0
        res[variant] = r
        print(f"{variant:7s} steps {['%.2f' % t for t in r['times']]} median {r['median_step_s']:.3f} s  "
              f"peak {r['peak_gib']:.2f} GiB", flush=True)
    base, other = variants
    ov = 100 * (res[other]["median_step_s"] / res[base]["median_step_s"] - 1)
    res["overhead_pct"] = ov
    res["settings"] = vars(a)
    if a.gradient_checkpointing:
        print(f"gradient checkpointing: step time {ov:+.1f}%, peak memory "
              f"{res['ours_gc']['peak_gib']:.2f} vs {res['ours']['peak_gib']:.2f} GiB")
    else:
        print(f"overhead of ours vs bare GRPOTrainer: {ov:+.1f}% (target <= 5%)")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
