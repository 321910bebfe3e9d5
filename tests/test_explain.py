"""One explanation per failure kind: expected against actual, with the report's evidence."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given

import strategies as s
from awaken_eval import Failure
from awaken_eval.failures import (
    FAILURE_KINDS,
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    Explanation,
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
    excerpt,
    explain,
    explain_item,
    item_label,
)
from awaken_eval.records import AgentToolStats, CriterionVerdict, JudgeAttempt
from builders import item, report

LYON = report(fixture_id="capital", final_text="It is Lyon.")


def _stats(tool: str, calls: int) -> AgentToolStats:
    return AgentToolStats(
        agent_id="", tool=tool, call_count=calls, failure_count=0, total_duration_ms=0
    )


def test_a_missing_phrase_shows_the_phrase_and_the_final_answer() -> None:
    assert Explanation(
        kind="answer_missing_phrase",
        expectation="final_answer_contains",
        summary="final_answer_contains: expected 'Paris' in the final answer, not found",
        expected="'Paris' in the answer",
        actual="not found",
        details=("final answer: 'It is Lyon.'",),
    ) == explain(AnswerMissingPhrase("Paris"), report=LYON)


def test_an_excluded_phrase_is_shown_where_it_occurs_in_a_long_answer() -> None:
    text = "a" * 500 + "SECRET" + "b" * 500
    shown = explain(AnswerContainsExcludedPhrase("SECRET"), report=report(final_text=text))
    (detail,) = shown.details
    assert "SECRET" in detail
    assert detail.startswith("final answer: ...'a")
    assert detail.endswith("... (1006 characters)")


def test_an_exact_tool_sequence_names_the_first_difference() -> None:
    shown = explain(ToolSequenceMismatch(("search", "answer"), ("search", "lookup")))
    assert "tool_sequence (exact): expected ['search', 'answer'], got ['search', 'lookup']" == (
        shown.summary
    )
    assert ("first difference at call 2: expected 'answer', got 'lookup'",) == shown.details
    assert ("['search', 'answer']", "['search', 'lookup']") == (shown.expected, shown.actual)


@pytest.mark.parametrize(
    ("expected", "actual", "detail"),
    [
        (("a", "b"), ("a",), "missing after call 1: ['b']"),
        (("a",), ("a", "c"), "unexpected after call 1: ['c']"),
    ],
)
def test_an_exact_tool_sequence_names_missing_and_extra_calls(
    expected: tuple[str, ...], actual: tuple[str, ...], detail: str
) -> None:
    assert (detail,) == explain(ToolSequenceMismatch(expected, actual)).details


def test_an_ordered_subsequence_names_the_call_not_found_in_order() -> None:
    failure = ToolSequenceMismatch(
        ("search", "answer"), ("answer", "search"), mode=ToolSequenceMode.ORDERED_SUBSEQ
    )
    shown = explain(failure)
    assert shown.summary.startswith("tool_sequence (ordered_subseq): expected")
    assert ("not found in order: 'answer' (expected call 2 of 2)",) == shown.details


def test_a_forbidden_tool_counts_its_calls_from_the_report() -> None:
    with_stats = report(tool_calls_by_agent=(_stats("delete", 3), _stats("read", 1)))
    shown = explain(ForbiddenToolUsed("delete"), report=with_stats)
    assert "forbidden_tools: expected no call to 'delete', got 3" == shown.summary
    assert "3 calls" == shown.actual
    assert "at least one call" == explain(ForbiddenToolUsed("delete")).actual


def test_a_required_call_with_a_filter_says_how_many_calls_did_not_match() -> None:
    failure = RequiredToolCallNotSatisfied(
        "weather", actual_matches=0, expected_count=CountConstraint.exactly(1), args_filter_set=True
    )
    shown = explain(failure, report=report(tool_calls_by_agent=(_stats("weather", 2),)))
    assert (
        "required_tool_calls: expected exactly 1 calls to 'weather' matching args_subset, got 0"
    ) == shown.summary
    assert ("calls to 'weather': 2, of which 0 matched",) == shown.details


def test_a_required_call_names_the_argument_that_differed() -> None:
    failure = RequiredToolCallNotSatisfied(
        "weather",
        actual_matches=0,
        args_filter_set=True,
        mismatch=ValueMismatch(call="arguments", path="$.city", expected="Paris", actual="Lyon"),
    )
    assert ('closest call: arguments at $.city: expected "Paris", got "Lyon"',) == explain(
        failure
    ).details
    absent = ValueMismatch(call="result", path="$.ok", expected=True, found=False)
    assert ("closest call: result at $.ok: expected true, got nothing",) == explain(
        attrs.evolve(failure, mismatch=absent)
    ).details


def test_tokens_against_the_budget_with_the_split() -> None:
    spent = report(total_input_tokens=200, total_output_tokens=50, inference_count=2)
    shown = explain(TokenBudgetExceeded(100, 250), report=spent)
    assert "max_tokens_total: expected at most 100 tokens, got 250" == shown.summary
    assert (
        "150 tokens over the budget (input 200 + output 50 over 2 inferences)",
    ) == shown.details


def test_duration_against_the_budget() -> None:
    shown = explain(DurationExceeded(1000, 2500))
    assert "max_duration_ms: expected at most 1000 ms, got 2500 ms" == shown.summary


def test_the_judge_score_against_the_threshold_with_its_reasons() -> None:
    judged = report(
        final_text="Paris, probably.",
        judge_score=0.4,
        judge_reasoning="Hedged answer.",
        judge_verdicts=(CriterionVerdict(criterion_id="certain", score=0.0, reasoning="hedges"),),
        judge_attempts=(JudgeAttempt(revision=0, score=0.2), JudgeAttempt(revision=1, score=0.4)),
    )
    shown = explain(JudgeBelowThreshold(0.8, 0.4), report=judged)
    assert "min_judge_score: expected a judge score of at least 0.8, got 0.4" == shown.summary
    assert (
        "judge's reasons: 'Hedged answer.'",
        "criterion 'certain': 0 — 'hedges'",
        "judged attempts: revision 0: 0.2, revision 1: 0.4",
        "final answer: 'Paris, probably.'",
    ) == shown.details


def test_expected_against_actual_error_type() -> None:
    shown = explain(ErrorTypeMismatch("timeout", "rate_limited"))
    assert "expected_error_type: expected error 'timeout', got 'rate_limited'" == shown.summary
    assert ("error 'timeout'", "error 'rate_limited'") == (shown.expected, shown.actual)
    missing = explain(ExpectedErrorMissing("timeout"))
    assert ("error 'timeout'", "no error") == (missing.expected, missing.actual)


@pytest.mark.parametrize(
    ("failure", "summary"),
    [
        (
            ScriptExhausted(2),
            (
                "replay failed: script_exhausted: the agent made 2 more model calls than the "
                "provider script holds"
            ),
        ),
        (
            ProviderScriptUnused(1),
            "replay failed: provider_script_unused: 1 provider script event left unconsumed",
        ),
        (
            ReplayRuntimeError("deadline of 5s exceeded"),
            "replay failed: runtime_error: deadline of 5s exceeded",
        ),
    ],
)
def test_runtime_failures(
    failure: ScriptExhausted | ProviderScriptUnused | ReplayRuntimeError, summary: str
) -> None:
    shown = explain(ReplayRuntimeFailed(failure), report=report(error_type="timeout"))
    assert (summary, "replay") == (shown.summary, shown.expectation)
    assert ("error type: 'timeout'",) == shown.details


@given(s.failures(), s.replay_reports())
def test_every_failure_kind_has_a_one_line_summary_naming_its_expectation(
    failure: Failure, context: object
) -> None:
    for shown in (explain(failure), explain(failure, report=context)):  # type: ignore[arg-type]
        assert failure.kind == shown.kind
        assert failure.kind in FAILURE_KINDS
        assert shown.summary.startswith(shown.expectation)
        assert "\n" not in shown.summary
        assert all("\n" not in line for line in shown.details)
        assert (shown.summary, *shown.details) == shown.lines()
        assert str(shown) == "\n".join(shown.lines())


def test_explain_item_shows_the_final_answer_once() -> None:
    failing = item(
        report=report(
            fixture_id="capital",
            failures=(AnswerMissingPhrase("Paris"), AnswerMissingPhrase("France")),
            final_text="Lyon.",
        ),
        model="m",
        sample_index=2,
    )
    first, second = explain_item(failing)
    assert ("final answer: 'Lyon.'",) == first.details
    assert () == second.details
    assert "capital [m] #2" == item_label(failing)
    assert "capital" == item_label(failing.report)


def test_explain_item_of_a_pass_is_empty_and_of_an_unexplained_failure_says_so() -> None:
    assert () == explain_item(report())
    (odd,) = explain_item(report(passed=False))
    assert "unexplained" == odd.kind


def test_excerpt_keeps_short_texts_and_cuts_long_ones() -> None:
    assert "'short'" == excerpt("short")
    assert f"{'x' * 10!r}... (25 characters)" == excerpt("x" * 25, limit=10)


def test_a_multi_line_runtime_message_keeps_the_summary_on_one_line() -> None:
    shown = explain(ReplayRuntimeFailed(ReplayRuntimeError("executor raised\n  at line 3\n")))
    assert "replay failed: runtime_error: executor raised (more below)" == shown.summary
    assert ("  at line 3",) == shown.details
