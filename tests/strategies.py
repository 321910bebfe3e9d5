"""Hypothesis strategies for every awaken-eval record and tagged union.

Import them in property tests (``tests/`` is on ``sys.path`` when pytest runs)::

    from strategies import fixtures, replay_reports

    @given(fixtures())
    def test_something(fixture: Fixture) -> None: ...

Every strategy generates values that are valid on the wire, so
``from_json(cls, to_json(value)) == value`` holds for each of them:

* unsigned fields stay in range (:func:`u32s` is ``0..2**32-1``, :func:`u64s` is
  ``0..2**64-1``); signed span token counts are 32-bit and may be negative;
* floats are finite (JSON has no NaN or infinity); scores and thresholds are in [0, 1];
* ``Any``-typed fields hold JSON-compatible values (:func:`json_values`); for the
  ``JsonValue | None`` fields ``None`` means *absent*, and the wire cannot tell an
  absent value from an explicit ``null``, so those fields draw ``None`` or a value
  from :func:`json_values` (which may itself be ``None``: it reads back as ``None``);
* :func:`replay_reports` always has ``elapsed_ms == 0`` (the field is never written)
  and ``passed == (not failures)``, as :meth:`ReplayReport.from_outcome` builds it; its
  judge attempts, revision count, grade and verdicts are those a revise loop leaves;
* :func:`eval_runs` respects the execution-mode/cell invariant (live: every item has a
  cell; scripted: none), gives unique item keys and digests exactly the items'
  fixtures (or none);
* aggregates and summaries are internally consistent (``passed <= samples``, estimator
  tuples of length n, ``low <= rate <= high``, ...); sampled diff entries agree with
  their kind and a summary's ``alpha`` with its entries' p-values;
* trace events and the protocol records (requests, results, messages) hold data only:
  records carrying executors or judges (``ResolvedModel``, ``ReviseConfig``) have no
  wire format and no strategy.

Collections are kept small (at most 3-4 elements) so that property tests stay fast.
Every factory is cached (``fixtures() is fixtures()``): Hypothesis validates a strategy
the first time it draws from it, so reusing one object keeps generation cheap.
Identifiers are drawn from small pools mixed with arbitrary text, so that two
independently drawn runs or report lists share fixture ids and models often enough for
diff and aggregation properties to be interesting.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import attrs
from hypothesis import strategies as st

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
    ItemKey,
    JudgeRequest,
    JudgeResult,
    MatrixCell,
    ModelPricing,
    ProviderScriptEvent,
    ReplayOutcome,
    ReplayReport,
    SamplingParams,
    StopReason,
    TokenUsage,
    ToolCall,
    ToolCallEvent,
    ToolCallMatcher,
    ToolDescriptor,
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
    EventMeta,
    EventVisibility,
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
    ValueMismatch,
)
from awaken_eval.records import (
    AgentMetrics,
    AgentToolStats,
    CriterionVerdict,
    DatasetRecord,
    ErrorPolicy,
    EvalRunFilter,
    JudgeAttempt,
    MessageRole,
    MockErrorResponse,
    MockResponse,
    MockTextResponse,
    OpenRunSummary,
    RunHeader,
    SampleAggregate,
)

__all__ = [
    "DRIFT_FIELDS",
    "ESTIMATED_SAMPLES",
    "FIXTURE_ID_POOL",
    "MAX_LIST",
    "MODEL_ID_POOL",
    "TOOL_NAME_POOL",
    "agent_metrics",
    "agent_specs",
    "agent_tool_stats",
    "answer_contains_excluded_phrases",
    "answer_missing_phrases",
    "baseline_checks",
    "chat_messages",
    "chat_response_events",
    "count_constraints",
    "criterion_verdicts",
    "criterion_weights",
    "custom_scopes",
    "dataset_records",
    "dataset_specs",
    "dialogue_turns",
    "diff_entries",
    "diff_summaries",
    "digests",
    "drift_entries",
    "drift_policies",
    "duration_exceeded",
    "entity_refs",
    "error_events",
    "error_type_mismatches",
    "eval_run_filters",
    "eval_run_items",
    "eval_run_summaries",
    "eval_runs",
    "evaluation_criteria",
    "evaluation_results",
    "evaluation_scopes",
    "evaluation_subjects",
    "evaluations",
    "event_metas",
    "expectations",
    "expected_error_missing",
    "expected_outcomes",
    "failure_kinds",
    "failures",
    "finite_floats",
    "fixed_entries",
    "fixture_ids",
    "fixtures",
    "forbidden_tools_used",
    "group_pass_rates",
    "i32s",
    "inference_requests",
    "inference_results",
    "inference_spans",
    "item_completed_events",
    "json_values",
    "judge_attempts",
    "judge_below_threshold",
    "judge_requests",
    "judge_results",
    "matrix_cells",
    "missing_from_new_entries",
    "mock_error_responses",
    "mock_responses",
    "mock_text_responses",
    "model_ids",
    "model_pricings",
    "new_run_metas",
    "newly_added_entries",
    "provider_script_events",
    "provider_script_unused",
    "regressions",
    "replay_outcomes",
    "replay_reports",
    "replay_runtime_errors",
    "replay_runtime_failed",
    "replay_runtime_failures",
    "required_tool_calls_not_satisfied",
    "run_completed_events",
    "run_failed_events",
    "run_headers",
    "run_scopes",
    "run_started_events",
    "sample_aggregates",
    "sampled_diff_entries",
    "sampled_diff_summaries",
    "sampled_flaky_entries",
    "sampled_improved_entries",
    "sampled_missing_from_new_entries",
    "sampled_newly_added_entries",
    "sampled_regressions",
    "sampled_unchanged_entries",
    "sampling_params",
    "scores",
    "script_exhausted",
    "session_scopes",
    "span_recorded_events",
    "still_failing_entries",
    "summaries",
    "texts",
    "token_budget_exceeded",
    "token_usages",
    "tool_call_events",
    "tool_call_matchers",
    "tool_calls",
    "tool_descriptors",
    "tool_names",
    "tool_sequence_mismatches",
    "tool_spans",
    "trace_events",
    "turn_scopes",
    "u32s",
    "u64s",
    "unchanged_entries",
]

MAX_LIST = 3
"""Largest list drawn for a record field (keeps examples small and tests fast)."""

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
I32_MIN = -(2**31)
I32_MAX = 2**31 - 1
JSON_INT_BOUND = 2**53
"""Integers inside free-form JSON values stay within the exactly representable range."""

FIXTURE_ID_POOL = ("01_simple_qa", "02_phrase_recall", "03_token_budget", "fx", "é-ü")
"""Fixture ids drawn often, so independent draws share ids."""

MODEL_ID_POOL = ("model-a", "model-b", "gpt-x")
"""Model ids drawn often, so independent draws share cells."""

TOOL_NAME_POOL = ("search", "calculator", "fetch")
"""Tool names drawn often, so expectations and spans mention the same tools."""

DRIFT_FIELDS = (
    "final_text",
    "inference_count",
    "tool_count",
    "tool_failures",
    "total_input_tokens",
    "total_output_tokens",
    "total_tokens",
    "error_type",
    "inference_error_count",
    "runtime_failure",
    "tool_calls_by_agent",
    "cost_usd",
    "revision_count",
    "judge_score",
)
"""The observables a drift entry can name, in the spec's fixed order (§2.4)."""


# -- primitives -----------------------------------------------------------------------


