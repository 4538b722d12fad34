"""The registry: every shared method key maps to its implementation; clear errors for unknown names."""

from __future__ import annotations

import importlib

import pytest

from tmc_core import names
from tmc_theory import registry


def test_every_finetune_key_registered_with_paper_and_expected_variants():
    assert set(registry.FINETUNE) == set(names.FINETUNE_KEYS)
    for key, e in registry.FINETUNE.items():
        assert e.key == key and e.paper_name == names.BY_KEY[key].paper_name
        assert {"paper", "expected"} <= set(e.variants), key
        assert set(e.variants) <= {"paper", "expected", "textbook", "expected_textbook"}
        assert all(callable(f) for f in e.variants.values())
        assert "paper" in e.notes and len(e.notes) > 80, key


def test_textbook_variants_where_the_paper_departs():
    # GRPO, PPO, RAFT and GRPO-KL have textbook forms (and exact expected versions)
    for key in ("grpo", "ppo", "raft", "grpo_kl"):
        assert {"textbook", "expected_textbook"} <= set(registry.FINETUNE[key].variants), key
    assert getattr(registry.FINETUNE["grpo_kl"].variants["paper"], "closed_form", False)
    assert getattr(registry.FINETUNE["grpo_kl"].variants["expected"], "closed_form", False)


def test_every_inference_key_registered_and_importable():
    assert set(registry.INFERENCE) == set(names.INFERENCE_KEYS)
    for key, e in registry.INFERENCE.items():
        assert e.paper_name == names.BY_KEY[key].paper_name and e.notes
        mod = importlib.import_module(f"tmc_theory.inference.{key}")
        assert callable(getattr(mod, "exact_distribution")) and callable(getattr(mod, "sample"))


def test_lookup_by_key_or_paper_name():
    assert registry.get("grpo_kl") is registry.get("GRPO-KL")
    assert registry.get("DPRM-AS").key == "dprm_as"
    assert registry.get_finetune_variant("RL-rej", "expected") is registry.FINETUNE["rl_rej"].variants["expected"]


def test_unknown_names_list_allowed_ones():
    with pytest.raises(KeyError) as ei:
        registry.get("best_of_n")
    msg = str(ei.value)
    for key in names.FINETUNE_KEYS + names.INFERENCE_KEYS:
        assert key in msg
    with pytest.raises(KeyError, match="allowed: paper, expected$"):
        registry.get_finetune_variant("rl_rej", "textbook")
    with pytest.raises(KeyError, match="inference method"):
        registry.get_finetune_variant("prm_bon", "paper")


def test_inference_entry_calls_t1_module():
    import numpy as np

    from tmc_theory.tmc import paper_tmc

    tmc = paper_tmc()
    q = registry.get("prm_bon").exact(tmc, tmc.tasks[0])
    assert q.shape == (len(tmc.enumerate_paths()),) and abs(q.sum() - 1) < 1e-9 and np.all(q >= 0)
