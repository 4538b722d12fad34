"""harness.analyze.sampler_u1_rows: finds the stored samples the old row sampler corrupted (u rounded to 1.0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
from harness.analyze import sampler_u1_rows as su  # noqa: E402


def test_first_hit_is_the_first_step_with_u_one_before_the_sample_ended():
    # seeds 139 / 136 / 33 hit u = 1.0 first at decode steps 2 / 3 / 9 at a 49152-token vocabulary
    # (tests/test_row_sampler.py checks those triples against the noise itself)
    hit = su.first_hit_steps([139, 139, 136, 136, 33, 33], [2, 3, 3, 10, 9, 10], 49152, rows_per_chunk=2)
    assert hit.tolist() == [-1, 2, -1, 3, -1, 9]


def test_report_splits_accuracy_and_cross_checks_minus_inf_logprobs():
    df = pd.DataFrame({"problem_id": ["p0", "p0", "p1", "p1"], "sample_idx": [0, 1, 0, 1], "step": [0, 0, 0, 0],
                       "seed": [139, 136, 33, 139], "n_tokens": [5, 3, 12, 1],
                       "correct": [False, True, True, None], "logprob_sum": [-np.inf, -2.0, -np.inf, -1.0]})
    r = su.report(df, 49152)
    s = r["per_step"][0]
    assert s["corrupted"] == 2 and s["accuracy_corrupted"] == 0.5 and s["accuracy_clean"] == 0.5
    assert s["logprob_neg_inf"] == 2 and s["logprob_neg_inf_outside_corrupted"] == 0
    assert [(x["problem_id"], x["sample_idx"], x["first_hit"]) for x in r["rows"]] == [("p0", 0, 2), ("p1", 0, 9)]


def test_hit_rate_matches_the_noise_and_bounds_follow_from_mean_length(tmp_path):
    import json

    q = su.hit_rate_per_step(49152)  # 128 of 2^32 hash values per token (the triples above are such hits)
    assert q == pytest.approx(49152 * 128 / 2**32, rel=1e-3)
    rep = tmp_path / "m.json"
    rep.write_text(json.dumps({"steps": {
        "0": {"mean_tokens": 0.0, "pass_at_k": {"1": {"mean": 0.5, "lo": 0.4, "hi": 0.6}}},
        "50": {"mean_tokens": 72.0, "pass_at_k": {"1": {"mean": 0.09, "lo": 0.05, "hi": 0.12}}}}}))
    b = {r["step"]: r for r in su.bounds_from_reports([str(rep)], 49152)}
    assert b["0"]["corrupted_share"] == 0 and b["0"]["pass1_clean_max"] == 0.5
    assert b["50"]["corrupted_share"] == pytest.approx(1 - (1 - q) ** 72)
    assert b["50"]["pass1_clean_max"] == pytest.approx(0.09 / (1 - b["50"]["corrupted_share"]))
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(SystemExit, match="x.json: neither 'steps'"):
        su.bounds_from_reports([str(bad)], 49152)
