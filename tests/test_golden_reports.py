"""Golden reports of the five bundled fixtures (spec §5.4, §1.6, §7.12).

The fixtures live in ``tests/data/bundled/`` in the reference's pretty JSON format and
``baseline.ndjson`` beside them holds the expected report lines. Each fixture is replayed
by :class:`~awaken_eval.AgentLoopReplayer` with a frozen clock, scored, and its
compact report line must equal the committed line byte for byte.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from awaken_eval import (
    AgentLoopReplayer,
    ChatResponseEvent,
    ErrorEvent,
    Fixture,
    ReplayContext,
    ReplayReport,
    from_json,
    load_directory,
    load_fixture,
    score,
    to_json,
)
from awaken_eval.records import MockTextResponse
from awaken_eval.wire import read_ndjson

BUNDLED = Path(__file__).parent / "data" / "bundled"
BASELINE = BUNDLED / "baseline.ndjson"
BUNDLED_IDS = [
    "01_simple_qa",
    "02_phrase_recall",
    "03_token_budget",
    "04_excludes_secret",
    "05_error_path",
]

# The error-path line exactly as spec §1.6 shows it.
SPEC_ERROR_PATH_LINE = (
    '{"fixture_id":"05_error_path","passed":true,"failures":[],"final_text":"",'
    '"inference_count":0,"tool_count":0,"tool_failures":0,"total_input_tokens":0,'
    '"total_output_tokens":0,"total_tokens":0,"session_duration_ms":0,'
    '"error_type":"rate_limit","inference_error_count":1}'
)

# (input, output, total) tokens of the committed baseline (spec §5.4).
BASELINE_TOKENS = {
    "01_simple_qa": (10, 1, 11),
    "02_phrase_recall": (19, 4, 23),
    "03_token_budget": (6, 1, 7),
    "04_excludes_secret": (14, 13, 27),
    "05_error_path": (0, 0, 0),
}


def frozen_clock() -> float:
    return 1000.0


def baseline_lines() -> dict[str, str]:
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return {from_json(ReplayReport, line).fixture_id: line for line in lines}


async def replay_and_report(fixture: Fixture) -> ReplayReport:
    replayer = AgentLoopReplayer(clock=frozen_clock)
    outcome = await replayer.replay(fixture, ReplayContext())
    return ReplayReport.from_outcome(outcome, score(outcome, fixture.expect))


def test_bundled_directory_loads_sorted_unique_ids() -> None:
    fixtures = load_directory(BUNDLED)

    assert BUNDLED_IDS == [fixture.id for fixture in fixtures]


def test_bundled_fixtures_each_have_non_empty_expectation() -> None:
    fixtures = load_directory(BUNDLED)

    assert [False] * 5 == [fixture.expect.is_empty() for fixture in fixtures]


@pytest.mark.parametrize("fixture_id", BUNDLED_IDS)
def test_bundled_fixture_files_are_in_reference_pretty_format(fixture_id: str) -> None:
    path = BUNDLED / f"{fixture_id}.json"

    assert path.read_text(encoding="utf-8") == to_json(load_fixture(path), pretty=True) + "\n"


def test_baseline_has_one_line_per_fixture_in_id_order() -> None:
    lines = BASELINE.read_text(encoding="utf-8").splitlines()

    assert BUNDLED_IDS == [from_json(ReplayReport, line).fixture_id for line in lines]
    assert BASELINE.read_text(encoding="utf-8").endswith("}\n")


def test_error_path_baseline_line_is_the_spec_example() -> None:
    assert SPEC_ERROR_PATH_LINE == baseline_lines()["05_error_path"]


@pytest.mark.parametrize("fixture_id", BUNDLED_IDS)
def test_baseline_token_numbers_match_spec(fixture_id: str) -> None:
    report: ReplayReport = from_json(ReplayReport, baseline_lines()[fixture_id])

    assert BASELINE_TOKENS[fixture_id] == (
        report.total_input_tokens,
        report.total_output_tokens,
        report.total_tokens,
    )


@pytest.mark.parametrize("fixture_id", ["01_simple_qa", "02_phrase_recall", "04_excludes_secret"])
def test_legacy_fixtures_shim_estimates_reproduce_baseline_tokens(fixture_id: str) -> None:
    fixture = load_fixture(BUNDLED / f"{fixture_id}.json")
    mock = fixture.mock_response
    assert isinstance(mock, MockTextResponse)
    prompt = math.ceil(len(fixture.user_input) / 4)
    completion = math.ceil(len(mock.text) / 4)

    assert BASELINE_TOKENS[fixture_id] == (prompt, completion, prompt + completion)
    assert () == fixture.provider_script


def test_explicit_script_fixtures_use_their_script() -> None:
    budget = load_fixture(BUNDLED / "03_token_budget.json")
    error = load_fixture(BUNDLED / "05_error_path.json")

    assert ["chat_response"] == [event.kind for event in budget.provider_script]
    assert isinstance(budget.provider_script[0], ChatResponseEvent)
    assert (ErrorEvent("rate_limit", message="429 Too Many Requests"),) == error.provider_script


@pytest.mark.anyio
@pytest.mark.parametrize("fixture_id", BUNDLED_IDS)
async def test_bundled_fixture_replays_to_baseline_line(fixture_id: str) -> None:
    fixture = load_fixture(BUNDLED / f"{fixture_id}.json")

    report = await replay_and_report(fixture)

    assert baseline_lines()[fixture_id] == to_json(report)


@pytest.mark.anyio
async def test_bundled_fixtures_all_pass() -> None:
    fixtures = load_directory(BUNDLED)

    reports = [await replay_and_report(fixture) for fixture in fixtures]

    assert [True] * 5 == [report.passed for report in reports]
    assert [()] * 5 == [report.failures for report in reports]


@pytest.mark.anyio
async def test_baseline_round_trips_as_records() -> None:
    fixtures = load_directory(BUNDLED)

    reports = [await replay_and_report(fixture) for fixture in fixtures]

    assert read_ndjson(BASELINE, ReplayReport) == reports


@pytest.mark.anyio
async def test_mutated_fixture_no_longer_matches_baseline() -> None:
    fixture = load_fixture(BUNDLED / "01_simple_qa.json")
    mutated = Fixture(
        fixture.id,
        user_input=fixture.user_input,
        mock_response=MockTextResponse("five"),
        expect=fixture.expect,
    )

    report = await replay_and_report(mutated)

    assert False is report.passed
    assert ["answer_missing_phrase"] == [failure.kind for failure in report.failures]
    assert baseline_lines()["01_simple_qa"] != to_json(report)
