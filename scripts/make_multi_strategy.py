"""Write a GSM8K-format set of two-step word problems that each admit SEVERAL solution strategies (reasoning paths),
so that path mass (``harness.paths``) can move between correct paths during post-training.
One-step arithmetic (``data/easy_arith``) has one path per problem; these have two or three, e.g.

* ``grouped``:  "3 boxes, each with 4 red and 5 blue pens"   per colour 3*4 + 3*5  |  per box 3*(4+5)
* ``pages``:    "80 pages, 6 a day for 3 days, pages left?"   total read 80 - 6*3  |  day by day 80-6-6-6
* ``unit``:     "4 pens cost 12 dollars, cost of 8 pens?"     unit price (12/4)*8  |  scale factor 12*(8/4)
* ``change``:   "20 dollars, buys a 6 and a 5 dollar item"   total spent 20-(6+5)  |  one by one 20-6-5
* ``pooled``:   "Tom has 3 bags of 4, Mia 2 bags of 4"       per person 3*4 + 2*4  |  bags pooled (3+2)*4

Numbers are small (every number <= 90, most <= 60). That ``standard`` level proved too hard for SmolLM2-135M-Instruct
(pass@1 0.055, results/multi_strategy_calibration), so ``--level easy`` (data/multi_strategy_easy) has seven families
with counts 2..20, single-digit factors, one short sentence per fact (the wording of data/easy_arith) and both
strategies 2-3 short steps:

* ``give_away``:  "has 11, gives 6 to Lily and 3 to Ella"     one by one 11-6, 5-3  |  total given 6+3, 11-9
* ``more_than``:  "Ava has 7, Tom has 3 more than Ava; both?"  other first 7+3, 7+10  |  double first 7+7, 14+3
* ``gain_loss``:  "has 9, finds 5 more, then loses 4"          in order 9+5, 14-4    |  net change 5-4, 9+1
* ``pages_easy``: "17 pages, 5 a day for 2 days; left?"        total read 5*2, 17-10 |  day by day 17-5, 12-5
* ``grouped_easy``, ``pooled_easy``, ``unit_easy``: the standard families with 2-3 (grouped) or 2-5 (pooled) groups
  of 2-5, and 2-3 items at 2-7 dollars each scaled by 2-4.

Each record is
``{"question", "answer", "family", "strategies"}``: ``answer`` is a GSM8K worked solution (``<<a*b=c>>`` calculator
annotations, last line ``#### N``) following the first strategy, read by the GSM8K loader and graded by the GSM8K
grader unchanged; ``strategies`` lists every strategy as ``{"name", "steps": [[expression, value], ...],
"solution"}`` (the truth by construction for validating a path clustering). Every strategy's last value is the gold
answer, and the strategies of one problem derive different intermediate quantities. Problems are drawn from a fixed
seed, so the files are reproducible; train and test share no (family, template, numbers) combination (for ``unit``:
and item; at the easy level the key holds the object noun too, so easy train and test may share numbers).

    python scripts/make_multi_strategy.py --out data/multi_strategy --train 800 --test 200 --seed 0
    python scripts/make_multi_strategy.py --level easy     # -> data/multi_strategy_easy, same sizes and seed
"""

from __future__ import annotations

import argparse
import json
import random
from fractions import Fraction
from pathlib import Path

NAMES = [("Tom", "He"), ("Mia", "She"), ("Sam", "He"), ("Ava", "She"), ("Leo", "He"), ("Zoe", "She"), ("Ben", "He"),
         ("Ivy", "She"), ("Max", "He"), ("Lily", "She"), ("Noah", "He"), ("Emma", "She"), ("Jack", "He"),
         ("Ella", "She")]
CONTAINERS = [("box", "boxes"), ("bag", "bags"), ("pack", "packs"), ("basket", "baskets")]
PAIRS = [("red pens", "blue pens"), ("apples", "pears"), ("red marbles", "green marbles"), ("cookies", "muffins"),
         ("pencils", "erasers")]
ITEMS = ["apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards"]
GOODS = [("book", "pen"), ("toy car", "ball"), ("sandwich", "juice"), ("hat", "scarf"), ("notebook", "ruler")]

