"""Shared test setup: offline hub, one torch thread, markers for slow / vllm / gpu tests.

Slow tests run when CI=true or TMC_RUN_SLOW=1 (they are budgeted to fit CI's time), and are
skipped otherwise so the local default suite stays fast.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"


def _run_slow() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("TMC_RUN_SLOW") == "1"


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: set TMC_RUN_SLOW=1 (CI=true runs it)")
    skip_vllm = pytest.mark.skip(reason="vllm is not installed (see docs/vllm.md)")
    has_vllm = importlib.util.find_spec("vllm") is not None
    for item in items:
        if "slow" in item.keywords and not _run_slow():
            item.add_marker(skip_slow)
        if "vllm" in item.keywords and not has_vllm:
            item.add_marker(skip_vllm)
        if "gpu" in item.keywords:
            try:
                import torch

                ok = torch.cuda.is_available()
            except Exception:
                ok = False
            if not ok:
                item.add_marker(pytest.mark.skip(reason="no CUDA GPU"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen2 model + locally trained tokenizer, warmed up for 60 supervised steps."""
    import torch

    torch.set_num_threads(1)
    from harness.testing.tiny_model import build_tiny_model, warm_up

    d = tmp_path_factory.mktemp("tiny_model")
    build_tiny_model(d)
    warm_up(d, steps=60)
    return d


@pytest.fixture(scope="session")
def rl_tiny(tmp_path_factory):
    """The tiny RL set-up of the training tests (harness.train.testing.prepare_rl_tiny): model + train/test data."""
    from harness.train.testing import prepare_rl_tiny

    return prepare_rl_tiny(tmp_path_factory.getbasetemp() / "h5_rl_tiny")
