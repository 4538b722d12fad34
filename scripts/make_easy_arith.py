"""Write a GSM8K-format set of one-step add/subtract word problems: a task on which SmolLM2-135M-Instruct has a
non-trivial pass rate, so that GRPO gets a learning signal on a 2-core CPU (on GSM8K itself its pass@1 is ~2% and
~87% of groups of 8 are all wrong, docs/gpu_results.md).

Each record is ``{"question": ..., "answer": "<a> <op> <b> = <c>\\n#### <c>"}``, read by the GSM8K loader and graded
by the GSM8K grader unchanged. Problems are drawn from a fixed seed, so the files are reproducible; train and test
share no (template, numbers) combination.

    python scripts/make_easy_arith.py --out data/easy_arith --train 800 --test 200 --seed 0
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

NAMES = [("Tom", "He"), ("Mia", "She"), ("Sam", "He"), ("Ava", "She"), ("Leo", "He"), ("Zoe", "She"), ("Ben", "He"),
         ("Ivy", "She"), ("Max", "He"), ("Lily", "She"), ("Noah", "He"), ("Emma", "She"), ("Jack", "He"),
         ("Ella", "She")]
ITEMS = ["apples", "marbles", "stickers", "books", "pencils", "cookies", "stamps", "shells", "cards", "coins"]
ADD = [
    "{n} has {a} {x}. {p} gets {b} more {x}. How many {x} does {n} have now?",
    "{n} had {a} {x} and found {b} more. How many {x} does {n} have in total?",
    "There are {a} {x} in a box. {n} puts {b} more {x} in the box. How many {x} are in the box now?",
]
SUB = [
    "{n} has {a} {x}. {p} gives away {b} {x}. How many {x} does {n} have left?",
    "{n} had {a} {x} and lost {b} of them. How many {x} does {n} have now?",
    "There are {a} {x} on a table. {n} takes {b} {x} away. How many {x} are left on the table?",
]


def problem(rng: random.Random) -> tuple[tuple, dict]:
    """One problem: a + b (a, b in 1..20) or a - b (1 <= b < a <= 20); returns (identity key, GSM8K record).
    Small numbers on purpose: with 2-digit operands up to 99 the model's pass rate at T = 0.7 was ~4%."""
    (n, pronoun), x = rng.choice(NAMES), rng.choice(ITEMS)
    if rng.random() < 0.5:
        t = rng.randrange(len(ADD))
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        q, c, op = ADD[t], a + b, "+"
    else:
        t = rng.randrange(len(SUB))
        a = rng.randint(3, 20)
        b = rng.randint(1, a - 1)
        q, c, op = SUB[t], a - b, "-"
    text = q.format(n=n, p=pronoun, a=a, b=b, x=x)
    return (op, t, a, b), {"question": text, "answer": f"{a} {op} {b} = <<{a}{op}{b}={c}>>{c}\n#### {c}"}


def make(n_train: int, n_test: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Draw ``n_test`` then ``n_train`` problems with distinct (op, template, a, b) keys."""
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < n_train + n_test:
        key, rec = problem(rng)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out[n_test:], out[:n_test]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="data/easy_arith")
    ap.add_argument("--train", type=int, default=800)
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    train, test = make(a.train, a.test, a.seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("test", test)):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"wrote {out / name}.jsonl ({len(rows)} problems)")


if __name__ == "__main__":
    main()