GROUPED = [
    "{n} buys {g} {cs}. Each {c} has {a} {x} and {b} {y}. How many {x} and {y} does {n} buy in all?",
    "There are {g} {cs} on a shelf. In each {c} there are {a} {x} and {b} {y}. How many {x} and {y} are there "
    "altogether?",
]
PAGES = [
    "A book has {p} pages. {n} reads {r} pages every day for {d} days. How many pages are left to read?",
    "{n} has a book with {p} pages. {pr} reads {r} pages a day. How many pages are left after {d} days?",
]
UNIT = [
    "{q} {x} cost {t} dollars. How much do {m} {x} cost?",
    "At a shop, {q} {x} cost {t} dollars in total. {n} wants to buy {m} {x}. How many dollars does {n} pay?",
]
CHANGE = [
    "{n} has {s} dollars. {pr} buys a {u} for {a} dollars and a {v} for {b} dollars. How many dollars does {n} have "
    "left?",
    "{n} takes {s} dollars to a shop and spends {a} dollars on a {u} and {b} dollars on a {v}. How much money is left?",
]
POOLED = [
    "{n} has {a} {cs} and {n2} has {b} {cs}. Every {c} holds {k} {x}. How many {x} do they have together?",
    "{n} fills {a} {cs} with {k} {x} each, and {n2} fills {b} {cs} with {k} {x} each. How many {x} is that in total?",
]


