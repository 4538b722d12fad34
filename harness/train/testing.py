"""A tiny RL-ready model and problem file for tests, smoke runs and the CPU benchmark (offline, seconds).

``prepare_rl_tiny(dir)`` builds the tiny Qwen2 model of ``harness.testing.tiny_model`` and warms it up on
one-digit additions rendered with the SAME chat prompt the trainer uses (``harness.data.prompts``), so that
sampled completions are correct often enough for rewards to vary within a group; it also writes
``train.jsonl`` (GSM8K-format problems, gold ``#### N``) and ``wrong.jsonl`` (the same questions with an
unreachable gold answer: every reward is 0).
"""

from __future__ import annotations

import json
import random
from pathlib import Path


def easy_pairs(n: int = 400, seed: int = 0, hi: int = 4) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(1, hi), rng.randint(1, hi)
        out.append((f"Tom has {a} apples and buys {b} more. How many apples does Tom have?",
                    f"Tom has {a} + {b} = {a + b} apples.\n#### {a + b}"))
    return out


def prepare_rl_tiny(out_dir: str | Path, warm_steps: int = 100, n_problems: int = 64) -> Path:
    """Build (once) ``out_dir/model``, ``out_dir/train.jsonl``, ``out_dir/wrong.jsonl``; return out_dir."""
    from harness.data.prompts import TEMPLATES
    from harness.testing.tiny_model import build_tiny_model, warm_up

    out = Path(out_dir)
    done = out / "READY"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    pairs = easy_pairs()
    build_tiny_model(
        out / "model", texts=[TEMPLATES["chat"]["gsm8k"].format(question=q) + "\n" + a for q, a in pairs[:200]]
    )
    warm_up(
        out / "model", pairs=[(TEMPLATES["chat"]["gsm8k"].format(question=q), a) for q, a in pairs], steps=warm_steps
    )
    with open(out / "train.jsonl", "w") as f, open(out / "wrong.jsonl", "w") as g:
        for q, a in pairs[:n_problems]:
            f.write(json.dumps({"question": q, "answer": a}) + "\n")
            g.write(json.dumps({"question": q, "answer": "Tom has lots.\n#### 999"}) + "\n")
    done.write_text("ok")
    return out
