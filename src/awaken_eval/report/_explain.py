"""One plain-text explanation per failure of an item (expected against actual).

A stand-in for the renderer of :mod:`awaken_eval.failures` (issue 14, point 1): the
report calls :func:`item_explanations` only, so the one shared renderer replaces it
without touching the rest of the report.
"""

from __future__ import annotations

from typing import assert_never

from awaken_eval._records.failures import (
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountOp,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    Failure,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ProviderScriptUnused,
    ReplayRuntimeFailed,
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
)
from awaken_eval._records.outcomes import ReplayReport

__all__ = ["item_explanations"]

_EXCERPT_CHARS = 160
"""Longest excerpt of the final answer quoted in an explanation."""


def _excerpt(text: str) -> str:
    if len(text) <= _EXCERPT_CHARS:
        return repr(text)
    return f"{text[:_EXCERPT_CHARS]!r}… ({len(text)} characters)"


def _names(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(names) + "]"


def _explain(failure: Failure, report: ReplayReport) -> str:  # noqa: C901, PLR0912 - one branch per kind
    answer = _excerpt(report.final_text)
    if isinstance(failure, AnswerMissingPhrase):
        return f"expected the final answer to contain {failure.phrase!r}; final answer: {answer}"
    if isinstance(failure, AnswerContainsExcludedPhrase):
        return (
            f"expected the final answer not to contain {failure.phrase!r}; final answer: {answer}"
        )
    if isinstance(failure, ToolSequenceMismatch):
        how = "in this order" if failure.mode.value == "ordered_subseq" else "exactly"
        return (
            f"expected the tool calls {_names(failure.expected)} {how}; "
            f"actual: {_names(failure.actual)}"
        )
    if isinstance(failure, ForbiddenToolUsed):
        return f"expected no call to the forbidden tool {failure.tool!r}; it was called"
    if isinstance(failure, RequiredToolCallNotSatisfied):
        count = failure.expected_count
        wanted = (
            "at least 1"
            if count is None
            else {CountOp.EXACTLY: "exactly", CountOp.AT_LEAST: "at least"}.get(count.op, "at most")
            + f" {count.n}"
        )
        filters = " and ".join(
            name
            for name, on in (
                ("the argument subset", failure.args_filter_set),
                ("the result subset", failure.result_filter_set),
            )
            if on
        )
        matching = f" matching {filters}" if filters else ""
        return (
            f"expected {wanted} call(s) to {failure.name!r}{matching}; "
            f"actual: {failure.actual_matches}"
        )
    if isinstance(failure, TokenBudgetExceeded):
        return f"expected at most {failure.budget} tokens; used {failure.actual}"
    if isinstance(failure, DurationExceeded):
        return f"expected at most {failure.budget_ms} ms; took {failure.actual_ms} ms"
    if isinstance(failure, JudgeBelowThreshold):
        reasons = f"; the judge said: {report.judge_reasoning}" if report.judge_reasoning else ""
        return (
            f"expected a judge score of at least {failure.threshold:g}; "
            f"scored {failure.actual:g}{reasons}"
        )
    if isinstance(failure, ExpectedErrorMissing):
        return f"expected the error {failure.expected!r}; the replay ended without error"
    if isinstance(failure, ErrorTypeMismatch):
        return f"expected the error {failure.expected!r}; actual error: {failure.actual!r}"
    if isinstance(failure, ReplayRuntimeFailed):
        runtime = failure.failure
        if isinstance(runtime, ScriptExhausted):
            return (
                f"the replay failed: the agent made {runtime.extra_calls} model call(s) "
                "more than the provider script holds"
            )
        if isinstance(runtime, ProviderScriptUnused):
            return (
                f"the replay failed: {runtime.remaining} provider script event(s) were never used"
            )
        return f"the replay failed: {runtime.message}"
    assert_never(failure)


def item_explanations(report: ReplayReport) -> tuple[str, ...]:
    """One line per failure of ``report``, in the report's failure order.

    A failed report that lists no failure (possible in a hand-written file) gets one
    line saying so; a passed report gets none.
    """
    if report.passed:
        return ()
    if not report.failures:
        return ("the report failed without listing a failure",)
    return tuple(_explain(failure, report) for failure in report.failures)