@cache
def texts(*, min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[str]:
    """Short arbitrary Unicode text (no surrogates, so it is valid UTF-8)."""
    return st.text(min_size=min_size, max_size=max_size)


@cache
def u32s() -> st.SearchStrategy[int]:
    """Unsigned 32-bit integers, ``0..2**32-1``."""
    return st.integers(min_value=0, max_value=U32_MAX)


@cache
def u64s() -> st.SearchStrategy[int]:
    """Unsigned 64-bit integers, ``0..2**64-1``."""
    return st.integers(min_value=0, max_value=U64_MAX)


@cache
def i32s() -> st.SearchStrategy[int]:
    """Signed 32-bit integers (span token counts may be negative in foreign data)."""
    return st.integers(min_value=I32_MIN, max_value=I32_MAX)


@cache
def finite_floats(
    *, min_value: float | None = None, max_value: float | None = None
) -> st.SearchStrategy[float]:
    """Finite floats (JSON has no NaN or infinity)."""
    return st.floats(
        min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False
    )


@cache
def scores() -> st.SearchStrategy[float]:
    """Judge scores and thresholds: finite floats in [0, 1]."""
    return finite_floats(min_value=0.0, max_value=1.0)


@cache
def json_values(*, max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value: null, booleans, integers, finite floats, strings, arrays, objects.

    Integers stay within ±2**53 and floats are finite, so every value survives a trip
    through any JSON implementation unchanged.
    """
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-JSON_INT_BOUND, max_value=JSON_INT_BOUND),
        finite_floats(),
        texts(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=MAX_LIST),
            st.dictionaries(texts(), children, max_size=MAX_LIST),
        ),
        max_leaves=max_leaves,
    )


@cache
def _optional_json() -> st.SearchStrategy[Any]:
    """A ``JsonValue | None`` field: ``None`` is the same as absent on the wire."""
    return st.none() | json_values()


@cache
def fixture_ids() -> st.SearchStrategy[str]:
    """Fixture ids: mostly from :data:`FIXTURE_ID_POOL`, sometimes arbitrary text."""
    return st.sampled_from(FIXTURE_ID_POOL) | texts()


@cache
def digests() -> st.SearchStrategy[str]:
    """Fixture content digests: 64 lowercase hex digits (a SHA-256)."""
    return st.binary(min_size=32, max_size=32).map(bytes.hex)


@cache
def model_ids() -> st.SearchStrategy[str]:
    """Model ids: mostly from :data:`MODEL_ID_POOL`, sometimes arbitrary text."""
    return st.sampled_from(MODEL_ID_POOL) | texts()


@cache
def tool_names() -> st.SearchStrategy[str]:
    """Tool names: mostly from :data:`TOOL_NAME_POOL`, sometimes arbitrary text."""
    return st.sampled_from(TOOL_NAME_POOL) | texts()


@cache
def failure_kinds() -> st.SearchStrategy[str]:
    """The stable failure kind strings (as listed by a diff's ``new_failures``)."""
    return st.sampled_from(FAILURE_KINDS)


@cache
def _small_lists(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(elements, max_size=MAX_LIST).map(tuple)


@cache
def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@cache
def _small_or(strategy: st.SearchStrategy[int], high: int) -> st.SearchStrategy[int]:
    """Mostly small counts (``0..high``), sometimes anything ``strategy`` draws."""
    return st.integers(0, high) | strategy


# -- ids and the evaluation vocabulary -----------------------------------------------------


@cache
def entity_refs() -> st.SearchStrategy[EntityRef]:
    """:class:`~awaken_eval.EntityRef` with short kinds and ids."""
    return st.builds(
        EntityRef, kind=st.sampled_from(("run", "document", "ticket")) | texts(), id=texts()
    )


@cache
def summaries() -> st.SearchStrategy[str]:
    """Redacted summaries: short text, well below the length bound."""
    return texts(max_size=12)


@cache
def run_scopes() -> st.SearchStrategy[RunScope]:
    """:class:`~awaken_eval.RunScope` (wire tag ``scope: run``)."""
    return st.builds(RunScope, run_id=texts().map(RunId))


@cache
def turn_scopes() -> st.SearchStrategy[TurnScope]:
    """:class:`~awaken_eval.TurnScope`, with or without a session id."""
    return st.builds(
        TurnScope,
        turn_id=texts().map(TurnId),
        session_id=st.none() | texts().map(SessionId),
    )


@cache
def session_scopes() -> st.SearchStrategy[SessionScope]:
    """:class:`~awaken_eval.SessionScope`."""
    return st.builds(SessionScope, session_id=texts().map(SessionId))


@cache
def custom_scopes() -> st.SearchStrategy[CustomScope]:
    """:class:`~awaken_eval.CustomScope`."""
    return st.builds(CustomScope, scope_ref=entity_refs())


@cache
def evaluation_scopes() -> st.SearchStrategy[EvaluationScope]:
    """Any of the four :data:`~awaken_eval.EvaluationScope` variants."""
    return st.one_of(run_scopes(), turn_scopes(), session_scopes(), custom_scopes())


@cache
def evaluation_subjects() -> st.SearchStrategy[EvaluationSubject]:
    """:class:`~awaken_eval.EvaluationSubject` in any role."""
    return st.builds(
        EvaluationSubject,
        subject_ref=entity_refs(),
        role=st.sampled_from(EvaluationSubjectRole),
        redacted_summary=st.none() | summaries(),
    )


@cache
def criterion_weights() -> st.SearchStrategy[str]:
    """Criterion weights: numeric strings such as ``"2"``, ``"0.5"``, ``".25"``, ``"1e2"``."""
    return st.from_regex(
        r"\+?(?:[0-9]{1,3}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})(?:[eE][+-]?[0-9])?", fullmatch=True
    )


@cache
def evaluation_criteria() -> st.SearchStrategy[EvaluationCriterion]:
    """:class:`~awaken_eval.EvaluationCriterion`, weight absent or numeric."""
    return st.builds(
        EvaluationCriterion,
        criterion_id=st.sampled_from(("criterion.completed", "criterion.cited")) | texts(),
        redacted_summary=summaries(),
        weight=st.none() | criterion_weights(),
    )


@cache
def expected_outcomes() -> st.SearchStrategy[ExpectedOutcome]:
    """:class:`~awaken_eval.ExpectedOutcome` with up to :data:`MAX_LIST` criteria."""
    return st.builds(
        ExpectedOutcome,
        redacted_summary=summaries(),
        outcome_ref=st.none() | entity_refs(),
        criteria=_small_lists(evaluation_criteria()),
    )


@cache
def evaluations() -> st.SearchStrategy[Evaluation]:
    """:class:`~awaken_eval.Evaluation`: a scope, subjects and an expected outcome."""
    return st.builds(
        Evaluation,
        scope=evaluation_scopes(),
        subjects=_small_lists(evaluation_subjects()),
        expected=expected_outcomes(),
    )


# -- fixtures ---------------------------------------------------------------------------


@cache
def token_usages() -> st.SearchStrategy[TokenUsage]:
    """:class:`~awaken_eval.TokenUsage`, each count absent or a u64."""
    optional = st.none() | u64s()
    return st.builds(
        TokenUsage,
        prompt_tokens=optional,
        completion_tokens=optional,
        total_tokens=optional,
        cache_read_tokens=optional,
        cache_creation_tokens=optional,
        thinking_tokens=optional,
    )


@cache
def chat_response_events() -> st.SearchStrategy[ChatResponseEvent]:
    """:class:`~awaken_eval.ChatResponseEvent` with any stop reason."""
    return st.builds(
        ChatResponseEvent,
        content=texts(),
        tokens=token_usages(),
        finish_reason=st.sampled_from(StopReason),
    )


@cache
def tool_call_events() -> st.SearchStrategy[ToolCallEvent]:
    """:class:`~awaken_eval.ToolCallEvent` with JSON arguments and optional result."""
    return st.builds(
        ToolCallEvent,
        id=texts(),
        name=tool_names(),
        arguments=json_values(),
        tokens=token_usages(),
        result=_optional_json(),
    )


@cache
def error_events() -> st.SearchStrategy[ErrorEvent]:
    """:class:`~awaken_eval.ErrorEvent` (scripted provider error)."""
    return st.builds(
        ErrorEvent,
        error_type=st.sampled_from(("rate_limit", "overloaded")) | texts(),
        message=texts(),
    )


@cache
def provider_script_events() -> st.SearchStrategy[ProviderScriptEvent]:
    """Any :data:`~awaken_eval.ProviderScriptEvent` variant."""
    return st.one_of(chat_response_events(), tool_call_events(), error_events())


@cache
def mock_text_responses() -> st.SearchStrategy[MockTextResponse]:
    """:class:`~awaken_eval.MockTextResponse` (legacy)."""
    return st.builds(MockTextResponse, text=texts())


@cache
def mock_error_responses() -> st.SearchStrategy[MockErrorResponse]:
    """:class:`~awaken_eval.MockErrorResponse` (legacy)."""
    return st.builds(MockErrorResponse, error_type=texts(), message=texts())


@cache
def mock_responses() -> st.SearchStrategy[MockResponse]:
    """Either :data:`~awaken_eval.MockResponse` variant."""
    return st.one_of(mock_text_responses(), mock_error_responses())


@cache
def dialogue_turns() -> st.SearchStrategy[DialogueTurn]:
    """:class:`~awaken_eval.DialogueTurn` with a short script."""
    return st.builds(
        DialogueTurn,
        user_input=texts(),
        provider_script=_small_lists(provider_script_events()),
        provider_script_error=st.none() | texts(),
    )


@cache
def count_constraints() -> st.SearchStrategy[CountConstraint]:
    """:class:`~awaken_eval.CountConstraint`: any op, mostly small bounds."""
    return st.builds(CountConstraint, op=st.sampled_from(CountOp), n=st.integers(0, 4) | u32s())


@cache
def tool_call_matchers() -> st.SearchStrategy[ToolCallMatcher]:
    """:class:`~awaken_eval.ToolCallMatcher` with optional filters and count."""
    return st.builds(
        ToolCallMatcher,
        name=tool_names(),
        args_subset=_optional_json(),
        result_subset=_optional_json(),
        count=st.none() | count_constraints(),
    )


@cache
def expectations() -> st.SearchStrategy[Expectation]:
    """:class:`~awaken_eval.Expectation`; every key may be absent or empty.

    ``min_judge_score`` is in [0, 1] (the range load-time validation accepts).
    """
    return st.builds(
        Expectation,
        final_answer_contains=_small_lists(texts(max_size=4)),
        final_answer_excludes=_small_lists(texts(max_size=4)),
        tool_sequence=_small_lists(tool_names()),
        tool_sequence_mode=st.sampled_from(ToolSequenceMode),
        forbidden_tools=_small_lists(tool_names()),
        required_tool_calls=_small_lists(tool_call_matchers()),
        max_tokens_total=st.none() | u32s(),
        max_duration_ms=st.none() | u64s(),
        min_judge_score=st.none() | scores(),
        expected_error_type=st.none() | texts(),
    )


@cache
def fixtures(*, ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Fixture]:
    """:class:`~awaken_eval.Fixture` exercising every field.

    Args:
        ids: Strategy for the fixture id (default :func:`fixture_ids`).
    """
    return st.builds(
        Fixture,
        id=fixture_ids() if ids is None else ids,
        user_input=texts(),
        description=st.none() | texts(),
        provider_script=_small_lists(provider_script_events()),
        provider_script_error=st.none() | texts(),
        source_run_id=st.none() | texts(),
        source_model_id=st.none() | model_ids(),
        allow_unused_provider_script=st.booleans(),
        mock_response=mock_responses(),
        expect=expectations(),
        continued_turns=st.lists(dialogue_turns(), max_size=2).map(tuple),
        expected_outcome=st.none() | expected_outcomes(),
    )


@cache
def dataset_specs() -> st.SearchStrategy[DatasetSpec]:
    """:class:`~awaken_eval.DatasetSpec` whose fixtures have unique ids."""
    return st.builds(
        DatasetSpec,
        description=texts(),
        fixtures=st.lists(fixtures(), max_size=MAX_LIST, unique_by=lambda f: f.id).map(tuple),
    )


# -- failures ---------------------------------------------------------------------------


@cache
def script_exhausted() -> st.SearchStrategy[ScriptExhausted]:
    """:class:`~awaken_eval.ScriptExhausted`."""
    return st.builds(ScriptExhausted, extra_calls=u32s())


@cache
def provider_script_unused() -> st.SearchStrategy[ProviderScriptUnused]:
    """:class:`~awaken_eval.ProviderScriptUnused`."""
    return st.builds(ProviderScriptUnused, remaining=u32s())


@cache
def replay_runtime_errors() -> st.SearchStrategy[ReplayRuntimeError]:
    """:class:`~awaken_eval.ReplayRuntimeError`."""
    return st.builds(ReplayRuntimeError, message=texts())


@cache
def replay_runtime_failures() -> st.SearchStrategy[ReplayRuntimeFailure]:
    """Any :data:`~awaken_eval.ReplayRuntimeFailure` variant."""
    return st.one_of(script_exhausted(), provider_script_unused(), replay_runtime_errors())


@cache
def answer_missing_phrases() -> st.SearchStrategy[AnswerMissingPhrase]:
    """:class:`~awaken_eval.AnswerMissingPhrase`."""
    return st.builds(AnswerMissingPhrase, phrase=texts())


@cache
def answer_contains_excluded_phrases() -> st.SearchStrategy[AnswerContainsExcludedPhrase]:
    """:class:`~awaken_eval.AnswerContainsExcludedPhrase`."""
    return st.builds(AnswerContainsExcludedPhrase, phrase=texts())


@cache
def tool_sequence_mismatches() -> st.SearchStrategy[ToolSequenceMismatch]:
    """:class:`~awaken_eval.ToolSequenceMismatch` in either mode."""
    return st.builds(
        ToolSequenceMismatch,
        expected=_small_lists(tool_names()),
        actual=_small_lists(tool_names()),
        mode=st.sampled_from(ToolSequenceMode),
    )


@cache
def forbidden_tools_used() -> st.SearchStrategy[ForbiddenToolUsed]:
    """:class:`~awaken_eval.ForbiddenToolUsed`."""
    return st.builds(ForbiddenToolUsed, tool=tool_names())


@cache
def required_tool_calls_not_satisfied() -> st.SearchStrategy[RequiredToolCallNotSatisfied]:
    """:class:`~awaken_eval.RequiredToolCallNotSatisfied` with optional count and flags."""
    return st.builds(
        RequiredToolCallNotSatisfied,
        name=tool_names(),
        expected_count=st.none() | count_constraints(),
        actual_matches=u32s(),
        args_filter_set=st.booleans(),
        result_filter_set=st.booleans(),
        mismatch=st.none() | value_mismatches(),
    )


@cache
def value_mismatches() -> st.SearchStrategy[ValueMismatch]:
    """:class:`~awaken_eval.failures.ValueMismatch`: where a call differs from a filter."""
    return st.builds(
        ValueMismatch,
        call=st.sampled_from(["arguments", "result"]),
        path=st.sampled_from(["$", "$.city", "$.items[0]"]),
        expected=json_values(),
        actual=st.none() | json_values(),
        found=st.booleans(),
    )


@cache
def token_budget_exceeded() -> st.SearchStrategy[TokenBudgetExceeded]:
    """:class:`~awaken_eval.TokenBudgetExceeded` (any u32 values)."""
    return st.builds(TokenBudgetExceeded, budget=u32s(), actual=u32s())


@cache
def duration_exceeded() -> st.SearchStrategy[DurationExceeded]:
    """:class:`~awaken_eval.DurationExceeded` (any u64 values)."""
    return st.builds(DurationExceeded, budget_ms=u64s(), actual_ms=u64s())


@cache
def judge_below_threshold() -> st.SearchStrategy[JudgeBelowThreshold]:
    """:class:`~awaken_eval.JudgeBelowThreshold` with scores in [0, 1]."""
    return st.builds(JudgeBelowThreshold, threshold=scores(), actual=scores())


@cache
def expected_error_missing() -> st.SearchStrategy[ExpectedErrorMissing]:
    """:class:`~awaken_eval.ExpectedErrorMissing`."""
    return st.builds(ExpectedErrorMissing, expected=texts())


@cache
def error_type_mismatches() -> st.SearchStrategy[ErrorTypeMismatch]:
    """:class:`~awaken_eval.ErrorTypeMismatch`."""
    return st.builds(ErrorTypeMismatch, expected=texts(), actual=texts())


@cache
def replay_runtime_failed() -> st.SearchStrategy[ReplayRuntimeFailed]:
    """:class:`~awaken_eval.ReplayRuntimeFailed` wrapping any runtime failure."""
    return st.builds(ReplayRuntimeFailed, failure=replay_runtime_failures())


@cache
def failures() -> st.SearchStrategy[Failure]:
    """Any of the eleven :data:`~awaken_eval.Failure` variants."""
    return st.one_of(
        answer_missing_phrases(),
        answer_contains_excluded_phrases(),
        tool_sequence_mismatches(),
        forbidden_tools_used(),
        required_tool_calls_not_satisfied(),
        token_budget_exceeded(),
        duration_exceeded(),
        judge_below_threshold(),
        expected_error_missing(),
        error_type_mismatches(),
        replay_runtime_failed(),
    )


# -- spans, metrics, outcomes and reports ----------------------------------------------


@cache
def inference_spans() -> st.SearchStrategy[InferenceSpan]:
    """:class:`~awaken_eval.InferenceSpan`; token counts are signed 32-bit or absent."""
    tokens = st.none() | i32s()
    return st.builds(
        InferenceSpan,
        run_id=st.sampled_from(("", "run-1", "run-2")) | texts(),
        thread_id=texts(),
        agent_id=texts(),
        parent_run_id=st.none() | texts(),
        parent_tool_call_id=st.none() | texts(),
        prompt_id=st.none() | texts(),
        tool_desc_ids=_small_lists(texts()),
        skill_ids=_small_lists(texts()),
        release_tag=st.none() | texts(),
        experiment_id=st.none() | texts(),
        variant_name=st.none() | texts(),
        step_index=st.none() | u32s(),
        model=model_ids(),
        provider=texts(),
        operation=st.sampled_from(("chat", "text_completion")),
        response_model=st.none() | model_ids(),
        response_id=st.none() | texts(),
        error_class=st.none() | texts(),
        temperature=st.none() | finite_floats(min_value=0.0),
        top_p=st.none() | finite_floats(min_value=0.0),
        max_tokens=st.none() | u32s(),
        stop_sequences=_small_lists(texts()),
        started_at_ms=st.none() | u64s(),
        ended_at_ms=st.none() | u64s(),
        finish_reasons=_small_lists(
            st.sampled_from(("end_turn", "max_tokens", "tool_use", "stop_sequence"))
        ),
        error_type=st.none() | texts(),
        input_tokens=tokens,
        output_tokens=tokens,
        total_tokens=tokens,
        cache_read_input_tokens=tokens,
        cache_creation_input_tokens=tokens,
        thinking_tokens=tokens,
        duration_ms=st.none() | u64s(),
        response_content=_optional_json(),
        response_tool_calls=_optional_json(),
        request_messages=_optional_json(),
        request_id=st.none() | texts(),
        attempts=st.none() | u32s(),
        retry_wait_ms=st.none() | u64s(),
    )


@cache
def tool_spans() -> st.SearchStrategy[ToolSpan]:
    """:class:`~awaken_eval.ToolSpan` with optional captured arguments and result."""
    return st.builds(
        ToolSpan,
        name=tool_names(),
        run_id=st.sampled_from(("", "run-1", "run-2")) | texts(),
        thread_id=texts(),
        agent_id=st.sampled_from(("", "planner", "worker")) | texts(),
        parent_run_id=st.none() | texts(),
        parent_tool_call_id=st.none() | texts(),
        prompt_id=st.none() | texts(),
        tool_desc_ids=_small_lists(texts()),
        skill_ids=_small_lists(texts()),
        release_tag=st.none() | texts(),
        experiment_id=st.none() | texts(),
        variant_name=st.none() | texts(),
        step_index=st.none() | u32s(),
        operation=st.sampled_from(("execute_tool", "other")),
        call_id=st.none() | texts(),
        tool_type=st.sampled_from(("function", "builtin")),
        started_at_ms=st.none() | u64s(),
        ended_at_ms=st.none() | u64s(),
        call_arguments=_optional_json(),
        call_result=_optional_json(),
        error_type=st.none() | texts(),
        duration_ms=st.integers(0, 10_000) | u64s(),
    )


@cache
def agent_metrics() -> st.SearchStrategy[AgentMetrics]:
    """:class:`~awaken_eval.AgentMetrics` with a few spans and opaque events."""
    events = st.lists(json_values(max_leaves=3), max_size=2).map(tuple)
    return st.builds(
        AgentMetrics,
        inferences=_small_lists(inference_spans()),
        tools=_small_lists(tool_spans()),
        evaluations=events,
        suspensions=events,
        handoffs=events,
        delegations=events,
        background_tasks=events,
        session_duration_ms=u64s(),
    )


@cache
def agent_tool_stats() -> st.SearchStrategy[AgentToolStats]:
    """:class:`~awaken_eval.AgentToolStats` (counts are not cross-checked)."""
    return st.builds(
        AgentToolStats,
        agent_id=st.sampled_from(("", "planner", "worker")) | texts(),
        tool=tool_names(),
        call_count=u32s(),
        failure_count=u32s(),
        total_duration_ms=u64s(),
    )


@cache
def criterion_verdicts() -> st.SearchStrategy[CriterionVerdict]:
    """:class:`~awaken_eval.CriterionVerdict` with a score in [0, 1]."""
    return st.builds(
        CriterionVerdict,
        criterion_id=st.sampled_from(("criterion.completed", "criterion.cited")) | texts(),
        score=scores(),
        reasoning=st.none() | texts(),
    )


@cache
def judge_attempts() -> st.SearchStrategy[JudgeAttempt]:
    """A single :class:`~awaken_eval.JudgeAttempt` (score in [0, 1]).

    The attempts of a report or outcome come as a sequence instead (see
    :func:`replay_reports`).
    """
    return st.builds(
        JudgeAttempt,
        revision=_small_or(u32s(), 3),
        score=scores(),
        reasoning=st.none() | texts(),
    )


@st.composite
def _judge_fields(draw: st.DrawFn, revision_counts: st.SearchStrategy[int]) -> dict[str, Any]:
    """The judge fields of an outcome or report, as a revise loop leaves them.

    With ``m`` attempts, their revisions are ``0..m-1`` and either the loop stopped on
    a grade (``revision_count == m - 1``; the grade is the last attempt's) or it asked
    for one more revision that was never graded (``revision_count == m``, no grade).
    Without attempts (no judge, a judge outside a revise loop, or a document written
    before attempts were recorded), count and grade are drawn independently. Verdicts
    only come with a grade.
    """
    count = draw(st.integers(0, MAX_LIST))
    attempts = tuple(
        JudgeAttempt(revision=revision, score=draw(scores()), reasoning=draw(_optional(texts())))
        for revision in range(count)
    )
    score: float | None
    reasoning: str | None
    if not attempts:
        revision_count = draw(revision_counts)
        score, reasoning = draw(_optional(scores())), draw(_optional(texts()))
    elif draw(st.booleans()):
        revision_count = count - 1
        score, reasoning = attempts[-1].score, attempts[-1].reasoning
    else:
        revision_count, score, reasoning = count, None, None
    return {
        "revision_count": revision_count,
        "judge_score": score,
        "judge_reasoning": reasoning,
        "judge_verdicts": () if score is None else draw(_small_lists(criterion_verdicts())),
        "judge_attempts": attempts,
    }


_OUTCOME_JUDGING = _judge_fields(st.integers(0, 3))
_REPORT_JUDGING = _judge_fields(_small_or(u32s(), 3))


@st.composite
def _replay_outcomes(draw: st.DrawFn, fixture_id: st.SearchStrategy[str]) -> ReplayOutcome:
    return ReplayOutcome(
        fixture_id=draw(fixture_id),
        final_text=draw(texts()),
        metrics=draw(agent_metrics()),
        elapsed_seconds=draw(finite_floats(min_value=0.0, max_value=1e6)),
        error_type=draw(_optional(texts())),
        inference_error_count=draw(st.integers(0, 3)),
        runtime_failure=draw(_optional(replay_runtime_failures())),
        **draw(_OUTCOME_JUDGING),
    )


@cache
def replay_outcomes(
    *, fixture_id: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ReplayOutcome]:
    """:class:`~awaken_eval.ReplayOutcome` (in memory only; elapsed time is finite >= 0).

    The judge fields are consistent with a revise loop (see :func:`replay_reports`).

    Args:
        fixture_id: Strategy for the fixture id (default :func:`fixture_ids`).
    """
    return _replay_outcomes(fixture_ids() if fixture_id is None else fixture_id)


_BOOLEANS = st.booleans()
_EXECUTION_MODES = st.sampled_from(EvalRunExecutionMode)
_RUN_IDS = st.sampled_from(("01JD3R8Q5YF6W9S2C4T0B7M1NA", "run")) | texts(min_size=1)
_DATASET_IDS = st.sampled_from(("ds", "_adhoc")) | texts()
_TIMESTAMPS = st.integers(0, 2_000_000_000) | u64s()
_TIMESTAMP_PAIRS = st.tuples(_TIMESTAMPS, _TIMESTAMPS)


@cache
def _failure_lists(min_size: int, max_size: int) -> st.SearchStrategy[list[Failure]]:
    return st.lists(failures(), min_size=min_size, max_size=max_size)


@st.composite
def _replay_reports(
    draw: st.DrawFn, fixture_id: st.SearchStrategy[str], passed: bool | None
) -> ReplayReport:
    min_failures = 1 if passed is False else 0
    max_failures = 0 if passed is True else MAX_LIST
    drawn = draw(_failure_lists(min_failures, max_failures))
    return ReplayReport(
        fixture_id=draw(fixture_id),
        passed=not drawn,
        failures=tuple(drawn),
        final_text=draw(texts()),
        inference_count=draw(_small_or(u32s(), 5)),
        tool_count=draw(_small_or(u32s(), 5)),
        tool_failures=draw(_small_or(u32s(), 5)),
        total_input_tokens=draw(u32s()),
        total_output_tokens=draw(u32s()),
        total_tokens=draw(u32s()),
        session_duration_ms=draw(u64s()),
        elapsed_ms=0,
        tool_calls_by_agent=draw(_small_lists(agent_tool_stats())),
        error_type=draw(_optional(texts())),
        inference_error_count=draw(_small_or(u32s(), 3)),
        runtime_failure=draw(_optional(replay_runtime_failures())),
        cost_usd=draw(_optional(finite_floats(min_value=0.0))),
        inference_retries=draw(_small_or(u32s(), 3)),
        retry_wait_ms=draw(_small_or(u64s(), 3)),
        **draw(_REPORT_JUDGING),
    )


@cache
def replay_reports(
    *, fixture_id: st.SearchStrategy[str] | None = None, passed: bool | None = None
) -> st.SearchStrategy[ReplayReport]:
    """:class:`~awaken_eval.ReplayReport` with ``passed == (not failures)``.

    ``elapsed_ms`` is always 0: it is never written, so a report read back has 0. The
    judge fields are those a revise loop leaves: attempts numbered ``0..m-1``, then
    either a grade equal to the last attempt's (``revision_count == m - 1``) or no
    grade after one more revision (``m``); verdicts only with a grade. Reports without
    attempts draw the revision count and grade independently.

    Args:
        fixture_id: Strategy for the fixture id (default :func:`fixture_ids`).
        passed: Force a passing (``True``: no failures) or failing (``False``: at least
            one failure) report; ``None`` draws either.
    """
    return _replay_reports(fixture_ids() if fixture_id is None else fixture_id, passed)


# -- runs ----------------------------------------------------------------------------------


@cache
def matrix_cells() -> st.SearchStrategy[MatrixCell]:
    """:class:`~awaken_eval.MatrixCell`, including the default cell (no model)."""
    return st.builds(MatrixCell, model_id=st.none() | model_ids())


@st.composite
def _eval_run_items(
    draw: st.DrawFn,
    fixture_id: st.SearchStrategy[str],
    cell: bool | None,
    sample_index: st.SearchStrategy[int | None],
) -> EvalRunItem:
    item_fixture_id = draw(fixture_id)
    has_cell = draw(_BOOLEANS) if cell is None else cell
    return EvalRunItem(
        fixture_id=item_fixture_id,
        cell=draw(matrix_cells()) if has_cell else None,
        report=attrs.evolve(draw(replay_reports()), fixture_id=item_fixture_id),
        trace_run_id=draw(_optional(texts())),
        sample_index=draw(sample_index),
    )


@cache
def eval_run_items(
    *,
    cell: bool | None = None,
    fixture_id: st.SearchStrategy[str] | None = None,
    sample_index: st.SearchStrategy[int | None] | None = None,
) -> st.SearchStrategy[EvalRunItem]:
    """:class:`~awaken_eval.EvalRunItem` whose report names the same fixture.

    Args:
        cell: ``True``: the item has a cell (live); ``False``: it has none (scripted);
            ``None``: either.
        fixture_id: Strategy for the fixture id (default :func:`fixture_ids`).
        sample_index: Strategy for the sample index (default: absent or 0..3).
    """
    return _eval_run_items(
        fixture_ids() if fixture_id is None else fixture_id,
        cell,
        st.none() | st.integers(0, 3) if sample_index is None else sample_index,
    )


def _item_key(item: EvalRunItem) -> ItemKey:
    return item.key


@cache
def _unique_item_lists(live: bool, max_items: int) -> st.SearchStrategy[list[EvalRunItem]]:
    return st.lists(eval_run_items(cell=live), max_size=max_items, unique_by=_item_key)


@st.composite
def _eval_runs(draw: st.DrawFn, mode: EvalRunExecutionMode | None, max_items: int) -> EvalRun:
    run_mode = draw(_EXECUTION_MODES) if mode is None else mode
    live = run_mode is EvalRunExecutionMode.LIVE
    items = draw(_unique_item_lists(live, max_items))
    started, ended = sorted(draw(_TIMESTAMP_PAIRS))
    digested = draw(_BOOLEANS)
    return EvalRun(
        id=draw(_RUN_IDS),
        dataset_id=draw(_DATASET_IDS),
        dataset_revision=draw(_small_or(u64s(), 5)),
        execution_mode=run_mode,
        items=tuple(items),
        started_at_secs=started,
        ended_at_secs=ended,
        fixture_digests={item.fixture_id: draw(digests()) for item in items} if digested else {},
    )


@cache
def eval_runs(
    mode: EvalRunExecutionMode | None = None, *, max_items: int = 4
) -> st.SearchStrategy[EvalRun]:
    """:class:`~awaken_eval.EvalRun` obeying the execution-mode/cell invariant.

    Live runs have a cell on every item, scripted runs on none; item keys are unique
    and ``ended_at_secs >= started_at_secs``. ``fixture_digests`` is either empty (a run
    written before digests were recorded) or maps each fixture id of the items to a
    64-hex digest.

    Args:
        mode: Force the execution mode; ``None`` draws either.
        max_items: Largest number of items.
    """
    return _eval_runs(mode, max_items)


@st.composite
def _eval_run_summaries(draw: st.DrawFn) -> EvalRunSummary:
    passed = draw(_small_or(u32s(), 10))
    failed = min(draw(_small_or(u32s(), 10)), U32_MAX - passed)
    return EvalRunSummary(
        id=draw(texts(min_size=1)),
        dataset_id=draw(texts()),
        dataset_revision=draw(u64s()),
        execution_mode=draw(_EXECUTION_MODES),
        started_at_secs=draw(u64s()),
        item_count=passed + failed,
        passed_count=passed,
        failed_count=failed,
    )


@cache
def eval_run_summaries() -> st.SearchStrategy[EvalRunSummary]:
    """:class:`~awaken_eval.EvalRunSummary` with ``item_count == passed + failed``."""
    return _eval_run_summaries()


@cache
def open_run_summaries() -> st.SearchStrategy[OpenRunSummary]:
    """:class:`~awaken_eval.records.OpenRunSummary`, counted as a finished run's summary."""
    return eval_run_summaries().map(lambda summary: OpenRunSummary(**attrs.asdict(summary)))


@cache
def eval_run_filters() -> st.SearchStrategy[EvalRunFilter]:
    """:class:`~awaken_eval.EvalRunFilter`; every criterion may be absent."""
    return st.builds(
        EvalRunFilter,
        dataset_id=st.none() | texts(),
        since_secs=st.none() | u64s(),
        until_secs=st.none() | u64s(),
        limit=st.none() | u32s(),
    )


ESTIMATED_SAMPLES = 5
"""Largest drawn group with estimators (``pass_at``/``pass_hat`` hold one value per k)."""


def _estimators(n: int, c: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """pass@k and pass^k for k = 1..n by their definitions; k = 1 is exactly c / n."""
    at = [1.0 - math.comb(n - c, k) / math.comb(n, k) for k in range(1, n + 1)]
    hat = [math.comb(c, k) / math.comb(n, k) for k in range(1, n + 1)]
    if n:
        at[0] = hat[0] = c / n
    return tuple(at), tuple(hat)


def _interval(draw: st.DrawFn, successes: int, n: int) -> tuple[float, float]:
    """A confidence interval shaped like the Wilson interval of ``successes / n``.

    ``(0.0, 1.0)`` without trials; otherwise ``low <= successes / n <= high``, with
    ``low`` exactly 0.0 without successes and ``high`` exactly 1.0 when all succeeded.
    """
    if n == 0:
        return 0.0, 1.0
    rate = successes / n
    low = 0.0 if successes == 0 else rate * draw(scores())
    high = 1.0 if successes == n else min(1.0, rate + (1.0 - rate) * draw(scores()))
    return low, high


@st.composite
def _sample_aggregates(draw: st.DrawFn) -> SampleAggregate:
    fixture_id, cell = draw(fixture_ids()), draw(_optional(matrix_cells()))
    if draw(_BOOLEANS):  # a reference document: the additive fields keep their defaults
        samples = draw(_small_or(u32s(), 10))
        passed = draw(st.integers(0, samples))
        errored = 0
        policy = ErrorPolicy.COUNT_AS_FAILURE
        scored: tuple[int, int] | None = None
    else:
        samples = draw(st.integers(0, ESTIMATED_SAMPLES))
        errored = draw(st.integers(0, samples))
        clean_passed = draw(st.integers(0, samples - errored))
        passed = clean_passed + draw(st.integers(0, errored))  # an errored report may pass
        policy = draw(st.sampled_from(ErrorPolicy))
        n = samples - errored if policy is ErrorPolicy.EXCLUDE else samples
        scored = (n, clean_passed)
    aggregate = SampleAggregate(
        fixture_id=fixture_id,
        cell=cell,
        samples=samples,
        passed=passed,
        pass_rate=passed / samples if samples else 0.0,
        pass_at_k=passed >= 1,
        pass_pow_k=samples > 0 and passed == samples,
        errored=errored,
        error_policy=policy,
    )
    if scored is None:
        return aggregate
    n, c = scored
    pass_at, pass_hat = _estimators(n, c)
    low, high = _interval(draw, c, n)
    return attrs.evolve(
        aggregate,
        scored_samples=n,
        scored_passed=c,
        pass_at=pass_at,
        pass_hat=pass_hat,
        pass_rate_low=low,
        pass_rate_high=high,
    )


@cache
def sample_aggregates() -> st.SearchStrategy[SampleAggregate]:
    """:class:`~awaken_eval.SampleAggregate` consistent with its counts (spec §2.6).

    Half are reference documents (the seven reference fields, additive fields at their
    defaults, any u32 counts); the others are small groups (at most
    :data:`ESTIMATED_SAMPLES` items) with every additive field: ``errored <= samples``,
    the scored counts ``n``/``c`` follow the error policy (errored items never count as
    passes), ``pass_at``/``pass_hat`` are the exact estimators for k = 1..n (in [0, 1],
    pass@k non-decreasing, pass^k non-increasing) and ``low <= c / n <= high``.
    """
    return _sample_aggregates()


# -- diffs -------------------------------------------------------------------------------

_CELLS = st.none() | matrix_cells()
_SAMPLE_INDEXES = st.none() | st.integers(0, 3) | u32s()
_FAILURE_KIND_LISTS = st.lists(failure_kinds(), max_size=MAX_LIST).map(tuple)


@cache
def unchanged_entries() -> st.SearchStrategy[Unchanged]:
    """:class:`~awaken_eval.Unchanged` diff entries."""
    return st.builds(Unchanged, fixture_id=fixture_ids(), cell=_CELLS, sample_index=_SAMPLE_INDEXES)


@cache
def regressions() -> st.SearchStrategy[Regression]:
    """:class:`~awaken_eval.Regression` diff entries."""
    return st.builds(
        Regression,
        fixture_id=fixture_ids(),
        cell=_CELLS,
        sample_index=_SAMPLE_INDEXES,
        new_failures=_FAILURE_KIND_LISTS,
    )


@cache
def fixed_entries() -> st.SearchStrategy[Fixed]:
    """:class:`~awaken_eval.Fixed` diff entries."""
    return st.builds(Fixed, fixture_id=fixture_ids(), cell=_CELLS, sample_index=_SAMPLE_INDEXES)


@st.composite
def _still_failing_entries(draw: st.DrawFn) -> StillFailing:
    added = draw(_FAILURE_KIND_LISTS)
    worsened = bool(added)
    return StillFailing(
        fixture_id=draw(fixture_ids()),
        cell=draw(_CELLS),
        sample_index=draw(_SAMPLE_INDEXES),
        new_failures=draw(_FAILURE_KIND_LISTS),
        failures_added=added,
        failures_removed=draw(_FAILURE_KIND_LISTS),
        worsened=worsened,
        blocks=worsened and draw(_BOOLEANS),
    )


@cache
def still_failing_entries() -> st.SearchStrategy[StillFailing]:
    """:class:`~awaken_eval.StillFailing` entries (``blocks`` implies ``worsened``)."""
    return _still_failing_entries()


@cache
def drift_entries() -> st.SearchStrategy[Drift]:
    """:class:`~awaken_eval.Drift` entries naming drift fields in the spec's order."""
    fields = st.lists(st.sampled_from(DRIFT_FIELDS), min_size=1, max_size=4, unique=True).map(
        lambda names: tuple(sorted(names, key=DRIFT_FIELDS.index))
    )
    return st.builds(
        Drift, fixture_id=fixture_ids(), cell=_CELLS, sample_index=_SAMPLE_INDEXES, fields=fields
    )


@cache
def missing_from_new_entries() -> st.SearchStrategy[MissingFromNew]:
    """:class:`~awaken_eval.MissingFromNew` diff entries."""
    return st.builds(
        MissingFromNew, fixture_id=fixture_ids(), cell=_CELLS, sample_index=_SAMPLE_INDEXES
    )


@cache
def newly_added_entries() -> st.SearchStrategy[NewlyAdded]:
    """:class:`~awaken_eval.NewlyAdded` diff entries (passing or failing)."""
    return st.builds(
        NewlyAdded,
        fixture_id=fixture_ids(),
        cell=_CELLS,
        sample_index=_SAMPLE_INDEXES,
        passed=st.booleans(),
    )


@cache
def diff_entries() -> st.SearchStrategy[DiffEntry]:
    """Any of the seven :data:`~awaken_eval.DiffEntry` variants."""
    return st.one_of(
        unchanged_entries(),
        regressions(),
        fixed_entries(),
        still_failing_entries(),
        drift_entries(),
        missing_from_new_entries(),
        newly_added_entries(),
    )


@cache
def diff_summaries() -> st.SearchStrategy[DiffSummary]:
    """:class:`~awaken_eval.DiffSummary` with a few entries (not sorted by key)."""
    return st.builds(DiffSummary, entries=_small_lists(diff_entries()))


# -- sampled diffs -------------------------------------------------------------------------

_SCORED_COUNTS = st.integers(1, ESTIMATED_SAMPLES) | st.integers(1, U32_MAX)
"""Scored sample counts of a group present on a side: mostly small, at least 1."""

_SIGNIFICANT_P_VALUES = finite_floats(min_value=0.0, max_value=0.01).filter(lambda p: p < 0.01)
"""p-values of regressions and improvements: below every alpha of a drawn summary."""

_FLAKY_P_VALUES = finite_floats(min_value=0.1, max_value=1.0)
"""p-values of flaky entries: at least every alpha of a drawn summary."""

_ALPHAS = st.sampled_from((0.01, 0.05, 0.1)) | finite_floats(min_value=0.01, max_value=0.1)
_CONFIDENCES = st.sampled_from((0.9, 0.95, 0.99)) | finite_floats(min_value=0.5, max_value=0.999)


def _group_rate(draw: st.DrawFn, passed: int, samples: int) -> GroupPassRate:
    """The counts of one side: errored samples are among the failures."""
    low, high = _interval(draw, passed, samples)
    return GroupPassRate(
        passed=passed,
        samples=samples,
        errored=draw(st.integers(0, samples - passed)),
        pass_rate=passed / samples if samples else 0.0,
        pass_rate_low=low,
        pass_rate_high=high,
    )


@st.composite
def _group_pass_rates(draw: st.DrawFn, min_samples: int) -> GroupPassRate:
    samples = draw(_SCORED_COUNTS if min_samples else _small_or(u32s(), ESTIMATED_SAMPLES))
    return _group_rate(draw, draw(st.integers(0, samples)), samples)


@cache
def group_pass_rates(*, min_samples: int = 0) -> st.SearchStrategy[GroupPassRate]:
    """:class:`~awaken_eval.GroupPassRate` consistent with its counts.

    ``passed <= samples``, ``errored`` is among the failures, ``pass_rate`` is
    ``passed / samples`` (0.0 without samples) and the interval is Wilson-shaped around
    it (``(0.0, 1.0)`` without samples).

    Args:
        min_samples: 0 for any group, 1 for a group with scored samples.
    """
    return _group_pass_rates(min_samples)


@st.composite
def _excluded_rates(draw: st.DrawFn) -> GroupPassRate:
    """A side whose every sample was excluded as errored (``ErrorPolicy.EXCLUDE`` only)."""
    errored = draw(st.integers(1, ESTIMATED_SAMPLES) | st.integers(1, U32_MAX))
    return GroupPassRate(
        passed=0, samples=0, errored=errored, pass_rate=0.0, pass_rate_low=0.0, pass_rate_high=1.0
    )


@st.composite
def _compared_fields(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Fields of an entry present on both sides with scored samples, as ``kind`` needs.

    ``regression``: the new pass rate is lower; ``improved``: higher; ``flaky``: the
    pooled samples hold passes and failures; ``unchanged``: both sides all-pass or
    both all-fail, p-value 1.0.
    """
    old_n, new_n = draw(_SCORED_COUNTS), draw(_SCORED_COUNTS)
    if kind == "unchanged":
        old_c, new_c = (old_n, new_n) if draw(_BOOLEANS) else (0, 0)
        p_value = 1.0
    elif kind == "flaky":
        old_c, new_c = draw(st.integers(0, old_n)), draw(st.integers(0, new_n))
        if old_c + new_c == 0:
            new_c = 1
        elif old_c + new_c == old_n + new_n:
            new_c -= 1
        p_value = draw(_FLAKY_P_VALUES)
    else:  # a drop from old to new, swapped for an improvement
        old_c = draw(st.integers(1, old_n))
        new_c = draw(st.integers(0, (old_c * new_n - 1) // old_n))  # new_c/new_n < old_c/old_n
        if kind == "improved":
            (old_n, old_c), (new_n, new_c) = (new_n, new_c), (old_n, old_c)
        p_value = draw(_SIGNIFICANT_P_VALUES)
    return {
        "fixture_id": draw(fixture_ids()),
        "cell": draw(_CELLS),
        "baseline": _group_rate(draw, old_c, old_n),
        "new": _group_rate(draw, new_c, new_n),
        "p_value": p_value,
    }


@cache
def sampled_regressions() -> st.SearchStrategy[SampledRegression]:
    """:class:`~awaken_eval.SampledRegression`: lower new rate, p-value below 0.01."""
    return _compared_fields("regression").map(lambda fields: SampledRegression(**fields))


@cache
def sampled_improved_entries() -> st.SearchStrategy[SampledImproved]:
    """:class:`~awaken_eval.SampledImproved`: higher new rate, p-value below 0.01."""
    return _compared_fields("improved").map(lambda fields: SampledImproved(**fields))


@cache
def sampled_flaky_entries() -> st.SearchStrategy[SampledFlaky]:
    """:class:`~awaken_eval.SampledFlaky`: mixed pooled samples, p-value at least 0.1."""
    return _compared_fields("flaky").map(lambda fields: SampledFlaky(**fields))


@cache
def sampled_unchanged_entries() -> st.SearchStrategy[SampledUnchanged]:
    """:class:`~awaken_eval.SampledUnchanged`: both sides all-pass or all-fail."""
    return _compared_fields("unchanged").map(lambda fields: SampledUnchanged(**fields))


@cache
def _absent_sides(error_policy: ErrorPolicy | None) -> st.SearchStrategy[GroupPassRate | None]:
    """The side without scored samples: absent, or (when excluding) all excluded."""
    if error_policy is ErrorPolicy.COUNT_AS_FAILURE:
        return st.none()
    return st.none() | _excluded_rates()


@cache
def sampled_missing_from_new_entries(
    error_policy: ErrorPolicy | None = None,
) -> st.SearchStrategy[SampledMissingFromNew]:
    """:class:`~awaken_eval.SampledMissingFromNew`: a baseline group the new run lacks.

    The new side is absent or, unless ``error_policy`` counts errors as failures,
    entirely excluded as errored.
    """
    return st.builds(
        SampledMissingFromNew,
        fixture_id=fixture_ids(),
        cell=_CELLS,
        baseline=group_pass_rates(min_samples=1),
        new=_absent_sides(error_policy),
    )


@cache
def sampled_newly_added_entries(
    error_policy: ErrorPolicy | None = None,
) -> st.SearchStrategy[SampledNewlyAdded]:
    """:class:`~awaken_eval.SampledNewlyAdded`: a new group the baseline lacks.

    The baseline side is absent or, unless ``error_policy`` counts errors as failures,
    entirely excluded as errored.
    """
    return st.builds(
        SampledNewlyAdded,
        fixture_id=fixture_ids(),
        cell=_CELLS,
        baseline=_absent_sides(error_policy),
        new=group_pass_rates(min_samples=1),
    )


@cache
def sampled_diff_entries(
    error_policy: ErrorPolicy | None = None,
) -> st.SearchStrategy[SampledDiffEntry]:
    """Any of the six :data:`~awaken_eval.SampledDiffEntry` variants.

    Args:
        error_policy: The policy the entries were computed under (``None``: either);
            only ``exclude`` leaves a side with every sample excluded.
    """
    return st.one_of(
        sampled_regressions(),
        sampled_improved_entries(),
        sampled_flaky_entries(),
        sampled_unchanged_entries(),
        sampled_missing_from_new_entries(error_policy),
        sampled_newly_added_entries(error_policy),
    )


def _group_sort_key(entry: SampledDiffEntry) -> tuple[str, bool, str]:
    model = None if entry.cell is None else entry.cell.model_id
    return (entry.fixture_id, model is not None, model or "")


@cache
def _sampled_entry_lists(error_policy: ErrorPolicy) -> st.SearchStrategy[list[SampledDiffEntry]]:
    return st.lists(
        sampled_diff_entries(error_policy), max_size=MAX_LIST, unique_by=_group_sort_key
    )


@st.composite
def _sampled_diff_summaries(draw: st.DrawFn) -> SampledDiffSummary:
    policy = draw(st.sampled_from(ErrorPolicy))
    entries = sorted(draw(_sampled_entry_lists(policy)), key=_group_sort_key)
    return SampledDiffSummary(
        entries=tuple(entries),
        alpha=draw(_ALPHAS),
        error_policy=policy,
        confidence=draw(_CONFIDENCES),
    )


@cache
def sampled_diff_summaries() -> st.SearchStrategy[SampledDiffSummary]:
    """:class:`~awaken_eval.SampledDiffSummary` as :func:`~awaken_eval.diff_sampled` makes it.

    One entry per (fixture, cell) group, sorted by fixture id then cell; ``alpha`` in
    [0.01, 0.1] separates the significant p-values (below 0.01) from the flaky ones (at
    least 0.1); confidence in [0.5, 0.999].
    """
    return _sampled_diff_summaries()


# -- trace events --------------------------------------------------------------------------

_EVENT_MODES = st.sampled_from(RunEventMode)


@cache
def span_recorded_events() -> st.SearchStrategy[SpanRecorded]:
    """:class:`~awaken_eval.SpanRecorded` carrying an inference or a tool span."""
    return st.builds(SpanRecorded, span=inference_spans() | tool_spans())


@cache
def run_started_events() -> st.SearchStrategy[RunStarted]:
    """:class:`~awaken_eval.RunStarted` (wire tag ``type: eval_run_started``)."""
    return st.builds(
        RunStarted,
        eval_run_id=_RUN_IDS,
        dataset_id=_DATASET_IDS,
        dataset_revision=_small_or(u64s(), 5),
        mode=_EVENT_MODES,
        planned_item_count=_small_or(u32s(), 10),
        started_at_secs=_TIMESTAMPS,
    )


@st.composite
def _item_completed_events(draw: st.DrawFn) -> ItemCompleted:
    done = draw(st.integers(1, 10) | st.integers(1, U32_MAX))
    return ItemCompleted(
        eval_run_id=draw(_RUN_IDS),
        item=draw(eval_run_items()),
        done=done,
        total=min(done + draw(st.integers(0, 5)), U32_MAX),
    )


@cache
def item_completed_events() -> st.SearchStrategy[ItemCompleted]:
    """:class:`~awaken_eval.ItemCompleted` with ``1 <= done <= total``."""
    return _item_completed_events()


@st.composite
def _run_completed_events(draw: st.DrawFn) -> RunCompleted:
    passed = draw(_small_or(u32s(), 10))
    failed = min(draw(_small_or(u32s(), 10)), U32_MAX - passed)
    started, ended = sorted(draw(_TIMESTAMP_PAIRS))
    return RunCompleted(
        eval_run_id=draw(_RUN_IDS),
        dataset_id=draw(_DATASET_IDS),
        dataset_revision=draw(_small_or(u64s(), 5)),
        mode=draw(_EVENT_MODES),
        item_count=passed + failed,
        passed_count=passed,
        failed_count=failed,
        total_cost_usd=draw(finite_floats(min_value=0.0, max_value=1e6)),
        started_at_secs=started,
        ended_at_secs=ended,
        persisted=draw(_BOOLEANS),
    )


@cache
def run_completed_events() -> st.SearchStrategy[RunCompleted]:
    """:class:`~awaken_eval.RunCompleted` consistent with its counts and times.

    ``item_count == passed + failed``, the cost is >= 0 and ``ended_at_secs >=
    started_at_secs``.
    """
    return _run_completed_events()


@st.composite
def _run_failed_events(draw: st.DrawFn) -> RunFailed:
    started, ended = sorted(draw(_TIMESTAMP_PAIRS))
    return RunFailed(
        eval_run_id=draw(_RUN_IDS),
        dataset_id=draw(_DATASET_IDS),
        mode=draw(_EVENT_MODES),
        error=draw(texts()),
        started_at_secs=started,
        ended_at_secs=ended,
    )


@cache
def run_failed_events() -> st.SearchStrategy[RunFailed]:
    """:class:`~awaken_eval.RunFailed` with ``ended_at_secs >= started_at_secs``."""
    return _run_failed_events()


@st.composite
def _grades(draw: st.DrawFn) -> tuple[float, tuple[CriterionVerdict, ...]]:
    """A judge's score and verdicts.

    The score is the mean of the verdicts' scores when there are any (equal weights),
    any score in [0, 1] otherwise.
    """
    verdicts = draw(_small_lists(criterion_verdicts()))
    if not verdicts:
        return draw(scores()), ()
    return min(1.0, math.fsum(v.score for v in verdicts) / len(verdicts)), verdicts


@st.composite
def _evaluation_results(draw: st.DrawFn) -> EvaluationResult:
    score, verdicts = draw(_grades())
    return EvaluationResult(
        evaluation=draw(evaluations()),
        score=score,
        reasoning=draw(_optional(texts())),
        verdicts=verdicts,
        passed=draw(_optional(_BOOLEANS)),
    )


@cache
def evaluation_results() -> st.SearchStrategy[EvaluationResult]:
    """:class:`~awaken_eval.EvaluationResult`; its score is the verdicts' mean if any."""
    return _evaluation_results()


@cache
def event_metas() -> st.SearchStrategy[EventMeta]:
    """:class:`~awaken_eval.events.EventMeta`: any scope, visibility and ids."""
    text = st.text(max_size=12)
    return st.builds(
        EventMeta,
        event_kind=text,
        scope=evaluation_scopes(),
        visibility=st.sampled_from(EventVisibility),
        correlation_id=text,
        writer_id=text,
        source=text,
        idempotency_key=text,
    )


@cache
def trace_events() -> st.SearchStrategy[TraceEvent]:
    """Any of the six :data:`~awaken_eval.TraceEvent` variants (wire tag key ``type``)."""
    return st.one_of(
        span_recorded_events(),
        run_started_events(),
        item_completed_events(),
        run_completed_events(),
        run_failed_events(),
        evaluation_results(),
    )


# -- protocol records ------------------------------------------------------------------------


@cache
def tool_calls() -> st.SearchStrategy[ToolCall]:
    """:class:`~awaken_eval.ToolCall` with JSON arguments and an optional recorded result."""
    return st.builds(
        ToolCall,
        id=texts(),
        name=tool_names(),
        arguments=json_values(),
        recorded_result=_optional_json(),
    )


@st.composite
def _chat_messages(draw: st.DrawFn) -> ChatMessage:
    role = draw(st.sampled_from(MessageRole))
    return ChatMessage(
        role,
        draw(texts()),
        tool_calls=draw(_small_lists(tool_calls())) if role is MessageRole.ASSISTANT else (),
        tool_call_id=draw(texts()) if role is MessageRole.TOOL else None,
    )


@cache
def chat_messages() -> st.SearchStrategy[ChatMessage]:
    """:class:`~awaken_eval.ChatMessage` of any role.

    Only assistant messages request tool calls, and only tool messages (always) name
    the call they answer.
    """
    return _chat_messages()


@cache
def tool_descriptors() -> st.SearchStrategy[ToolDescriptor]:
    """:class:`~awaken_eval.ToolDescriptor`; parameters are the default schema or any JSON."""
    return st.builds(
        ToolDescriptor,
        name=tool_names(),
        description=texts(),
        parameters=st.just({"type": "object"}) | json_values(),
    )


@cache
def sampling_params() -> st.SearchStrategy[SamplingParams]:
    """:class:`~awaken_eval.SamplingParams`; each override absent or in its usual range."""
    return st.builds(
        SamplingParams,
        temperature=st.none() | finite_floats(min_value=0.0, max_value=2.0),
        top_p=st.none() | scores(),
        max_tokens=st.none() | st.integers(1, 4096) | u32s(),
    )


@cache
def inference_requests() -> st.SearchStrategy[InferenceRequest]:
    """:class:`~awaken_eval.InferenceRequest` with a short conversation and tool list."""
    return st.builds(
        InferenceRequest,
        model=model_ids(),
        messages=_small_lists(chat_messages()),
        system=st.none() | texts(),
        tools=_small_lists(tool_descriptors()),
        sampling=sampling_params(),
        run_id=texts(),
        thread_id=texts(),
    )


@cache
def inference_results() -> st.SearchStrategy[InferenceResult]:
    """:class:`~awaken_eval.InferenceResult`, stop reason and model optional."""
    return st.builds(
        InferenceResult,
        text=texts(),
        tool_calls=_small_lists(tool_calls()),
        usage=token_usages(),
        stop_reason=st.none() | st.sampled_from(StopReason),
        model=st.just("") | model_ids(),
    )


@cache
def agent_specs() -> st.SearchStrategy[AgentSpec]:
    """:class:`~awaken_eval.AgentSpec`; ``allowed_tools`` absent (every tool) or a list."""
    return st.builds(
        AgentSpec,
        id=st.just("default") | texts(),
        system_prompt=texts(),
        allowed_tools=st.none() | _small_lists(tool_names()),
        sampling=sampling_params(),
        max_rounds=st.none() | st.integers(1, 10) | u32s(),
    )


@cache
def model_pricings() -> st.SearchStrategy[ModelPricing]:
    """:class:`~awaken_eval.ModelPricing` with non-negative prices."""
    prices = finite_floats(min_value=0.0, max_value=1e3)
    return st.builds(ModelPricing, input_per_million_usd=prices, output_per_million_usd=prices)


@cache
def judge_requests() -> st.SearchStrategy[JudgeRequest]:
    """:class:`~awaken_eval.JudgeRequest`, rubric and expected outcome optional."""
    return st.builds(
        JudgeRequest,
        fixture_id=st.just("_adhoc") | fixture_ids(),
        user_prompt=texts(),
        answer=texts(),
        rubric=st.none() | texts(),
        expected_outcome=st.none() | expected_outcomes(),
    )


@st.composite
def _judge_results(draw: st.DrawFn) -> JudgeResult:
    score, verdicts = draw(_grades())
    return JudgeResult(
        score=score,
        reasoning=draw(_optional(texts())),
        verdicts=verdicts,
        inference_id=draw(_optional(texts())),
    )


@cache
def judge_results() -> st.SearchStrategy[JudgeResult]:
    """:class:`~awaken_eval.JudgeResult`; its score is the verdicts' mean if any."""
    return _judge_results()


@cache
def _digest_maps() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(fixture_ids(), digests(), max_size=MAX_LIST)


@cache
def run_headers() -> st.SearchStrategy[RunHeader]:
    """:class:`~awaken_eval.RunHeader` with a few fixture digests."""
    return st.builds(
        RunHeader,
        id=_RUN_IDS,
        dataset_id=_DATASET_IDS,
        dataset_revision=_small_or(u64s(), 5),
        execution_mode=_EXECUTION_MODES,
        started_at_secs=_TIMESTAMPS,
        fixture_digests=_digest_maps(),
    )


@cache
def dataset_records() -> st.SearchStrategy[DatasetRecord]:
    """:class:`~awaken_eval.DatasetRecord`: a dataset and its revision."""
    return st.builds(DatasetRecord, spec=dataset_specs(), revision=_small_or(u64s(), 5))


@cache
def drift_policies() -> st.SearchStrategy[DriftPolicy]:
    """:class:`~awaken_eval.DriftPolicy` comparing any subset of :data:`DRIFT_FIELDS`."""
    fields = st.lists(st.sampled_from(DRIFT_FIELDS), max_size=len(DRIFT_FIELDS), unique=True)
    return st.builds(
        DriftPolicy,
        fields=fields.map(lambda names: tuple(sorted(names, key=DRIFT_FIELDS.index))),
        worsened_still_failing_blocks=st.booleans(),
    )


@cache
def new_run_metas() -> st.SearchStrategy[NewRunMeta]:
    """:class:`~awaken_eval.NewRunMeta`, samples and digests optional."""
    return st.builds(
        NewRunMeta,
        dataset_id=_DATASET_IDS,
        dataset_revision=_small_or(u64s(), 5),
        execution_mode=_EXECUTION_MODES,
        samples=st.none() | st.integers(1, 10),
        fixture_digests=_digest_maps(),
    )


@st.composite
def _baseline_checks(draw: st.DrawFn) -> BaselineCheck:
    run_id = draw(_RUN_IDS)
    if not draw(_BOOLEANS):
        return BaselineCheck(baseline_run_id=run_id)
    buckets: tuple[list[str], list[str], list[str]] = ([], [], [])
    for fixture_id in draw(st.lists(fixture_ids(), max_size=4, unique=True)):
        buckets[draw(st.integers(0, 2))].append(fixture_id)
    changed, added, removed = (tuple(sorted(bucket)) for bucket in buckets)
    return BaselineCheck(
        baseline_run_id=run_id,
        digests_compared=True,
        changed_fixtures=changed,
        added_fixtures=added,
        removed_fixtures=removed,
    )


@cache
def baseline_checks() -> st.SearchStrategy[BaselineCheck]:
    """:class:`~awaken_eval.BaselineCheck` as :func:`~awaken_eval.validate_baseline` makes it.

    The fixture lists are filled only when digests were compared; each id is in at
    most one list, and every list is sorted.
    """
    return _baseline_checks()
