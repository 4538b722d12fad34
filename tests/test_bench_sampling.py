"""scripts/bench_sampling.py --report: the Markdown table of saved result files."""

from __future__ import annotations

import json

from harness.testing.scripts import load_script

bs = load_script("bench_sampling")

REP = {"backend_alone_tok_s": 77.8, "pipeline_tok_s": 82.9, "overhead_vs_alone": -0.061,
       "overhead_within_pipeline": 0.0003, "load_avg_1m": [1.85, 1.97, 1.9]}


def _result(tmp_path, name, **extra):
    r = {"backend": "hf", "model": "smollm2", "problems": 4, "n": 8, "max_new_tokens": 128, "batch_size": 16,
         "reps": [REP, dict(REP, pipeline_tok_s=70.0)], **extra}
    p = tmp_path / name
    p.write_text(json.dumps(r))
    return str(p)


def test_report_names_the_dtype_of_each_file_and_one_row_per_repetition(tmp_path):
    a = _result(tmp_path, "a.json", dtype="bfloat16")
    b = _result(tmp_path, "b.json", dtype="auto")
    lines = bs.report([a, b]).splitlines()
    assert lines[0].split(" | ")[2] == "dtype"
    rows = [ln.split(" | ") for ln in lines[2:]]
    assert [r[2] for r in rows] == ["bfloat16", "bfloat16", "auto", "auto"]
    assert [r[6] for r in rows] == ["82.9", "70.0", "82.9", "70.0"]
    assert rows[0][7] == "-6.1%" and all(len(r) == len(lines[0].split(" | ")) for r in rows)
