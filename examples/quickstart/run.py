"""Quickstart: load a fixture directory, check it, and round-trip it through NDJSON.

Runs offline on the bundled fixtures (or on ``--fixtures DIR``):

1. loads every ``*.json`` fixture of the directory (strict wire format, sorted by id);
2. prints one row per fixture: its script and its expectations;
3. checks that each fixture can be replayed offline: it has an expectation, a
   replayable provider script and no judge criterion (``min_judge_score`` needs an LLM
   judge, which an offline replay does not have; see ``validate_offline_expectation``);
4. writes the fixtures as NDJSON (to ``--out``, or to a temporary file), reads them
   back and checks that nothing changed.

Exit status: 0 when every fixture passes the checks, 1 when some fixture does not,
2 when the directory cannot be loaded or the NDJSON round trip changes a fixture.

Usage::

    python examples/quickstart/run.py
    python examples/quickstart/run.py --fixtures path/to/fixtures --out fixtures.ndjson
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from awaken_eval import (
    AwakenEvalError,
    ChatResponseEvent,
    ErrorEvent,
    Expectation,
    Fixture,
    InvalidRequest,
    ToolCallEvent,
    ToolSequenceMode,
    load_directory,
    read_ndjson,
    validate_offline_expectation,
    write_ndjson,
)

BUNDLED_FIXTURES = Path(__file__).resolve().parent / "fixtures"


def describe_script(fixture: Fixture) -> str:
    """One short phrase for the provider script a scripted replay would feed back."""
    parts = []
    for event in fixture.combined_script():
        if isinstance(event, ChatResponseEvent):
            parts.append("answer")
        elif isinstance(event, ToolCallEvent):
            parts.append(f"call {event.name}")
        elif isinstance(event, ErrorEvent):
            parts.append(f"error {event.error_type}")
    script = " > ".join(parts)
    if not fixture.provider_script:
        script += " (legacy mock)"
    if fixture.continued_turns:
        script += f", {len(fixture.turn_inputs())} turns"
    return script


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)


def _answer_and_tool_rules(expect: Expectation) -> list[str]:
    rules = []
    if expect.final_answer_contains:
        rules.append(f"contains {_quoted(expect.final_answer_contains)}")
    if expect.final_answer_excludes:
        rules.append(f"excludes {_quoted(expect.final_answer_excludes)}")
    if expect.tool_sequence:
        how = "" if expect.tool_sequence_mode is ToolSequenceMode.EXACT else " (in order)"
        rules.append(f"tools {' > '.join(expect.tool_sequence)}{how}")
    if expect.forbidden_tools:
        rules.append(f"never calls {', '.join(expect.forbidden_tools)}")
    for matcher in expect.required_tool_calls:
        count = matcher.effective_count
        rules.append(f"calls {matcher.name} {count.op.value.replace('_', ' ')} {count.n}x")
    return rules


def _limit_and_outcome_rules(expect: Expectation) -> list[str]:
    rules = []
    if expect.max_tokens_total is not None:
        rules.append(f"tokens <= {expect.max_tokens_total}")
    if expect.max_duration_ms is not None:
        rules.append(f"duration <= {expect.max_duration_ms} ms")
    if expect.min_judge_score is not None:
        rules.append(f"judge >= {expect.min_judge_score}")
    if expect.expected_error_type is not None:
        rules.append(f"ends with error {expect.expected_error_type}")
    return rules


def describe_expectation(expect: Expectation) -> str:
    """The constraints of an expectation, in a compact human-readable form."""
    rules = _answer_and_tool_rules(expect) + _limit_and_outcome_rules(expect)
    return "; ".join(rules) or "(none)"


def offline_problems(fixture: Fixture) -> list[str]:
    """Why ``fixture`` cannot be replayed offline from its script (empty when it can)."""
    problems = []
    if fixture.expect.is_empty():
        problems.append("the expectation is empty, so every replay would pass")
    try:
        validate_offline_expectation(fixture.expect, f"fixture {fixture.id}")
    except InvalidRequest as exc:
        problems.append(str(exc))
    replay_error = fixture.scripted_replay_error()
    if replay_error is not None:
        problems.append(replay_error)
    return problems


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` (the first one is the header) as aligned columns."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


def round_trip(fixtures: list[Fixture], target: Path) -> list[Fixture]:
    """Write ``fixtures`` as NDJSON to ``target`` and read them back."""
    write_ndjson(target, fixtures)
    loaded: list[Fixture] = read_ndjson(target, Fixture)
    return loaded


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run(fixtures_dir: Path, out: Path | None) -> int:
    """Do the quickstart on ``fixtures_dir``; return the exit status."""
    try:
        fixtures = load_directory(fixtures_dir)
    except AwakenEvalError as exc:
        print(f"quickstart: cannot load {fixtures_dir}: {exc}", file=sys.stderr)
        return 2
    print(f"Loaded {len(fixtures)} fixtures from {_shown(fixtures_dir)}\n")

    rows = [("fixture", "script", "expectations", "check")]
    invalid = 0
    for fixture in fixtures:
        problems = offline_problems(fixture)
        invalid += bool(problems)
        check = "ok" if not problems else "INVALID: " + "; ".join(problems)
        rows.append(
            (fixture.id, describe_script(fixture), describe_expectation(fixture.expect), check)
        )
    print_table(rows)

    with tempfile.TemporaryDirectory(prefix="awaken-eval-quickstart-") as scratch:
        target = out if out is not None else Path(scratch) / "fixtures.ndjson"
        try:
            loaded = round_trip(fixtures, target)
        except AwakenEvalError as exc:
            print(f"quickstart: NDJSON round trip failed: {exc}", file=sys.stderr)
            return 2
        lines = len(target.read_text(encoding="utf-8").splitlines())
        size = target.stat().st_size
    if loaded != fixtures:
        print("quickstart: fixtures changed in the NDJSON round trip", file=sys.stderr)
        return 2
    where = _shown(out) if out is not None else "a temporary file"
    print(f"\nWrote {lines} NDJSON lines ({size} bytes) to {where} and read them back unchanged.")
    valid = len(fixtures) - invalid
    print(f"Summary: {len(fixtures)} fixtures, {valid} valid, {invalid} invalid.")
    return 1 if invalid else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the quickstart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=BUNDLED_FIXTURES,
        help="directory of fixture JSON files (default: the bundled examples)",
    )
    parser.add_argument(
        "--out", type=Path, help="keep the NDJSON file here (default: a temporary file)"
    )
    arguments = parser.parse_args(argv)
    return run(arguments.fixtures, arguments.out)


if __name__ == "__main__":
    sys.exit(main())
