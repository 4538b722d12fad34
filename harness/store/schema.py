"""The sample-store schema: one row per sampled completion.

Columns (``SAMPLE_COLUMNS``, the contract between sampling, training and evaluation) with their Arrow
types. ``problem_id`` and ``sample_idx`` are required in every row; ``run_id``/``config_hash`` are filled
by the store; ``step`` defaults to 0 (the base model; training checkpoints use their global step); the
rest may be null. Extra columns are allowed and stored with inferred types.
"""

from __future__ import annotations

import pyarrow as pa

SAMPLE_COLUMNS = [
    "run_id", "problem_id", "sample_idx", "prompt", "completion", "extracted", "correct",
    "grade_status", "n_tokens", "logprob_sum", "finish_reason", "model", "temperature", "top_p",
    "max_new_tokens", "seed", "config_hash", "step", "benchmark", "level", "subject",
]

ARROW_TYPES: dict[str, pa.DataType] = {
    "run_id": pa.string(), "problem_id": pa.string(), "sample_idx": pa.int64(), "prompt": pa.string(),
    "completion": pa.string(), "extracted": pa.string(), "correct": pa.bool_(), "grade_status": pa.string(),
    "n_tokens": pa.int64(), "logprob_sum": pa.float64(), "finish_reason": pa.string(), "model": pa.string(),
    "temperature": pa.float64(), "top_p": pa.float64(), "max_new_tokens": pa.int64(), "seed": pa.int64(),
    "config_hash": pa.string(), "step": pa.int64(), "benchmark": pa.string(), "level": pa.int64(),
    "subject": pa.string(),
}

REQUIRED = ("problem_id", "sample_idx")
KEY = ["problem_id", "sample_idx", "step"]
