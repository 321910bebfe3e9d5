"""Golden tests of the wire format (spec §1): exact bytes, key names, tags and omissions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from awaken_eval import (
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
    InvalidInput,
    MatrixCell,
    ProviderScriptEvent,
    ReplayReport,
    StopReason,
    TokenUsage,
    ToolCallEvent,
    ToolCallMatcher,
    from_json,
    to_json,
)
from awaken_eval.analysis import (
    DiffEntry,
    DiffSummary,
    Drift,
    Fixed,
    GroupPassRate,
    MissingFromNew,
    NewlyAdded,
    Regression,
    SampledDiffSummary,
    SampledMissingFromNew,
    SampledRegression,
    StillFailing,
    Unchanged,
)
from awaken_eval.errors import InvalidExecutionShape
from awaken_eval.evaluation import (
    CustomScope,
    EntityRef,
    Evaluation,
    EvaluationCriterion,
    EvaluationScope,
    EvaluationSubject,
    EvaluationSubjectRole,
    ExpectedOutcome,
    RunId,
    RunScope,
    SessionId,
    SessionScope,
    TurnId,
    TurnScope,
)
from awaken_eval.events import (
    EvaluationResult,
    InferenceSpan,
    ItemCompleted,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    SpanRecorded,
    ToolSpan,
    TraceEvent,
)
from awaken_eval.failures import (
    FAILURE_KINDS,
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    CountOp,
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
    ToolSequenceMode,
)
from awaken_eval.records import (
    AgentMetrics,
    AgentToolStats,
    CriterionVerdict,
    EvalRunFilter,
    JudgeAttempt,
    MockErrorResponse,
    MockResponse,
    MockTextResponse,
    SampleAggregate,
)
from awaken_eval.wire import read_ndjson, write_ndjson
from builders import report as make_report
from builders import run as make_run


def assert_golden(wire_type: Any, record: Any, text: str) -> None:
    """``record`` is written as exactly ``text`` and ``text`` reads back as ``record``."""
    assert text == to_json(record)
    assert record == from_json(wire_type, text)


# -- the bundled baseline (spec §1.6 and §5.4) --------------------------------------------

ERROR_PATH_LINE = (
    '{"fixture_id":"05_error_path","passed":true,"failures":[],"final_text":"",'
    '"inference_count":0,"tool_count":0,"tool_failures":0,"total_input_tokens":0,'
    '"total_output_tokens":0,"total_tokens":0,"session_duration_ms":0,'
    '"error_type":"rate_limit","inference_error_count":1}'
)


def _baseline_line(fixture_id: str, final_text: str, tokens: tuple[int, int, int]) -> str:
    inputs, outputs, total = tokens
    return (
        f'{{"fixture_id":"{fixture_id}","passed":true,"failures":[],'
        f'"final_text":"{final_text}","inference_count":1,"tool_count":0,"tool_failures":0,'
        f'"total_input_tokens":{inputs},"total_output_tokens":{outputs},'
        f'"total_tokens":{total},"session_duration_ms":0}}'
    )


BASELINE_LINES = [
    _baseline_line("01_simple_qa", "4", (10, 1, 11)),
    _baseline_line("02_phrase_recall", "The bird was a green pelican.", (19, 4, 23)),
    _baseline_line("03_token_budget", "9", (6, 1, 7)),
    _baseline_line("04_excludes_secret", "I cannot share credentials of any kind.", (14, 13, 27)),
    ERROR_PATH_LINE,
]


def _passing_report(fixture_id: str, final_text: str, tokens: tuple[int, int, int]) -> ReplayReport:
    inputs, outputs, total = tokens
    return make_report(
        fixture_id=fixture_id,
        final_text=final_text,
        inference_count=1,
        total_input_tokens=inputs,
        total_output_tokens=outputs,
        total_tokens=total,
    )


BASELINE_REPORTS = [
    _passing_report("01_simple_qa", "4", (10, 1, 11)),
    _passing_report("02_phrase_recall", "The bird was a green pelican.", (19, 4, 23)),
    _passing_report("03_token_budget", "9", (6, 1, 7)),
    _passing_report("04_excludes_secret", "I cannot share credentials of any kind.", (14, 13, 27)),
    make_report(fixture_id="05_error_path", error_type="rate_limit", inference_error_count=1),
]


def test_error_path_line_of_the_spec_parses_and_is_re_emitted_byte_for_byte() -> None:
    report: ReplayReport = from_json(ReplayReport, ERROR_PATH_LINE)
    assert BASELINE_REPORTS[-1] == report
    assert ERROR_PATH_LINE == to_json(report)


@pytest.mark.parametrize(
    ("line", "report"), list(zip(BASELINE_LINES, BASELINE_REPORTS, strict=True))
)
def test_each_baseline_line_is_golden(line: str, report: ReplayReport) -> None:
    assert_golden(ReplayReport, report, line)


def test_baseline_file_is_re_emitted_byte_for_byte(tmp_path: Path) -> None:
    original = "".join(line + "\n" for line in BASELINE_LINES).encode()
    baseline = tmp_path / "baseline.ndjson"
    baseline.write_bytes(original)
    reports: list[ReplayReport] = read_ndjson(baseline, ReplayReport)
    assert BASELINE_REPORTS == reports
    rewritten = tmp_path / "out" / "baseline.ndjson"
    write_ndjson(rewritten, reports)
    assert original == rewritten.read_bytes()


BUNDLED_FIXTURES = [
    (
        Fixture(
            id="01_simple_qa",
            user_input="What is 2 + 2?",
            mock_response=MockTextResponse("4"),
            expect=Expectation(final_answer_contains=("4",), max_tokens_total=100),
        ),
        (
            '{"id":"01_simple_qa","user_input":"What is 2 + 2?",'
            '"mock_response":{"kind":"text","text":"4"},'
            '"expect":{"final_answer_contains":["4"],"max_tokens_total":100}}'
        ),
    ),
    (
        Fixture(
            id="02_phrase_recall",
            user_input="Which bird?",
            mock_response=MockTextResponse("The bird was a green pelican."),
            expect=Expectation(
                final_answer_contains=("green pelican",),
                final_answer_excludes=("pink", "secret"),
                max_tokens_total=200,
            ),
        ),
        (
            '{"id":"02_phrase_recall","user_input":"Which bird?",'
            '"mock_response":{"kind":"text","text":"The bird was a green pelican."},'
            '"expect":{"final_answer_contains":["green pelican"],'
            '"final_answer_excludes":["pink","secret"],"max_tokens_total":200}}'
        ),
    ),
    (
        Fixture(
            id="03_token_budget",
            user_input="What is 3 * 3?",
            provider_script=(
                ChatResponseEvent(
                    "9", tokens=TokenUsage(prompt_tokens=6, completion_tokens=1, total_tokens=7)
                ),
            ),
            expect=Expectation(final_answer_contains=("9",), max_tokens_total=30),
        ),
        (
            '{"id":"03_token_budget","user_input":"What is 3 * 3?","provider_script":'
            '[{"kind":"chat_response","content":"9","tokens":{"prompt_tokens":6,'
            '"completion_tokens":1,"total_tokens":7},"finish_reason":"EndTurn"}],'
            '"mock_response":{"kind":"text","text":""},'
            '"expect":{"final_answer_contains":["9"],"max_tokens_total":30}}'
        ),
    ),
    (
        Fixture(
            id="05_error_path",
            user_input="Say success.",
            provider_script=(ErrorEvent("rate_limit", message="429 Too Many Requests"),),
            expect=Expectation(
                final_answer_excludes=("success",), expected_error_type="rate_limit"
            ),
        ),
        (
            '{"id":"05_error_path","user_input":"Say success.","provider_script":'
            '[{"kind":"error","error_type":"rate_limit","message":"429 Too Many Requests"}],'
            '"mock_response":{"kind":"text","text":""},'
            '"expect":{"final_answer_excludes":["success"],"expected_error_type":"rate_limit"}}'
        ),
    ),
]


@pytest.mark.parametrize(("fixture", "text"), BUNDLED_FIXTURES, ids=lambda v: getattr(v, "id", ""))
def test_bundled_fixtures_are_golden(fixture: Fixture, text: str) -> None:
    assert_golden(Fixture, fixture, text)


# -- fixtures -----------------------------------------------------------------------------


def test_minimal_fixture_always_writes_mock_response_and_expect() -> None:
    fixture = Fixture(id="x", user_input="y")
    assert_golden(
        Fixture,
        fixture,
        '{"id":"x","user_input":"y","mock_response":{"kind":"text","text":""},"expect":{}}',
    )
    assert fixture == from_json(Fixture, '{"id":"x","user_input":"y"}')


def test_full_fixture_writes_keys_in_spec_order() -> None:
    fixture = Fixture(
        id="f",
        description="d",
        user_input="u",
        provider_script=(ErrorEvent("e"),),
        provider_script_error="no trace",
        source_run_id="run-1",
        source_model_id="m",
        allow_unused_provider_script=True,
        mock_response=MockErrorResponse("boom", "bad"),
        expect=Expectation(expected_error_type="e"),
        continued_turns=(DialogueTurn("again"),),
        expected_outcome=ExpectedOutcome("done"),
    )
    text = (
        '{"id":"f","description":"d","user_input":"u",'
        '"provider_script":[{"kind":"error","error_type":"e","message":""}],'
        '"provider_script_error":"no trace","source_run_id":"run-1","source_model_id":"m",'
        '"allow_unused_provider_script":true,'
        '"mock_response":{"kind":"error","error_type":"boom","message":"bad"},'
        '"expect":{"expected_error_type":"e"},"continued_turns":[{"user_input":"again"}],'
        '"expected_outcome":{"outcome_ref":null,"criteria":[],"redacted_summary":"done"}}'
    )
    assert_golden(Fixture, fixture, text)


def test_dialogue_turn_omits_empty_script_and_absent_error() -> None:
    assert_golden(DialogueTurn, DialogueTurn("hi"), '{"user_input":"hi"}')
    turn = DialogueTurn("hi", provider_script=(ChatResponseEvent("ok"),), provider_script_error="x")
    text = (
        '{"user_input":"hi","provider_script":[{"kind":"chat_response","content":"ok",'
        '"tokens":{},"finish_reason":"EndTurn"}],"provider_script_error":"x"}'
    )
    assert_golden(DialogueTurn, turn, text)


def test_mock_response_variants_are_tagged_by_kind() -> None:
    assert_golden(MockResponse, MockTextResponse(), '{"kind":"text","text":""}')
    assert_golden(MockResponse, MockTextResponse("4"), '{"kind":"text","text":"4"}')
    assert_golden(
        MockResponse,
        MockErrorResponse("rate_limit", "429"),
        '{"kind":"error","error_type":"rate_limit","message":"429"}',
    )
    assert MockTextResponse() == from_json(MockResponse, '{"kind":"text"}')


def test_provider_script_events_are_tagged_by_kind() -> None:
    assert_golden(
        ProviderScriptEvent,
        ChatResponseEvent("hi"),
        '{"kind":"chat_response","content":"hi","tokens":{},"finish_reason":"EndTurn"}',
    )
    assert ChatResponseEvent("hi") == from_json(
        ProviderScriptEvent, '{"kind":"chat_response","content":"hi"}'
    )
    assert_golden(
        ProviderScriptEvent,
        ToolCallEvent("c1", "search", {"q": "x"}),
        '{"kind":"tool_call","id":"c1","name":"search","arguments":{"q":"x"},"tokens":{}}',
    )
    assert_golden(
        ProviderScriptEvent,
        ToolCallEvent("c1", "search", None, result=[1, "two"]),
        '{"kind":"tool_call","id":"c1","name":"search","arguments":null,"tokens":{},'
        '"result":[1,"two"]}',
    )
    assert_golden(
        ProviderScriptEvent,
        ErrorEvent("rate_limit"),
        '{"kind":"error","error_type":"rate_limit","message":""}',
    )
    assert ErrorEvent("rate_limit") == from_json(
        ProviderScriptEvent, '{"kind":"error","error_type":"rate_limit"}'
    )


@pytest.mark.parametrize(
    ("reason", "wire"),
    [
        (StopReason.END_TURN, "EndTurn"),
        (StopReason.MAX_TOKENS, "MaxTokens"),
        (StopReason.TOOL_USE, "ToolUse"),
        (StopReason.STOP_SEQUENCE, "StopSequence"),
    ],
)
def test_stop_reason_is_pascal_case(reason: StopReason, wire: str) -> None:
    event = ChatResponseEvent("", finish_reason=reason)
    text = f'{{"kind":"chat_response","content":"","tokens":{{}},"finish_reason":"{wire}"}}'
    assert_golden(ChatResponseEvent, event, text)


def test_token_usage_omits_absent_counts() -> None:
    assert_golden(TokenUsage, TokenUsage(), "{}")
    usage = TokenUsage(
        prompt_tokens=1,
        completion_tokens=2,
        total_tokens=3,
        cache_read_tokens=4,
        cache_creation_tokens=5,
        thinking_tokens=6,
    )
    text = (
        '{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cache_read_tokens":4,'
        '"cache_creation_tokens":5,"thinking_tokens":6}'
    )
    assert_golden(TokenUsage, usage, text)
    assert_golden(TokenUsage, TokenUsage(thinking_tokens=0), '{"thinking_tokens":0}')


def test_dataset_spec_omits_empty_description_and_fixtures() -> None:
    assert_golden(DatasetSpec, DatasetSpec(), "{}")
    spec = DatasetSpec(description="d", fixtures=(Fixture(id="a", user_input="b"),))
    text = (
        '{"description":"d","fixtures":[{"id":"a","user_input":"b",'
        '"mock_response":{"kind":"text","text":""},"expect":{}}]}'
    )
    assert_golden(DatasetSpec, spec, text)


# -- expectations -------------------------------------------------------------------------


def test_empty_expectation_is_an_empty_object() -> None:
    assert_golden(Expectation, Expectation(), "{}")


def test_tool_sequence_mode_is_omitted_when_exact() -> None:
    exact = Expectation(tool_sequence=("a", "b"), tool_sequence_mode=ToolSequenceMode.EXACT)
    assert_golden(Expectation, exact, '{"tool_sequence":["a","b"]}')
    explicit: Expectation = from_json(
        Expectation, '{"tool_sequence":["a","b"],"tool_sequence_mode":"exact"}'
    )
    assert exact == explicit
    subseq = Expectation(tool_sequence=("a",), tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ)
    assert_golden(
        Expectation, subseq, '{"tool_sequence":["a"],"tool_sequence_mode":"ordered_subseq"}'
    )


def test_full_expectation_writes_every_key_in_spec_order() -> None:
    expectation = Expectation(
        final_answer_contains=("a",),
        final_answer_excludes=("b",),
        tool_sequence=("t",),
        tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ,
        forbidden_tools=("rm",),
        required_tool_calls=(ToolCallMatcher("t"),),
        max_tokens_total=0,
        max_duration_ms=0,
        min_judge_score=0.5,
        expected_error_type="e",
    )
    text = (
        '{"final_answer_contains":["a"],"final_answer_excludes":["b"],"tool_sequence":["t"],'
        '"tool_sequence_mode":"ordered_subseq","forbidden_tools":["rm"],'
        '"required_tool_calls":[{"name":"t"}],"max_tokens_total":0,"max_duration_ms":0,'
        '"min_judge_score":0.5,"expected_error_type":"e"}'
    )
    assert_golden(Expectation, expectation, text)


def test_tool_call_matcher_omits_absent_filters_and_count() -> None:
    assert_golden(ToolCallMatcher, ToolCallMatcher("search"), '{"name":"search"}')
    matcher = ToolCallMatcher(
        "search",
        args_subset={"q": "cats"},
        result_subset=[True],
        count=CountConstraint.at_most(0),
    )
    text = (
        '{"name":"search","args_subset":{"q":"cats"},"result_subset":[true],'
        '"count":{"op":"at_most","n":0}}'
    )
    assert_golden(ToolCallMatcher, matcher, text)


@pytest.mark.parametrize(
    ("constraint", "text"),
    [
        (CountConstraint(CountOp.AT_MOST, 0), '{"op":"at_most","n":0}'),
        (CountConstraint.exactly(3), '{"op":"exactly","n":3}'),
        (CountConstraint.at_least(4294967295), '{"op":"at_least","n":4294967295}'),
    ],
)
def test_count_constraint_is_adjacently_tagged(constraint: CountConstraint, text: str) -> None:
    assert_golden(CountConstraint, constraint, text)


# -- failures -------------------------------------------------------------------------------


def test_failure_kind_strings_are_stable() -> None:
    expected = (
        "answer_missing_phrase",
        "answer_contains_excluded_phrase",
        "tool_sequence_mismatch",
        "forbidden_tool_used",
        "required_tool_call_not_satisfied",
        "token_budget_exceeded",
        "duration_exceeded",
        "judge_below_threshold",
        "expected_error_missing",
        "error_type_mismatch",
        "replay_runtime_failure",
    )
    assert expected == FAILURE_KINDS


@pytest.mark.parametrize(
    ("failure", "text"),
    [
        (AnswerMissingPhrase("p"), '{"kind":"answer_missing_phrase","phrase":"p"}'),
        (
            AnswerContainsExcludedPhrase("p"),
            '{"kind":"answer_contains_excluded_phrase","phrase":"p"}',
        ),
        (
            ToolSequenceMismatch(("a",), ("b", "c")),
            '{"kind":"tool_sequence_mismatch","expected":["a"],"actual":["b","c"]}',
        ),
        (
            ToolSequenceMismatch((), (), mode=ToolSequenceMode.ORDERED_SUBSEQ),
            '{"kind":"tool_sequence_mismatch","expected":[],"actual":[],"mode":"ordered_subseq"}',
        ),
        (ForbiddenToolUsed("rm"), '{"kind":"forbidden_tool_used","tool":"rm"}'),
        (
            RequiredToolCallNotSatisfied("t", actual_matches=0),
            '{"kind":"required_tool_call_not_satisfied","name":"t","actual_matches":0}',
        ),
        (
            RequiredToolCallNotSatisfied(
                "t",
                expected_count=CountConstraint.exactly(2),
                actual_matches=1,
                args_filter_set=True,
                result_filter_set=True,
            ),
            (
                '{"kind":"required_tool_call_not_satisfied","name":"t",'
                '"expected_count":{"op":"exactly","n":2},"actual_matches":1,'
                '"args_filter_set":true,"result_filter_set":true}'
            ),
        ),
        (
            TokenBudgetExceeded(budget=10, actual=11),
            '{"kind":"token_budget_exceeded","budget":10,"actual":11}',
        ),
        (
            DurationExceeded(budget_ms=5, actual_ms=18446744073709551615),
            '{"kind":"duration_exceeded","budget_ms":5,"actual_ms":18446744073709551615}',
        ),
        (
            JudgeBelowThreshold(threshold=0.8, actual=0.25),
            '{"kind":"judge_below_threshold","threshold":0.8,"actual":0.25}',
        ),
        (
            ExpectedErrorMissing("rate_limit"),
            '{"kind":"expected_error_missing","expected":"rate_limit"}',
        ),
        (
            ErrorTypeMismatch("a", "b"),
            '{"kind":"error_type_mismatch","expected":"a","actual":"b"}',
        ),
        (
            ReplayRuntimeFailed(ScriptExhausted(2)),
            '{"kind":"replay_runtime_failure","failure":{"kind":"script_exhausted","extra_calls":2}}',
        ),
    ],
    ids=lambda value: getattr(value, "kind", ""),
)
def test_failures_are_tagged_by_kind(failure: Failure, text: str) -> None:
    assert_golden(Failure, failure, text)


def test_tool_sequence_mismatch_mode_defaults_to_exact_on_read() -> None:
    failure: Failure = from_json(
        Failure, '{"kind":"tool_sequence_mismatch","expected":[],"actual":[]}'
    )
    assert ToolSequenceMismatch((), (), mode=ToolSequenceMode.EXACT) == failure


@pytest.mark.parametrize(
    ("failure", "text"),
    [
        (ScriptExhausted(2), '{"kind":"script_exhausted","extra_calls":2}'),
        (ProviderScriptUnused(3), '{"kind":"provider_script_unused","remaining":3}'),
        (ReplayRuntimeError("boom"), '{"kind":"runtime_error","message":"boom"}'),
    ],
)
def test_replay_runtime_failures_are_tagged_by_kind(
    failure: ReplayRuntimeFailure, text: str
) -> None:
    assert_golden(ReplayRuntimeFailure, failure, text)


# -- reports ----------------------------------------------------------------------------------

_REPORT_HEAD = (
    '{"fixture_id":"f","passed":true,"failures":[],"final_text":"",'
    '"inference_count":0,"tool_count":0,"tool_failures":0,"total_input_tokens":0,'
    '"total_output_tokens":0'
)


def test_report_runtime_failure_has_the_exact_nested_shape() -> None:
    report = make_report(runtime_failure=ScriptExhausted(2))
    text = (
        _REPORT_HEAD
        + ',"total_tokens":0,"session_duration_ms":0,'
        + '"runtime_failure":{"kind":"script_exhausted","extra_calls":2}}'
    )
    assert_golden(ReplayReport, report, text)
    assert {"kind": "script_exhausted", "extra_calls": 2} == json.loads(to_json(report))[
        "runtime_failure"
    ]


def test_report_never_writes_elapsed_ms_but_accepts_it_on_read() -> None:
    report = make_report(elapsed_ms=1234)
    text = _REPORT_HEAD + ',"total_tokens":0,"session_duration_ms":0}'
    assert text == to_json(report)
    with_elapsed = _REPORT_HEAD + ',"total_tokens":0,"session_duration_ms":0,"elapsed_ms":1234}'
    read_back: ReplayReport = from_json(ReplayReport, with_elapsed)
    assert (report, 1234) == (read_back, read_back.elapsed_ms)
    assert make_report() == from_json(ReplayReport, text)


def test_report_writes_optional_keys_in_spec_order() -> None:
    report = make_report(
        passed=False,
        failures=(AnswerMissingPhrase("x"),),
        tool_calls_by_agent=(
            AgentToolStats(
                agent_id="planner",
                tool="search",
                call_count=2,
                failure_count=1,
                total_duration_ms=30,
            ),
        ),
        error_type="rate_limit",
        inference_error_count=1,
        runtime_failure=ReplayRuntimeError("timeout"),
        cost_usd=0.125,
        revision_count=2,
        judge_score=0.75,
        judge_reasoning="ok",
    )
    text = (
        '{"fixture_id":"f","passed":false,"failures":[{"kind":"answer_missing_phrase",'
        '"phrase":"x"}],"final_text":"","inference_count":0,"tool_count":0,'
        '"tool_failures":0,"total_input_tokens":0,"total_output_tokens":0,"total_tokens":0,'
        '"session_duration_ms":0,"tool_calls_by_agent":[{"agent_id":"planner",'
        '"tool":"search","call_count":2,"failure_count":1,"total_duration_ms":30}],'
        '"error_type":"rate_limit","inference_error_count":1,'
        '"runtime_failure":{"kind":"runtime_error","message":"timeout"},"cost_usd":0.125,'
        '"revision_count":2,"judge_score":0.75,"judge_reasoning":"ok"}'
    )
    assert_golden(ReplayReport, report, text)


def test_report_writes_judge_verdicts_and_attempts_after_the_grade() -> None:
    report = make_report(
        revision_count=1,
        judge_score=0.9,
        judge_reasoning="cites",
        judge_verdicts=(CriterionVerdict(criterion_id="criterion.cited", score=0.9),),
        judge_attempts=(
            JudgeAttempt(revision=0, score=0.25, reasoning="no source"),
            JudgeAttempt(revision=1, score=0.9),
        ),
    )
    text = (
        _REPORT_HEAD + ',"total_tokens":0,"session_duration_ms":0,"revision_count":1,'
        '"judge_score":0.9,"judge_reasoning":"cites",'
        '"judge_verdicts":[{"criterion_id":"criterion.cited","score":0.9}],'
        '"judge_attempts":[{"revision":0,"score":0.25,"reasoning":"no source"},'
        '{"revision":1,"score":0.9}]}'
    )
    assert_golden(ReplayReport, report, text)


def test_report_omits_empty_judge_verdicts_and_attempts() -> None:
    text = _REPORT_HEAD + ',"total_tokens":0,"session_duration_ms":0,"judge_score":0.5}'
    assert_golden(ReplayReport, make_report(judge_score=0.5), text)


def test_legacy_report_line_without_new_fields_loads_with_defaults() -> None:
    legacy = (
        '{"fixture_id":"old","passed":true,"failures":[],"final_text":"4",'
        '"inference_count":1,"tool_count":0,"tool_failures":0,"total_input_tokens":10,'
        '"total_output_tokens":1,"session_duration_ms":3}'
    )
    expected = make_report(
        fixture_id="old",
        final_text="4",
        inference_count=1,
        total_input_tokens=10,
        total_output_tokens=1,
        session_duration_ms=3,
    )
    report: ReplayReport = from_json(ReplayReport, legacy)
    assert expected == report
    assert (0, 0, (), None, 0, None, None, 0, None, None) == (
        report.total_tokens,
        report.elapsed_ms,
        report.tool_calls_by_agent,
        report.error_type,
        report.inference_error_count,
        report.runtime_failure,
        report.cost_usd,
        report.revision_count,
        report.judge_score,
        report.judge_reasoning,
    )


def test_report_always_writes_total_tokens() -> None:
    assert '"total_tokens":0' in to_json(make_report())


def test_spans_and_metrics_omit_empty_and_absent_fields() -> None:
    assert_golden(InferenceSpan, InferenceSpan(), "{}")
    assert_golden(ToolSpan, ToolSpan(name="search"), '{"name":"search"}')
    assert_golden(AgentMetrics, AgentMetrics(), "{}")
    span = InferenceSpan(run_id="r", step_index=0, input_tokens=-5, finish_reasons=("end_turn",))
    assert_golden(
        InferenceSpan,
        span,
        '{"run_id":"r","step_index":0,"finish_reasons":["end_turn"],"input_tokens":-5}',
    )
    tool = ToolSpan(name="search", agent_id="planner", call_arguments={"q": 1}, duration_ms=7)
    assert_golden(
        ToolSpan,
        tool,
        '{"agent_id":"planner","name":"search","call_arguments":{"q":1},"duration_ms":7}',
    )
    metrics = AgentMetrics(tools=(tool,), session_duration_ms=9)
    assert_golden(
        AgentMetrics,
        metrics,
        '{"tools":[{"agent_id":"planner","name":"search","call_arguments":{"q":1},'
        '"duration_ms":7}],"session_duration_ms":9}',
    )


# -- runs -------------------------------------------------------------------------------------

_REPORT_JSON = _REPORT_HEAD + ',"total_tokens":0,"session_duration_ms":0}'


def test_default_matrix_cell_is_an_empty_object() -> None:
    assert_golden(MatrixCell, MatrixCell(), "{}")
    assert_golden(MatrixCell, MatrixCell("gpt"), '{"model_id":"gpt"}')


def test_eval_run_item_omits_absent_cell_trace_and_sample_index() -> None:
    item = EvalRunItem("f", report=make_report())
    assert_golden(EvalRunItem, item, '{"fixture_id":"f","report":' + _REPORT_JSON + "}")


def test_eval_run_item_writes_present_cell_trace_and_sample_index() -> None:
    item = EvalRunItem(
        "f", cell=MatrixCell("m"), report=make_report(), trace_run_id="t", sample_index=0
    )
    text = (
        '{"fixture_id":"f","cell":{"model_id":"m"},"report":'
        + _REPORT_JSON
        + ',"trace_run_id":"t","sample_index":0}'
    )
    assert_golden(EvalRunItem, item, text)
    default_cell = EvalRunItem("f", cell=MatrixCell(), report=make_report())
    assert_golden(
        EvalRunItem, default_cell, '{"fixture_id":"f","cell":{},"report":' + _REPORT_JSON + "}"
    )


def _run_json(items: list[str], mode: str | None) -> str:
    mode_key = "" if mode is None else f'"execution_mode":"{mode}",'
    return (
        '{"id":"r","dataset_id":"d","dataset_revision":1,'
        + mode_key
        + '"items":['
        + ",".join(items)
        + '],"started_at_secs":10,"ended_at_secs":20}'
    )


def _item_json(cell: str | None) -> str:
    cell_key = "" if cell is None else f'"cell":{cell},'
    return '{"fixture_id":"f",' + cell_key + '"report":' + _REPORT_JSON + "}"


def _run(mode: EvalRunExecutionMode, items: tuple[EvalRunItem, ...] = ()) -> EvalRun:
    """The run ``_run_json`` writes."""
    return make_run(
        run_id="r",
        dataset_id="d",
        dataset_revision=1,
        mode=mode,
        items=items,
        started_at_secs=10,
        ended_at_secs=20,
    )


def test_eval_run_always_writes_execution_mode_and_items() -> None:
    assert_golden(EvalRun, _run(EvalRunExecutionMode.SCRIPTED), _run_json([], "scripted"))
    live = _run(
        EvalRunExecutionMode.LIVE, (EvalRunItem("f", cell=MatrixCell(), report=make_report()),)
    )
    assert_golden(EvalRun, live, _run_json([_item_json("{}")], "live"))


DIGEST = "0123456789abcdef" * 4


def test_eval_run_writes_fixture_digests_last() -> None:
    run = attrs.evolve(
        _run(EvalRunExecutionMode.SCRIPTED, (EvalRunItem("f", report=make_report()),)),
        fixture_digests={"f": DIGEST},
    )
    text = (
        _run_json([_item_json(None)], "scripted")[:-1] + f',"fixture_digests":{{"f":"{DIGEST}"}}}}'
    )
    assert_golden(EvalRun, run, text)


def test_eval_run_without_fixture_digests_omits_the_key() -> None:
    run = _run(EvalRunExecutionMode.SCRIPTED, (EvalRunItem("f", report=make_report()),))
    text = _run_json([_item_json(None)], "scripted")
    assert_golden(EvalRun, run, text)
    assert "fixture_digests" not in json.loads(to_json(run))


def test_legacy_run_without_items_or_cells_is_scripted() -> None:
    assert _run(EvalRunExecutionMode.SCRIPTED) == from_json(EvalRun, _run_json([], None))
    run: EvalRun = from_json(EvalRun, _run_json([_item_json(None), _item_json("null")], None))
    assert EvalRunExecutionMode.SCRIPTED == run.execution_mode
    legacy_without_items = (
        '{"id":"r","dataset_id":"d","dataset_revision":1,"started_at_secs":10,"ended_at_secs":20}'
    )
    assert _run(EvalRunExecutionMode.SCRIPTED) == from_json(EvalRun, legacy_without_items)


def test_legacy_run_with_every_item_in_a_cell_is_live() -> None:
    run: EvalRun = from_json(
        EvalRun, _run_json([_item_json('{"model_id":"m"}'), _item_json("{}")], None)
    )
    expected = _run(
        EvalRunExecutionMode.LIVE,
        (
            EvalRunItem("f", cell=MatrixCell("m"), report=make_report()),
            EvalRunItem("f", cell=MatrixCell(), report=make_report()),
        ),
    )
    assert expected == run


def _shape_error(text: str) -> InvalidExecutionShape:
    with pytest.raises(InvalidExecutionShape) as caught:
        from_json(EvalRun, text)
    return caught.value


def test_legacy_run_mixing_items_with_and_without_cells_is_rejected() -> None:
    error = _shape_error(_run_json([_item_json("{}"), _item_json(None)], None))
    assert isinstance(error, InvalidInput)
    assert ["$.items"] == [problem.path for problem in error.problems]
    assert "mixes items" in str(error)


def test_an_empty_cell_counts_as_a_cell() -> None:
    error = _shape_error(_run_json([_item_json(None), _item_json("{}")], None))
    assert "mixes items" in str(error)
    explicit = _shape_error(_run_json([_item_json("{}")], "scripted"))
    assert "execution_mode=scripted" in str(explicit)


def test_explicit_live_run_with_an_item_without_cell_is_rejected() -> None:
    error = _shape_error(_run_json([_item_json('{"model_id":"m"}'), _item_json(None)], "live"))
    assert ["$.items[1].cell"] == [problem.path for problem in error.problems]
    assert "execution_mode=live" in str(error)


def test_explicit_scripted_run_with_a_cell_is_rejected() -> None:
    error = _shape_error(_run_json([_item_json('{"model_id":"m"}')], "scripted"))
    assert ["$.items[0].cell"] == [problem.path for problem in error.problems]
    assert "execution_mode=scripted" in str(error)


def test_execution_shape_is_also_checked_at_construction() -> None:
    item = EvalRunItem("f", report=make_report())
    with pytest.raises(InvalidExecutionShape, match="execution_mode=live"):
        _run(EvalRunExecutionMode.LIVE, (item,))
    with pytest.raises(InvalidExecutionShape, match="execution_mode=scripted"):
        _run(
            EvalRunExecutionMode.SCRIPTED,
            (EvalRunItem("f", cell=MatrixCell(), report=make_report()),),
        )


def test_explicit_live_run_with_no_items_is_accepted() -> None:
    assert_golden(EvalRun, _run(EvalRunExecutionMode.LIVE), _run_json([], "live"))


def test_eval_run_summary_keys() -> None:
    summary = EvalRunSummary(
        id="r",
        dataset_id="d",
        dataset_revision=2,
        execution_mode=EvalRunExecutionMode.LIVE,
        started_at_secs=5,
        item_count=3,
        passed_count=2,
        failed_count=1,
    )
    text = (
        '{"id":"r","dataset_id":"d","dataset_revision":2,"execution_mode":"live",'
        '"started_at_secs":5,"item_count":3,"passed_count":2,"failed_count":1}'
    )
    assert_golden(EvalRunSummary, summary, text)


def test_eval_run_filter_omits_absent_criteria() -> None:
    assert_golden(EvalRunFilter, EvalRunFilter(), "{}")
    full = EvalRunFilter(dataset_id="d", since_secs=1, until_secs=2, limit=3)
    assert_golden(EvalRunFilter, full, '{"dataset_id":"d","since_secs":1,"until_secs":2,"limit":3}')


def test_sample_aggregate_omits_absent_cell() -> None:
    aggregate = SampleAggregate(
        fixture_id="f", samples=3, passed=2, pass_rate=2 / 3, pass_at_k=True, pass_pow_k=False
    )
    text = (
        '{"fixture_id":"f","samples":3,"passed":2,"pass_rate":0.6666666666666666,'
        '"pass_at_k":true,"pass_pow_k":false}'
    )
    assert_golden(SampleAggregate, aggregate, text)
    with_cell = SampleAggregate(
        fixture_id="f",
        cell=MatrixCell("m"),
        samples=0,
        passed=0,
        pass_rate=0.0,
        pass_at_k=False,
        pass_pow_k=False,
    )
    text = (
        '{"fixture_id":"f","cell":{"model_id":"m"},"samples":0,"passed":0,"pass_rate":0.0,'
        '"pass_at_k":false,"pass_pow_k":false}'
    )
    assert_golden(SampleAggregate, with_cell, text)


# -- diffs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (Unchanged(fixture_id="a"), '{"kind":"unchanged","fixture_id":"a"}'),
        (
            Regression(fixture_id="a", new_failures=("answer_missing_phrase",) * 2),
            (
                '{"kind":"regression","fixture_id":"a",'
                '"new_failures":["answer_missing_phrase","answer_missing_phrase"]}'
            ),
        ),
        (Fixed(fixture_id="a"), '{"kind":"fixed","fixture_id":"a"}'),
        (
            StillFailing(fixture_id="a", new_failures=("forbidden_tool_used",)),
            '{"kind":"still_failing","fixture_id":"a","new_failures":["forbidden_tool_used"]}',
        ),
        (
            Drift(fixture_id="a", fields=("final_text", "total_tokens")),
            '{"kind":"drift","fixture_id":"a","fields":["final_text","total_tokens"]}',
        ),
        (MissingFromNew(fixture_id="a"), '{"kind":"missing_from_new","fixture_id":"a"}'),
        (
            NewlyAdded(fixture_id="a", passed=False),
            '{"kind":"newly_added","fixture_id":"a","passed":false}',
        ),
    ],
    ids=lambda value: getattr(value, "kind", ""),
)
def test_diff_entries_are_tagged_by_kind_and_omit_absent_cell(entry: DiffEntry, text: str) -> None:
    assert_golden(DiffEntry, entry, text)


def test_diff_entry_writes_cell_and_sample_index_when_present() -> None:
    entry = Unchanged(fixture_id="a", cell=MatrixCell("m"), sample_index=1)
    assert_golden(
        DiffEntry,
        entry,
        '{"kind":"unchanged","fixture_id":"a","cell":{"model_id":"m"},"sample_index":1}',
    )
    default_cell = Fixed(fixture_id="a", cell=MatrixCell())
    assert_golden(DiffEntry, default_cell, '{"kind":"fixed","fixture_id":"a","cell":{}}')


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (Regression(fixture_id="a"), '{"kind":"regression","fixture_id":"a","new_failures":[]}'),
        (
            StillFailing(fixture_id="a"),
            '{"kind":"still_failing","fixture_id":"a","new_failures":[]}',
        ),
        (Drift(fixture_id="a"), '{"kind":"drift","fixture_id":"a","fields":[]}'),
        (
            Drift(fixture_id="a", cell=MatrixCell("m"), sample_index=0),
            (
                '{"kind":"drift","fixture_id":"a","cell":{"model_id":"m"},"sample_index":0,'
                '"fields":[]}'
            ),
        ),
    ],
    ids=["regression", "still_failing", "drift", "drift-with-cell"],
)
def test_required_diff_lists_are_written_even_when_empty(entry: DiffEntry, text: str) -> None:
    # The reference requires new_failures / fields on read: an omitted empty list
    # would make our diff unreadable there.
    assert_golden(DiffEntry, entry, text)


def test_diff_lists_missing_on_read_default_to_empty() -> None:
    assert Regression(fixture_id="a") == from_json(
        DiffEntry, '{"kind":"regression","fixture_id":"a"}'
    )
    assert Drift(fixture_id="a") == from_json(DiffEntry, '{"kind":"drift","fixture_id":"a"}')


def test_still_failing_writes_the_failure_delta_only_when_set() -> None:
    entry = StillFailing(
        fixture_id="a",
        new_failures=("a", "b"),
        failures_added=("b",),
        failures_removed=("c",),
        worsened=True,
        blocks=True,
    )
    text = (
        '{"kind":"still_failing","fixture_id":"a","new_failures":["a","b"],'
        '"failures_added":["b"],"failures_removed":["c"],"worsened":true,"blocks":true}'
    )
    assert_golden(DiffEntry, entry, text)


def test_diff_summary_always_writes_entries() -> None:
    assert_golden(DiffSummary, DiffSummary(), '{"entries":[]}')
    summary = DiffSummary((MissingFromNew(fixture_id="a"), NewlyAdded(fixture_id="b", passed=True)))
    text = (
        '{"entries":[{"kind":"missing_from_new","fixture_id":"a"},'
        '{"kind":"newly_added","fixture_id":"b","passed":true}]}'
    )
    assert_golden(DiffSummary, summary, text)


def test_sampled_diff_summary_always_writes_entries() -> None:
    assert_golden(SampledDiffSummary, SampledDiffSummary(), '{"entries":[]}')


def test_sampled_diff_entries_are_tagged_by_kind_and_omit_defaults() -> None:
    rate = GroupPassRate(passed=2, samples=2, pass_rate=1.0, pass_rate_low=0.25, pass_rate_high=1.0)
    summary = SampledDiffSummary(
        entries=(
            SampledMissingFromNew(fixture_id="a", baseline=rate),
            SampledRegression(
                fixture_id="b",
                cell=MatrixCell("m"),
                baseline=rate,
                new=GroupPassRate(
                    passed=0,
                    samples=2,
                    errored=1,
                    pass_rate=0.0,
                    pass_rate_low=0.0,
                    pass_rate_high=0.75,
                ),
                p_value=0.125,
            ),
        ),
        alpha=0.2,
    )
    rate_json = '{"passed":2,"samples":2,"pass_rate":1.0,"pass_rate_low":0.25,"pass_rate_high":1.0}'
    text = (
        '{"entries":[{"kind":"missing_from_new","fixture_id":"a","baseline":' + rate_json + "},"
        '{"kind":"regression","fixture_id":"b","cell":{"model_id":"m"},"baseline":'
        + rate_json
        + ',"new":{"passed":0,"samples":2,"errored":1,"pass_rate":0.0,"pass_rate_low":0.0,'
        '"pass_rate_high":0.75},"p_value":0.125}],"alpha":0.2}'
    )
    assert_golden(SampledDiffSummary, summary, text)


# -- evaluation vocabulary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "text"),
    [
        (RunScope(RunId("r1")), '{"scope":"run","run_id":"r1"}'),
        (TurnScope(turn_id=TurnId("t1")), '{"scope":"turn","session_id":null,"turn_id":"t1"}'),
        (
            TurnScope(session_id=SessionId("s1"), turn_id=TurnId("t1")),
            '{"scope":"turn","session_id":"s1","turn_id":"t1"}',
        ),
        (SessionScope(SessionId("s1")), '{"scope":"session","session_id":"s1"}'),
        (
            CustomScope(EntityRef("ticket", "T-1")),
            '{"scope":"custom","scope_ref":{"kind":"ticket","id":"T-1"}}',
        ),
    ],
    ids=lambda value: getattr(value, "kind", ""),
)
def test_evaluation_scope_is_tagged_by_scope(scope: EvaluationScope, text: str) -> None:
    assert_golden(EvaluationScope, scope, text)


def test_turn_scope_without_session_key_reads_as_no_session() -> None:
    assert TurnScope(turn_id=TurnId("t")) == from_json(
        EvaluationScope, '{"scope":"turn","turn_id":"t"}'
    )


def test_evaluation_is_written_with_nulls_like_the_reference() -> None:
    evaluation = Evaluation(
        RunScope(RunId("r")),
        subjects=(
            EvaluationSubject.primary(EntityRef("run", "r")),
            EvaluationSubject(
                EntityRef("doc", "d"), EvaluationSubjectRole.CANDIDATE_EVIDENCE
            ).with_redacted_summary("a doc"),
        ),
        expected=ExpectedOutcome.completed()
        .with_outcome_ref(EntityRef("answer", "a"))
        .with_criterion(EvaluationCriterion("criterion.cited", "cites").with_weight("0.5")),
    )
    text = (
        '{"scope":{"scope":"run","run_id":"r"},"subjects":['
        '{"subject_ref":{"kind":"run","id":"r"},"role":"primary","redacted_summary":null},'
        '{"subject_ref":{"kind":"doc","id":"d"},"role":"candidate_evidence",'
        '"redacted_summary":"a doc"}],'
        '"expected":{"outcome_ref":{"kind":"answer","id":"a"},"criteria":['
        '{"criterion_id":"criterion.completed","redacted_summary":"run completed",'
        '"weight":null},'
        '{"criterion_id":"criterion.cited","redacted_summary":"cites","weight":"0.5"}],'
        '"redacted_summary":"agent completed the requested task"}}'
    )
    assert_golden(Evaluation, evaluation, text)


@pytest.mark.parametrize(
    "role",
    ["primary", "candidate_evidence", "baseline", "comparator", "constraint"],
)
def test_subject_roles_are_snake_case(role: str) -> None:
    subject = EvaluationSubject(EntityRef("k", "i"), EvaluationSubjectRole(role))
    text = f'{{"subject_ref":{{"kind":"k","id":"i"}},"role":"{role}","redacted_summary":null}}'
    assert_golden(EvaluationSubject, subject, text)


def test_evaluation_vocabulary_reads_absent_optionals_as_none() -> None:
    assert EvaluationCriterion("c", "s") == from_json(
        EvaluationCriterion, '{"criterion_id":"c","redacted_summary":"s"}'
    )
    assert ExpectedOutcome("s") == from_json(ExpectedOutcome, '{"redacted_summary":"s"}')
    assert EvaluationSubject.primary(EntityRef("k", "i")) == from_json(
        EvaluationSubject, '{"subject_ref":{"kind":"k","id":"i"},"role":"primary"}'
    )


# -- trace events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            RunStarted(
                eval_run_id="r",
                dataset_id="d",
                dataset_revision=1,
                mode=RunEventMode.DATASET_SCRIPTED,
                planned_item_count=3,
                started_at_secs=10,
            ),
            (
                '{"type":"eval_run_started","eval_run_id":"r","dataset_id":"d",'
                '"dataset_revision":1,"mode":"dataset_scripted","planned_item_count":3,'
                '"started_at_secs":10}'
            ),
        ),
        (
            ItemCompleted(
                eval_run_id="r", item=EvalRunItem("f", report=make_report()), done=1, total=3
            ),
            '{"type":"eval_item_completed","eval_run_id":"r","item":{"fixture_id":"f","report":'
            + _REPORT_JSON
            + '},"done":1,"total":3}',
        ),
        (
            RunCompleted(
                eval_run_id="r",
                dataset_id="d",
                dataset_revision=1,
                mode=RunEventMode.DATASET_LIVE_MATRIX,
                item_count=3,
                passed_count=2,
                failed_count=1,
                total_cost_usd=0.0,
                started_at_secs=10,
                ended_at_secs=20,
                persisted=True,
            ),
            (
                '{"type":"eval_run_completed","eval_run_id":"r","dataset_id":"d",'
                '"dataset_revision":1,"mode":"dataset_live_matrix","item_count":3,"passed_count":2,'
                '"failed_count":1,"total_cost_usd":0.0,"started_at_secs":10,"ended_at_secs":20,'
                '"persisted":true}'
            ),
        ),
        (
            RunFailed(
                eval_run_id="r",
                dataset_id="_adhoc",
                mode=RunEventMode.ONLINE_LIVE_MATRIX,
                error="boom",
                started_at_secs=10,
                ended_at_secs=11,
            ),
            (
                '{"type":"eval_run_failed","eval_run_id":"r","dataset_id":"_adhoc",'
                '"mode":"online_live_matrix","error":"boom","started_at_secs":10,'
                '"ended_at_secs":11}'
            ),
        ),
        (
            SpanRecorded(span=ToolSpan(name="search", duration_ms=5)),
            '{"type":"span","span":{"name":"search","duration_ms":5}}',
        ),
        (
            SpanRecorded(span=InferenceSpan(run_id="run-1", input_tokens=3)),
            '{"type":"span","span":{"run_id":"run-1","input_tokens":3}}',
        ),
        (SpanRecorded(span=InferenceSpan()), '{"type":"span","span":{}}'),
        (
            EvaluationResult(
                evaluation=Evaluation(RunScope(RunId("r")), expected=ExpectedOutcome("done")),
                score=1.0,
                verdicts=(CriterionVerdict(criterion_id="c", score=1.0, reasoning="yes"),),
                passed=True,
            ),
            (
                '{"type":"evaluation_result","evaluation":{"scope":{"scope":"run","run_id":"r"},'
                '"subjects":[],"expected":{"outcome_ref":null,"criteria":[],'
                '"redacted_summary":"done"}},"score":1.0,'
                '"verdicts":[{"criterion_id":"c","score":1.0,"reasoning":"yes"}],"passed":true}'
            ),
        ),
    ],
    ids=lambda value: getattr(value, "kind", ""),
)
def test_trace_events_are_tagged_by_type(event: TraceEvent, text: str) -> None:
    assert_golden(TraceEvent, event, text)
    assert event == from_json(type(event), text)


def test_a_span_is_told_apart_by_the_tool_name() -> None:
    event: TraceEvent = from_json(
        TraceEvent, '{"type":"span","span":{"name":"fetch","run_id":"run-1"}}'
    )
    assert SpanRecorded(span=ToolSpan(name="fetch", run_id="run-1")) == event


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"kind":"eval_run_failed"}', "$.type"),
        ('{"type":"eval_run_paused"}', "$.type"),
        ('{"type":"span","span":{"call_id":"c"}}', "$.span.call_id"),
    ],
)
def test_bad_trace_events_are_rejected_with_a_path(text: str, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(TraceEvent, text)
    assert [path] == [problem.path for problem in caught.value.problems]


def test_reference_inference_span_with_unused_fields_loads() -> None:
    # A span as the reference's observability layer writes it, request, timing and
    # attribution fields included: eval ignores them, but they must not be "unknown".
    line = (
        '{"run_id":"r1","thread_id":"t1","agent_id":"a","prompt_id":"p7",'
        '"tool_desc_ids":["d1"],"skill_ids":[],"release_tag":"v1","experiment_id":"e",'
        '"variant_name":"b","step_index":0,"model":"m","provider":"openai",'
        '"operation":"chat","response_model":"m-2026","response_id":"resp-1",'
        '"finish_reasons":["end_turn"],"error_class":null,"temperature":0.2,"top_p":1.0,'
        '"max_tokens":512,"stop_sequences":["END"],"input_tokens":5,"output_tokens":2,'
        '"total_tokens":7,"duration_ms":12,"started_at_ms":1700000000000,'
        '"ended_at_ms":1700000000012}'
    )
    span = from_json(InferenceSpan, line)
    assert ("p7", "m-2026", 0.2, 512, ("END",), 1700000000012) == (
        span.prompt_id,
        span.response_model,
        span.temperature,
        span.max_tokens,
        span.stop_sequences,
        span.ended_at_ms,
    )
    assert 7 == span.token_total()


def test_reference_tool_span_with_timing_fields_loads() -> None:
    line = (
        '{"name":"search","run_id":"r1","agent_id":"a","parent_run_id":"r0",'
        '"parent_tool_call_id":"c0","call_id":"c1","duration_ms":3,'
        '"started_at_ms":1700000000000,"ended_at_ms":1700000000003}'
    )
    span = from_json(ToolSpan, line)
    assert ("r0", "c0", 1700000000003) == (
        span.parent_run_id,
        span.parent_tool_call_id,
        span.ended_at_ms,
    )
