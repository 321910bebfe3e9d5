"""What the CLI shows a user: help per command, suggestions, located errors, diff counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

import strategies as s
from awaken_eval import __version__
from awaken_eval.analysis import DiffSummary
from awaken_eval.cli._args import HELP_WIDTH
from awaken_eval.cli._commands import COMMANDS
from awaken_eval.cli._render import diff_counts

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- help --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_has_its_own_wrapped_help(cli: Any, name: str) -> None:
    result = cli(*name.split(" "), "--help")
    assert (0, "") == (result.code, result.err)
    assert result.out.startswith(f"usage: awaken-eval {name}")
    assert 1 == result.out.count("usage: ")
    assert [] == [line for line in result.out.splitlines() if len(line) > HELP_WIDTH]


def test_runs_show_help_is_not_the_runs_list_help(cli: Any) -> None:
    shown = cli("runs", "show", "--help").out
    assert shown.startswith("usage: awaken-eval runs show RUN_ID")
    assert "runs list" not in shown


def test_a_long_usage_wraps_under_the_first_argument(cli: Any) -> None:
    lines = cli("run", "--help").out.splitlines()
    assert lines[0].startswith("usage: awaken-eval run DATASET_DIR [--mode <scripted|live>]")
    indent = len("usage: awaken-eval run ")
    assert lines[1].startswith(" " * indent + "[")
    assert not lines[1].startswith(" " * (indent + 1))


def test_version(cli: Any) -> None:
    assert (0, f"awaken-eval {__version__}\n", "") == tuple(
        getattr(cli("--version"), field) for field in ("code", "out", "err")
    )


def test_python_dash_m_awaken_eval(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "awaken_eval", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert (0, f"awaken-eval {__version__}\n") == (completed.returncode, completed.stdout)


# -- did you mean ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "data", "--modle", "live"], 'unknown argument "--modle" (did you mean --mode?)'),
        (["runs", "list", "--limt", "3"], 'unknown argument "--limt" (did you mean --limit?)'),
        (["rnu"], 'unknown subcommand "rnu" (did you mean run?) (try `awaken-eval --help`)'),
        (
            ["runs", "shwo"],
            'runs: expected a subcommand, list or show (got "shwo") (did you mean show?)',
        ),
        (["run", "data", "--qqqqqq"], 'unknown argument "--qqqqqq"'),
    ],
)
def test_unknown_flags_and_commands_suggest_the_closest(
    cli: Any, args: list[str], message: str
) -> None:
    result = cli(*args)
    assert (2, f"awaken-eval: {message}\n") == (result.code, result.err)


def test_an_unknown_key_in_a_dataset_manifest_suggests_the_closest(
    cli: Any, tmp_path: Path
) -> None:
    manifest = write(tmp_path / "suite" / "dataset.json", '{\n  "idd": "x"\n}\n')
    write(tmp_path / "suite" / "fixtures" / "a.json", '{"id": "a", "user_input": "hi"}')
    result = cli("validate", str(tmp_path / "suite"))
    assert f'{manifest}:2: $.idd: unknown key (did you mean "id"?)' == result.out.splitlines()[0]


# -- run and replay errors carry file and line ---------------------------------------------

BROKEN = """{
  "id": "broken",
  "user_input": "hi",
  "expect": {
    "final_answer_contain": ["a"],
    "max_tokens_total": "ten"
  }
}
"""


@pytest.mark.parametrize("command", ["run", "replay"])
def test_loading_errors_carry_file_and_line(cli: Any, tmp_path: Path, command: str) -> None:
    broken = write(tmp_path / "suite" / "broken.json", BROKEN)
    if command == "run":
        result = cli("run", str(tmp_path / "suite"), "--store", "memory:")
    else:
        result = cli(
            "replay", "--fixtures", str(tmp_path / "suite"), "--report", str(tmp_path / "r")
        )
    assert 2 == result.code
    assert [
        "awaken-eval: loading fixtures: 2 problems:",
        f'  {broken}:5: $.expect.final_answer_contain: unknown key (did you mean "final_answer_contains"?)',
        f'  {broken}:6: $.expect.max_tokens_total: expected an integer, got "ten"',
    ] == result.err.splitlines()


def test_a_duplicate_id_points_at_the_id_line(cli: Any, tmp_path: Path) -> None:
    write(tmp_path / "suite" / "a.json", '{"id": "same", "user_input": "hi"}')
    second = write(tmp_path / "suite" / "b.json", '{\n  "user_input": "hi",\n  "id": "same"\n}')
    result = cli("run", str(tmp_path / "suite"), "--store", "memory:")
    assert f"awaken-eval: loading fixtures: {second}:3: $.id: duplicate id 'same'\n" == result.err


# -- the diff header adds up -----------------------------------------------------------------


@given(s.diff_summaries())
def test_the_diff_header_counts_every_entry_once(summary: DiffSummary) -> None:
    counted = [int(part.split(" ")[0]) for part in diff_counts(summary).split(", ")]
    assert len(summary.entries) == sum(counted)
    assert 7 == len(counted)


def test_replay_names_each_failing_fixture_with_its_explanation(cli: Any, tmp_path: Path) -> None:
    fixture = {
        "id": "capital",
        "user_input": "Capital of France?",
        "provider_script": [{"kind": "chat_response", "content": "It is Lyon."}],
        "expect": {"final_answer_contains": ["Paris"]},
    }
    write(tmp_path / "suite" / "capital.json", json.dumps(fixture))
    result = cli("replay", "--fixtures", str(tmp_path / "suite"), "--report", str(tmp_path / "r"))
    assert 1 == result.code
    assert [
        "FAIL capital",
        "  - final_answer_contains: expected 'Paris' in the final answer, not found",
        "    final answer: 'It is Lyon.'",
    ] == result.out.splitlines()[:3]
