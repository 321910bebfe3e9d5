"""Round-trip properties of the wire format: every record and tagged union survives
``to_json`` / ``from_json`` (compact and pretty) and NDJSON files unchanged.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    AgentSpec,
    ChatMessage,
    ChatResponseEvent,
    DatasetSpec,
    DialogueTurn,
    ErrorEvent,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunSummary,
    Expectation,
    Failure,
    Fixture,
    InferenceRequest,
    InferenceResult,
    JudgeRequest,
    JudgeResult,
    MatrixCell,
    ModelPricing,
    ProviderScriptEvent,
    ReplayReport,
    SamplingParams,
    TokenUsage,
    ToolCall,
    ToolCallEvent,
    ToolCallMatcher,
    ToolDescriptor,
    from_builtins,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import (
    BaselineCheck,
    DiffEntry,
    DiffSummary,
    Drift,
    DriftPolicy,
    Fixed,
    GroupPassRate,
    MissingFromNew,
    NewlyAdded,
    NewRunMeta,
    Regression,
    SampledDiffEntry,
    SampledDiffSummary,
    SampledFlaky,
    SampledImproved,
    SampledMissingFromNew,
    SampledNewlyAdded,
    SampledRegression,
    SampledUnchanged,
    StillFailing,
    Unchanged,
)
from awaken_eval.evaluation import (
    CustomScope,
    EntityRef,
    Evaluation,
    EvaluationCriterion,
    EvaluationScope,
    EvaluationSubject,
    ExpectedOutcome,
    RunScope,
    SessionScope,
    TurnScope,
)
from awaken_eval.events import (
    EvaluationResult,
    EventMeta,
    InferenceSpan,
    ItemCompleted,
    RunCompleted,
    RunFailed,
    RunStarted,
    SpanRecorded,
    ToolSpan,
    TraceEvent,
)
from awaken_eval.failures import (
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ProviderScriptUnused,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
    ReplayRuntimeFailure,
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
)
from awaken_eval.records import (
    AgentMetrics,
    AgentToolStats,
    CriterionVerdict,
    DatasetRecord,
    EvalRunFilter,
    JudgeAttempt,
    MockErrorResponse,
    MockResponse,
    MockTextResponse,
    OpenRunSummary,
    RunHeader,
    SampleAggregate,
)
from awaken_eval.wire import read_ndjson, write_ndjson

# (wire type, strategy): every record class and every tagged union of the wire format.
WIRE_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    # ids and the evaluation vocabulary
    (EntityRef, s.entity_refs()),
    (RunScope, s.run_scopes()),
    (TurnScope, s.turn_scopes()),
    (SessionScope, s.session_scopes()),
    (CustomScope, s.custom_scopes()),
    (EvaluationScope, s.evaluation_scopes()),
    (EvaluationSubject, s.evaluation_subjects()),
    (EvaluationCriterion, s.evaluation_criteria()),
    (ExpectedOutcome, s.expected_outcomes()),
    (Evaluation, s.evaluations()),
    # fixtures
    (TokenUsage, s.token_usages()),
    (ChatResponseEvent, s.chat_response_events()),
    (ToolCallEvent, s.tool_call_events()),
    (ErrorEvent, s.error_events()),
    (ProviderScriptEvent, s.provider_script_events()),
    (MockTextResponse, s.mock_text_responses()),
    (MockErrorResponse, s.mock_error_responses()),
    (MockResponse, s.mock_responses()),
    (DialogueTurn, s.dialogue_turns()),
    (Fixture, s.fixtures()),
    (DatasetSpec, s.dataset_specs()),
    # expectations
    (CountConstraint, s.count_constraints()),
    (ToolCallMatcher, s.tool_call_matchers()),
    (Expectation, s.expectations()),
    # failures
    (ScriptExhausted, s.script_exhausted()),
    (ProviderScriptUnused, s.provider_script_unused()),
    (ReplayRuntimeError, s.replay_runtime_errors()),
    (ReplayRuntimeFailure, s.replay_runtime_failures()),
    (AnswerMissingPhrase, s.answer_missing_phrases()),
    (AnswerContainsExcludedPhrase, s.answer_contains_excluded_phrases()),
    (ToolSequenceMismatch, s.tool_sequence_mismatches()),
    (ForbiddenToolUsed, s.forbidden_tools_used()),
    (RequiredToolCallNotSatisfied, s.required_tool_calls_not_satisfied()),
    (TokenBudgetExceeded, s.token_budget_exceeded()),
    (DurationExceeded, s.duration_exceeded()),
    (JudgeBelowThreshold, s.judge_below_threshold()),
    (ExpectedErrorMissing, s.expected_error_missing()),
    (ErrorTypeMismatch, s.error_type_mismatches()),
    (ReplayRuntimeFailed, s.replay_runtime_failed()),
    (Failure, s.failures()),
    # spans, metrics and reports
    (InferenceSpan, s.inference_spans()),
    (ToolSpan, s.tool_spans()),
    (AgentMetrics, s.agent_metrics()),
    (AgentToolStats, s.agent_tool_stats()),
    (CriterionVerdict, s.criterion_verdicts()),
    (JudgeAttempt, s.judge_attempts()),
    (ReplayReport, s.replay_reports()),
    # runs
    (MatrixCell, s.matrix_cells()),
    (EvalRunItem, s.eval_run_items()),
    (EvalRun, s.eval_runs()),
    (EvalRunSummary, s.eval_run_summaries()),
    (OpenRunSummary, s.open_run_summaries()),
    (EvalRunFilter, s.eval_run_filters()),
    (SampleAggregate, s.sample_aggregates()),
    # diffs
    (Unchanged, s.unchanged_entries()),
    (Regression, s.regressions()),
    (Fixed, s.fixed_entries()),
    (StillFailing, s.still_failing_entries()),
    (Drift, s.drift_entries()),
    (MissingFromNew, s.missing_from_new_entries()),
    (NewlyAdded, s.newly_added_entries()),
    (DiffEntry, s.diff_entries()),
    (DiffSummary, s.diff_summaries()),
    (DriftPolicy, s.drift_policies()),
    # sampled diffs
    (GroupPassRate, s.group_pass_rates()),
    (SampledRegression, s.sampled_regressions()),
    (SampledImproved, s.sampled_improved_entries()),
    (SampledFlaky, s.sampled_flaky_entries()),
    (SampledUnchanged, s.sampled_unchanged_entries()),
    (SampledMissingFromNew, s.sampled_missing_from_new_entries()),
    (SampledNewlyAdded, s.sampled_newly_added_entries()),
    (SampledDiffEntry, s.sampled_diff_entries()),
    (SampledDiffSummary, s.sampled_diff_summaries()),
    # baselines
    (NewRunMeta, s.new_run_metas()),
    (BaselineCheck, s.baseline_checks()),
    # trace events
    (SpanRecorded, s.span_recorded_events()),
    (RunStarted, s.run_started_events()),
    (ItemCompleted, s.item_completed_events()),
    (RunCompleted, s.run_completed_events()),
    (RunFailed, s.run_failed_events()),
    (EvaluationResult, s.evaluation_results()),
    (TraceEvent, s.trace_events()),
    (EventMeta, s.event_metas()),
    # protocol records
    (ToolCall, s.tool_calls()),
    (ChatMessage, s.chat_messages()),
    (ToolDescriptor, s.tool_descriptors()),
    (SamplingParams, s.sampling_params()),
    (InferenceRequest, s.inference_requests()),
    (InferenceResult, s.inference_results()),
    (AgentSpec, s.agent_specs()),
    (ModelPricing, s.model_pricings()),
    (JudgeRequest, s.judge_requests()),
    (JudgeResult, s.judge_results()),
    (RunHeader, s.run_headers()),
    (DatasetRecord, s.dataset_records()),
]


def _type_name(wire_type: Any) -> str:
    name = getattr(wire_type, "__name__", None)
    if name is not None:
        return str(name)
    return "|".join(member.__name__ for member in wire_type.__args__)


WIRE_TYPE_IDS = [_type_name(wire_type) for wire_type, _ in WIRE_TYPES]

ROUND_TRIP_SETTINGS = settings(max_examples=30, deadline=None)
QUICK_SETTINGS = settings(max_examples=10, deadline=None)


@pytest.mark.parametrize(("wire_type", "strategy"), WIRE_TYPES, ids=WIRE_TYPE_IDS)
def test_compact_json_round_trip(wire_type: Any, strategy: st.SearchStrategy[Any]) -> None:
    @ROUND_TRIP_SETTINGS
    @given(strategy)
    def check(record: Any) -> None:
        assert record == from_json(wire_type, to_json(record))

    check()


@pytest.mark.parametrize(("wire_type", "strategy"), WIRE_TYPES, ids=WIRE_TYPE_IDS)
def test_pretty_json_round_trip(wire_type: Any, strategy: st.SearchStrategy[Any]) -> None:
    @QUICK_SETTINGS
    @given(strategy)
    def check(record: Any) -> None:
        assert record == from_json(wire_type, to_json(record, pretty=True))

    check()


@pytest.mark.parametrize(("wire_type", "strategy"), WIRE_TYPES, ids=WIRE_TYPE_IDS)
def test_builtins_round_trip_and_json_agree(
    wire_type: Any, strategy: st.SearchStrategy[Any]
) -> None:
    @QUICK_SETTINGS
    @given(strategy)
    def check(record: Any) -> None:
        data = to_builtins(record)
        assert record == from_builtins(wire_type, data)
        assert json.loads(to_json(record)) == data

    check()


@pytest.mark.parametrize(("wire_type", "strategy"), WIRE_TYPES, ids=WIRE_TYPE_IDS)
def test_json_is_stable_after_one_round_trip(
    wire_type: Any, strategy: st.SearchStrategy[Any]
) -> None:
    @QUICK_SETTINGS
    @given(strategy)
    def check(record: Any) -> None:
        text = to_json(record)
        assert text == to_json(from_json(wire_type, text))

    check()


@ROUND_TRIP_SETTINGS
@given(st.lists(s.replay_reports(), max_size=4))
def test_ndjson_round_trip_of_reports(reports: list[ReplayReport]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "nested" / "report.ndjson"
        write_ndjson(path, reports)
        text = path.read_text(encoding="utf-8")
        assert len(reports) == text.count("\n")
        assert reports == read_ndjson(path, ReplayReport)


@QUICK_SETTINGS
@given(st.lists(s.failures(), max_size=4))
def test_ndjson_round_trip_of_a_tagged_union(records: list[Failure]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "failures.ndjson"
        write_ndjson(path, records)
        assert records == read_ndjson(path, Failure)


@QUICK_SETTINGS
@given(st.lists(s.trace_events(), max_size=4))
def test_ndjson_round_trip_of_an_event_log(events: list[TraceEvent]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "events.ndjson"
        write_ndjson(path, events)
        lines = path.read_text(encoding="utf-8").split("\n")[:-1]
        assert [type(event).kind for event in events] == [
            json.loads(line)["type"] for line in lines
        ]
        assert events == read_ndjson(path, TraceEvent)


@QUICK_SETTINGS
@given(st.lists(s.eval_runs(max_items=2), max_size=3))
def test_ndjson_round_trip_of_runs(runs: list[EvalRun]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "runs.ndjson"
        write_ndjson(path, runs)
        assert runs == read_ndjson(path, EvalRun)


@pytest.mark.parametrize(
    "text",
    [
        "line\u2028separator",
        "paragraph\u2029separator",
        "next\x85line",
        "form\x0cfeed",
        "carriage\rreturn",
        "new\nline",
        "tab\tand \x1e record separator",
    ],
)
def test_ndjson_keeps_unicode_line_breaks_inside_strings(tmp_path: Path, text: str) -> None:
    records = [AnswerMissingPhrase(text), ForbiddenToolUsed("after")]
    path = tmp_path / "failures.ndjson"
    write_ndjson(path, records)
    assert 2 == len(path.read_bytes().splitlines())
    assert records == read_ndjson(path, Failure)


@ROUND_TRIP_SETTINGS
@given(s.fixtures())
def test_to_json_is_one_compact_line(fixture: Fixture) -> None:
    text = to_json(fixture)
    assert "\n" not in text
    assert json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) == text


@QUICK_SETTINGS
@given(s.eval_runs(max_items=2))
def test_pretty_json_indents_two_spaces_and_parses_to_the_same_data(run: EvalRun) -> None:
    pretty = to_json(run, pretty=True)
    assert json.loads(to_json(run)) == json.loads(pretty)
    assert json.dumps(json.loads(pretty), ensure_ascii=False, indent=2) == pretty


def test_compact_output_has_no_spaces_after_separators() -> None:
    report = ReplayReport(
        fixture_id="a",
        passed=False,
        failures=(AnswerMissingPhrase("x"), ForbiddenToolUsed("rm")),
        final_text="b",
        inference_count=1,
        tool_count=2,
        tool_failures=0,
        total_input_tokens=3,
        total_output_tokens=4,
        total_tokens=7,
        session_duration_ms=5,
    )
    expected = (
        '{"fixture_id":"a","passed":false,"failures":[{"kind":"answer_missing_phrase",'
        '"phrase":"x"},{"kind":"forbidden_tool_used","tool":"rm"}],"final_text":"b",'
        '"inference_count":1,"tool_count":2,"tool_failures":0,"total_input_tokens":3,'
        '"total_output_tokens":4,"total_tokens":7,"session_duration_ms":5}'
    )
    assert expected == to_json(report)


def test_non_ascii_is_written_raw() -> None:
    fixture = Fixture(id="héllo-日本-🦜", user_input="ünïcödé")
    expected = (
        '{"id":"héllo-日本-🦜","user_input":"ünïcödé",'
        '"mock_response":{"kind":"text","text":""},"expect":{}}'
    )
    assert expected == to_json(fixture)
    assert fixture == from_json(Fixture, expected.encode("utf-8"))


def test_non_ascii_ndjson_is_utf8_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    write_ndjson(path, [AnswerMissingPhrase("café ☕")])
    expected = '{"kind":"answer_missing_phrase","phrase":"café ☕"}\n'.encode()
    assert expected == path.read_bytes()


def test_pretty_output_matches_two_space_indent() -> None:
    expected = '{\n  "op": "at_least",\n  "n": 2\n}'
    assert expected == to_json(CountConstraint.at_least(2), pretty=True)


def test_sequences_of_records_serialize_as_arrays() -> None:
    records = (MatrixCell(), MatrixCell("m"))
    assert '[{},{"model_id":"m"}]' == to_json(records)
    assert records == from_json(tuple[MatrixCell, ...], '[{},{"model_id":"m"}]')


@QUICK_SETTINGS
@given(s.eval_runs(EvalRunExecutionMode.LIVE, max_items=3))
def test_live_runs_have_a_cell_on_every_item(run: EvalRun) -> None:
    assert [True] * len(run.items) == [item.cell is not None for item in run.items]
    assert run == from_json(EvalRun, to_json(run))


@QUICK_SETTINGS
@given(s.eval_runs(EvalRunExecutionMode.SCRIPTED, max_items=3))
def test_scripted_runs_have_no_cell(run: EvalRun) -> None:
    assert [] == [item for item in run.items if item.cell is not None]
    assert run == from_json(EvalRun, to_json(run))
