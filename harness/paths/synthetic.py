"""Synthetic multi-strategy word problems with completions rendered from known strategies (truth by construction).

``make_problem(family, rng) -> Problem`` draws the numbers of one problem of a family; every family has 2-3
strategies (including a wrong one), each a list of :class:`Step` (what it computes from which operands).
``render(problem, strategy, rng, hard=False) -> str`` writes one completion of a strategy with varied wording
(several sentence templates per step, with and without the equation written out), a random order of the
strategy's independent steps, operator notation (``*``, ``x``, ``×``, ``·``, ``times``, ``multiplied by``,
"multiply a by b"), number formats (``$1,200``, ``1200``, ``1200.00``, ``1,200 dollars``; a percentage as ``25%``,
``0.25``, ``25/100``, ``25 percent``) and restatements of the question's numbers.
``hard=True`` also uses the renderings docs/paths.md lists as known failure modes: a whole strategy as one chained
product (``w*h*d = 960`` hides the intermediate ``w*h``), and derived percentages written without their unit
(``100 - 25 = 75`` instead of ``75%``).
``synthetic_set(n_problems, per_strategy, seed, hard=False) -> list[dict]`` is the validation set:
rows ``{problem, family, question, strategy, completion}``.

Numbers are redrawn until the strategies' derived-quantity sets differ and no derived quantity equals a question
number (otherwise no path definition could tell them apart; that case is a documented failure mode, not a test).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

_OPWORDS = {"*": ["*", "x", "\u00d7", "\u00b7", "times", "multiplied by"], "+": ["+", "plus"],
            "-": ["-", "minus", "\u2212"], "/": ["/", "divided by", "\u00f7"]}


@dataclass
class Step:
    """One derived quantity: ``result = a op b`` (operands are values; ``pct`` marks operands that are percentages)."""

    desc: str
    op: str
    a: float
    b: float
    result: float
    pct: tuple = ()
    money: bool = False
    after: tuple = ()  # indices of steps this one needs (the others may come in any order)


@dataclass
class Problem:
    family: str
    question: str
    strategies: dict = field(default_factory=dict)
    q_numbers: tuple = ()
    answer_unit: str = ""


def _fmt_plain(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def _fmt(v: float, rng: random.Random, money: bool = False, pct: bool = False) -> str:
    if pct:
        p = v * 100
        return rng.choice([f"{_fmt_plain(p)}%", _fmt_plain(v), f"{_fmt_plain(p)}/100", f"{_fmt_plain(p)} percent"])
    s = _fmt_plain(v)
    forms = [s]
    if float(v).is_integer() and v >= 1000:
        forms.append(f"{int(v):,}")
    if money:
        forms += [f"${forms[-1]}", f"${v:,.2f}", f"{forms[-1]} dollars"]
    elif float(v).is_integer():
        forms.append(f"{int(v)}.0")
    return rng.choice(forms)


def _expr(step: Step, rng: random.Random, order_free: bool = True) -> str:
    a, b = step.a, step.b
    pa, pb = 0 in step.pct, 1 in step.pct
    if step.op in "*+" and order_free and rng.random() < 0.5:
        a, b, pa, pb = b, a, pb, pa
    sym = rng.choice(_OPWORDS[step.op])
    return f"{_fmt(a, rng, step.money and not pa, pa)} {sym} {_fmt(b, rng, step.money and not pb, pb)}"


_TEMPLATES = [
    "{Desc} is {expr} = {res}.",
    "{expr} = {res}, so {desc} is {res}.",
    "{Desc}: {expr} = {res}",
    "We compute {expr}, which gives {res} for {desc}.",
    "That means {desc} = {expr} = {res}.",
    "{Desc} comes to {res}.",  # no equation: the value is derived all the same
    "So {desc} is {res} ({expr}).",
]


def _render_step(step: Step, rng: random.Random) -> str:
    res = _fmt(step.result, rng, step.money)
    if step.op in "*/" and not step.pct and rng.random() < 0.15:
        verb = "Multiply" if step.op == "*" else "Divide"
        return f"{verb} {_fmt(step.a, rng, step.money)} by {_fmt(step.b, rng)} to get {res} for {step.desc}."
    t = rng.choice(_TEMPLATES)
    text = t.format(Desc=step.desc[0].upper() + step.desc[1:], desc=step.desc, expr=_expr(step, rng), res=res)
    return text


_INTROS = ["", "Let's solve this step by step.", "Let me think.", "We need to work this out carefully."]
_ENDS = ["The answer is {a}.", "#### {a}", "So the final answer is {a}.", "Answer: \\boxed{{{a}}}"]


def _order(steps: list[Step], rng: random.Random) -> list[Step]:
    """A random topological order: a step comes after the steps in its ``after``."""
    left = list(range(len(steps)))
    done: list[int] = []
    while left:
        ready = [i for i in left if all(j in done for j in steps[i].after)]
        i = rng.choice(ready)
        done.append(i)
        left.remove(i)
    return [steps[i] for i in done]


def render(problem: Problem, strategy: str, rng: random.Random, hard: bool = False) -> str:
    """One completion of ``strategy`` (module docstring)."""
    steps = problem.strategies[strategy]
    lines = [rng.choice(_INTROS)]
    if rng.random() < 0.5:
        q = rng.sample(problem.q_numbers, k=min(2, len(problem.q_numbers)))
        lines.append("We are given " + " and ".join(_fmt(v, rng) for v in q) + ".")
    chained = hard and len(steps) == 2 and steps[1].op == "*" and steps[0].op == "*" and rng.random() < 0.5
    if chained:  # known failure mode: one chained product hides the intermediate
        s0, s1 = steps
        lines.append(f"The total is {_fmt_plain(s0.a)} * {_fmt_plain(s0.b)} * {_fmt_plain(s1.b)} = "
                     f"{_fmt(s1.result, rng, s1.money)}.")
    else:
        for st in _order(steps, rng):
            if hard and st.op == "-" and st.pct == (0, 1) and rng.random() < 0.5:
                lines.append(f"{st.desc[0].upper() + st.desc[1:]} is 100 - {_fmt_plain(st.b * 100)} = "
                             f"{_fmt_plain(st.result * 100)}.")  # known failure mode: a percentage without its unit
            else:
                lines.append(_render_step(st, rng))
    lines.append(rng.choice(_ENDS).format(a=_fmt(steps[-1].result, rng, steps[-1].money)))
    sep = rng.choice([" ", "\n", "\n\n"])
    return sep.join(x for x in lines if x)


NAMES = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Omar", "Ines", "Kai"]


def _marbles(rng: random.Random) -> Problem:
    n, r, g = rng.randint(3, 12), rng.randint(2, 15), rng.randint(2, 15)
    q = (f"A store has {n} bags of marbles. Each bag has {r} red marbles and {g} green marbles. "
         f"How many marbles are there in all?")
    return Problem("marbles", q, {
        "per_colour": [Step("the number of red marbles", "*", n, r, n * r),
                       Step("the number of green marbles", "*", n, g, n * g),
                       Step("the total", "+", n * r, n * g, n * r + n * g, after=(0, 1))],
        "per_bag": [Step("the marbles in one bag", "+", r, g, r + g),
                    Step("the total", "*", n, r + g, n * (r + g), after=(0,))],
        "wrong_forgot_bags": [Step("the number of red marbles", "*", n, r, n * r),
                              Step("the total", "+", n * r, g, n * r + g, after=(0,))]}, (n, r, g))


def _wages(rng: random.Random) -> Problem:
    w, h, d = rng.randint(9, 30), rng.randint(3, 9), rng.randint(3, 6)
    name = rng.choice(NAMES)
    q = f"{name} earns ${w} per hour. {name} works {h} hours a day for {d} days. How much does {name} earn?"
    return Problem("wages", q, {
        "daily_pay": [Step("the pay per day", "*", w, h, w * h, money=True),
                      Step("the total pay", "*", w * h, d, w * h * d, money=True, after=(0,))],
        "total_hours": [Step("the total hours", "*", h, d, h * d),
                        Step("the total pay", "*", h * d, w, w * h * d, money=True, after=(0,))],
        "wrong_no_hours": [Step("the total pay", "*", w, d, w * d, money=True)]}, (w, h, d))


def _discount(rng: random.Random) -> Problem:
    price, r = rng.choice(range(40, 2400, 20)), rng.choice([10, 20, 25, 30, 40, 60])
    q = f"A jacket costs ${price:,}. It is on sale for {r}% off. What is the sale price?"
    f = r / 100
    return Problem("discount", q, {
        "discount_first": [Step("the discount", "*", price, f, price * f, pct=(1,), money=True),
                           Step("the sale price", "-", price, price * f, price * (1 - f), money=True, after=(0,))],
        "share_paid": [Step("the share still paid", "-", 1.0, f, 1 - f, pct=(0, 1)),
                       Step("the sale price", "*", price, 1 - f, price * (1 - f), pct=(1,), money=True, after=(0,))],
        "wrong_discount_only": [Step("the sale price", "*", price, f, price * f, pct=(1,), money=True)]},
        (price, r))


def _reading(rng: random.Random) -> Problem:
    d, k = rng.randint(8, 40), rng.choice([2, 3])
    pages = d * k + rng.randint(20, 300)
    name = rng.choice(NAMES)
    q = f"A book has {pages} pages. {name} reads {d} pages a day for {k} days. How many pages are left?"
    daily = []
    left = pages
    for i in range(k):
        daily.append(Step(f"the pages left after day {i + 1}", "-", left, d, left - d, after=(i - 1,) if i else ()))
        left -= d
    return Problem("reading", q, {
        "pages_read": [Step("the pages read", "*", d, k, d * k),
                       Step("the pages left", "-", pages, d * k, pages - d * k, after=(0,))],
        "day_by_day": daily,
        "wrong_one_day": [Step("the pages left", "-", pages, d, pages - d)]}, (pages, d, k))


def _trip(rng: random.Random) -> Problem:
    h1, h2 = rng.randint(2, 5), rng.randint(2, 5)
    s1, s2 = rng.choice(range(30, 70, 4)), rng.choice(range(40, 80, 4))
    name = rng.choice(NAMES)
    q = f"{name} drives {h1} hours at {s1} mph and then {h2} hours at {s2} mph. How many miles does {name} drive?"
    avg = (s1 + s2) / 2
    return Problem("trip", q, {
        "legs": [Step("the first leg", "*", s1, h1, s1 * h1), Step("the second leg", "*", s2, h2, s2 * h2),
                 Step("the distance", "+", s1 * h1, s2 * h2, s1 * h1 + s2 * h2, after=(0, 1))],
        "wrong_average_speed": [Step("the speed sum", "+", s1, s2, s1 + s2),
                                Step("the average speed", "/", s1 + s2, 2, avg, after=(0,)),
                                Step("the hours", "+", h1, h2, h1 + h2),
                                Step("the distance", "*", avg, h1 + h2, avg * (h1 + h2), after=(1, 2))]},
        (h1, s1, h2, s2))


def _students(rng: random.Random) -> Problem:
    p = rng.choice([20, 30, 40, 60, 70, 80])
    t = rng.choice(range(50, 1000, 10))
    q = f"A school has {t} students and {p}% of them are girls. How many boys are there?"
    f = p / 100
    return Problem("students", q, {
        "girls_first": [Step("the number of girls", "*", t, f, t * f, pct=(1,)),
                        Step("the number of boys", "-", t, t * f, t * (1 - f), after=(0,))],
        "boys_share": [Step("the share of boys", "-", 1.0, f, 1 - f, pct=(0, 1)),
                       Step("the number of boys", "*", t, 1 - f, t * (1 - f), pct=(1,), after=(0,))],
        "wrong_girls": [Step("the number of boys", "*", t, f, t * f, pct=(1,))]}, (t, p))


FAMILIES = {"marbles": _marbles, "wages": _wages, "discount": _discount, "reading": _reading, "trip": _trip,
            "students": _students}


def _canon_set(steps: list[Step]) -> frozenset:
    return frozenset(round(s.result, 2) for s in steps)


def _separable(p: Problem) -> bool:
    from harness.paths.numbers import question_numbers
    qn = question_numbers(p.question)
    sets = [frozenset(v for v in _canon_set(s) if v not in qn) for s in p.strategies.values()]
    if any(v in qn for s in p.strategies.values() for v in _canon_set(s)):
        return False
    if any(abs(st.result) < 1.0001 and not st.pct for s in p.strategies.values() for st in s):
        return False
    return len(set(sets)) == len(sets) and all(sets)


def make_problem(family: str, rng: random.Random) -> Problem:
    """One problem of ``family`` whose strategies are distinguishable (module docstring)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown synthetic family {family!r}; allowed: {sorted(FAMILIES)}")
    for _ in range(200):
        p = FAMILIES[family](rng)
        if _separable(p):
            return p
    raise RuntimeError(f"could not draw a separable {family} problem in 200 tries")


def synthetic_set(n_problems: int = 60, per_strategy: int = 5, seed: int = 0, hard: bool = False) -> list[dict]:
    """The validation rows (module docstring); families cycle, numbers and renderings come from ``seed``."""
    rng = random.Random(seed)
    fams = sorted(FAMILIES)
    rows = []
    for i in range(n_problems):
        p = make_problem(fams[i % len(fams)], rng)
        for name in p.strategies:
            for _ in range(per_strategy):
                rows.append({"problem": i, "family": p.family, "question": p.question, "strategy": name,
                             "completion": render(p, name, rng, hard=hard)})
    return rows
