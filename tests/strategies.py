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
  and ``passed == (not failures)``, as :meth:`ReplayReport.from_outcome` builds it;
* :func:`eval_runs` respects the execution-mode/cell invariant (live: every item has a
  cell; scripted: none) and gives unique item keys;
* aggregates and summaries are internally consistent (``passed <= samples``, ...).

Collections are kept small (at most 3-4 elements) so that property tests stay fast.
Every factory is cached (``fixtures() is fixtures()``): Hypothesis validates a strategy
the first time it draws from it, so reusing one object keeps generation cheap.
Identifiers are drawn from small pools mixed with arbitrary text, so that two
independently drawn runs or report lists share fixture ids and models often enough for
diff and aggregation properties to be interesting.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import attrs
from hypothesis import strategies as st

from awaken_eval import (
    FAILURE_KINDS,
    AgentMetrics,
    AgentToolStats,
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    ChatResponseEvent,
    CountConstraint,
    CountOp,
    CustomScope,
    DatasetSpec,
    DialogueTurn,
    DiffEntry,
    DiffSummary,
    Drift,
    DurationExceeded,
    EntityRef,
    ErrorEvent,
    ErrorTypeMismatch,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    Evaluation,
    EvaluationCriterion,
    EvaluationScope,
    EvaluationSubject,
    EvaluationSubjectRole,
    Expectation,
    ExpectedErrorMissing,
    ExpectedOutcome,
    Failure,
    Fixed,
    Fixture,
    ForbiddenToolUsed,
    InferenceSpan,
    ItemKey,
    JudgeBelowThreshold,
    MatrixCell,
    MissingFromNew,
    MockErrorResponse,
    MockResponse,
    MockTextResponse,
    NewlyAdded,
    ProviderScriptEvent,
    ProviderScriptUnused,
    Regression,
    ReplayOutcome,
    ReplayReport,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
    ReplayRuntimeFailure,
    RequiredToolCallNotSatisfied,
    RunId,
    RunScope,
    SampleAggregate,
    ScriptExhausted,
    SessionId,
    SessionScope,
    StillFailing,
    StopReason,
    TokenBudgetExceeded,
    TokenUsage,
    ToolCallEvent,
    ToolCallMatcher,
    ToolSequenceMismatch,
    ToolSequenceMode,
    ToolSpan,
    TurnId,
    TurnScope,
    Unchanged,
)

__all__ = [
    "DRIFT_FIELDS",
    "FIXTURE_ID_POOL",
    "MAX_LIST",
    "MODEL_ID_POOL",
    "TOOL_NAME_POOL",
    "agent_metrics",
    "agent_tool_stats",
    "answer_contains_excluded_phrases",
    "answer_missing_phrases",
    "chat_response_events",
    "count_constraints",
    "criterion_weights",
    "custom_scopes",
    "dataset_specs",
    "dialogue_turns",
    "diff_entries",
    "diff_summaries",
    "drift_entries",
    "duration_exceeded",
    "entity_refs",
    "error_events",
    "error_type_mismatches",
    "eval_run_filters",
    "eval_run_items",
    "eval_run_summaries",
    "eval_runs",
    "evaluation_criteria",
    "evaluation_scopes",
    "evaluation_subjects",
    "evaluations",
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
    "i32s",
    "inference_spans",
    "json_values",
    "judge_below_threshold",
    "matrix_cells",
    "missing_from_new_entries",
    "mock_error_responses",
    "mock_responses",
    "mock_text_responses",
    "model_ids",
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
    "run_scopes",
    "sample_aggregates",
    "scores",
    "script_exhausted",
    "session_scopes",
    "still_failing_entries",
    "summaries",
    "texts",
    "token_budget_exceeded",
    "token_usages",
    "tool_call_events",
    "tool_call_matchers",
    "tool_names",
    "tool_sequence_mismatches",
    "tool_spans",
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
        step_index=st.none() | u32s(),
        model=model_ids(),
        provider=texts(),
        operation=st.none() | st.just("chat"),
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
        call_id=st.none() | texts(),
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
def replay_outcomes(
    *, fixture_id: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ReplayOutcome]:
    """:class:`~awaken_eval.ReplayOutcome` (in memory only; elapsed time is finite >= 0).

    Args:
        fixture_id: Strategy for the fixture id (default :func:`fixture_ids`).
    """
    return st.builds(
        ReplayOutcome,
        fixture_id=fixture_ids() if fixture_id is None else fixture_id,
        final_text=texts(),
        metrics=agent_metrics(),
        elapsed_seconds=finite_floats(min_value=0.0, max_value=1e6),
        error_type=st.none() | texts(),
        inference_error_count=st.integers(0, 3),
        runtime_failure=st.none() | replay_runtime_failures(),
        revision_count=st.integers(0, 3),
        judge_score=st.none() | scores(),
        judge_reasoning=st.none() | texts(),
    )


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
        revision_count=draw(_small_or(u32s(), 3)),
        judge_score=draw(_optional(scores())),
        judge_reasoning=draw(_optional(texts())),
    )


@cache
def replay_reports(
    *, fixture_id: st.SearchStrategy[str] | None = None, passed: bool | None = None
) -> st.SearchStrategy[ReplayReport]:
    """:class:`~awaken_eval.ReplayReport` with ``passed == (not failures)``.

    ``elapsed_ms`` is always 0: it is never written, so a report read back has 0.

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
    return EvalRun(
        id=draw(_RUN_IDS),
        dataset_id=draw(_DATASET_IDS),
        dataset_revision=draw(_small_or(u64s(), 5)),
        execution_mode=run_mode,
        items=tuple(items),
        started_at_secs=started,
        ended_at_secs=ended,
    )


@cache
def eval_runs(
    mode: EvalRunExecutionMode | None = None, *, max_items: int = 4
) -> st.SearchStrategy[EvalRun]:
    """:class:`~awaken_eval.EvalRun` obeying the execution-mode/cell invariant.

    Live runs have a cell on every item, scripted runs on none; item keys are unique
    and ``ended_at_secs >= started_at_secs``.

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
def eval_run_filters() -> st.SearchStrategy[EvalRunFilter]:
    """:class:`~awaken_eval.EvalRunFilter`; every criterion may be absent."""
    return st.builds(
        EvalRunFilter,
        dataset_id=st.none() | texts(),
        since_secs=st.none() | u64s(),
        until_secs=st.none() | u64s(),
        limit=st.none() | u32s(),
    )


@st.composite
def _sample_aggregates(draw: st.DrawFn) -> SampleAggregate:
    samples = draw(_small_or(u32s(), 10))
    passed = draw(st.integers(0, samples))
    return SampleAggregate(
        fixture_id=draw(fixture_ids()),
        cell=draw(_optional(matrix_cells())),
        samples=samples,
        passed=passed,
        pass_rate=passed / samples if samples else 0.0,
        pass_at_k=passed >= 1,
        pass_pow_k=samples > 0 and passed == samples,
    )


@cache
def sample_aggregates() -> st.SearchStrategy[SampleAggregate]:
    """:class:`~awaken_eval.SampleAggregate` consistent with its counts (spec §2.6)."""
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
