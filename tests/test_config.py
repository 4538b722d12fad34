from dataclasses import dataclass, field
from typing import Literal

import pytest

from tmc_core import names
from tmc_core.config import ConfigError, check_literals, describe, doc, from_dict


@dataclass
class Inner:
    lr: float = field(default=0.05, metadata=doc("learning rate"))


@dataclass
class Outer:
    method: names.FinetuneKey = field(default="grpo", metadata=doc("method"))
    steps: int = field(default=10, metadata=doc("steps"))
    inner: Inner = field(default_factory=Inner)
    extra: list[names.InferenceKey] = field(default_factory=list, metadata=doc("selectors"))
    mode: Literal["a", "b"] | None = field(default=None, metadata=doc("optional mode"))

    def __post_init__(self):
        check_literals(self)


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
        ({"extra": ["orm_bon", "bon"]}, "extra[1]: 'bon' is not allowed; allowed values: soft_bon, orm_bon"),
        ({"mode": "c"}, "mode: 'c' is not allowed; allowed values: a, b"),
    ],
)
def test_errors_name_field_and_allowed(data, needle):
    with pytest.raises(ConfigError) as e:
        from_dict(Outer, data, "x.yaml")
    assert needle in str(e.value) and str(e.value).startswith("x.yaml")


def test_literal_fields_checked_on_direct_construction_too():
    assert from_dict(Outer, {"mode": None, "extra": ["dprm_as"]}).extra == ["dprm_as"]
    with pytest.raises(ConfigError, match="method: 'dpo' is not allowed; allowed values: reinforce, raft"):
        Outer(method="dpo")
    with pytest.raises(ConfigError, match="extra: 'x' is not allowed"):
        Outer(extra=["x"])


def test_describe_lists_the_allowed_values():
    text = describe(Outer)
    assert "method: str = 'grpo'" in text and "[allowed: reinforce, raft, ppo, rl_rej, grpo, grpo_kl]" in text
    assert "mode: str | None = None" in text and "[allowed: a, b]" in text


def test_literal_keys_match_the_method_table():
    assert names.FINETUNE_KEYS == tuple(m.key for m in names.FINETUNE)
    assert names.METHOD_KEYS[0] == "base" and set(names.METHOD_KEYS) == set(names.BY_KEY)


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


def test_doc_refuses_choices_so_an_unenforced_enumeration_cannot_slip_in():
    with pytest.raises(TypeError, match="Literal"):
        doc("method", choices=("a", "b"))


def test_load_cli_config_describe_file_sets_and_fields(tmp_path, capsys):
    """The one --config/--set/--describe loader of the CLIs (tmc sample, bon, train-rm, tmclm, tmclm-bon)."""
    from types import SimpleNamespace

    from tmc_core.config import load_cli_config

    def args(**kw):
        return SimpleNamespace(**{"describe": False, "config": None, "overrides": [], **kw})

    assert load_cli_config(Outer, args(describe=True), describe_also=(Inner,)) is None
    printed = capsys.readouterr().out
    assert printed == describe(Outer) + "\n\n" + describe(Inner) + "\n"
    assert load_cli_config(Outer, args()) == Outer()  # no file: the defaults
    cfg = load_cli_config(Outer, args(overrides=["steps=4", "inner.lr=0.5"]))
    assert cfg.steps == 4 and cfg.inner.lr == 0.5
    f = tmp_path / "c.yaml"
    f.write_text("method: raft\nsteps: 7\n")
    cfg = load_cli_config(Outer, args(config=str(f), overrides=["steps=8"]), steps=None)  # None field: not applied
    assert (cfg.method, cfg.steps) == ("raft", 8)
    assert load_cli_config(Outer, args(config=str(f), overrides=["steps=8"]), steps=9).steps == 9  # fields win
    assert load_cli_config(Outer, SimpleNamespace(describe=False, config=None, set=["steps=2"]), sets="set").steps == 2
    with pytest.raises(ConfigError, match=r"<defaults>.*steps"):
        load_cli_config(Outer, args(overrides=["steps=x"]), source="<defaults>")
    with pytest.raises(ConfigError, match="c.yaml"):
        load_cli_config(Outer, args(config=str(f), overrides=["method=nope"]))
