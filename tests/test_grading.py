"""Grading on real answer strings from ../shared/data (GSM8K and MATH-500), timeouts, reward function."""

from __future__ import annotations

import threading
import time

import pytest

from harness.data import load_problems
from harness.grading import Grade, GradingError, grade, grade_many, make_reward_fn
from harness.grading.verify_worker import get_worker


@pytest.fixture(scope="module")
def gsm(shared_data):
    return load_problems("gsm8k", "test")


@pytest.fixture(scope="module")
def math500(shared_data):
    return load_problems("math", "test")


def test_gsm8k_reference_solutions_grade_correct(gsm):
    # the reference solutions themselves end in "#### N" (strict rule); commas inside them included
    grades = grade_many("gsm8k", [p.solution for p in gsm[:200]], [p.answer for p in gsm[:200]])
    assert all(g.correct and g.rule == "strict" and g.status == "ok" for g in grades)
    # wrong gold -> wrong
    assert not grade("gsm8k", gsm[0].solution, str(int(gsm[0].answer) + 1)).correct


def test_gsm8k_comma_answers(gsm):
    comma = [p for p in gsm if "," in p.solution.split("####")[-1]]
    assert comma, "the test split has answers with thousands separators"
    for p in comma:
        raw_final = p.solution.split("####")[-1].strip()  # e.g. "2,125"
        g = grade("gsm8k", f"Adding it all up we get ${raw_final}.", p.answer)
        assert g.correct and g.rule == "flexible" and g.extracted == p.answer
        assert grade("gsm8k", p.solution.replace(f"#### {raw_final}", f"#### {raw_final}.00"), p.answer).correct


def test_gsm8k_rules_order_and_no_answer():
    g = grade("gsm8k", "First 3 apples, then 5.\n#### 8\nsome trailing 99", "8")
    assert (g.extracted, g.rule, g.correct) == ("8", "strict", True)
    g = grade("gsm8k", r"So 3 + 5 = 8, the answer is \boxed{8} (not 9).", "8")
    assert (g.extracted, g.rule, g.correct) == ("8", "boxed", True)
    g = grade("gsm8k", "so she has -12 dollars left, 3 times", "-12")
    assert (g.extracted, g.rule, g.correct) == ("3", "flexible", False)
    g = grade("gsm8k", "I do not know.", "8")
    assert g == Grade(None, False, "no_answer", None)
    # gold given as the full reference solution works too
    assert grade("gsm8k", "#### 1,000", "he paid <<1000=1000>>1000\n#### 1,000").correct


def test_math_reference_solutions_boxed_inside_text(math500):
    ps = math500[:40]
    grades = grade_many("math", [p.solution for p in ps], [p.answer for p in ps], timeout_s=10)
    assert all(g.correct and g.status == "ok" for g in grades), [(p.id, g) for p, g in zip(ps, grades) if not g.correct]
    # a wrong answer of another problem is wrong (unless the two answers coincide)
    p, q = ps[0], next(q for q in ps if q.answer != ps[0].answer)
    assert not grade("math", q.solution, p.answer, timeout_s=10).correct


def test_math_equivalent_forms_need_math_verify(math500):
    frac = next(p for p in math500 if p.answer.startswith("\\frac{") and p.answer.count("{") == 2)
    num, den = frac.answer[len("\\frac{"):-1].split("}{")
    for form in (f"\\dfrac{{{num}}}{{{den}}}", f"{num}/{den}", f"\\frac{{{2 * int(num)}}}{{{2 * int(den)}}}"):
        g = grade("math", f"We simplify and get $\\boxed{{{form}}}$.", frac.answer, timeout_s=10)
        assert g.correct and g.status == "ok", (form, g)
    g = grade("math", f"the answer is \\boxed{{{num}/{int(den) + 1}}}", frac.answer, timeout_s=10)
    assert not g.correct and g.status == "ok"
    tup = math500[0]  # \left( 3, \frac{\pi}{2} \right)
    assert grade("math", r"so $(r,\theta)=\boxed{(3,\pi/2)}$", tup.answer, timeout_s=10).correct


def test_math_no_box_and_unparsable():
    assert grade("math", "the answer is 5", "5") == Grade(None, False, "no_answer", None)
    g = grade("math", r"hence \boxed{\\}", "5", timeout_s=10)  # a box math-verify cannot parse
    assert g.extracted == "\\\\" and not g.correct and g.status == "no_answer"


