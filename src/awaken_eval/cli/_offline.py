"""The reference commands, offline and file-based: ``replay``, ``check``, ``curate`` (spec §5)."""

from __future__ import annotations

from pathlib import Path

import anyio
import attrs

from awaken_eval._records.expectations import Expectation
from awaken_eval._wire.converter import from_json
from awaken_eval.cli._args import CliError, Command, Flag, Parsed
from awaken_eval.cli._dataset import fixtures_dir
from awaken_eval.cli._render import check_header, entry_line, note, say
from awaken_eval.errors import AwakenEvalError, InvalidInput


def _expectation(raw: str) -> Expectation:
    """``--expect-json``: parsed as soon as it is read (spec §5.3 step 1)."""
    try:
        return from_json(Expectation, raw)
    except InvalidInput as exc:
        msg = f"--expect-json: {exc}"
        raise CliError(msg) from None


REPLAY = Command(
    "replay",
    "Replay a fixture directory offline; write NDJSON reports.",
    flags=(
        Flag(
            "--fixtures",
            "DIR",
            "fixture directory (or a dataset directory with fixtures/)",
            required=True,
        ),
        Flag(
            "--report",
            "FILE",
            "NDJSON report to write (parent directories are created)",
            required=True,
        ),
    ),
    details=(
        "Exit status: 0 every fixture passed (or none matched), 1 a fixture failed,\n"
        "2 usage, loading or validation error (no report is written then)."
    ),
)

CHECK = Command(
    "check",
    "Diff a new NDJSON report against a baseline report.",
    flags=(
        Flag("--baseline", "FILE", "the baseline NDJSON report", required=True),
        Flag("--new", "FILE", "the new NDJSON report", required=True),
    ),
    details=(
        "Prints a header line with the counts of regressions, drift, missing and added\n"
        "fixtures, then one line per fixture. Exit status: 0 clean, 1 a blocking entry\n"
        "(regression, drift, missing, failing new fixture, worsened still-failing),\n"
        "2 unreadable or invalid input."
    ),
)

CURATE = Command(
    "curate",
    "Turn the trace of one agent run into a fixture.",
    flags=(
        Flag(
            "--trace-root",
            "DIR",
            "root of the file trace store (holds traces/<run>.jsonl)",
            required=True,
        ),
        Flag("--run-id", "RUN", "the trace run to curate (also the fixture id)", required=True),
        Flag(
            "--out",
            "FILE",
            "fixture file to write (parent directories are created)",
            required=True,
        ),
        Flag(
            "--expect-final-contains",
            "TEXT",
            "phrase the final answer must contain (repeatable)",
            repeat=True,
        ),
        Flag("--expect-json", "JSON", "the expectation as JSON", convert=_expectation),
        Flag("--user-input", "TEXT", "the user message (default: recovered from the trace)"),
        Flag("--allow-unused", None, "tolerate provider-script events left unused on replay"),
    ),
    details=(
        "At least one expectation is required; --expect-final-contains values are\n"
        "appended to the final_answer_contains of --expect-json. A min_judge_score\n"
        "is rejected: offline replay cannot run a judge."
    ),
)


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
        msg = f"loading fixtures: {exc}"
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
    say(
        f"awaken-eval: {len(reports)} fixture(s) replayed — {passed} passed, "
        f"{failed} failed → {report_path}"
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
    for entry in summary.entries:
        say(entry_line(entry))
    return 0 if summary.is_clean else 1


def curate(parsed: Parsed) -> int:
    """``curate --trace-root DIR --run-id RUN --out FILE (expectations…)`` (spec §5.3)."""
    from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415
    from awaken_eval._records.rules import validate_offline_expectation  # noqa: PLC0415
    from awaken_eval._wire.converter import to_json  # noqa: PLC0415
    from awaken_eval.curate import (  # noqa: PLC0415
        CurateError,
        CurationMode,
        curate_fixture,
        trace_to_provider_script,
    )
    from awaken_eval.sinks._jsonl import FileTraceStore  # noqa: PLC0415

    trace_root = parsed.require(CURATE, "--trace-root")
    run_id = parsed.require(CURATE, "--run-id")
    out = Path(parsed.require(CURATE, "--out"))
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

    store = FileTraceStore(trace_root)
    try:
        events = anyio.run(store.read_events, run_id)
    except AwakenEvalError as exc:
        msg = f"reading trace {run_id}: {exc}"
        raise CliError(msg) from None
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
