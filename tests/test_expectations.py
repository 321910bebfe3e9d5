"""Behaviour tests for expectations, count constraints, json_subset and failures (§1.2-1.3, §7.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from awaken_eval import (
    Expectation,
    Failure,
    InvalidInput,
    ToolCallMatcher,
    from_builtins,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval._records.expectations import json_subset
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
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    ToolSequenceMode,
)
from strategies import json_values, u32s

_FULL_EXPECTATION = Expectation(
    final_answer_contains=("Paris", "sunny"),
    final_answer_excludes=("error",),
    tool_sequence=("weather", "format"),
    tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ,
    forbidden_tools=("shell",),
    required_tool_calls=(
        ToolCallMatcher("weather", args_subset={"city": "Paris"}),
        ToolCallMatcher("format", result_subset=["ok"], count=CountConstraint.at_most(0)),
    ),
    max_tokens_total=1000,
    max_duration_ms=5000,
    min_judge_score=0.5,
    expected_error_type="rate_limit",
)

_FULL_EXPECTATION_JSON: dict[str, Any] = {
    "final_answer_contains": ["Paris", "sunny"],
    "final_answer_excludes": ["error"],
    "tool_sequence": ["weather", "format"],
    "tool_sequence_mode": "ordered_subseq",
    "forbidden_tools": ["shell"],
    "required_tool_calls": [
        {"name": "weather", "args_subset": {"city": "Paris"}},
        {"name": "format", "result_subset": ["ok"], "count": {"op": "at_most", "n": 0}},
    ],
    "max_tokens_total": 1000,
    "max_duration_ms": 5000,
    "min_judge_score": 0.5,
    "expected_error_type": "rate_limit",
}

# -- emptiness -------------------------------------------------------------------------


def test_empty_expectation_is_empty() -> None:
    assert Expectation().is_empty() is True


@pytest.mark.parametrize(
    "expectation",
    [
        Expectation(final_answer_contains=("phrase",)),
        Expectation(final_answer_excludes=("phrase",)),
        Expectation(tool_sequence=("search",)),
        Expectation(forbidden_tools=("shell",)),
        Expectation(required_tool_calls=(ToolCallMatcher("search"),)),
        Expectation(max_tokens_total=0),
        Expectation(max_duration_ms=0),
        Expectation(min_judge_score=0.0),
        Expectation(expected_error_type=""),
    ],
    ids=[
        "phrase",
        "excluded_phrase",
        "tool_sequence",
        "forbidden_tools",
        "required_tool_calls",
        "max_tokens_total_zero",
        "max_duration_ms_zero",
        "min_judge_score_zero",
        "expected_error_type",
    ],
)
def test_expectation_with_any_constraint_is_not_empty(expectation: Expectation) -> None:
    assert expectation.is_empty() is False


def test_tool_sequence_mode_alone_does_not_make_expectation_non_empty() -> None:
    expectation = Expectation(tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ)

    assert expectation.is_empty() is True


# -- serde -----------------------------------------------------------------------------


def test_expectation_serde_roundtrip_preserves_fields() -> None:
    assert _FULL_EXPECTATION_JSON == to_builtins(_FULL_EXPECTATION)
    assert _FULL_EXPECTATION == from_json(Expectation, to_json(_FULL_EXPECTATION))


def test_tool_sequence_mode_omitted_in_default_serialised_form() -> None:
    expectation = Expectation(tool_sequence=("a", "b"))

    assert {"tool_sequence": ["a", "b"]} == to_builtins(expectation)


def test_tool_sequence_mode_emitted_when_non_default() -> None:
    expectation = Expectation(
        tool_sequence=("a", "b"), tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ
    )

    assert {"tool_sequence": ["a", "b"], "tool_sequence_mode": "ordered_subseq"} == to_builtins(
        expectation
    )


def test_tool_sequence_mode_defaults_to_exact_on_read() -> None:
    expectation: Expectation = from_json(Expectation, '{"tool_sequence": ["a"]}')

    assert ToolSequenceMode.EXACT == expectation.tool_sequence_mode


def test_expectation_serde_skips_empty_fields() -> None:
    assert "{}" == to_json(Expectation())


def test_expectation_deserializes_from_minimal_json() -> None:
    expectation: Expectation = from_json(Expectation, '{"final_answer_contains": ["ok"]}')

    assert Expectation(final_answer_contains=("ok",)) == expectation


def test_expectation_deserializes_from_empty_object() -> None:
    assert Expectation() == from_json(Expectation, "{}")


def test_expectation_rejects_unknown_key_with_its_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Expectation, '{"final_answer_contain": ["typo"]}')

    assert ["$.final_answer_contain"] == [problem.path for problem in caught.value.problems]


def test_tool_call_matcher_omits_absent_filters_and_count() -> None:
    matcher = ToolCallMatcher("search")

    assert {"name": "search"} == to_builtins(matcher)
    assert CountConstraint.at_least(1) == matcher.effective_count


# -- count constraints -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "actual", "allowed"),
    [
        (CountConstraint.exactly(2), 1, False),
        (CountConstraint.exactly(2), 2, True),
        (CountConstraint.exactly(2), 3, False),
        (CountConstraint.exactly(0), 0, True),
        (CountConstraint.exactly(0), 1, False),
        (CountConstraint.at_least(2), 1, False),
        (CountConstraint.at_least(2), 2, True),
        (CountConstraint.at_least(2), 3, True),
        (CountConstraint.at_least(0), 0, True),
        (CountConstraint.at_most(2), 1, True),
        (CountConstraint.at_most(2), 2, True),
        (CountConstraint.at_most(2), 3, False),
        (CountConstraint.at_most(0), 0, True),
        (CountConstraint.at_most(0), 1, False),
    ],
)
def test_count_constraint_allows_matches_semantics(
    constraint: CountConstraint, actual: int, allowed: bool
) -> None:
    assert allowed == constraint.allows(actual)


@given(n=u32s(), actual=u32s())
def test_count_constraint_semantics_match_comparison_operators(n: int, actual: int) -> None:
    assert (actual == n) == CountConstraint.exactly(n).allows(actual)
    assert (actual >= n) == CountConstraint.at_least(n).allows(actual)
    assert (actual <= n) == CountConstraint.at_most(n).allows(actual)


@pytest.mark.parametrize("op", list(CountOp))
def test_count_constraint_is_adjacently_tagged_by_op(op: CountOp) -> None:
    constraint = CountConstraint(op, 3)

    assert {"op": op.value, "n": 3} == to_builtins(constraint)
    assert constraint == from_json(CountConstraint, to_json(constraint))


# -- json_subset -----------------------------------------------------------------------


def test_json_subset_object_subset_matches() -> None:
    assert json_subset({"city": "Paris"}, {"city": "Paris", "units": "metric"}) is True
    assert json_subset({}, {"anything": 1}) is True


def test_json_subset_object_missing_key_fails() -> None:
    assert json_subset({"city": "Paris", "units": "metric"}, {"city": "Paris"}) is False


def test_json_subset_array_requires_equal_length_and_element_match() -> None:
    assert json_subset([1, 2], [1, 2]) is True
    assert json_subset([], []) is True
    assert json_subset([1], [1, 2]) is False
    assert json_subset([1, 2], [1]) is False
    assert json_subset([2, 1], [1, 2]) is False
    assert json_subset([{"a": 1}], [{"a": 1, "b": 2}]) is True
    assert json_subset([{"a": 1}], [{"a": 2, "b": 2}]) is False


@pytest.mark.parametrize(
    ("subset", "actual"),
    [
        ("Paris", "London"),
        (1, 2),
        (1, "1"),
        ("1", 1),
        (True, False),
        (True, 1),
        (1, True),
        (False, 0),
        (0, False),
        (None, 0),
        (None, False),
        (None, ""),
        ({"a": 1}, [1]),
        ([1], {"0": 1}),
        ({}, []),
        ("a", ["a"]),
        (1, {"a": 1}),
    ],
)
def test_json_subset_primitive_value_mismatch_fails(subset: Any, actual: Any) -> None:
    assert json_subset(subset, actual) is False


def test_json_subset_integer_equals_float_with_same_value() -> None:
    assert json_subset(1, 1.0) is True
    assert json_subset(1.0, 1) is True
    assert json_subset({"n": 2}, json.loads('{"n": 2.0}')) is True


def test_json_subset_null_requires_present_null() -> None:
    assert json_subset({"a": None}, {"a": None}) is True
    assert json_subset({"a": None}, {}) is False
    assert json_subset({"a": None}, {"a": 0}) is False


def test_json_subset_nested_structures() -> None:
    actual = {"query": {"filters": [{"field": "year", "op": ">", "value": 2020}], "limit": 5}}

    assert json_subset({"query": {"filters": [{"field": "year"}]}}, actual) is True
    assert json_subset({"query": {"filters": [{"value": 2021}]}}, actual) is False
    assert json_subset({"query": {"filters": []}}, actual) is False


@given(value=json_values(max_leaves=10))
def test_json_subset_every_value_covers_itself(value: Any) -> None:
    assert json_subset(value, value) is True


# -- failures --------------------------------------------------------------------------


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


_FAILURE_WIRE: list[tuple[Failure, dict[str, Any]]] = [
    (AnswerMissingPhrase("Paris"), {"kind": "answer_missing_phrase", "phrase": "Paris"}),
    (
        AnswerContainsExcludedPhrase("sorry"),
        {"kind": "answer_contains_excluded_phrase", "phrase": "sorry"},
    ),
    (
        ToolSequenceMismatch(("a", "b"), ("b",)),
        {"kind": "tool_sequence_mismatch", "expected": ["a", "b"], "actual": ["b"]},
    ),
    (
        ToolSequenceMismatch(("a",), (), mode=ToolSequenceMode.ORDERED_SUBSEQ),
        {
            "kind": "tool_sequence_mismatch",
            "expected": ["a"],
            "actual": [],
            "mode": "ordered_subseq",
        },
    ),
    (ForbiddenToolUsed("shell"), {"kind": "forbidden_tool_used", "tool": "shell"}),
    (
        RequiredToolCallNotSatisfied("search", actual_matches=0),
        {"kind": "required_tool_call_not_satisfied", "name": "search", "actual_matches": 0},
    ),
    (
        RequiredToolCallNotSatisfied(
            "search",
            expected_count=CountConstraint.exactly(2),
            actual_matches=1,
            args_filter_set=True,
            result_filter_set=True,
        ),
        {
            "kind": "required_tool_call_not_satisfied",
            "name": "search",
            "expected_count": {"op": "exactly", "n": 2},
            "actual_matches": 1,
            "args_filter_set": True,
            "result_filter_set": True,
        },
    ),
    (
        TokenBudgetExceeded(100, 150),
        {"kind": "token_budget_exceeded", "budget": 100, "actual": 150},
    ),
    (
        DurationExceeded(1000, 1500),
        {"kind": "duration_exceeded", "budget_ms": 1000, "actual_ms": 1500},
    ),
    (
        JudgeBelowThreshold(0.75, 0.5),
        {"kind": "judge_below_threshold", "threshold": 0.75, "actual": 0.5},
    ),
    (
        ExpectedErrorMissing("rate_limit"),
        {"kind": "expected_error_missing", "expected": "rate_limit"},
    ),
    (
        ErrorTypeMismatch("rate_limit", "timeout"),
        {"kind": "error_type_mismatch", "expected": "rate_limit", "actual": "timeout"},
    ),
    (
        ReplayRuntimeFailed(ScriptExhausted(2)),
        {
            "kind": "replay_runtime_failure",
            "failure": {"kind": "script_exhausted", "extra_calls": 2},
        },
    ),
    (
        ReplayRuntimeFailed(ProviderScriptUnused(3)),
        {
            "kind": "replay_runtime_failure",
            "failure": {"kind": "provider_script_unused", "remaining": 3},
        },
    ),
    (
        ReplayRuntimeFailed(ReplayRuntimeError("cell walltime exceeded: max 5s")),
        {
            "kind": "replay_runtime_failure",
            "failure": {"kind": "runtime_error", "message": "cell walltime exceeded: max 5s"},
        },
    ),
]


@pytest.mark.parametrize(("failure", "wire"), _FAILURE_WIRE)
def test_failure_serde_uses_kind_tag(failure: Failure, wire: dict[str, Any]) -> None:
    # Annotated targets: a union passed as ``cls`` cannot bind ``type[T]`` on its own.
    from_wire: Failure = from_builtins(Failure, wire)
    round_tripped: Failure = from_json(Failure, to_json(failure))

    assert wire == to_builtins(failure)
    assert failure == from_wire
    assert failure == round_tripped


def test_every_failure_kind_has_a_wire_example() -> None:
    assert set(FAILURE_KINDS) == {wire["kind"] for _, wire in _FAILURE_WIRE}


def test_failure_with_unknown_kind_is_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Failure, '{"kind": "answer_was_bad"}')

    assert ["$.kind"] == [problem.path for problem in caught.value.problems]


def test_tool_sequence_mismatch_without_mode_reads_as_exact() -> None:
    failure: Failure = from_json(
        Failure, '{"kind": "tool_sequence_mismatch", "expected": [], "actual": []}'
    )

    assert ToolSequenceMismatch((), (), mode=ToolSequenceMode.EXACT) == failure