def _fmt(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{float(v):g}"


def evaluate(expr: str) -> Fraction:
    """Value of a step expression made of integers, ``+ - * /`` and parentheses (exact, as a Fraction)."""
    allowed = set("0123456789+-*/() ")
    if not set(expr) <= allowed:
        raise ValueError(f"step expression {expr!r} has characters outside {''.join(sorted(allowed))!r}")
    import re

    return eval(re.sub(r"(\d+)", r"Fraction(\1)", expr), {"Fraction": Fraction, "__builtins__": {}})  # noqa: S307


def strategy(name: str, exprs: list[str]) -> dict:
    """A strategy from its step expressions (each may use earlier values literally); GSM8K-annotated solution."""
    steps, lines = [], []
    for e in exprs:
        v = evaluate(e)
        steps.append([e, _fmt(v)])
        lines.append(f"{e} = <<{e.replace(' ', '')}={_fmt(v)}>>{_fmt(v)}")
    return {"name": name, "steps": steps, "solution": "\n".join(lines) + f"\n#### {steps[-1][1]}"}


def grouped(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    g, a, b = rng.randint(2, 5), rng.randint(2, 6), rng.randint(2, 6)
    (c, cs), (x, y), t = rng.choice(CONTAINERS), rng.choice(PAIRS), rng.randrange(len(GROUPED))
    (n, _) = rng.choice(NAMES)
    q = GROUPED[t].format(n=n, g=g, c=c, cs=cs, a=a, b=b, x=x, y=y)
    return (t, g, a, b), q, [strategy("per_item", [f"{g} * {a}", f"{g} * {b}", f"{g * a} + {g * b}"]),
                             strategy("per_group", [f"{a} + {b}", f"{g} * {a + b}"])]


def pages(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    r, d = rng.randint(2, 9), rng.randint(2, 3)
    p = r * d + rng.randint(3, 30)
    (n, pr), t = rng.choice(NAMES), rng.randrange(len(PAGES))
    q = PAGES[t].format(n=n, pr=pr, p=p, r=r, d=d)
    daily, left = [], p
    for _ in range(d):
        daily.append(f"{left} - {r}")
        left -= r
    return (t, p, r, d), q, [strategy("total_read", [f"{r} * {d}", f"{p} - {r * d}"]),
                             strategy("day_by_day", daily)]


def unit(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    q, price, m = rng.randint(2, 5), rng.randint(2, 6), rng.randint(2, 3)
    t_total, want = q * price, q * m
    x, (n, _), t = rng.choice(ITEMS), rng.choice(NAMES), rng.randrange(len(UNIT))
    text = UNIT[t].format(q=q, x=x, t=t_total, m=want, n=n)
    return (t, q, price, m, x), text, [strategy("unit_price", [f"{t_total} / {q}", f"{price} * {want}"]),
                                    strategy("scale_factor", [f"{want} / {q}", f"{t_total} * {m}"])]


def change(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    s = a + b + rng.randint(1, 20)
    (n, pr), (u, v), t = rng.choice(NAMES), rng.choice(GOODS), rng.randrange(len(CHANGE))
    q = CHANGE[t].format(n=n, pr=pr, s=s, a=a, b=b, u=u, v=v)
    return (t, s, a, b), q, [strategy("total_spent", [f"{a} + {b}", f"{s} - {a + b}"]),
                             strategy("one_by_one", [f"{s} - {a}", f"{s - a} - {b}"])]


def pooled(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, b, k = rng.randint(2, 6), rng.randint(2, 6), rng.randint(2, 5)
    (n, _), (n2, _) = rng.sample(NAMES, 2)
    (c, cs), x, t = rng.choice(CONTAINERS), rng.choice(ITEMS), rng.randrange(len(POOLED))
    q = POOLED[t].format(n=n, n2=n2, a=a, b=b, k=k, c=c, cs=cs, x=x)
    return (t, a, b, k), q, [strategy("per_person", [f"{a} * {k}", f"{b} * {k}", f"{a * k} + {b * k}"]),
                             strategy("pooled", [f"{a} + {b}", f"{a + b} * {k}"])]


# ---- level "easy": counts 2..20, single-digit factors, one short sentence per fact, both strategies 2-3 short
# steps; every count >= 2 so that plurals read right. The numbers alone give under 1000 distinct problems, so an easy
# problem's identity key also holds its object noun (train and test never share a question, but may share numbers).
GIVE_AWAY = "{n} has {s} {x}. {p} gives {a} {x} to {n2} and {b} {x} to {n3}. How many {x} does {n} have left?"
MORE_THAN = "{n} has {a} {x}. {n2} has {d} more {x} than {n}. How many {x} do they have together?"
GAIN_LOSS = "{n} has {a} {x}. {p} finds {b} more {x}. Then {p2} loses {c} {x}. How many {x} does {n} have now?"
PAGES_EASY = "A book has {p} pages. {n} reads {r} pages each day for 2 days. How many pages are left?"
GROUPED_EASY = "{n} has {g} {cs}. Each {c} has {a} {x} and {b} {y}. How many {x} and {y} does {n} have?"
POOLED_EASY = "{n} has {a} {cs}. {n2} has {b} {cs}. Each {c} has {k} {x}. How many {x} do they have together?"
UNIT_EASY = "{q} {x} cost {t} dollars. How many dollars do {m} {x} cost?"


def give_away(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, b = rng.randint(2, 6), rng.randint(2, 6)
    s = a + b + rng.randint(1, 20 - a - b)
    (n, pr), (n2, _), (n3, _) = rng.sample(NAMES, 3)
    x = rng.choice(ITEMS)
    q = GIVE_AWAY.format(n=n, p=pr, s=s, a=a, b=b, x=x, n2=n2, n3=n3)
    return (s, a, b, x), q, [strategy("one_by_one", [f"{s} - {a}", f"{s - a} - {b}"]),
                          strategy("total_given", [f"{a} + {b}", f"{s} - {a + b}"])]


def more_than(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, d = rng.randint(2, 9), rng.randint(2, 6)
    (n, _), (n2, _), x = *rng.sample(NAMES, 2), rng.choice(ITEMS)
    q = MORE_THAN.format(n=n, n2=n2, a=a, d=d, x=x)
    return (a, d, x), q, [strategy("other_first", [f"{a} + {d}", f"{a} + {a + d}"]),
                       strategy("double_first", [f"{a} + {a}", f"{2 * a} + {d}"])]


def gain_loss(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, c = rng.randint(2, 10), rng.randint(2, 5)
    b = c + rng.randint(1, 5)
    (n, pr), x = rng.choice(NAMES), rng.choice(ITEMS)
    q = GAIN_LOSS.format(n=n, p=pr, p2=pr.lower(), a=a, b=b, c=c, x=x)
    return (a, b, c, x), q, [strategy("in_order", [f"{a} + {b}", f"{a + b} - {c}"]),
                          strategy("net_change", [f"{b} - {c}", f"{a} + {b - c}"])]


def pages_easy(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    r = rng.randint(2, 6)
    p = 2 * r + rng.randint(1, 20 - 2 * r)
    n = rng.choice(NAMES)[0]
    q = PAGES_EASY.format(n=n, p=p, r=r)
    return (p, r, n), q, [strategy("total_read", [f"{r} * 2", f"{p} - {2 * r}"]),
                       strategy("day_by_day", [f"{p} - {r}", f"{p - r} - {r}"])]


def grouped_easy(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    g, a, b = rng.randint(2, 3), rng.randint(2, 5), rng.randint(2, 5)
    (c, cs), (x, y), n = rng.choice(CONTAINERS), rng.choice(PAIRS), rng.choice(NAMES)[0]
    q = GROUPED_EASY.format(n=n, g=g, c=c, cs=cs, a=a, b=b, x=x, y=y)
    return (g, a, b, c, x), q, [strategy("per_item", [f"{g} * {a}", f"{g} * {b}", f"{g * a} + {g * b}"]),
                          strategy("per_group", [f"{a} + {b}", f"{g} * {a + b}"])]


def pooled_easy(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    a, b, k = rng.randint(2, 5), rng.randint(2, 5), rng.randint(2, 5)
    (n, _), (n2, _) = rng.sample(NAMES, 2)
    (c, cs), x = rng.choice(CONTAINERS), rng.choice(ITEMS)
    q = POOLED_EASY.format(n=n, n2=n2, a=a, b=b, k=k, c=c, cs=cs, x=x)
    return (a, b, k, c, x), q, [strategy("per_person", [f"{a} * {k}", f"{b} * {k}", f"{a * k} + {b * k}"]),
                          strategy("pooled", [f"{a} + {b}", f"{a + b} * {k}"])]


def unit_easy(rng: random.Random) -> tuple[tuple, str, list[dict]]:
    k, price, m = rng.randint(2, 3), rng.randint(2, 7), rng.randint(2, 4)
    x = rng.choice(ITEMS)
    q = UNIT_EASY.format(q=k, x=x, t=k * price, m=k * m)
    return (k, price, m, x), q, [strategy("unit_price", [f"{k * price} / {k}", f"{price} * {k * m}"]),
                                 strategy("scale_factor", [f"{k * m} / {k}", f"{k * price} * {m}"])]


def distinguishable(question: str, strategies: list[dict]) -> bool:
    """True when every strategy derives an intermediate value that is neither stated in the question nor written by
    any other strategy (any of its step values, the final one included)."""
    import re

    given = set(re.findall(r"\d+", question))
    for i, s in enumerate(strategies):
        own = {v for _, v in s["steps"][:-1]} - given
        others = {v for j, t in enumerate(strategies) if j != i for _, v in t["steps"]}
        if not own - others:
            return False
    return True


FAMILIES = {"grouped": grouped, "pages": pages, "unit": unit, "change": change, "pooled": pooled}
EASY_FAMILIES = {"give_away": give_away, "more_than": more_than, "gain_loss": gain_loss, "pages_easy": pages_easy,
                 "grouped_easy": grouped_easy, "pooled_easy": pooled_easy, "unit_easy": unit_easy}
LEVELS = {"standard": FAMILIES, "easy": EASY_FAMILIES}


def problem(rng: random.Random, level: str = "standard") -> tuple[tuple, dict]:
    """One problem of a family drawn uniformly; returns (identity key, record). Numbers for which the strategies
    cannot be told apart by the quantities they derive are redrawn: every strategy must derive an intermediate value
    that the question does not state and that no other strategy writes (e.g. a unit price equal to the scale
    factor, or "20 pages, 5 a day for 3 days", where day by day writes 15 = 5 * 3, are redrawn)."""
    families = LEVELS[level]
    family = rng.choice(sorted(families))
    while True:
        key, question, strategies = families[family](rng)
        if distinguishable(question, strategies):
            break
    return (family, *key), {"question": question, "answer": strategies[0]["solution"], "family": family,
                            "strategies": strategies}


def make(n_train: int, n_test: int, seed: int, level: str = "standard") -> tuple[list[dict], list[dict]]:
    """Draw ``n_test`` then ``n_train`` problems of ``level`` with distinct (family, template, numbers) keys."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {sorted(LEVELS)}; pass --level standard or --level easy")
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < n_train + n_test:
        key, rec = problem(rng, level)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out[n_test:], out[:n_test]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--level", default="standard", choices=sorted(LEVELS),
                    help="standard: numbers up to 90 (data/multi_strategy); easy: numbers up to 20, single-digit "
                         "factors, simplest wording (data/multi_strategy_easy)")
    ap.add_argument("--out", default=None, help="default: data/multi_strategy, or data/multi_strategy_easy for easy")
    ap.add_argument("--train", type=int, default=800)
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    train, test = make(a.train, a.test, a.seed, a.level)
    out = Path(a.out or ("data/multi_strategy" if a.level == "standard" else f"data/multi_strategy_{a.level}"))
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("test", test)):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"wrote {out / name}.jsonl ({len(rows)} problems)")


if __name__ == "__main__":
    main()
