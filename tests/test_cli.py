"""The ``awaken-eval`` CLI: global rules and the reference commands (spec §5, §7.11).

Everything runs in-process through ``main([...])``; one test runs the installed console
script.
"""

from __future__ import annotations

import functools
import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import awaken_eval._engine.runner
import awaken_eval.cli as cli_package
from awaken_eval import AgentLoopReplayer, Fixture, from_json
from awaken_eval.cli import _offline
from awaken_eval.events import InferenceSpan, SpanRecorded
from awaken_eval.sinks import JsonlTraceSink

BUNDLED = Path(__file__).parent / "data" / "bundled"


def write_fixture(directory: Path, fixture_id: str, **document: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    body = {"id": fixture_id, "user_input": "What is 2 + 2?", **document}
    path = directory / f"{fixture_id}.json"
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def answering(text: str, *, expect: dict[str, Any]) -> dict[str, Any]:
    return {"provider_script": [{"kind": "chat_response", "content": text}], "expect": expect}


# -- global rules ----------------------------------------------------------------------


def test_no_arguments_prints_help_and_exits_0(cli: Any) -> None:
    result = cli()
    assert (0, "") == (result.code, result.err)
    assert result.out.startswith("awaken-eval")
    for command in ("replay", "check", "curate", "run", "runs list", "diff", "validate"):
        assert f"  {command} " in result.out


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["replay", "--fixtures", "--help"],  # help as a flag's value
        ["check", "--baseline", "x", "-h"],
        ["bogus", "--help"],
        ["run", "--nope", "--help"],
    ],
)
def test_help_anywhere_prints_help_on_stdout_and_exits_0(cli: Any, args: list[str]) -> None:
    result = cli(*args)
    assert (0, "") == (result.code, result.err)
    assert "usage: awaken-eval" in result.out


def test_command_help_describes_that_command(cli: Any) -> None:
    result = cli("curate", "--help")
    assert result.out.startswith(
        "usage: awaken-eval curate [--trace-root <DIR>] [--run-id <RUN>] [--otlp <FILE>]"
    )
    assert "--expect-final-contains <TEXT>" in result.out
    runs = cli("runs", "-h")
    assert "awaken-eval runs list" in runs.out
    assert "awaken-eval runs show RUN_ID" in runs.out


def test_unknown_subcommand_exits_2(cli: Any) -> None:
    result = cli("bogus")
    assert (2, "") == (result.code, result.out)
    assert 'awaken-eval: unknown subcommand "bogus" (try `awaken-eval --help`)\n' == result.err


def test_runs_without_a_known_subcommand_exits_2(cli: Any) -> None:
    assert 2 == cli("runs").code
    result = cli("runs", "delete")
    assert 2 == result.code
    assert 'runs: expected a subcommand, list or show (got "delete")' in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "--nope"], 'unknown argument "--nope"'),
        (["check", "--baseline", "a", "--new", "b", "--verbose"], 'unknown argument "--verbose"'),
        (["replay", "--fixtures"], "--fixtures requires a value"),
        (["check", "--baseline", "a", "--new"], "--new requires a value"),
        (["curate", "--expect-final-contains"], "--expect-final-contains requires a value"),
        (["replay", "extra"], 'unexpected argument "extra"'),
        (["run"], "DATASET_DIR is required"),
        (["diff", "only-one"], "RUN_B is required"),
    ],
)
def test_usage_errors_exit_2_with_the_message_on_stderr(
    cli: Any, args: list[str], message: str
) -> None:
    result = cli(*args)
    assert (2, "") == (result.code, result.out)
    assert result.err.startswith("awaken-eval: ")
    assert message in result.err
    assert result.err.endswith("\n")


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["replay"], "--fixtures <DIR>"),
        (["replay", "--report", "r.ndjson"], "--fixtures <DIR>"),
        (["replay", "--fixtures", "d"], "--report <FILE>"),
        (["check"], "--baseline <FILE>"),
        (["check", "--new", "n"], "--baseline <FILE>"),
        (["check", "--baseline", "b"], "--new <FILE>"),
        (["curate", "--out", "o", "--run-id", "r"], "--trace-root <DIR>"),
        (["curate", "--trace-root", "t", "--out", "o"], "--run-id <RUN>"),
        (["curate", "--trace-root", "t", "--run-id", "r"], "--out <FILE>"),
    ],
)
def test_required_flags_are_checked_in_order(cli: Any, args: list[str], missing: str) -> None:
    result = cli(*args)
    assert (2, f"awaken-eval: {missing} is required\n") == (result.code, result.err)


