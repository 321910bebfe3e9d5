"""Readable assertions over reports: describe_failure, assert_passes, assert_pass_rate."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    EvalRunItem,
    Failure,
    InvalidRequest,
    ReplayReport,
)
from awaken_eval.analysis import wilson_interval
from awaken_eval.failures import (
    FAILURE_KINDS,
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
)
from awaken_eval.testing import (
    EvalAssertionError,
    assert_pass_rate,
    assert_passes,
    describe_failure,
)
from builders import item, report
from builders import run as make_run

MISSING = AnswerMissingPhrase("Paris")
OVER_BUDGET = TokenBudgetExceeded(100, 250)

# -- describe_failure ----------------------------------------------------------------------

DESCRIPTIONS: list[tuple[Failure, str]] = [
    (MISSING, "final_answer_contains: expected 'Paris' in the final answer, not found"),
    (
        AnswerContainsExcludedPhrase("secret"),
        "final_answer_excludes: expected no 'secret' in the final answer, found",
    ),
    (
        ToolSequenceMismatch(("search", "answer"), ("search",)),
        "tool_sequence (exact): expected ['search', 'answer'], got ['search']",
    ),
    (
        ToolSequenceMismatch(("a", "b"), ("b", "a"), mode=ToolSequenceMode.ORDERED_SUBSEQ),
        "tool_sequence (ordered_subseq): expected ['a', 'b'] in this order, got ['b', 'a']",
    ),
    (
        ForbiddenToolUsed("delete_all"),
        "forbidden_tools: expected no call to 'delete_all', got at least one",
    ),
    (
        RequiredToolCallNotSatisfied("search", actual_matches=0),
        "required_tool_calls: expected at least 1 (the default) calls to 'search', got 0",
    ),
    (
        RequiredToolCallNotSatisfied(
            "search",
            expected_count=CountConstraint.exactly(2),
            actual_matches=3,
            args_filter_set=True,
            result_filter_set=True,
        ),
        (
            "required_tool_calls: expected exactly 2 calls to 'search' matching args_subset"
            " and result_subset, got 3"
        ),
    ),
    (
        RequiredToolCallNotSatisfied(
            "refund", expected_count=CountConstraint.at_most(0), actual_matches=1
        ),
        "required_tool_calls: expected at most 0 calls to 'refund', got 1",
    ),
    (
        RequiredToolCallNotSatisfied(
            "lookup",
            expected_count=CountConstraint.at_least(2),
            actual_matches=1,
            result_filter_set=True,
        ),
        "required_tool_calls: expected at least 2 calls to 'lookup' matching result_subset, got 1",
    ),
    (OVER_BUDGET, "max_tokens_total: expected at most 100 tokens, got 250"),
    (DurationExceeded(1000, 2500), "max_duration_ms: expected at most 1000 ms, got 2500 ms"),
    (
        JudgeBelowThreshold(0.8, 0.55),
        "min_judge_score: expected a judge score of at least 0.8, got 0.55",
    ),
    (
        ExpectedErrorMissing("rate_limit"),
        "expected_error_type: expected error 'rate_limit', got no error",
    ),
    (
        ErrorTypeMismatch("rate_limit", "timeout"),
        "expected_error_type: expected error 'rate_limit', got 'timeout'",
    ),
    (
        ReplayRuntimeFailed(ScriptExhausted(2)),
        (
            "replay failed: script_exhausted: the agent made 2 more model calls than the"
            " provider script holds"
        ),
    ),
    (
        ReplayRuntimeFailed(ScriptExhausted(1)),
        (
            "replay failed: script_exhausted: the agent made 1 more model call than the"
            " provider script holds"
        ),
    ),
    (
        ReplayRuntimeFailed(ProviderScriptUnused(3)),
        "replay failed: provider_script_unused: 3 provider script events left unconsumed",
    ),
    (
        ReplayRuntimeFailed(ReplayRuntimeError("cell walltime exceeded: max 5s")),
        "replay failed: runtime_error: cell walltime exceeded: max 5s",
    ),
]


@pytest.mark.parametrize(
    ("failure", "expected"), DESCRIPTIONS, ids=lambda v: getattr(v, "kind", "")
)
def test_describe_failure(failure: Failure, expected: str) -> None:
    assert expected == describe_failure(failure)


def test_every_failure_kind_has_a_description_case() -> None:
    assert set(FAILURE_KINDS) == {failure.kind for failure, _ in DESCRIPTIONS}


PREFIXES = {
    "answer_missing_phrase": "final_answer_contains: ",
    "answer_contains_excluded_phrase": "final_answer_excludes: ",
    "tool_sequence_mismatch": "tool_sequence (",
    "forbidden_tool_used": "forbidden_tools: ",
    "required_tool_call_not_satisfied": "required_tool_calls: ",
    "token_budget_exceeded": "max_tokens_total: ",
    "duration_exceeded": "max_duration_ms: ",
    "judge_below_threshold": "min_judge_score: ",
    "expected_error_missing": "expected_error_type: ",
    "error_type_mismatch": "expected_error_type: ",
    "replay_runtime_failure": "replay failed: ",
}


@given(s.failures())
def test_every_description_names_its_expectation(failure: Failure) -> None:
    assert (failure.kind, True) == (
        failure.kind,
        describe_failure(failure).startswith(PREFIXES[failure.kind]),
    )


# -- assert_passes ---------------------------------------------------------------------------


def test_assert_passes_accepts_a_passing_report_item_and_run() -> None:
    passing = report()
    assert_passes(passing)
    assert_passes(item(report=passing, model="m"))
    assert_passes(make_run(items=(item(report=passing, model="m"),)))


def test_assert_passes_lists_every_failure_and_the_final_answer() -> None:
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(
            report(fixture_id="capital", failures=(MISSING, OVER_BUDGET), final_text="Lyon.")
        )
    assert (
        "fixture 'capital' failed (2 failures):\n"
        "  - final_answer_contains: expected 'Paris' in the final answer, not found\n"
        "    final answer: 'Lyon.'\n"
        "  - max_tokens_total: expected at most 100 tokens, got 250"
    ) == str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert 4 == len(caught.value.lines)


def test_the_final_answer_is_shown_only_for_answer_failures() -> None:
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(report(fixture_id="budget", failures=(OVER_BUDGET,), final_text="Lyon."))
    assert "final answer" not in str(caught.value)


def test_a_long_final_answer_is_cut() -> None:
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(report(fixture_id="long", failures=(MISSING,), final_text="x" * 1000))
    assert f"    final answer: {'x' * 300!r}... (1000 characters)" == caught.value.lines[-1]


def test_a_failed_report_without_failures_still_fails() -> None:
    unexplained = attrs.evolve(report(fixture_id="odd"), passed=False)
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(unexplained)
    assert "fixture 'odd' failed (the report lists no failure)" == str(caught.value)


def test_assert_passes_names_model_and_sample_of_an_item() -> None:
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(
            item(
                report=report(fixture_id="f", failures=(OVER_BUDGET,)),
                model="gpt-x",
                sample_index=2,
            )
        )
    assert "fixture 'f' on model 'gpt-x', sample 2 failed (1 failure):" == caught.value.lines[0]


def test_assert_passes_on_a_run_lists_each_failing_item() -> None:
    run = make_run(
        items=(
            EvalRunItem("a", report=report(fixture_id="a")),
            EvalRunItem("b", report=report(fixture_id="b", failures=(OVER_BUDGET,))),
            EvalRunItem(
                "c", report=report(fixture_id="c", failures=(ExpectedErrorMissing("timeout"),))
            ),
        )
    )
    with pytest.raises(EvalAssertionError) as caught:
        assert_passes(run)
    assert [
        "2 of 3 items failed",
        "fixture 'b' failed (1 failure):",
        "  - max_tokens_total: expected at most 100 tokens, got 250",
        "fixture 'c' failed (1 failure):",
        "  - expected_error_type: expected error 'timeout', got no error",
        "    final answer: ''",
    ] == list(caught.value.lines)


# -- assert_pass_rate ------------------------------------------------------------------------


def sampled(passes: int, fails: int, *failures: Failure) -> list[EvalRunItem]:
    failing = failures or (MISSING,)
    reports = [report(fixture_id="f")] * passes + [report(fixture_id="f", failures=failing)] * fails
    return [item(report=rep, sample_index=index, model="m") for index, rep in enumerate(reports)]


def test_pass_rate_at_the_threshold_passes() -> None:
    assert_pass_rate(sampled(4, 1), at_least=0.8)
    assert_pass_rate([item.report for item in sampled(4, 1)], at_least=0.8)
    assert_pass_rate(make_run(items=sampled(4, 1)), at_least=0.8)


def test_pass_rate_below_the_threshold_fails_with_counts_and_tally() -> None:
    items = sampled(3, 2, MISSING, OVER_BUDGET)
    # counted once per sample
    items[3] = item(
        report=report(fixture_id="f", failures=(MISSING, MISSING)), sample_index=3, model="m"
    )
    with pytest.raises(EvalAssertionError) as caught:
        assert_pass_rate(items, at_least=0.8)
    assert [
        "fixture 'f' on model 'm': 3 of 5 samples passed (60.0%), required at least 80.0%",
        "failures:",
        (
            "  - final_answer_contains: expected 'Paris' in the final answer, not found"
            " (2 of 5 samples)"
        ),
        "  - max_tokens_total: expected at most 100 tokens, got 250 (1 of 5 samples)",
    ] == list(caught.value.lines)


def test_pass_rate_with_confidence_judges_the_lower_bound() -> None:
    items = sampled(9, 1)
    assert_pass_rate(items, at_least=0.8)  # observed 90%
    low, high = wilson_interval(9, 10, confidence=0.95)
    assert ("59.6%", "98.2%") == (f"{low * 100:.1f}%", f"{high * 100:.1f}%")
    with pytest.raises(EvalAssertionError) as caught:
        assert_pass_rate(items, at_least=0.8, confidence=0.95)
    assert (
        "fixture 'f' on model 'm': 9 of 10 samples passed (90.0%; 95.0% Wilson interval "
        "[59.6%, 98.2%]), required a lower bound of at least 80.0%"
    ) == caught.value.lines[0]
    assert_pass_rate(items, at_least=0.8, confidence=0.5)  # narrower: lower bound 81.8%


def test_pass_rate_of_several_fixtures_is_pooled() -> None:
    reports = [report(fixture_id="a"), report(fixture_id="b", failures=(MISSING,))]
    with pytest.raises(EvalAssertionError) as caught:
        assert_pass_rate(reports, at_least=1.0)
    assert caught.value.lines[0].startswith("2 reports of 2 fixtures: 1 of 2 samples passed")


def test_errored_samples_count_as_failures() -> None:
    errored = report(fixture_id="f", failures=(ReplayRuntimeFailed(ReplayRuntimeError("boom")),))
    with pytest.raises(EvalAssertionError) as caught:
        assert_pass_rate([report(fixture_id="f"), errored], at_least=0.75)
    assert "  - replay failed: runtime_error: boom (1 of 2 samples)" == caught.value.lines[-1]


@pytest.mark.parametrize(
    ("reports", "at_least", "confidence", "message"),
    [
        ([], 0.5, None, "at least one report"),
        ([report()], 1.5, None, "at_least must be a pass rate in [0, 1], got 1.5"),
        ([report()], -0.1, None, "at_least must be a pass rate in [0, 1], got -0.1"),
        ([report()], 0.5, 1.0, "confidence must be strictly between 0 and 1"),
    ],
)
def test_pass_rate_rejects_bad_arguments(
    reports: list[ReplayReport], at_least: float, confidence: float | None, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message.replace("[", r"\[").replace("]", r"\]")):
        assert_pass_rate(reports, at_least=at_least, confidence=confidence)


@given(
    passes=st.integers(0, 30),
    fails=st.integers(0, 30),
    at_least=st.floats(0.0, 1.0),
    confidence=st.sampled_from([None, 0.5, 0.9, 0.95, 0.99]),
)
def test_pass_rate_decision_matches_the_statistics(
    passes: int, fails: int, at_least: float, confidence: float | None
) -> None:
    if passes + fails == 0:
        return
    reports = [report(fixture_id="f")] * passes + [
        report(fixture_id="f", failures=(MISSING,))
    ] * fails
    n = passes + fails
    if confidence is None:
        expected = passes / n >= at_least
    else:
        expected = wilson_interval(passes, n, confidence=confidence)[0] >= at_least
        # a confidence bound is never more lenient than the observed rate
        assert not expected or passes / n >= at_least
    try:
        assert_pass_rate(reports, at_least=at_least, confidence=confidence)
    except EvalAssertionError:
        accepted = False
    else:
        accepted = True
    assert expected == accepted
