"""`tmc analyze <tool>`: dispatches to harness.analyze.<tool>.main with the remaining arguments."""

from __future__ import annotations

import importlib

import pytest

from harness.analyze.cli import TOOLS
from harness.cli import main


@pytest.mark.parametrize("tool", list(TOOLS))
def test_every_tool_is_a_module_with_main(tool):
    assert callable(importlib.import_module(f"harness.analyze.{tool}").main)


def test_help_of_a_tool_names_the_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyze", "cot-forms", "--help"])
    assert e.value.code == 0
    assert "usage: tmc analyze cot_forms" in capsys.readouterr().out


def test_tool_runs_with_its_arguments(tmp_path, capsys):
    """The arguments after the tool name reach the tool: seed_table on a committed-report layout."""
    import json

    rep = {"steps": {"5": {"per_problem": {"p0": {"n": 2, "c": 1}, "p1": {"n": 2, "c": 0}}}}}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "checkpoints_metrics.json").write_text(json.dumps(rep))
    rc = main(["analyze", "seed_table", "--step", "5", "--ref", "R", "--boot", "50",
               "--run", "R", "0", str(tmp_path / "a"), "--run", "S", "0", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("Step 5; differences are paired against R") and "| S | 0 | 0.250 |" in out


def test_unknown_tool_lists_the_tools(capsys):
    assert main(["analyze", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown tool 'nope'" in err and "compare_steps" in err