def test_a_repeated_flag_keeps_the_last_value(cli: Any, tmp_path: Path) -> None:
    report = tmp_path / "r.ndjson"
    result = cli(
        "replay",
        "--fixtures",
        str(tmp_path / "does-not-exist"),
        "--fixtures",
        str(BUNDLED),
        "--report",
        str(report),
    )
    assert 0 == result.code
    check = cli(
        "check",
        "--baseline",
        str(BUNDLED / "baseline.ndjson"),
        "--new",
        str(tmp_path / "missing.ndjson"),
        "--new",
        str(report),
    )
    assert 0 == check.code


def test_python_dash_m_runs_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["awaken-eval", "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(Path(cli_package.__file__).parent / "__main__.py"), run_name="__main__")
    assert 0 == exited.value.code
    assert "usage: awaken-eval" in capsys.readouterr().out


def test_installed_console_script() -> None:
    script = Path(sys.executable).parent / "awaken-eval"
    found = str(script) if script.exists() else shutil.which("awaken-eval")
    assert found is not None
    completed = subprocess.run(  # noqa: S603 - the installed script, no shell
        [found, "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert (0, "") == (completed.returncode, completed.stderr)
    assert "usage: awaken-eval <command>" in completed.stdout
    unknown = subprocess.run(  # noqa: S603 - the installed script, no shell
        [found, "bogus"], capture_output=True, text=True, check=False, timeout=60
    )
    assert 2 == unknown.returncode
    assert unknown.stderr.startswith("awaken-eval: unknown subcommand")


# -- replay ----------------------------------------------------------------------------


def test_replay_bundled_fixtures_reproduces_the_committed_baseline(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Durations are measured: on a loaded machine a replay may take a millisecond or
    # more, so the default replayer gets a frozen clock (the committed baseline has 0).
    monkeypatch.setattr(
        awaken_eval._engine.runner,
        "AgentLoopReplayer",
        functools.partial(AgentLoopReplayer, clock=lambda: 0.0),
    )
    report = tmp_path / "nested" / "dir" / "report.ndjson"
    result = cli("replay", "--fixtures", str(BUNDLED), "--report", str(report))
    assert (0, "") == (result.code, result.err)
    expected = f"awaken-eval: 5 fixture(s) replayed — 5 passed, 0 failed → {report}\n"
    assert expected == result.out
    assert (BUNDLED / "baseline.ndjson").read_bytes() == report.read_bytes()


def test_replay_accepts_a_dataset_directory_with_fixtures(cli: Any, tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    shutil.copytree(BUNDLED, dataset / "fixtures", ignore=shutil.ignore_patterns("*.ndjson"))
    report = tmp_path / "report.ndjson"
    result = cli("replay", "--fixtures", str(dataset), "--report", str(report))
    assert 0 == result.code
    assert 5 == len(report.read_text(encoding="utf-8").splitlines())


def test_replay_with_a_failing_fixture_exits_1_and_writes_every_report(
    cli: Any, tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures"
    write_fixture(fixtures, "b_fails", **answering("five", expect={"final_answer_contains": ["4"]}))
    write_fixture(fixtures, "a_passes", **answering("4", expect={"final_answer_contains": ["4"]}))
    report = tmp_path / "report.ndjson"
    result = cli("replay", "--fixtures", str(fixtures), "--report", str(report))
    assert 1 == result.code
    assert "2 fixture(s) replayed — 1 passed, 1 failed" in result.out
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [("a_passes", True), ("b_fails", False)] == [
        (line["fixture_id"], line["passed"]) for line in lines
    ]
    assert ["answer_missing_phrase"] == [failure["kind"] for failure in lines[1]["failures"]]


def test_replay_rejects_min_judge_score_and_writes_no_report(cli: Any, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    write_fixture(fixtures, "ok", **answering("4", expect={"final_answer_contains": ["4"]}))
    write_fixture(fixtures, "judged", **answering("4", expect={"min_judge_score": 0.5}))
    report = tmp_path / "report.ndjson"
    result = cli("replay", "--fixtures", str(fixtures), "--report", str(report))
    assert (2, "") == (result.code, result.out)
    assert result.err.startswith("awaken-eval: fixture judged: min_judge_score")
    assert "offline awaken-eval" in result.err
    assert not report.exists()


def test_replay_of_an_empty_directory_warns_and_writes_an_empty_report(
    cli: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    report = tmp_path / "report.ndjson"
    result = cli("replay", "--fixtures", str(empty), "--report", str(report))
    assert 0 == result.code
    assert f"awaken-eval: no fixtures matched in {empty}\n" == result.err
    assert "0 fixture(s) replayed — 0 passed, 0 failed" in result.out
    assert b"" == report.read_bytes()


def test_replay_loading_errors_exit_2_naming_the_file(cli: Any, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "broken.json").write_text('{"id": "x", "user_input": 3}', encoding="utf-8")
    report = tmp_path / "report.ndjson"
    result = cli("replay", "--fixtures", str(fixtures), "--report", str(report))
    assert 2 == result.code
    assert result.err.startswith("awaken-eval: loading fixtures: ")
    assert "broken.json" in result.err
    assert "$.user_input" in result.err
    assert not report.exists()
    missing = cli("replay", "--fixtures", str(tmp_path / "nope"), "--report", str(report))
    assert 2 == missing.code
    assert "loading fixtures: " in missing.err


def test_replay_report_write_errors_exit_2(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    report = tmp_path / "file" / "report.ndjson"  # a parent that is a file
    result = cli("replay", "--fixtures", str(BUNDLED), "--report", str(report))
    assert (2, "") == (result.code, result.out)
    assert result.err.startswith(f"awaken-eval: writing report {report}: ")


def test_an_interrupted_command_exits_130(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(parsed: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_offline, "check", interrupted)
    result = cli("check", "--baseline", "a", "--new", "b")
    assert (130, "awaken-eval: interrupted\n") == (result.code, result.err)


def test_replay_duplicate_ids_exit_2(cli: Any, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    write_fixture(fixtures, "same", **answering("4", expect={"final_answer_contains": ["4"]}))
    (fixtures / "copy.json").write_text((fixtures / "same.json").read_text(), encoding="utf-8")
    result = cli("replay", "--fixtures", str(fixtures), "--report", str(tmp_path / "r.ndjson"))
    assert 2 == result.code
    assert "duplicate id 'same'" in result.err


# -- check -----------------------------------------------------------------------------


def baseline_lines() -> list[dict[str, Any]]:
    text = (BUNDLED / "baseline.ndjson").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def write_ndjson(path: Path, lines: list[dict[str, Any]], *, extra: str = "") -> Path:
    body = "".join(json.dumps(line) + "\n" for line in lines)
    path.write_text(body + extra, encoding="utf-8")
    return path


def test_check_clean_prints_the_header_and_one_line_per_fixture(cli: Any) -> None:
    baseline = str(BUNDLED / "baseline.ndjson")
    result = cli("check", "--baseline", baseline, "--new", baseline)
    assert (0, "") == (result.code, result.err)
    expected = [
        (
            "awaken-eval check: 0 regression(s), 0 fixed, 0 still failing, 0 drift, 0 missing,"
            " 0 added, 5 unchanged"
        ),
        "  unchanged                 01_simple_qa",
        "  unchanged                 02_phrase_recall",
        "  unchanged                 03_token_budget",
        "  unchanged                 04_excludes_secret",
        "  unchanged                 05_error_path",
    ]
    assert expected == result.out.splitlines()


def test_check_reports_every_kind_and_exits_1(cli: Any, tmp_path: Path) -> None:
    new = baseline_lines()
    new[0] = {
        **new[0],
        "passed": False,
        "failures": [{"kind": "answer_missing_phrase", "phrase": "4"}],
    }
    new[1] = {**new[1], "final_text": "A green pelican!", "total_tokens": 24}
    del new[2]  # 03_token_budget missing
    new.append({**new[0], "fixture_id": "06_new", "passed": True, "failures": []})
    new_path = write_ndjson(tmp_path / "new.ndjson", new, extra="\n   \n")  # blank lines skipped
    result = cli("check", "--baseline", str(BUNDLED / "baseline.ndjson"), "--new", str(new_path))
    assert (1, "") == (result.code, result.err)
    expected = [
        (
            "awaken-eval check: 1 regression(s), 0 fixed, 0 still failing, 1 drift, 1 missing,"
            " 1 added, 2 unchanged"
        ),
        "  regression                01_simple_qa",
        "      - final_answer_contains: expected '4' in the final answer, not found",
        "        final answer: '4'",
        '  drift                     02_phrase_recall  fields=["final_text", "total_tokens"]',
        "  missing_from_new          03_token_budget",
        "  unchanged                 04_excludes_secret",
        "  unchanged                 05_error_path",
        "  newly_added               06_new",
    ]
    assert expected == result.out.splitlines()


def test_check_fixed_and_still_failing_are_not_blocking(cli: Any, tmp_path: Path) -> None:
    failing = [{"kind": "answer_missing_phrase", "phrase": "4"}]
    old = baseline_lines()[:2]
    old[0] = {**old[0], "passed": False, "failures": failing}
    old[1] = {**old[1], "passed": False, "failures": failing}
    new = baseline_lines()[:2]
    new[1] = {**new[1], "passed": False, "failures": failing}
    result = cli(
        "check",
        "--baseline",
        str(write_ndjson(tmp_path / "old.ndjson", old)),
        "--new",
        str(write_ndjson(tmp_path / "new.ndjson", new)),
    )
    assert 0 == result.code
    assert [
        (
            "awaken-eval check: 0 regression(s), 1 fixed, 1 still failing, 0 drift, 0 missing,"
            " 0 added, 0 unchanged"
        ),
        "  fixed                     01_simple_qa",
        "  still_failing             02_phrase_recall",
        "      - final_answer_contains: expected '4' in the final answer, not found",
        "        final answer: 'A green pelican.'",
    ] == result.out.splitlines()


def test_check_a_worsened_still_failing_entry_blocks(cli: Any, tmp_path: Path) -> None:
    missing = {"kind": "answer_missing_phrase", "phrase": "4"}
    budget = {"kind": "token_budget_exceeded", "budget": 1, "actual": 11}
    old = {**baseline_lines()[0], "passed": False, "failures": [missing]}
    new = {**old, "failures": [missing, budget]}
    result = cli(
        "check",
        "--baseline",
        str(write_ndjson(tmp_path / "old.ndjson", [old])),
        "--new",
        str(write_ndjson(tmp_path / "new.ndjson", [new])),
    )
    assert 1 == result.code
    assert [
        (
            "awaken-eval check: 0 regression(s), 0 fixed, 1 still failing, 0 drift, 0 missing,"
            " 0 added, 0 unchanged"
        ),
        '  still_failing             01_simple_qa  worsened added=["token_budget_exceeded"]',
        "      - final_answer_contains: expected '4' in the final answer, not found",
        "        final answer: '4'",
        "      - max_tokens_total: expected at most 1 tokens, got 11",
        "        10 tokens over the budget (input 10 + output 1 over 1 inference)",
    ] == result.out.splitlines()


def test_check_invalid_line_names_the_file_and_line(cli: Any, tmp_path: Path) -> None:
    lines = baseline_lines()
    new_path = tmp_path / "new.ndjson"
    body = json.dumps(lines[0]) + "\n\n" + '{"fixture_id": "x", "passed": "yes"}\n'
    new_path.write_text(body, encoding="utf-8")
    result = cli("check", "--baseline", str(BUNDLED / "baseline.ndjson"), "--new", str(new_path))
    assert (2, "") == (result.code, result.out)
    assert result.err.startswith(f"awaken-eval: reading new: {new_path}:3: ")
    broken = write_ndjson(tmp_path / "broken.ndjson", [], extra="not json\n")
    baseline = cli("check", "--baseline", str(broken), "--new", str(new_path))
    assert baseline.err.startswith(f"awaken-eval: reading baseline: {broken}:1: ")


def test_check_missing_file_exits_2(cli: Any, tmp_path: Path) -> None:
    result = cli("check", "--baseline", str(tmp_path / "no.ndjson"), "--new", "x")
    assert 2 == result.code
    assert "reading baseline: " in result.err


def test_check_duplicate_ids_baseline_first_then_new(cli: Any, tmp_path: Path) -> None:
    lines = baseline_lines()
    duplicated = write_ndjson(tmp_path / "dup.ndjson", [lines[0], lines[0]])
    clean = str(BUNDLED / "baseline.ndjson")
    both = cli("check", "--baseline", str(duplicated), "--new", str(duplicated))
    assert (2, "") == (both.code, both.out)
    assert both.err.startswith("awaken-eval: baseline: duplicate report fixture_id: 01_simple_qa")
    new = cli("check", "--baseline", clean, "--new", str(duplicated))
    assert new.err.startswith("awaken-eval: new: duplicate report fixture_id: 01_simple_qa")


# -- curate ----------------------------------------------------------------------------


def text_block(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def record_trace(root: Path, run_id: str, *spans: InferenceSpan) -> None:
    sink = JsonlTraceSink(root)

    async def emit_all() -> None:
        for span in spans:
            await sink.emit(SpanRecorded(span=span))

    anyio.run(emit_all)


def span(run_id: str, answer: str = "4", *, asked: str | None = "What is 2+2?") -> InferenceSpan:
    messages = None if asked is None else [{"role": "user", "content": [text_block(asked)]}]
    return InferenceSpan(
        run_id=run_id,
        thread_id="thread-1",
        step_index=0,
        model="gpt-test",
        finish_reasons=("end_turn",),
        input_tokens=5,
        output_tokens=1,
        total_tokens=6,
        response_content=[text_block(answer)],
        request_messages=messages,
    )


def test_curate_writes_the_fixture(cli: Any, tmp_path: Path) -> None:
    record_trace(tmp_path / "traces", "run-1", span("run-1"))
    out = tmp_path / "out" / "curated.json"
    result = cli(
        "curate",
        "--trace-root",
        str(tmp_path / "traces"),
        "--run-id",
        "run-1",
        "--out",
        str(out),
        "--expect-final-contains",
        "4",
        "--expect-json",
        '{"final_answer_contains": ["2"], "max_tokens_total": 50}',
        "--expect-final-contains",
        "four",
        "--allow-unused",
    )
    assert (0, "") == (result.code, result.err)
    assert f"awaken-eval: curated 1 inference(s) from trace run-1 → {out}\n" == result.out
    fixture = from_json(Fixture, out.read_text(encoding="utf-8"))
    assert "run-1" == fixture.id
    assert "Curated from trace run-1" == fixture.description
    assert "What is 2+2?" == fixture.user_input
    assert ("run-1", "gpt-test") == (fixture.source_run_id, fixture.source_model_id)
    assert fixture.allow_unused_provider_script
    assert ("2", "4", "four") == fixture.expect.final_answer_contains
    assert 50 == fixture.expect.max_tokens_total
    assert 1 == len(fixture.provider_script)
    assert out.read_text(encoding="utf-8").startswith('{\n  "id": "run-1"')


def test_curate_user_input_flag_wins_over_the_trace(cli: Any, tmp_path: Path) -> None:
    record_trace(tmp_path / "traces", "run-2", span("run-2", asked=None))
    out = tmp_path / "curated.json"
    args = ["curate", "--trace-root", str(tmp_path / "traces"), "--run-id", "run-2"]
    args += ["--out", str(out), "--expect-final-contains", "4"]
    missing = cli(*args)
    assert (2, "") == (missing.code, missing.out)
    assert missing.err.startswith("awaken-eval: --user-input <TEXT> is required")
    assert "request_messages" in missing.err
    assert not out.exists()
    given = cli(*args, "--user-input", "Two plus two?")
    assert 0 == given.code
    assert "Two plus two?" == from_json(Fixture, out.read_text(encoding="utf-8")).user_input


@pytest.mark.parametrize("extra", [[], ["--expect-json", "{}"]])
def test_curate_requires_a_non_empty_expectation(
    cli: Any, tmp_path: Path, extra: list[str]
) -> None:
    out = tmp_path / "curated.json"
    result = cli("curate", "--trace-root", "t", "--run-id", "r", "--out", str(out), *extra)
    assert 2 == result.code
    assert "at least one expectation" in result.err
    assert not out.exists()


def test_curate_expect_json_is_parsed_as_soon_as_it_is_read(cli: Any) -> None:
    # Invalid before the required flags are even checked.
    result = cli("curate", "--expect-json", '{"final_answer_contain": ["x"]}')
    assert 2 == result.code
    assert result.err.startswith("awaken-eval: --expect-json: $.final_answer_contain: unknown key")


def test_curate_rejects_judge_criteria_before_reading_the_trace(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "curated.json"
    result = cli(
        "curate",
        "--trace-root",
        str(tmp_path / "no-such-root"),
        "--run-id",
        "no-such-run",
        "--out",
        str(out),
        "--expect-json",
        '{"min_judge_score": 0.7}',
    )
    assert 2 == result.code
    assert result.err.startswith("awaken-eval: --expect-json: min_judge_score needs an LLM judge")
    assert not out.exists()
    assert not (tmp_path / "no-such-root").exists()


def test_curate_missing_trace_and_conversion_errors_exit_2(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "traces"
    args = ["--out", str(tmp_path / "c.json"), "--expect-final-contains", "4"]
    missing = cli("curate", "--trace-root", str(root), "--run-id", "ghost", *args)
    assert 2 == missing.code
    assert "awaken-eval: reading trace ghost: trace not found: ghost" in missing.err
    uncaptured = InferenceSpan(run_id="bare", thread_id="t", step_index=0, model="m")
    record_trace(root, "bare", uncaptured)
    failed = cli("curate", "--trace-root", str(root), "--run-id", "bare", *args)
    assert 2 == failed.code
    assert failed.err.startswith("awaken-eval: curating: ")
    assert not (tmp_path / "c.json").exists()
