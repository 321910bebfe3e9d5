"""Quickstart: replay a fixture directory and compare the reports with a baseline.

Runs offline on the bundled fixtures (or on ``--fixtures DIR``), the way CI would:

1. loads every ``*.json`` fixture of the directory (strict wire format, sorted by id);
2. replays each one deterministically from its provider script with the built-in
   agent loop (:func:`awaken_eval.run_eval_sync`, scripted mode) and scores it;
3. prints one row per fixture and writes the reports as NDJSON (``--report``, or a
   temporary file);
4. diffs the reports against the baseline NDJSON next to the fixtures (``--baseline``),
   like the reference CLI's ``check``.

With ``--record`` it replays the fixtures and writes the reports to the baseline
instead (the reference's ``--record``), with replay durations recorded as 0: they are
host-dependent (a diff never compares them), and zeroing them makes a recording
byte-for-byte reproducible.

Exit status: 0 when every fixture passed and the diff is clean, 1 when a fixture failed
or the diff has a blocking entry, 2 when the input cannot be loaded.

Usage::

    python examples/quickstart/run.py
    python examples/quickstart/run.py --fixtures DIR --baseline FILE --report FILE
    python examples/quickstart/run.py --record
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from awaken_eval import (
    AgentLoopReplayer,
    AwakenEvalError,
    EvalRun,
    ReplayReport,
    RunOptions,
    load_directory,
    run_eval_sync,
)
from awaken_eval.analysis import DiffSummary, Drift, diff_against_baseline_checked
from awaken_eval.wire import read_ndjson, write_ndjson

HERE = Path(__file__).resolve().parent
BUNDLED_FIXTURES = HERE / "fixtures"
BUNDLED_BASELINE = HERE / "baseline.ndjson"


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` (the first one is the header) as aligned columns."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


def report_rows(run: EvalRun) -> list[list[str]]:
    """One row per item: fixture, verdict, tokens, error type and failure kinds."""
    rows = [["fixture", "result", "tokens", "error", "failures"]]
    for item in run.items:
        report = item.report
        rows.append(
            [
                item.fixture_id,
                "pass" if report.passed else "FAIL",
                str(report.total_tokens),
                report.error_type or "-",
                ", ".join(failure.kind for failure in report.failures) or "-",
            ]
        )
    return rows


def print_diff(diff: DiffSummary) -> None:
    """The diff in the reference CLI's ``check`` layout."""
    print(
        f"Diff against the baseline: {diff.regressions()} regressions, {diff.drift()} drift,"
        f" {diff.missing()} missing, {diff.added()} added"
    )
    for entry in diff.entries:
        fields = f" fields=[{', '.join(entry.fields)}]" if isinstance(entry, Drift) else ""
        print(f"  {entry.kind:<24}  {entry.fixture_id}{fields}")


def run(fixtures_dir: Path, baseline: Path, report_path: Path) -> int:
    """Replay, report and diff; return the exit status."""
    try:
        fixtures = load_directory(fixtures_dir)
        baseline_reports: list[ReplayReport] = read_ndjson(baseline, ReplayReport)
        eval_run = run_eval_sync(fixtures, RunOptions(dataset_id=fixtures_dir.name))
    except AwakenEvalError as exc:
        print(f"quickstart: {exc}", file=sys.stderr)
        return 2
    print(f"Replayed {len(fixtures)} fixtures from {fixtures_dir.name}/ (scripted mode)\n")
    print_table(report_rows(eval_run))
    reports = [item.report for item in eval_run.items]
    write_ndjson(report_path, reports)
    passed = eval_run.passed_count()
    print(f"\n{len(reports)} replayed, {passed} passed, {len(reports) - passed} failed")
    diff = diff_against_baseline_checked(baseline_reports, reports)
    print_diff(diff)
    return 0 if passed == len(reports) and diff.is_clean else 1


def frozen_clock() -> float:
    """A clock that never moves: every recorded duration is 0."""
    return 0.0


def record(fixtures_dir: Path, baseline: Path) -> int:
    """Replay the fixtures and write their reports as the new baseline."""
    try:
        fixtures = load_directory(fixtures_dir)
        replayer = AgentLoopReplayer(clock=frozen_clock)
        eval_run = run_eval_sync(
            fixtures, RunOptions(dataset_id=fixtures_dir.name), replayer=replayer
        )
    except AwakenEvalError as exc:
        print(f"quickstart: {exc}", file=sys.stderr)
        return 2
    reports = [item.report for item in eval_run.items]
    write_ndjson(baseline, reports)
    passed = eval_run.passed_count()
    print(f"Recorded {len(reports)} reports ({passed} passed) into {baseline}")
    return 0 if passed == len(reports) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the quickstart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=BUNDLED_FIXTURES)
    parser.add_argument("--baseline", type=Path, default=BUNDLED_BASELINE)
    parser.add_argument("--report", type=Path, help="where to write the NDJSON reports")
    parser.add_argument(
        "--record", action="store_true", help="write the reports to the baseline instead"
    )
    options = parser.parse_args(argv)
    if options.record:
        return record(options.fixtures, options.baseline)
    if options.report is not None:
        return run(options.fixtures, options.baseline, options.report)
    with tempfile.TemporaryDirectory() as scratch:
        return run(options.fixtures, options.baseline, Path(scratch) / "report.ndjson")


if __name__ == "__main__":
    sys.exit(main())
