"""The handlers of the reference commands, offline and file-based (spec §5).

``replay``, ``check`` and ``curate``; their flags are in :mod:`awaken_eval.cli._commands`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import attrs

from awaken_eval._records.expectations import Expectation
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._ci import check_cases, item_cases, report_cases
from awaken_eval.cli._commands import CHECK, CURATE, REPLAY
from awaken_eval.cli._dataset import fixtures_dir
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._render import (
    check_header,
    note,
    print_entries,
    print_failing,
    reports_by_key,
    say,
)
from awaken_eval.errors import AwakenEvalError


def replay(parsed: Parsed) -> int:
    """``replay --fixtures DIR --report FILE`` (spec §5.1)."""
    from awaken_eval._engine.options import RunOptions  # noqa: PLC0415
    from awaken_eval._engine.runner import run_eval_sync  # noqa: PLC0415
    from awaken_eval._io.files import load_directory, write_ndjson  # noqa: PLC0415
    from awaken_eval._records.rules import validate_offline_expectation  # noqa: PLC0415

    fixtures_arg = parsed.require(REPLAY, "--fixtures")
    report_path = parsed.require(REPLAY, "--report")
    directory = fixtures_dir(Path(fixtures_arg))
    try:
        fixtures = load_directory(directory)
    except AwakenEvalError as exc:
        from awaken_eval.cli._validate import located_message  # noqa: PLC0415

        msg = f"loading fixtures: {located_message(exc)}"
        raise CliError(msg) from None
    for fixture in fixtures:
        validate_offline_expectation(fixture.expect, f"fixture {fixture.id}")
    if not fixtures:
        note(f"no fixtures matched in {directory}")
    run = run_eval_sync(fixtures, RunOptions(max_concurrency=1))
    reports = [item.report for item in run.items]
    try:
        write_ndjson(report_path, reports)
    except OSError as exc:
        msg = f"writing report {report_path}: {exc}"
        raise CliError(msg) from None
    passed = sum(1 for report in reports if report.passed)
    failed = len(reports) - passed
    print_failing(reports)
    say(
        f"awaken-eval: {len(reports)} fixture(s) replayed — {passed} passed, "
        f"{failed} failed → {report_path}"
    )
    report_cases(
        item_cases(reports, "replay"),
        junit_path=parsed.get("--junit-xml"),
        suite="replay",
        title=f"awaken-eval replay {fixtures_arg}",
    )
    return 1 if failed else 0


def check(parsed: Parsed) -> int:
    """``check --baseline FILE --new FILE`` (spec §5.2)."""
    from awaken_eval._analysis.diff import diff_against_baseline_checked  # noqa: PLC0415
    from awaken_eval._io.files import read_ndjson  # noqa: PLC0415
    from awaken_eval._records.outcomes import ReplayReport  # noqa: PLC0415

    baseline_path = parsed.require(CHECK, "--baseline")
    new_path = parsed.require(CHECK, "--new")
    reports = {}
    for side, path in (("baseline", baseline_path), ("new", new_path)):
        try:
            reports[side] = read_ndjson(path, ReplayReport)
        except AwakenEvalError as exc:
            msg = f"reading {side}: {exc}"
            raise CliError(msg) from None
    summary = diff_against_baseline_checked(reports["baseline"], reports["new"])
    say(check_header(summary))
    print_entries(summary.entries, reports_by_key(reports["new"]), show_unchanged=True)
    new_reports = {report.fixture_id: report for report in reports["new"]}
    report_cases(
        check_cases(summary, new_reports),
        junit_path=parsed.get("--junit-xml"),
        suite="check",
        title=f"awaken-eval check {new_path} against {baseline_path}",
        diff=summary,
    )
    return 0 if summary.is_clean else 1


def _intact_trace(trace_root: str, run_id: str) -> list[Any]:
    """The events of the intact lines of a trace; each damaged line is a warning."""
    from awaken_eval.sinks import FileTraceStore  # noqa: PLC0415

    try:
        read = anyio.run(FileTraceStore(trace_root).read_trace, run_id)
    except AwakenEvalError as exc:
        msg = f"reading trace {run_id}: {exc}"
        raise CliError(msg) from None
    for damaged in read.damaged:
        note(f"warning: trace {run_id}: line {damaged.line} skipped: {damaged.error}")
    return list(read.events)


def curate_expectation(parsed: Parsed) -> Expectation:
    """The expectation of ``--expect-json`` and ``--expect-final-contains`` (not empty)."""
    from awaken_eval._records.rules import validate_offline_expectation  # noqa: PLC0415

    given: Expectation | None = parsed.get("--expect-json")
    expectation = given if given is not None else Expectation()
    contains = parsed.lists.get("--expect-final-contains", [])
    if contains:
        expectation = attrs.evolve(
            expectation,
            final_answer_contains=(*expectation.final_answer_contains, *contains),
        )
    if expectation.is_empty():
        msg = (
            "curate needs at least one expectation: --expect-final-contains <TEXT> "
            "or a non-empty --expect-json <JSON>"
        )
        raise CliError(msg)
    validate_offline_expectation(expectation, "--expect-json")
    return expectation


def curate(parsed: Parsed) -> int:
    """``curate --trace-root DIR --run-id RUN --out FILE (expectations…)`` (spec §5.3)."""
    from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415
    from awaken_eval._wire.converter import to_json  # noqa: PLC0415
    from awaken_eval.curate import (  # noqa: PLC0415
        CurateError,
        CurationMode,
        curate_fixture,
        trace_to_provider_script,
    )

    trace_root = parsed.require(CURATE, "--trace-root")
    run_id = parsed.require(CURATE, "--run-id")
    out = Path(parsed.require(CURATE, "--out"))
    expectation = curate_expectation(parsed)

    events = _intact_trace(trace_root, run_id)
    try:
        converted = trace_to_provider_script(events)
    except CurateError as exc:
        msg = f"curating: {exc}"
        raise CliError(msg) from None
    for warning in converted.warnings:
        note(f"warning: {warning}")
    user_input = parsed.get("--user-input")
    if user_input is None:
        user_input = converted.user_input
    if user_input is None:
        msg = (
            "--user-input <TEXT> is required (the trace did not capture request_messages; "
            "enable content capture on the run to recover it)"
        )
        raise CliError(msg)
    try:
        fixture = curate_fixture(
            events,
            run_id=run_id,
            expectation=expectation,
            mode=CurationMode.REQUIRE,
            user_input=user_input,
            allow_unused_provider_script="--allow-unused" in parsed.switches,
        )
    except CurateError as exc:
        msg = f"curating: {exc}"
        raise CliError(msg) from None
    try:
        write_text_atomic(out, to_json(fixture, pretty=True) + "\n")
    except OSError as exc:
        msg = f"writing fixture to {out}: {exc}"
        raise CliError(msg) from None
    say(
        f"awaken-eval: curated {len(fixture.provider_script)} inference(s) "
        f"from trace {run_id} → {out}"
    )
    return 0
