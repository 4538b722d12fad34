from dataclasses import dataclass, field

import pytest

from tmc_theory.config import ConfigError, doc, from_dict
from tmc_theory import names


@dataclass
class Inner:
    lr: float = field(default=0.05, metadata=doc("learning rate"))


@dataclass
class Outer:
    method: str = field(default="grpo", metadata=doc("method", choices=names.FINETUNE_KEYS))
    steps: int = field(default=10, metadata=doc("steps"))
    inner: Inner = field(default_factory=Inner)


def test_valid_and_nested():
    cfg = from_dict(Outer, {"method": "raft", "steps": 3, "inner": {"lr": "1e-3"}})
    assert cfg.method == "raft" and cfg.steps == 3 and cfg.inner.lr == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"stepz": 1}, "unknown field 'stepz'"),
        ({"steps": "ten"}, "steps: expected an integer"),
        ({"method": "dpo"}, "allowed values: reinforce, raft, ppo, rl_rej, grpo, grpo_kl"),
        ({"inner": {"lr": "fast"}}, "inner.lr: expected a number"),
        ({"inner": {"beta": 1}}, "allowed fields: lr"),
    ],
)
def test_errors_name_field_and_allowed(data, needle):
    with pytest.raises(ConfigError) as e:
        from_dict(Outer, data, "x.yaml")
    assert needle in str(e.value) and str(e.value).startswith("x.yaml")


def test_method_lookup():
    assert names.lookup("GRPO-KL").key == "grpo_kl"
    with pytest.raises(KeyError, match="allowed"):
        names.lookup("dpo")


def test_main_yaml_mirrors_the_builtin_main_defaults():
    """`tmc main` without the repo's configs/main.yaml (e.g. an installed package) runs the same job."""
    import dataclasses
    from pathlib import Path

    from harness.main_job import MainConfig, load_main_config

    f = load_main_config(str(Path(__file__).resolve().parents[1] / "configs" / "main.yaml"), [])
    b = MainConfig()
    assert f.sample.hash() == b.sample.hash()  # every sampling field that changes the samples
    assert dataclasses.replace(f, sample=None) == dataclasses.replace(b, sample=None)
