"""The quickstart example dataset, its regressed copy and its committed baseline.

``examples/quickstart/fixtures/`` is the dataset a new user runs first, so it must show
every expectation the library checks offline, tool calls with recorded results, the
error path and a dialogue, and every fixture must pass. ``examples/quickstart/regression/``
is the same dataset with one fixture changed so that it fails: diffing its replay against
the committed baseline must show exactly that one regression.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

from awaken_eval import (
    AgentLoopReplayer,
    ErrorEvent,
    EvalRun,
    Expectation,
    Fixture,
    ReplayReport,
    ToolCallEvent,
    ToolCallMatcher,
    load_directory,
    run_eval_sync,
    to_json,
)
from awaken_eval._records.rules import validate_offline_expectation
from awaken_eval.analysis import Regression, Unchanged, diff_against_baseline
from awaken_eval.failures import CountOp, ToolSequenceMode
from awaken_eval.wire import read_ndjson, write_ndjson

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"
FIXTURES = QUICKSTART / "fixtures"
BASELINE = QUICKSTART / "baseline.ndjson"
REGRESSION = QUICKSTART / "regression"
REGRESSION_FIXTURES = REGRESSION / "fixtures"

JUDGE_ONLY_FIELDS = frozenset({"min_judge_score"})
"""Expectation fields a scripted replay cannot check (they need a live judge)."""

RECORD_HINT = "regenerate it with: python examples/quickstart/run.py --record"


def frozen_clock() -> float:
    return 0.0


def replay(fixtures: list[Fixture]) -> EvalRun:
    """The quickstart's replay (defaults of run_eval_sync) with durations frozen at 0."""
    return run_eval_sync(fixtures, replayer=AgentLoopReplayer(clock=frozen_clock))


def reports(run: EvalRun) -> list[ReplayReport]:
    return [item.report for item in run.items]


@pytest.fixture(scope="module")
def fixtures() -> list[Fixture]:
    return load_directory(FIXTURES)


@pytest.fixture(scope="module")
def regression_fixtures() -> list[Fixture]:
    return load_directory(REGRESSION_FIXTURES)


@pytest.fixture(scope="module")
def run(fixtures: list[Fixture]) -> EvalRun:
    return replay(fixtures)


def load_run_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quickstart_run", QUICKSTART / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_set(record: Any, field: attrs.Attribute[Any], defaults: Any) -> bool:
    """Whether ``record`` sets ``field`` to something else than the record ``defaults``."""
    return bool(getattr(record, field.name) != getattr(defaults, field.name))


def matchers(fixtures: list[Fixture]) -> Iterator[ToolCallMatcher]:
    for fixture in fixtures:
        yield from fixture.expect.required_tool_calls


# -- the dataset ------------------------------------------------------------------------


def test_dataset_has_at_least_twelve_fixtures_with_unique_ids(fixtures: list[Fixture]) -> None:
    files = sorted(FIXTURES.glob("*.json"))
    ids = [fixture.id for fixture in fixtures]

    assert len(files) == len(fixtures)
    assert len(fixtures) >= 12
    assert sorted(set(ids)) == ids


def test_fixture_files_are_named_after_their_ids(fixtures: list[Fixture]) -> None:
    assert [f"{fixture.id}.json" for fixture in fixtures] == [
        path.name for path in sorted(FIXTURES.glob("*.json"))
    ]


def test_fixture_files_are_in_the_canonical_wire_form(fixtures: list[Fixture]) -> None:
    for fixture in fixtures:
        path = FIXTURES / f"{fixture.id}.json"
        assert (path.name, to_json(fixture, pretty=True) + "\n") == (
            path.name,
            path.read_text(encoding="utf-8"),
        )


def test_every_fixture_has_an_expectation(fixtures: list[Fixture]) -> None:
    assert [] == [fixture.id for fixture in fixtures if fixture.expect.is_empty()]


def test_every_fixture_is_replayable_offline(fixtures: list[Fixture]) -> None:
    for fixture in fixtures:
        validate_offline_expectation(fixture.expect, f"fixture {fixture.id}")
        assert fixture.scripted_replay_error() is None


def test_every_fixture_passes(run: EvalRun) -> None:
    assert [] == [(r.fixture_id, r.failures) for r in reports(run) if not r.passed]


def test_judge_only_fields_exist() -> None:
    # A renamed or removed field must not leave a stale exemption behind.
    names = {field.name for field in attrs.fields(Expectation)}
    assert set() == JUDGE_ONLY_FIELDS - names


def test_every_offline_expectation_field_is_used(fixtures: list[Fixture]) -> None:
    # Computed from the record, so a field added later must get a fixture too.
    unused = [
        field.name
        for field in attrs.fields(Expectation)
        if field.name not in JUDGE_ONLY_FIELDS
        and not any(is_set(fixture.expect, field, Expectation()) for fixture in fixtures)
    ]

    assert [] == unused


