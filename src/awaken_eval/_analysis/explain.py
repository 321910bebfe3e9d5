"""One explanation per failure: the expectation, expected against actual, and evidence.

:func:`explain` renders one :data:`~awaken_eval.Failure`; given the report it came
from, it adds the evidence the report holds (an excerpt of the final answer, the calls
made to a tool, the judge's reasons and criterion verdicts, the error type).
:func:`explain_item` explains every failure of a report or run item. Pure: records in,
records out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from awaken_eval._records.explanations import Explanation
from awaken_eval._records.failures import (
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    CountOp,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    Failure,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ProviderScriptUnused,
    ReplayRuntimeFailed,
    ReplayRuntimeFailure,
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    ToolSequenceMode,
)
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRunItem
from awaken_eval._records.types import JsonValue

__all__ = ["EXCERPT_CHARS", "excerpt", "explain", "explain_item", "item_label"]

EXCERPT_CHARS = 300
"""Longest excerpt of a final answer quoted in an explanation (longer ones are cut)."""

_REASON_CHARS = 500
"""Longest judge reasoning quoted in an explanation."""

_VALUE_CHARS = 200
"""Longest JSON value (of a tool call's arguments or result) quoted in an explanation."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _names(names: Sequence[str]) -> str:
    return "[" + ", ".join(repr(name) for name in names) + "]"


def _count(constraint: CountConstraint | None) -> str:
    if constraint is None:
        return "at least 1 (the default)"
    words = {CountOp.EXACTLY: "exactly", CountOp.AT_LEAST: "at least", CountOp.AT_MOST: "at most"}
    return f"{words[constraint.op]} {constraint.n}"


def excerpt(text: str, *, around: str | None = None, limit: int = EXCERPT_CHARS) -> str:
    """``text`` quoted (``repr``), cut to ``limit`` characters with its length noted.

    Args:
        text: The text, e.g. a final answer.
        around: When it occurs in a long ``text``, the excerpt is centred on it.
        limit: The longest excerpt.

    Returns:
        ``'It is Lyon.'``, or ``'…middle…'... (1000 characters)`` for a long text.
    """
    if len(text) <= limit:
        return repr(text)
    start = 0
    if around is not None and around in text:
        start = max(0, min(text.index(around) - (limit - len(around)) // 2, len(text) - limit))
    cut = text[start : start + limit]
    before = "..." if start > 0 else ""
    return f"{before}{cut!r}... ({len(text)} characters)"


def _json(value: JsonValue | None) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return (
        text if len(text) <= _VALUE_CHARS else f"{text[:_VALUE_CHARS]}... ({len(text)} characters)"
    )


def _answer(report: ReplayReport | None, *, around: str | None = None) -> tuple[str, ...]:
    if report is None:
        return ()
    return (f"final answer: {excerpt(report.final_text, around=around)}",)


def _tool_calls(report: ReplayReport | None, tool: str) -> int | None:
    if report is None or not report.tool_calls_by_agent:
        return None
    return sum(stats.call_count for stats in report.tool_calls_by_agent if stats.tool == tool)


def _first_difference(expected: Sequence[str], actual: Sequence[str]) -> str:
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return f"first difference at call {index + 1}: expected {want!r}, got {got!r}"
    if len(expected) > len(actual):
        return f"missing after call {len(actual)}: {_names(expected[len(actual) :])}"
    return f"unexpected after call {len(expected)}: {_names(actual[len(expected) :])}"


def _missing_in_order(expected: Sequence[str], actual: Sequence[str]) -> str:
    remaining = iter(actual)
    for index, name in enumerate(expected):
        if name not in remaining:
            return f"not found in order: {name!r} (expected call {index + 1} of {len(expected)})"
    return "every expected call was found in order"  # pragma: no cover - a mismatch has one


def _judge_details(report: ReplayReport | None) -> tuple[str, ...]:
    if report is None:
        return ()
    details: list[str] = []
    if report.judge_reasoning:
        details.append(f"judge's reasons: {excerpt(report.judge_reasoning, limit=_REASON_CHARS)}")
    for verdict in report.judge_verdicts:
        line = f"criterion {verdict.criterion_id!r}: {verdict.score:g}"
        if verdict.reasoning:
            line += f" — {excerpt(verdict.reasoning, limit=_REASON_CHARS)}"
        details.append(line)
    if len(report.judge_attempts) > 1:
        scores = ", ".join(
            f"revision {attempt.revision}: {attempt.score:g}" for attempt in report.judge_attempts
        )
        details.append(f"judged attempts: {scores}")
    details.extend(_answer(report))
    return tuple(details)


def _runtime(failure: ReplayRuntimeFailure) -> tuple[str, str]:
    """``(summary text, actual)`` of a replay runtime failure."""
    if isinstance(failure, ScriptExhausted):
        calls = _plural(failure.extra_calls, "more model call")
        return (
            f"script_exhausted: the agent made {calls} than the provider script holds",
            f"{calls} than scripted",
        )
    if isinstance(failure, ProviderScriptUnused):
        events = _plural(failure.remaining, "provider script event")
        return f"provider_script_unused: {events} left unconsumed", f"{events} left unconsumed"
    first, *rest = failure.message.splitlines() or [""]
    more = " (more below)" if any(line.strip() for line in rest) else ""
    return f"runtime_error: {first}{more}", failure.message


def _error_details(report: ReplayReport | None) -> tuple[str, ...]:
    if report is None or report.error_type is None:
        return ()
    return (f"error type: {report.error_type!r}",)


def _made(
    failure: Failure,
    key: str,
    summary: str,
    expected: str,
    actual: str,
    *,
    details: tuple[str, ...] = (),
) -> Explanation:
    return Explanation(
        kind=failure.kind,
        expectation=key,
        summary=f"{key}: {summary}" if key != "replay" else summary,
        expected=expected,
        actual=actual,
        details=details,
    )


def _missing_phrase(failure: AnswerMissingPhrase, report: ReplayReport | None) -> Explanation:
    summary = f"expected {failure.phrase!r} in the final answer, not found"
    expected = f"{failure.phrase!r} in the answer"
    return _made(
        failure, "final_answer_contains", summary, expected, "not found", details=_answer(report)
    )


def _excluded_phrase(
    failure: AnswerContainsExcludedPhrase, report: ReplayReport | None
) -> Explanation:
    summary = f"expected no {failure.phrase!r} in the final answer, found"
    details = _answer(report, around=failure.phrase)
    return _made(
        failure,
        "final_answer_excludes",
        summary,
        f"no {failure.phrase!r}",
        "found",
        details=details,
    )


def _tool_sequence(failure: ToolSequenceMismatch, report: ReplayReport | None) -> Explanation:
    del report
    expected, actual = _names(failure.expected), _names(failure.actual)
    if failure.mode is ToolSequenceMode.ORDERED_SUBSEQ:
        summary = f"expected {expected} in this order, got {actual}"
        details = (_missing_in_order(failure.expected, failure.actual),)
    else:
        summary = f"expected {expected}, got {actual}"
        details = (_first_difference(failure.expected, failure.actual),)
    return Explanation(
        kind=failure.kind,
        expectation="tool_sequence",
        summary=f"tool_sequence ({failure.mode.value}): {summary}",
        expected=expected,
        actual=actual,
        details=details,
    )


def _forbidden_tool(failure: ForbiddenToolUsed, report: ReplayReport | None) -> Explanation:
    calls = _tool_calls(report, failure.tool)
    got = "at least one" if calls is None else str(calls)
    actual = "at least one call" if calls is None else _plural(calls, "call")
    summary = f"expected no call to {failure.tool!r}, got {got}"
    return _made(failure, "forbidden_tools", summary, f"no call to {failure.tool!r}", actual)


def _required_call(
    failure: RequiredToolCallNotSatisfied, report: ReplayReport | None
) -> Explanation:
    filters = [
        name
        for name, is_set in (
            ("args_subset", failure.args_filter_set),
            ("result_subset", failure.result_filter_set),
        )
        if is_set
    ]
    matching = f" matching {' and '.join(filters)}" if filters else ""
    expected = f"{_count(failure.expected_count)} calls to {failure.name!r}{matching}"
    summary = f"expected {expected}, got {failure.actual_matches}"
    details: list[str] = []
    calls = _tool_calls(report, failure.name)
    if calls is not None and filters:
        details.append(
            f"calls to {failure.name!r}: {calls}, of which {failure.actual_matches} matched"
        )
    mismatch = failure.mismatch
    if mismatch is not None:
        got = _json(mismatch.actual) if mismatch.found else "nothing"
        details.append(
            f"closest call: {mismatch.call} at {mismatch.path}: expected "
            f"{_json(mismatch.expected)}, got {got}"
        )
    actual = f"{failure.actual_matches} matching"
    return _made(failure, "required_tool_calls", summary, expected, actual, details=tuple(details))


def _token_budget(failure: TokenBudgetExceeded, report: ReplayReport | None) -> Explanation:
    summary = f"expected at most {failure.budget} tokens, got {failure.actual}"
    over = f"{failure.actual - failure.budget} tokens over the budget"
    details: tuple[str, ...] = ()
    if report is not None and report.total_input_tokens + report.total_output_tokens:
        inferences = _plural(report.inference_count, "inference")
        split = f"input {report.total_input_tokens} + output {report.total_output_tokens}"
        details = (f"{over} ({split} over {inferences})",)
    expected, actual = f"at most {failure.budget} tokens", f"{failure.actual} tokens"
    return _made(failure, "max_tokens_total", summary, expected, actual, details=details)


def _duration(failure: DurationExceeded, report: ReplayReport | None) -> Explanation:
    del report
    summary = f"expected at most {failure.budget_ms} ms, got {failure.actual_ms} ms"
    expected, actual = f"at most {failure.budget_ms} ms", f"{failure.actual_ms} ms"
    return _made(failure, "max_duration_ms", summary, expected, actual)


def _judge(failure: JudgeBelowThreshold, report: ReplayReport | None) -> Explanation:
    summary = f"expected a judge score of at least {failure.threshold:g}, got {failure.actual:g}"
    expected, actual = f"score >= {failure.threshold:g}", f"score {failure.actual:g}"
    return _made(
        failure, "min_judge_score", summary, expected, actual, details=_judge_details(report)
    )


def _error_missing(failure: ExpectedErrorMissing, report: ReplayReport | None) -> Explanation:
    summary = f"expected error {failure.expected!r}, got no error"
    expected = f"error {failure.expected!r}"
    return _made(
        failure, "expected_error_type", summary, expected, "no error", details=_answer(report)
    )


def _error_mismatch(failure: ErrorTypeMismatch, report: ReplayReport | None) -> Explanation:
    del report
    summary = f"expected error {failure.expected!r}, got {failure.actual!r}"
    expected, actual = f"error {failure.expected!r}", f"error {failure.actual!r}"
    return _made(failure, "expected_error_type", summary, expected, actual)


def _replay_failed(failure: ReplayRuntimeFailed, report: ReplayReport | None) -> Explanation:
    text, actual = _runtime(failure.failure)
    summary = f"replay failed: {text}"
    expected = "a replay that completes"
    details = _error_details(report)
    if text.endswith("(more below)"):
        more = actual.splitlines()[1:]
        details = (*(line.rstrip() for line in more if line.strip()), *details)
    return _made(failure, "replay", summary, expected, actual, details=details)


_RENDERERS: dict[type[Any], Callable[[Any, ReplayReport | None], Explanation]] = {
    AnswerMissingPhrase: _missing_phrase,
    AnswerContainsExcludedPhrase: _excluded_phrase,
    ToolSequenceMismatch: _tool_sequence,
    ForbiddenToolUsed: _forbidden_tool,
    RequiredToolCallNotSatisfied: _required_call,
    TokenBudgetExceeded: _token_budget,
    DurationExceeded: _duration,
    JudgeBelowThreshold: _judge,
    ExpectedErrorMissing: _error_missing,
    ErrorTypeMismatch: _error_mismatch,
    ReplayRuntimeFailed: _replay_failed,
}
"""One renderer per failure kind."""


def explain(failure: Failure, *, report: ReplayReport | None = None) -> Explanation:
    """Explain one failure: the expectation, expected against actual, and evidence.

    Args:
        failure: A failure of a report.
        report: The report it belongs to; its final answer, tool statistics, judge
            reasons and error type become the explanation's details.

    Returns:
        The explanation; its ``summary`` is one line such as
        ``max_tokens_total: expected at most 100 tokens, got 250``.

    Examples:
        >>> from awaken_eval.failures import AnswerMissingPhrase
        >>> print(explain(AnswerMissingPhrase("Paris")))
        final_answer_contains: expected 'Paris' in the final answer, not found
    """
    return _RENDERERS[type(failure)](failure, report)


def explain_item(target: ReplayReport | EvalRunItem) -> tuple[Explanation, ...]:
    """Explain every failure of a report or run item, in the report's order.

    Evidence shared by several failures (the final answer) is shown once, with the
    first failure that needs it. A failed report that lists no failure (possible in a
    report read from a file) gets one explanation saying so; a passed one gets none.

    Args:
        target: A report, or a run item (its report is explained).

    Returns:
        One explanation per failure.
    """
    report = target.report if isinstance(target, EvalRunItem) else target
    if report.passed and not report.failures:
        return ()
    if not report.failures:
        return (
            Explanation(
                kind="unexplained",
                expectation="report",
                summary="the report is marked failed but lists no failure",
                expected="passed",
                actual="failed",
            ),
        )
    shown: set[str] = set()
    explanations = []
    for failure in report.failures:
        explanation = explain(failure, report=report)
        fresh = tuple(line for line in explanation.details if line not in shown)
        shown.update(fresh)
        if fresh != explanation.details:
            explanation = Explanation(
                kind=explanation.kind,
                expectation=explanation.expectation,
                summary=explanation.summary,
                expected=explanation.expected,
                actual=explanation.actual,
                details=fresh,
            )
        explanations.append(explanation)
    return tuple(explanations)


def item_label(target: ReplayReport | EvalRunItem) -> str:
    """How an item is named in listings: ``fixture [model] #sample``."""
    if isinstance(target, ReplayReport):
        return target.fixture_id
    label = target.fixture_id
    if target.cell is not None and target.cell.model_id is not None:
        label += f" [{target.cell.model_id}]"
    if target.sample_index is not None:
        label += f" #{target.sample_index}"
    return label