def test_math_timeout_tiny_deadline_then_recovers():
    g = grade("math", r"\boxed{x^2+2x+1}", "(x+1)^2", timeout_s=1e-4)
    assert g.status == "timeout" and not g.correct and g.extracted == "x^2+2x+1" and not g.graded
    g = grade("math", r"\boxed{x^2+2x+1}", "(x+1)^2", timeout_s=30)  # worker restarted
    assert g.status == "ok" and g.correct


def test_math_hanging_expression_bounded():
    t0 = time.monotonic()
    g = grade("math", r"\boxed{10^{10^{10^{10}}}}", "1", timeout_s=1.0)
    took = time.monotonic() - t0
    assert g.status == "timeout"
    assert took < 1.0 + 30  # deadline plus at most a (slow, loaded machine) worker start


def test_grading_from_threads():
    out: list[Grade] = []

    def work(i):
        out.append(grade("math", rf"\boxed{{{i}/2}}", rf"\frac{{{i}}}{{2}}", timeout_s=30))

    ths = [threading.Thread(target=work, args=(i,)) for i in range(1, 5)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert len(out) == 4 and all(g.correct for g in out)


def test_unknown_benchmark_and_length_mismatch():
    with pytest.raises(GradingError, match="allowed: gsm8k, math"):
        grade("aime", "x", "1")
    with pytest.raises(GradingError, match="2 completions but 1 gold"):
        grade_many("gsm8k", ["a", "b"], ["1"])


def test_truncated_completions_need_an_explicit_answer():
    """Cut at the token limit: the last number of unfinished text is not an answer (real SmolLM2 examples)."""
    from harness.grading import truncation_rule

    cut = "Step 4: 3 x 6 = 18\n\nStep 5: 3 x 7 ="  # gold 7: flexible would call it correct
    g = grade("gsm8k", cut, "7")
    assert (g.correct, g.rule) == (True, "flexible")
    t = truncation_rule(g, truncated=True)
    assert (t.correct, t.status, t.extracted, t.graded) == (False, "truncated", "7", True)
    assert truncation_rule(g, truncated=True, flexible_on_truncated=True).correct  # lm-eval behaviour on request
    assert truncation_rule(g, truncated=False).correct  # a finished completion keeps the fallback
    for explicit in ("so the answer is\n#### 7\nand then", "the total is \\boxed{7} apples, and"):
        assert truncation_rule(grade("gsm8k", explicit, "7"), truncated=True).correct
    gs = grade_many("gsm8k", [cut, cut, "#### 7"], ["7"] * 3, truncated=[True, False, True])
    assert [x.correct for x in gs] == [False, True, True] and gs[0].status == "truncated"
    with pytest.raises(GradingError, match="truncated flags"):
        grade_many("gsm8k", [cut], ["7"], truncated=[True, False])
    f = make_reward_fn("gsm8k", max_tokens=3)
    assert f(completions=[cut, cut], answer=["7", "7"], completion_ids=[[1, 2, 3], [1, 2]]) == [0.0, 1.0]


def test_reward_fn_trl_signature(gsm):
    f = make_reward_fn("gsm8k")
    p = gsm[0]
    r = f(prompts=["q", "q", "q"], completions=[p.solution, [{"role": "assistant", "content": "#### 0"}], "nothing"],
          answer=[p.answer] * 3, completion_ids=[[1], [2], [3]], trainer_state=None)
    assert r == [1.0, 0.0, 0.0] and f.__name__ == "gsm8k_accuracy"
    fm = make_reward_fn("math", timeout_s=1e-4)
    r = fm(prompts=["q"], completions=[r"\boxed{x^2+4x+4}"], answer=["(x+2)^2"])
    assert r == [None]  # ungraded (timeout) -> None, which TRL treats as missing
    get_worker()  # still usable afterwards


def test_grade_many_parallel_workers_same_as_serial(math500):
    comps = [rf"so \boxed{{{math500[(i + 1) % 12].answer}}}" for i in range(12)] + [math500[0].solution, "no box"]
    golds = [p.answer for p in math500[:12]] + [math500[0].answer, "1"]
    serial = grade_many("math", comps, golds, timeout_s=30)
    parallel = grade_many("math", comps, golds, timeout_s=30, workers=2)
    assert parallel == serial
    assert serial[-2].correct and serial[-1].status == "no_answer"
