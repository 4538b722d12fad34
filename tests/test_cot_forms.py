"""harness.analyze.cot_forms: the surface form of a CoT and the concentration summary of a step's forms."""

from __future__ import annotations

import math

import pytest

from harness.analyze import cot_forms as cf


def test_form_normalises_numbers_operators_and_question_words():
    a = cf.form_of("Ivy has 20 - 4 = 16 books left.", "Ivy had 20 books and gave away 4. How many books are left?")
    b = cf.form_of("Tom has 7 + 6 = 13 stickers left.", "Tom has 7 stickers and gets 6 more. How many stickers?")
    assert a == "w has n o n = n w"  # 'has' is not in Ivy's question; 'left' is (the 8-token cut drops the rest)
    assert b == "w w n o n = n w"
    assert cf.form_of("Step 1: add 1,200 and 3.5", "", words=5) == "step n : add n"


def test_summary_counts_shares_half_cover_and_entropy():
    r = cf.summarize(["a", "a", "a", "b", "c", "d"], [True, True, False, False, True, False])
    assert (r["samples"], r["forms"], r["top_form"]) == (6, 4, "a")
    assert r["top_share"] == pytest.approx(0.5) and r["forms_covering_half"] == 1
    assert r["top_accuracy"] == pytest.approx(2 / 3) and r["rest_accuracy"] == pytest.approx(1 / 3)
    assert r["entropy_bits"] == pytest.approx(-(0.5 * math.log2(0.5) + 3 * (1 / 6) * math.log2(1 / 6)))
    one = cf.summarize(["x"] * 4, [True] * 4)
    assert one["entropy_bits"] == 0 and one["rest_accuracy"] is None