def test_every_tool_call_matcher_field_is_used(fixtures: list[Fixture]) -> None:
    found = list(matchers(fixtures))
    unused = [
        field.name
        for field in attrs.fields(ToolCallMatcher)
        if field.name != "name"
        and not any(is_set(matcher, field, ToolCallMatcher(matcher.name)) for matcher in found)
    ]

    assert found
    assert [] == unused


def test_every_count_op_and_sequence_mode_is_used(fixtures: list[Fixture]) -> None:
    ops = {m.count.op for m in matchers(fixtures) if m.count is not None}
    modes = {f.expect.tool_sequence_mode for f in fixtures if f.expect.tool_sequence}

    assert set(CountOp) == ops
    assert set(ToolSequenceMode) == modes


def test_dataset_shows_tools_errors_and_dialogues(fixtures: list[Fixture], run: EvalRun) -> None:
    events = [event for fixture in fixtures for event in fixture.combined_script()]
    recorded_results = [e for e in events if isinstance(e, ToolCallEvent) and e.result is not None]
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    dialogues = [fixture.id for fixture in fixtures if fixture.continued_turns]
    by_id = {report.fixture_id: report for report in reports(run)}

    assert recorded_results
    assert errors
    assert dialogues
    assert all(by_id[fixture_id].inference_count > 1 for fixture_id in dialogues)
    assert any(report.error_type is not None for report in by_id.values())
    assert any(report.tool_failures > 0 for report in by_id.values())


# -- the baseline -----------------------------------------------------------------------


def test_baseline_equals_a_fresh_replay_byte_for_byte(run: EvalRun, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ndjson"
    write_ndjson(fresh, reports(run))

    assert (RECORD_HINT, fresh.read_bytes()) == (RECORD_HINT, BASELINE.read_bytes())


def test_baseline_lines_are_in_fixture_id_order(fixtures: list[Fixture]) -> None:
    assert [fixture.id for fixture in fixtures] == [
        report.fixture_id for report in read_ndjson(BASELINE, ReplayReport)
    ]


def test_run_script_records_the_committed_baseline(tmp_path: Path) -> None:
    recorded = tmp_path / "baseline.ndjson"
    script = load_run_script()
    main: Callable[[list[str]], int] = script.main

    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["--record", "--baseline", str(recorded)])

    assert 0 == status
    assert BASELINE.read_bytes() == recorded.read_bytes()


def test_run_script_passes_on_the_dataset_and_fails_on_the_regression() -> None:
    script = load_run_script()
    main: Callable[[list[str]], int] = script.main
    captured = io.StringIO()

    with contextlib.redirect_stdout(captured):
        statuses = (main([]), main(["--fixtures", str(REGRESSION_FIXTURES)]))

    assert (0, 1) == statuses


# -- the regression dataset -------------------------------------------------------------


def changed_ids(fixtures: list[Fixture], regression_fixtures: list[Fixture]) -> list[str]:
    originals = {fixture.id: fixture for fixture in fixtures}
    return [f.id for f in regression_fixtures if originals.get(f.id) != f]


def test_regression_dataset_differs_in_exactly_one_fixture(
    fixtures: list[Fixture], regression_fixtures: list[Fixture]
) -> None:
    assert [f.id for f in fixtures] == [f.id for f in regression_fixtures]
    assert 1 == len(changed_ids(fixtures, regression_fixtures))


def test_regression_keeps_the_expectation_of_the_changed_fixture(
    fixtures: list[Fixture], regression_fixtures: list[Fixture]
) -> None:
    (changed,) = changed_ids(fixtures, regression_fixtures)
    original = next(f for f in fixtures if f.id == changed)
    regressed = next(f for f in regression_fixtures if f.id == changed)

    assert original.expect == regressed.expect


def test_regression_diff_names_exactly_one_regression(
    fixtures: list[Fixture], regression_fixtures: list[Fixture]
) -> None:
    (changed,) = changed_ids(fixtures, regression_fixtures)
    baseline = read_ndjson(BASELINE, ReplayReport)
    diff = diff_against_baseline(baseline, reports(replay(regression_fixtures)))
    regressions = [entry for entry in diff.entries if isinstance(entry, Regression)]

    assert [changed] == [entry.fixture_id for entry in regressions]
    assert 1 == diff.regressions()
    assert all(isinstance(e, (Regression, Unchanged)) for e in diff.entries)
    assert not diff.is_clean


def test_regression_readme_names_the_changed_fixture(
    fixtures: list[Fixture], regression_fixtures: list[Fixture]
) -> None:
    (changed,) = changed_ids(fixtures, regression_fixtures)
    text = (REGRESSION / "README.md").read_text(encoding="utf-8")

    assert changed in text
    assert "examples/quickstart/regression/fixtures" in text
