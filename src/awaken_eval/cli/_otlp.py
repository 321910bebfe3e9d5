"""``curate``: the command's entry point, and curating from an OTLP JSON file.

Without ``--otlp`` the trace comes from a file trace store (:mod:`~awaken_eval.cli._offline`);
with it, from the GenAI spans of one OpenTelemetry trace (:mod:`awaken_eval.otel`).
"""

from __future__ import annotations

from pathlib import Path

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._commands import CURATE
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._render import note, say
from awaken_eval.errors import AwakenEvalError

__all__ = ["curate"]


def curate(parsed: Parsed) -> int:
    """``curate``: from ``--otlp FILE --trace-id ID``, else from ``--trace-root``."""
    if parsed.get("--otlp") is None:
        from awaken_eval.cli._offline import curate as curate_from_store  # noqa: PLC0415

        return curate_from_store(parsed)
    if parsed.get("--trace-root") is not None:
        msg = "--otlp <FILE> and --trace-root <DIR> cannot be used together"
        raise CliError(msg)
    return _curate_otlp(parsed)


def _records(path: str, trace_id: str) -> tuple[InferenceSpan | ToolSpan, ...]:
    from awaken_eval.otel._decode import records_of  # noqa: PLC0415
    from awaken_eval.otel._store import read_otlp_file  # noqa: PLC0415

    try:
        spans = read_otlp_file(path)
        wanted = trace_id.lower()
        return records_of([span for span in spans if span.trace_id == wanted])
    except AwakenEvalError as exc:
        msg = f"reading {path}: {exc}"
        raise CliError(msg) from None


def _run_id(records: tuple[InferenceSpan | ToolSpan, ...], parsed: Parsed, where: str) -> str:
    """The agent run to curate: ``--run-id``, or the one run of the trace."""
    runs = list(dict.fromkeys(record.run_id for record in records))
    given: str | None = parsed.get("--run-id")
    if given is not None:
        if given not in runs:
            msg = f"{where} has no spans of run {given!r} (runs: {', '.join(runs) or 'none'})"
            raise CliError(msg)
        return given
    if not runs:
        msg = f"{where} has no GenAI inference or tool spans"
        raise CliError(msg)
    if len(runs) > 1:
        msg = f"{where} holds {len(runs)} agent runs; pick one with --run-id: {', '.join(runs)}"
        raise CliError(msg)
    return runs[0]


def _curate_otlp(parsed: Parsed) -> int:
    from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415
    from awaken_eval._wire.converter import to_json  # noqa: PLC0415
    from awaken_eval.cli._offline import curate_expectation  # noqa: PLC0415
    from awaken_eval.curate import CurateError, CurationMode, curate_fixture  # noqa: PLC0415

    path = parsed.require(CURATE, "--otlp")
    trace_id = parsed.require(CURATE, "--trace-id")
    out = Path(parsed.require(CURATE, "--out"))
    expectation = curate_expectation(parsed)
    records = _records(path, trace_id)
    where = f"trace {trace_id} in {path}"
    run_id = _run_id(records, parsed, where)
    events = [record for record in records if record.run_id == run_id]
    try:
        fixture = curate_fixture(
            events,
            run_id=run_id,
            expectation=expectation,
            mode=CurationMode.REQUIRE,
            user_input=parsed.get("--user-input"),
            allow_unused_provider_script="--allow-unused" in parsed.switches,
        )
    except CurateError as exc:
        msg = f"curating: {exc}"
        raise CliError(msg) from None
    for warning in fixture_warnings(events):
        note(f"warning: {warning}")
    try:
        write_text_atomic(out, to_json(fixture, pretty=True) + "\n")
    except OSError as exc:
        msg = f"writing fixture to {out}: {exc}"
        raise CliError(msg) from None
    say(
        f"awaken-eval: curated {len(fixture.provider_script)} inference(s) "
        f"from run {run_id} of {where} → {out}"
    )
    return 0


def fixture_warnings(events: list[InferenceSpan | ToolSpan]) -> list[str]:
    """The conversion's warnings (data the fixture cannot keep), as text."""
    from awaken_eval.curate import CurateError, trace_to_provider_script  # noqa: PLC0415

    try:
        return [str(warning) for warning in trace_to_provider_script(events).warnings]
    except CurateError:
        return []
