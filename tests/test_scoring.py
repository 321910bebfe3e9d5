"""Behaviour tests for ``score`` and the judge-failure helpers (spec §2.1, §7.4, §8.1)."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import awaken_eval._scoring.score as scoring
import strategies as s
from awaken_eval import Expectation, Failure, ReplayOutcome, ToolCallMatcher, score, to_builtins
from awaken_eval._records.expectations import json_subset
from awaken_eval._records.types import U32_MAX
from awaken_eval._scoring.score import (
    add_judge_failure,
    error_kind,
    error_types_match,
    judge_failure_for,
)
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.failures import (
    ERROR_KINDS,
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
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    ToolSequenceMode,
    ValueMismatch,
)
from awaken_eval.records import AgentMetrics
from builders import outcome

ORDERED = ToolSequenceMode.ORDERED_SUBSEQ

# The kinds in the order score emits them (spec §2.1).
CHECK_ORDER = (
    "answer_missing_phrase",
    "answer_contains_excluded_phrase",
    "tool_sequence_mismatch",
    "forbidden_tool_used",
    "required_tool_call_not_satisfied",
    "token_budget_exceeded",
    "duration_exceeded",
    "expected_error_missing",
    "error_type_mismatch",
    "replay_runtime_failure",
)


def tool(name: str, *, args: Any = None, result: Any = None) -> ToolSpan:
    return ToolSpan(name=name, call_arguments=args, call_result=result)


def inference(
    *, input_tokens: int | None = None, output_tokens: int | None = None, total: int | None = None
) -> InferenceSpan:
    return InferenceSpan(input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=total)


def tools(*names: str) -> tuple[ToolSpan, ...]:
    return tuple(tool(name) for name in names)


# -- empty expectation ---------------------------------------------------------------------


def test_empty_expectation_passes_anything() -> None:
    busy = outcome(
        final_text="anything at all",
        tools=tools("search", "delete_all"),
        inferences=(inference(total=10**9),),
        session_duration_ms=10**12,
        error_type="rate_limited",
    )
    assert score(busy, Expectation()) == []


def test_passing_run_returns_empty_failures() -> None:
    expectation = Expectation(
        final_answer_contains=("sunny",),
        final_answer_excludes=("rain",),
        tool_sequence=("weather",),
        forbidden_tools=("delete",),
        required_tool_calls=(ToolCallMatcher("weather", args_subset={"city": "Paris"}),),
        max_tokens_total=100,
        max_duration_ms=1000,
    )
    run = outcome(
        final_text="It is sunny.",
        tools=(tool("weather", args={"city": "Paris", "unit": "C"}),),
        inferences=(inference(total=100),),
        session_duration_ms=1000,
    )
    assert score(run, expectation) == []


# -- phrases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("final_text", "expectation", "expected"),
    [
        pytest.param(
            "the answer is 42",
            Expectation(final_answer_contains=("42",)),
            [],
            id="answer_contains_pass_when_phrase_present",
        ),
        pytest.param(
            "the answer is 41",
            Expectation(final_answer_contains=("42",)),
            [AnswerMissingPhrase("42")],
            id="answer_contains_fails_when_phrase_absent",
        ),
        pytest.param(
            "beta",
            Expectation(final_answer_contains=("alpha", "beta", "gamma")),
            [AnswerMissingPhrase("alpha"), AnswerMissingPhrase("gamma")],
            id="answer_contains_reports_one_failure_per_missing_phrase",
        ),
        pytest.param(
            "Paris",
            Expectation(final_answer_contains=("paris",)),
            [AnswerMissingPhrase("paris")],
            id="answer_contains_is_case_sensitive",
        ),
        pytest.param(
            "sorry, an error",
            Expectation(final_answer_excludes=("sorry", "error", "oops")),
            [AnswerContainsExcludedPhrase("sorry"), AnswerContainsExcludedPhrase("error")],
            id="answer_excludes_fails_when_phrase_present",
        ),
        pytest.param(
            "all good",
            Expectation(final_answer_excludes=("sorry",)),
            [],
            id="answer_excludes_passes_when_clean",
        ),
    ],
)
def test_answer_phrases(final_text: str, expectation: Expectation, expected: list[Failure]) -> None:
    assert expected == score(outcome(final_text=final_text), expectation)


# -- tool sequence ---------------------------------------------------------------------------


def test_tool_sequence_pass_when_match() -> None:
    expectation = Expectation(tool_sequence=("search", "fetch"))
    assert score(outcome(tools=tools("search", "fetch")), expectation) == []


def test_tool_sequence_fail_when_order_wrong() -> None:
    expectation = Expectation(tool_sequence=("search", "fetch"))
    failures = score(outcome(tools=tools("fetch", "search")), expectation)
    assert failures == [ToolSequenceMismatch(("search", "fetch"), ("fetch", "search"))]
    assert failures[0].mode is ToolSequenceMode.EXACT  # type: ignore[union-attr]
    assert "mode" not in to_builtins(failures[0])


def test_tool_sequence_fail_when_missing() -> None:
    expectation = Expectation(tool_sequence=("search", "fetch"))
    failures = score(outcome(tools=tools("search")), expectation)
    assert failures == [ToolSequenceMismatch(("search", "fetch"), ("search",))]


def test_tool_sequence_exact_fails_on_extra_call() -> None:
    expectation = Expectation(tool_sequence=("search",))
    failures = score(outcome(tools=tools("search", "search")), expectation)
    assert failures == [ToolSequenceMismatch(("search",), ("search", "search"))]


def test_tool_sequence_no_constraint_when_empty() -> None:
    assert score(outcome(tools=tools("anything")), Expectation(tool_sequence=())) == []
    ordered = Expectation(tool_sequence_mode=ORDERED)
    assert score(outcome(tools=tools("anything")), ordered) == []


def test_tool_sequence_ordered_subseq_pass_with_intermediate_calls() -> None:
    expectation = Expectation(tool_sequence=("search", "answer"), tool_sequence_mode=ORDERED)
    assert score(outcome(tools=tools("plan", "search", "fetch", "answer")), expectation) == []


def test_tool_sequence_ordered_subseq_fail_when_out_of_order() -> None:
    expectation = Expectation(tool_sequence=("search", "answer"), tool_sequence_mode=ORDERED)
    failures = score(outcome(tools=tools("answer", "search")), expectation)
    assert failures == [
        ToolSequenceMismatch(("search", "answer"), ("answer", "search"), mode=ORDERED)
    ]
    assert to_builtins(failures[0])["mode"] == "ordered_subseq"


def test_tool_sequence_ordered_subseq_fail_when_required_call_missing() -> None:
    expectation = Expectation(tool_sequence=("search", "answer"), tool_sequence_mode=ORDERED)
    failures = score(outcome(tools=tools("search", "fetch")), expectation)
    assert failures == [
        ToolSequenceMismatch(("search", "answer"), ("search", "fetch"), mode=ORDERED)
    ]


def test_tool_sequence_ordered_subseq_counts_repeats() -> None:
    expectation = Expectation(tool_sequence=("search", "search"), tool_sequence_mode=ORDERED)
    assert score(outcome(tools=tools("search", "fetch", "search")), expectation) == []
    failures = score(outcome(tools=tools("search", "fetch")), expectation)
    assert [f.kind for f in failures] == ["tool_sequence_mismatch"]


# -- forbidden tools -------------------------------------------------------------------------


def test_forbidden_tools_fail_per_invocation() -> None:
    # One failure per forbidden *name* used, however often it was called.
    expectation = Expectation(forbidden_tools=("delete", "drop", "unused"))
    run = outcome(tools=tools("drop", "delete", "delete", "search"))
    assert score(run, expectation) == [ForbiddenToolUsed("delete"), ForbiddenToolUsed("drop")]


def test_forbidden_tools_pass_when_unused() -> None:
    expectation = Expectation(forbidden_tools=("delete",))
    assert score(outcome(tools=tools("search")), expectation) == []


# -- token budget and duration ---------------------------------------------------------------


def test_token_budget_pass_when_within() -> None:
    run = outcome(inferences=(inference(input_tokens=100, output_tokens=50),))
    assert score(run, Expectation(max_tokens_total=200)) == []


def test_token_budget_fail_when_exceeded() -> None:
    run = outcome(inferences=(inference(input_tokens=200, output_tokens=100),))
    assert score(run, Expectation(max_tokens_total=200)) == [TokenBudgetExceeded(200, 300)]


def test_token_budget_boundary_inclusive() -> None:
    run = outcome(inferences=(inference(total=200),))
    assert score(run, Expectation(max_tokens_total=200)) == []
    assert score(run, Expectation(max_tokens_total=199)) == [TokenBudgetExceeded(199, 200)]


def test_token_budget_uses_outcome_total_tokens() -> None:
    # Span total preferred, else input + output; negatives count as zero.
    run = outcome(
        inferences=(
            inference(input_tokens=1000, output_tokens=1000, total=20),
            inference(input_tokens=100, output_tokens=50),
            inference(input_tokens=-7, output_tokens=3),
            inference(total=-5),
        )
    )
    assert run.total_tokens() == 173
    assert score(run, Expectation(max_tokens_total=172)) == [TokenBudgetExceeded(172, 173)]


def test_token_budget_total_saturates_at_u32_max() -> None:
    run = outcome(inferences=(inference(total=U32_MAX), inference(total=U32_MAX)))
    failures = score(run, Expectation(max_tokens_total=0))
    assert failures == [TokenBudgetExceeded(0, U32_MAX)]


def test_duration_pass_when_within() -> None:
    assert score(outcome(session_duration_ms=1000), Expectation(max_duration_ms=1000)) == []


def test_duration_fail_when_exceeded() -> None:
    failures = score(outcome(session_duration_ms=1500), Expectation(max_duration_ms=1000))
    assert failures == [DurationExceeded(1000, 1500)]


def test_duration_uses_session_duration_not_elapsed() -> None:
    run = outcome(session_duration_ms=10, elapsed_seconds=3600.0)
    assert score(run, Expectation(max_duration_ms=100)) == []


# -- expected error type ---------------------------------------------------------------------


def test_expected_error_type_pass_when_match() -> None:
    expectation = Expectation(expected_error_type="rate_limit")
    assert score(outcome(error_type="rate_limit"), expectation) == []


def test_expected_error_type_fail_when_run_succeeded() -> None:
    expectation = Expectation(expected_error_type="rate_limit")
    assert score(outcome(final_text="fine"), expectation) == [ExpectedErrorMissing("rate_limit")]


def test_expected_error_type_fail_when_kind_differs() -> None:
    expectation = Expectation(expected_error_type="rate_limit")
    failures = score(outcome(error_type="timeout"), expectation)
    assert failures == [ErrorTypeMismatch("rate_limit", "timeout")]


def test_expected_error_type_matches_alias_of_known_kind() -> None:
    expectation = Expectation(expected_error_type="rate_limit")
    assert score(outcome(error_type="rate_limited"), expectation) == []
    assert score(outcome(error_type="RATE_LIMITED"), expectation) == []
    upper = Expectation(expected_error_type="Timeout")
    assert score(outcome(error_type="timeout"), upper) == []


def test_expected_error_type_unknown_strings_match_only_verbatim() -> None:
    expectation = Expectation(expected_error_type="quota_blown")
    assert score(outcome(error_type="quota_blown"), expectation) == []
    assert score(outcome(error_type="QUOTA_BLOWN"), expectation) == [
        ErrorTypeMismatch("quota_blown", "QUOTA_BLOWN")
    ]
    # An unknown expected string never matches a known kind, nor the reverse.
    assert score(outcome(error_type="timeout"), expectation) == [
        ErrorTypeMismatch("quota_blown", "timeout")
    ]
    known = Expectation(expected_error_type="timeout")
    assert score(outcome(error_type="quota_blown"), known) == [
        ErrorTypeMismatch("timeout", "quota_blown")
    ]


def test_error_kind_maps_known_kinds_case_insensitively() -> None:
    assert {kind: error_kind(kind) for kind in ERROR_KINDS} == {kind: kind for kind in ERROR_KINDS}
    assert error_kind("rate_limit") == "rate_limited"
    assert error_kind("Rate_Limit") == "rate_limited"
    assert error_kind("CONTEXT_OVERFLOW") == "context_overflow"
    assert error_kind("rate-limit") is None
    assert error_kind("") is None
    assert error_kind("boom") is None


@given(st.text(max_size=12), st.text(max_size=12))
def test_two_unknown_error_types_match_only_when_equal(expected: str, actual: str) -> None:
    if error_kind(expected) is None or error_kind(actual) is None:
        assert error_types_match(expected, actual) == (expected == actual)


@given(st.sampled_from((*ERROR_KINDS, "rate_limit")), st.data())
def test_known_error_types_match_any_spelling_of_the_same_kind(
    expected: str, data: st.DataObject
) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(expected), max_size=len(expected)))
    actual = "".join(c.upper() if flip else c for c, flip in zip(expected, flips, strict=True))
    assert error_types_match(expected, actual)


# -- runtime failure -----------------------------------------------------------------------


def test_runtime_failure_is_always_emitted_as_failure() -> None:
    failure = ScriptExhausted(2)
    assert score(outcome(runtime_failure=failure), Expectation()) == [ReplayRuntimeFailed(failure)]


def test_runtime_failure_does_not_short_circuit_other_failures() -> None:
    failure = ReplayRuntimeError("boom")
    run = outcome(final_text="nothing", runtime_failure=failure)
    failures = score(run, Expectation(final_answer_contains=("x",), max_duration_ms=0))
    assert failures == [AnswerMissingPhrase("x"), ReplayRuntimeFailed(failure)]


# -- required tool calls ---------------------------------------------------------------------


def test_required_tool_calls_name_only_passes_when_invoked() -> None:
    expectation = Expectation(required_tool_calls=(ToolCallMatcher("search"),))
    assert score(outcome(tools=tools("fetch", "search")), expectation) == []


def test_required_tool_calls_name_only_fails_when_not_invoked() -> None:
    expectation = Expectation(required_tool_calls=(ToolCallMatcher("search"),))
    failures = score(outcome(tools=tools("fetch")), expectation)
    assert failures == [RequiredToolCallNotSatisfied("search", actual_matches=0)]
    only = failures[0]
    assert isinstance(only, RequiredToolCallNotSatisfied)
    assert only.expected_count is None
    assert only.args_filter_set is False
    assert to_builtins(only) == {
        "kind": "required_tool_call_not_satisfied",
        "name": "search",
        "actual_matches": 0,
    }


def test_required_tool_calls_reports_explicit_count_only() -> None:
    explicit = CountConstraint.at_least(1)
    expectation = Expectation(required_tool_calls=(ToolCallMatcher("search", count=explicit),))
    failures = score(outcome(), expectation)
    assert failures == [
        RequiredToolCallNotSatisfied("search", expected_count=explicit, actual_matches=0)
    ]


def test_required_tool_calls_args_subset_matches_object() -> None:
    matcher = ToolCallMatcher("weather", args_subset={"city": "Paris", "opts": {"unit": "C"}})
    run = outcome(tools=(tool("weather", args={"city": "Paris", "opts": {"unit": "C", "x": 1}}),))
    assert score(run, Expectation(required_tool_calls=(matcher,))) == []


def test_required_tool_calls_args_subset_fails_when_value_differs() -> None:
    matcher = ToolCallMatcher("weather", args_subset={"city": "Paris"})
    run = outcome(tools=(tool("weather", args={"city": "Rome"}),))
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    differs = ValueMismatch(call="arguments", path="$.city", expected="Paris", actual="Rome")
    assert failures == [
        RequiredToolCallNotSatisfied(
            "weather", actual_matches=0, args_filter_set=True, mismatch=differs
        )
    ]


def test_required_tool_calls_args_subset_fails_when_call_args_not_captured() -> None:
    matcher = ToolCallMatcher("weather", args_subset={})
    run = outcome(tools=(tool("weather"),))
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    absent = ValueMismatch(call="arguments", path="$", expected={}, found=False)
    assert failures == [
        RequiredToolCallNotSatisfied(
            "weather", actual_matches=0, args_filter_set=True, mismatch=absent
        )
    ]


def test_required_tool_calls_count_exactly_enforced() -> None:
    exactly = CountConstraint.exactly(2)
    matcher = ToolCallMatcher("search", count=exactly)
    run = outcome(tools=tools("search", "search", "search"))
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    assert failures == [
        RequiredToolCallNotSatisfied("search", expected_count=exactly, actual_matches=3)
    ]
    assert (
        score(outcome(tools=tools("search", "search")), Expectation(required_tool_calls=(matcher,)))
        == []
    )


def test_required_tool_calls_count_at_most_zero_with_args_filter_acts_as_forbidden() -> None:
    never = CountConstraint.at_most(0)
    matcher = ToolCallMatcher("delete", args_subset={"all": True}, count=never)
    expectation = Expectation(required_tool_calls=(matcher,))
    allowed = outcome(tools=(tool("delete", args={"all": False}), tool("delete", args={"id": 3})))
    assert score(allowed, expectation) == []
    denied = outcome(tools=(tool("delete", args={"all": True}),))
    assert score(denied, expectation) == [
        RequiredToolCallNotSatisfied(
            "delete", expected_count=never, actual_matches=1, args_filter_set=True
        )
    ]


def test_required_tool_calls_result_subset_matches_object() -> None:
    matcher = ToolCallMatcher("fetch", result_subset={"status": 200})
    run = outcome(tools=(tool("fetch", result={"status": 200, "body": "..."}),))
    assert score(run, Expectation(required_tool_calls=(matcher,))) == []


def test_required_tool_calls_result_subset_fails_when_result_mismatch() -> None:
    matcher = ToolCallMatcher("fetch", result_subset={"status": 200})
    run = outcome(tools=(tool("fetch", result={"status": 404}),))
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    differs = ValueMismatch(call="result", path="$.status", expected=200, actual=404)
    assert failures == [
        RequiredToolCallNotSatisfied(
            "fetch", actual_matches=0, result_filter_set=True, mismatch=differs
        )
    ]


def test_required_tool_calls_result_subset_fails_when_result_not_captured() -> None:
    matcher = ToolCallMatcher("fetch", result_subset={"status": 200})
    run = outcome(tools=(tool("fetch", args={"status": 200}),))
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    absent = ValueMismatch(call="result", path="$", expected={"status": 200}, found=False)
    assert failures == [
        RequiredToolCallNotSatisfied(
            "fetch", actual_matches=0, result_filter_set=True, mismatch=absent
        )
    ]


def test_required_tool_calls_args_and_result_both_required() -> None:
    matcher = ToolCallMatcher("fetch", args_subset={"url": "a"}, result_subset={"ok": True})
    expectation = Expectation(required_tool_calls=(matcher,))
    split = outcome(
        tools=(
            tool("fetch", args={"url": "a"}, result={"ok": False}),
            tool("fetch", args={"url": "b"}, result={"ok": True}),
        )
    )
    first = ValueMismatch(call="result", path="$.ok", expected=True, actual=False)
    assert score(split, expectation) == [
        RequiredToolCallNotSatisfied(
            "fetch",
            actual_matches=0,
            args_filter_set=True,
            result_filter_set=True,
            mismatch=first,
        )
    ]
    together = outcome(tools=(tool("fetch", args={"url": "a"}, result={"ok": True}),))
    assert score(together, expectation) == []


def test_required_tool_calls_filters_match_json_types_strictly() -> None:
    # A string never equals a number and true is not 1 (structural JSON equality).
    matcher = ToolCallMatcher("calc", args_subset={"n": "1", "flag": True})
    run = outcome(
        tools=(
            tool("calc", args={"n": 1, "flag": True}),
            tool("calc", args={"n": "1", "flag": 1}),
        )
    )
    failures = score(run, Expectation(required_tool_calls=(matcher,)))
    assert [f.kind for f in failures] == ["required_tool_call_not_satisfied"]


def test_required_tool_calls_one_failure_per_failing_matcher() -> None:
    expectation = Expectation(
        required_tool_calls=(ToolCallMatcher("a"), ToolCallMatcher("b"), ToolCallMatcher("c"))
    )
    failures = score(outcome(tools=tools("b")), expectation)
    assert failures == [
        RequiredToolCallNotSatisfied("a", actual_matches=0),
        RequiredToolCallNotSatisfied("c", actual_matches=0),
    ]


def test_required_tool_calls_count_saturates_at_u32_max(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2**32 spans cannot be built in a test: lower the bound the count saturates at.
    monkeypatch.setattr(scoring, "U32_MAX", 2)
    never = CountConstraint.at_most(0)
    failures = score(
        outcome(tools=tools("search", "search", "search")),
        Expectation(required_tool_calls=(ToolCallMatcher("search", count=never),)),
    )
    assert failures == [
        RequiredToolCallNotSatisfied("search", expected_count=never, actual_matches=2)
    ]


# -- order -----------------------------------------------------------------------------------


def test_multiple_criteria_report_all_failures() -> None:
    expectation = Expectation(
        final_answer_contains=("yes",),
        final_answer_excludes=("no",),
        tool_sequence=("search",),
        forbidden_tools=("delete",),
        max_tokens_total=10,
    )
    run = outcome(final_text="no", tools=tools("delete"), inferences=(inference(total=11),))
    assert score(run, expectation) == [
        AnswerMissingPhrase("yes"),
        AnswerContainsExcludedPhrase("no"),
        ToolSequenceMismatch(("search",), ("delete",)),
        ForbiddenToolUsed("delete"),
        TokenBudgetExceeded(10, 11),
    ]


def test_every_check_fails_in_spec_order() -> None:
    runtime = ProviderScriptUnused(1)
    expectation = Expectation(
        final_answer_contains=("yes",),
        final_answer_excludes=("no",),
        tool_sequence=("search",),
        forbidden_tools=("delete",),
        required_tool_calls=(ToolCallMatcher("search"),),
        max_tokens_total=10,
        max_duration_ms=5,
        expected_error_type="timeout",
        min_judge_score=1.0,  # ignored by score
    )
    run = outcome(
        final_text="no",
        tools=tools("delete"),
        inferences=(inference(total=11),),
        session_duration_ms=6,
        error_type="overloaded",
        runtime_failure=runtime,
    )
    assert score(run, expectation) == [
        AnswerMissingPhrase("yes"),
        AnswerContainsExcludedPhrase("no"),
        ToolSequenceMismatch(("search",), ("delete",)),
        ForbiddenToolUsed("delete"),
        RequiredToolCallNotSatisfied("search", actual_matches=0),
        TokenBudgetExceeded(10, 11),
        DurationExceeded(5, 6),
        ErrorTypeMismatch("timeout", "overloaded"),
        ReplayRuntimeFailed(runtime),
    ]


def test_min_judge_score_is_ignored_by_score() -> None:
    assert score(outcome(), Expectation(min_judge_score=1.0)) == []


# -- judge failures --------------------------------------------------------------------------


def test_judge_failure_for_below_threshold() -> None:
    assert judge_failure_for(0.7, 0.5) == JudgeBelowThreshold(0.7, 0.5)


def test_judge_failure_for_threshold_is_inclusive() -> None:
    assert judge_failure_for(0.7, 0.7) is None
    assert judge_failure_for(0.7, 0.9) is None


def test_judge_failure_for_without_threshold() -> None:
    assert judge_failure_for(None, 0.0) is None


def test_judge_failure_for_nan_score_fails() -> None:
    failure = judge_failure_for(0.5, math.nan)
    assert isinstance(failure, JudgeBelowThreshold)
    assert math.isnan(failure.actual)


def test_add_judge_failure_appends_without_runtime_failure() -> None:
    judge = JudgeBelowThreshold(0.8, 0.2)
    assert add_judge_failure([], judge) == [judge]
    assert add_judge_failure([AnswerMissingPhrase("x")], judge) == [AnswerMissingPhrase("x"), judge]


def test_add_judge_failure_keeps_runtime_failure_last() -> None:
    judge = JudgeBelowThreshold(0.8, 0.2)
    runtime = ReplayRuntimeFailed(ReplayRuntimeError("cell walltime exceeded: max 30s"))
    scoring_error = ReplayRuntimeFailed(ReplayRuntimeError("scoring failed"))
    failures: list[Failure] = [AnswerMissingPhrase("x"), runtime, scoring_error]
    assert add_judge_failure(failures, judge) == [
        AnswerMissingPhrase("x"),
        judge,
        runtime,
        scoring_error,
    ]
    assert failures == [AnswerMissingPhrase("x"), runtime, scoring_error]  # not modified


def test_add_judge_failure_only_skips_trailing_runtime_failures() -> None:
    judge = JudgeBelowThreshold(0.8, 0.2)
    runtime = ReplayRuntimeFailed(ScriptExhausted(1))
    failures: list[Failure] = [runtime, AnswerMissingPhrase("x")]
    assert add_judge_failure(failures, judge) == [runtime, AnswerMissingPhrase("x"), judge]


# -- properties ------------------------------------------------------------------------------


def scored_outcomes() -> st.SearchStrategy[ReplayOutcome]:
    """Outcomes varying only in what ``score`` reads (cheaper than ``s.replay_outcomes``)."""
    spans = st.builds(
        ToolSpan,
        name=s.tool_names(),
        call_arguments=st.none() | s.json_values(max_leaves=3),
        call_result=st.none() | s.json_values(max_leaves=3),
    )
    tokens = st.none() | s.i32s() | st.integers(0, 500)
    inferences = st.builds(
        InferenceSpan, input_tokens=tokens, output_tokens=tokens, total_tokens=tokens
    )
    metrics = st.builds(
        AgentMetrics,
        inferences=st.lists(inferences, max_size=3).map(tuple),
        tools=st.lists(spans, max_size=4).map(tuple),
        session_duration_ms=st.integers(0, 2000) | s.u64s(),
    )
    return st.builds(
        ReplayOutcome,
        fixture_id=st.just("fx"),
        final_text=s.texts(max_size=12),
        metrics=metrics,
        error_type=st.none() | st.sampled_from((*ERROR_KINDS, "rate_limit")) | s.texts(),
        runtime_failure=st.none() | s.replay_runtime_failures(),
    )


@given(scored_outcomes())
def test_empty_expectation_fails_only_for_a_runtime_failure(run: ReplayOutcome) -> None:
    failures = score(run, Expectation())
    if run.runtime_failure is None:
        assert failures == []
    else:
        assert failures == [ReplayRuntimeFailed(run.runtime_failure)]


@given(s.replay_outcomes(), s.expectations())
def test_runtime_failure_is_always_last(run: ReplayOutcome, expectation: Expectation) -> None:
    failures = score(run, expectation)
    runtime = [i for i, f in enumerate(failures) if isinstance(f, ReplayRuntimeFailed)]
    if run.runtime_failure is None:
        assert runtime == []
    else:
        assert runtime == [len(failures) - 1]
        assert failures[-1] == ReplayRuntimeFailed(run.runtime_failure)


@given(scored_outcomes(), s.expectations())
def test_failures_come_in_check_order(run: ReplayOutcome, expectation: Expectation) -> None:
    ranks = [CHECK_ORDER.index(failure.kind) for failure in score(run, expectation)]
    assert ranks == sorted(ranks)


@given(scored_outcomes(), s.expectations(), st.data())
def test_adding_a_satisfied_phrase_never_adds_failures(
    run: ReplayOutcome, expectation: Expectation, data: st.DataObject
) -> None:
    text = run.final_text
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    phrase = text[start:end]
    more = attrs.evolve(
        expectation, final_answer_contains=(*expectation.final_answer_contains, phrase)
    )
    assert score(run, more) == score(run, expectation)


@given(scored_outcomes(), s.u32s() | st.integers(0, 2000))
def test_token_budget_agrees_with_outcome_total_tokens(run: ReplayOutcome, budget: int) -> None:
    failures = score(run, Expectation(max_tokens_total=budget))
    total = run.total_tokens()
    expected: list[Failure] = [TokenBudgetExceeded(budget, total)] if total > budget else []
    if run.runtime_failure is not None:
        expected.append(ReplayRuntimeFailed(run.runtime_failure))
    assert failures == expected


@given(st.lists(s.tool_spans(), max_size=4), s.tool_call_matchers())
def test_required_call_count_agrees_with_json_subset(
    spans: list[ToolSpan], matcher: ToolCallMatcher
) -> None:
    def matches(span: ToolSpan) -> bool:
        if span.name != matcher.name:
            return False
        if matcher.args_subset is not None and (
            span.call_arguments is None or not json_subset(matcher.args_subset, span.call_arguments)
        ):
            return False
        return matcher.result_subset is None or (
            span.call_result is not None and json_subset(matcher.result_subset, span.call_result)
        )

    expected = sum(1 for span in spans if matches(span))
    failures = score(outcome(tools=tuple(spans)), Expectation(required_tool_calls=(matcher,)))
    if matcher.effective_count.allows(expected):
        assert failures == []
    else:
        assert [
            attrs.evolve(failure, mismatch=None)
            for failure in failures
            if isinstance(failure, RequiredToolCallNotSatisfied)
        ] == [
            RequiredToolCallNotSatisfied(
                matcher.name,
                expected_count=matcher.count,
                actual_matches=expected,
                args_filter_set=matcher.args_subset is not None,
                result_filter_set=matcher.result_subset is not None,
            )
        ]
        (failure,) = failures
        assert isinstance(failure, RequiredToolCallNotSatisfied)
        needed = matcher.effective_count.n
        called = any(span.name == matcher.name for span in spans)
        if failure.mismatch is not None:  # only when too few matched a filter of a called tool
            assert called
            assert expected < needed
            assert matcher.args_subset is not None or matcher.result_subset is not None


@given(s.json_values(), s.json_values())
def test_fast_subset_agrees_with_json_subset(subset: Any, actual: Any) -> None:
    assert scoring._covers(subset, actual) == json_subset(subset, actual)


@given(st.dictionaries(st.text(max_size=3), s.json_values(max_leaves=3), max_size=4), st.data())
def test_fast_subset_accepts_every_sub_object(actual: dict[str, Any], data: st.DataObject) -> None:
    keys = data.draw(
        st.lists(st.sampled_from(sorted(actual)), unique=True) if actual else st.just([])
    )
    subset = {key: actual[key] for key in keys}
    assert scoring._covers(subset, actual)
    assert json_subset(subset, actual)


# -- the argument that differed ------------------------------------------------------------


def _mismatch(matcher: ToolCallMatcher, *calls: ToolSpan) -> Any:
    (failure,) = score(outcome(tools=calls), Expectation(required_tool_calls=(matcher,)))
    assert isinstance(failure, RequiredToolCallNotSatisfied)
    return failure.mismatch


def test_a_failed_args_filter_names_the_first_difference_of_the_closest_call() -> None:
    matcher = ToolCallMatcher("weather", args_subset={"city": "Paris", "unit": "C"})
    far = tool("weather", args={"city": "Rome", "unit": "F"})
    close = tool("weather", args={"city": "Lyon", "unit": "C"})
    assert ValueMismatch(call="arguments", path="$.city", expected="Paris", actual="Lyon") == (
        _mismatch(matcher, far, close)
    )


def test_a_missing_key_or_capture_is_not_found() -> None:
    matcher = ToolCallMatcher("weather", args_subset={"days": [1, {"the key": 2}]})
    shown = _mismatch(matcher, tool("weather", args={"days": [1, {}]}))
    assert (
        ValueMismatch(call="arguments", path='$.days[1]["the key"]', expected=2, found=False)
        == shown
    )
    uncaptured = _mismatch(ToolCallMatcher("w", result_subset={"ok": True}), tool("w"))
    assert ValueMismatch(call="result", path="$", expected={"ok": True}, found=False) == uncaptured


def test_no_mismatch_without_a_call_a_filter_or_when_too_many_matched() -> None:
    assert _mismatch(ToolCallMatcher("weather", args_subset={"a": 1}), tool("other")) is None
    assert _mismatch(ToolCallMatcher("weather", count=CountConstraint.exactly(2))) is None
    forbidding = ToolCallMatcher("weather", args_subset={"a": 1}, count=CountConstraint.at_most(0))
    assert (
        _mismatch(forbidding, tool("weather", args={"a": 1}), tool("weather", args={"a": 2}))
        is None
    )
    too_many = ToolCallMatcher("weather", args_subset={"a": 1}, count=CountConstraint.exactly(1))
    calls = (tool("weather", args={"a": 1}),) * 2 + (tool("weather", args={"a": 3}),)
    assert _mismatch(too_many, *calls) is None
