"""Scoring: compare a :class:`~awaken_eval.ReplayOutcome` with an :class:`~awaken_eval.Expectation`.

:func:`score` is the deterministic part of grading a replay (spec §2.1). It is pure: no
I/O, no clock, no logging, never raises for any outcome. The checks run, and append
their failures, in exactly this order:

1. ``final_answer_contains``: one :class:`~awaken_eval.AnswerMissingPhrase` per missing
   phrase (case-sensitive substring test, list order);
2. ``final_answer_excludes``: one :class:`~awaken_eval.AnswerContainsExcludedPhrase`
   per phrase found;
3. ``tool_sequence`` (when non-empty): at most one
   :class:`~awaken_eval.ToolSequenceMismatch`, carrying every recorded tool name;
4. ``forbidden_tools``: one :class:`~awaken_eval.ForbiddenToolUsed` per forbidden
   *name* used (not per call);
5. ``required_tool_calls``: one :class:`~awaken_eval.RequiredToolCallNotSatisfied` per
   matcher whose count constraint fails;
6. ``max_tokens_total``: :class:`~awaken_eval.TokenBudgetExceeded` (the budget is
   inclusive);
7. ``max_duration_ms``: :class:`~awaken_eval.DurationExceeded`, on the *session*
   duration (never the wall-clock ``elapsed``);
8. ``expected_error_type``: :class:`~awaken_eval.ExpectedErrorMissing` or
   :class:`~awaken_eval.ErrorTypeMismatch`;
9. the outcome's runtime failure, wrapped in :class:`~awaken_eval.ReplayRuntimeFailed`,
   always last and never short-circuiting the checks before it.

``min_judge_score`` is not checked here; a judge's verdict is merged with
:func:`add_judge_failure`, which keeps the runtime failure last (an improvement over the
reference, which appended the judge failure after it).

Improvement over the reference: ``expected_error_type`` also matches an error of the
same *known* kind under another spelling (``rate_limit`` and ``rate_limited``, any
letter case), see :func:`error_kind`. Unknown strings still match only verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from awaken_eval._records.expectations import Expectation, json_subset
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
    ReplayRuntimeFailed,
    RequiredToolCallNotSatisfied,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    ToolSequenceMode,
    ValueMismatch,
)
from awaken_eval._records.outcomes import InferenceSpan, ReplayOutcome, ToolSpan
from awaken_eval._records.types import U32_MAX, JsonValue

__all__ = [
    "ERROR_KINDS",
    "add_judge_failure",
    "error_kind",
    "error_types_match",
    "judge_failure_for",
    "score",
]

ERROR_KINDS: tuple[str, ...] = (
    "rate_limited",
    "overloaded",
    "timeout",
    "context_overflow",
    "invalid_request",
    "unauthorized",
    "model_not_found",
    "content_filtered",
    "provider",
)
"""The structured inference error kinds, shared by scripted and live replays."""

_ERROR_ALIASES: dict[str, str] = {kind: kind for kind in ERROR_KINDS}
_ERROR_ALIASES["rate_limit"] = "rate_limited"

_EXACT = ToolSequenceMode.EXACT
_AT_LEAST = CountOp.AT_LEAST
_EXACTLY = CountOp.EXACTLY


def error_kind(error_type: str) -> str | None:
    """The known error kind an error type string names, or ``None``.

    The lookup ignores letter case. ``rate_limit`` (the spelling of the reference's
    fixtures) and ``rate_limited`` both name ``rate_limited``; every other entry of
    :data:`ERROR_KINDS` names itself.

    Args:
        error_type: An error type as written in a fixture or recorded on an outcome.

    Returns:
        The canonical kind, or ``None`` when the string names no known kind.

    Examples:
        >>> error_kind("Rate_Limit")
        'rate_limited'
        >>> error_kind("boom") is None
        True
    """
    return _ERROR_ALIASES.get(error_type.lower())


def error_types_match(expected: str, actual: str) -> bool:
    """Whether ``actual`` satisfies an ``expected_error_type`` of ``expected``.

    The strings match when they are equal, or when both name the same *known* kind
    (see :func:`error_kind`). Two unknown strings match only when equal.

    Args:
        expected: The expectation's ``expected_error_type``.
        actual: The outcome's ``error_type``.

    Returns:
        Whether the error type is the expected one.
    """
    if expected == actual:
        return True
    kind = error_kind(expected)
    return kind is not None and kind == error_kind(actual)


def _is_subsequence(expected: Sequence[str], actual: Sequence[str]) -> bool:
    remaining = iter(actual)
    return all(name in remaining for name in expected)


def _covers(subset: JsonValue, actual: JsonValue) -> bool:
    """:func:`~awaken_eval.json_subset` with a fast path for flat objects of strings."""
    if type(subset) is not dict or type(actual) is not dict:
        return json_subset(subset, actual)
    for key, value in subset.items():
        if key not in actual:
            return False
        if type(value) is str:
            if value != actual[key]:  # a str equals nothing but an equal str
                return False
        elif not json_subset(value, actual[key]):
            return False
    return True


def _key_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _differences(
    subset: JsonValue, actual: JsonValue, path: str
) -> list[tuple[str, JsonValue, JsonValue | None, bool]]:
    """Every place where ``actual`` fails to cover ``subset``: (path, expected, actual, found)."""
    if isinstance(subset, dict) and isinstance(actual, dict):
        found: list[tuple[str, JsonValue, JsonValue | None, bool]] = []
        for key, value in subset.items():
            where = _key_path(path, key)
            if key not in actual:
                found.append((where, value, None, False))
            else:
                found.extend(_differences(value, actual[key], where))
        return found
    if isinstance(subset, list) and isinstance(actual, list) and len(subset) == len(actual):
        return [
            difference
            for index, (want, got) in enumerate(zip(subset, actual, strict=True))
            for difference in _differences(want, got, f"{path}[{index}]")
        ]
    return [] if json_subset(subset, actual) else [(path, subset, actual, True)]


def _closest_mismatch(
    tools: Sequence[ToolSpan], name: str, args: JsonValue | None, result: JsonValue | None
) -> ValueMismatch | None:
    """The first difference of the call to ``name`` that comes closest to the filters."""
    best: tuple[int, ValueMismatch] | None = None
    for tool in tools:
        if tool.name != name:
            continue
        differences: list[tuple[str, str, JsonValue, JsonValue | None, bool]] = []
        for call, wanted, captured in (
            ("arguments", args, tool.call_arguments),
            ("result", result, tool.call_result),
        ):
            if wanted is None:
                continue
            if captured is None:
                differences.append((call, "$", wanted, None, False))
            else:
                differences.extend((call, *found) for found in _differences(wanted, captured, "$"))
        if differences and (best is None or len(differences) < best[0]):
            call, where, expected, actual, present = differences[0]
            mismatch = ValueMismatch(
                call=call, path=where, expected=expected, actual=actual, found=present
            )
            best = (len(differences), mismatch)
    return None if best is None else best[1]


def _total_tokens(inferences: Sequence[InferenceSpan]) -> int:
    """:meth:`~awaken_eval.ReplayOutcome.total_tokens`, inlined for speed."""
    total = 0
    for span in inferences:
        span_total = span.total_tokens
        if span_total is not None:
            if span_total > 0:
                total += span_total
            continue
        inputs = span.input_tokens
        outputs = span.output_tokens
        if inputs is not None and inputs > 0:
            total += inputs
        if outputs is not None and outputs > 0:
            total += outputs
    return min(total, U32_MAX)


def _check_error_type(failures: list[Failure], expected: str, actual: str | None) -> None:
    if actual is None:
        failures.append(ExpectedErrorMissing(expected))
    elif not error_types_match(expected, actual):
        failures.append(ErrorTypeMismatch(expected, actual))


def score(outcome: ReplayOutcome, expectation: Expectation) -> list[Failure]:  # noqa: C901, PLR0912, PLR0915 - see below
    """Compare ``outcome`` with ``expectation`` and list every failure, in check order.

    The order is fixed (see the module documentation): phrases, excluded phrases, tool
    sequence, forbidden tools, required tool calls, token budget, duration, expected
    error type, and the runtime failure last. An empty expectation yields ``[]`` unless
    the outcome carries a runtime failure. ``min_judge_score`` is ignored.

    ``required_tool_calls`` filters (``args_subset`` / ``result_subset``) are matched
    structurally (:func:`~awaken_eval.json_subset`) against the *captured* call
    arguments and results; a call whose value was not captured never matches a set
    filter. Match counts saturate at the u32 maximum.

    Args:
        outcome: What the replay produced.
        expectation: What it had to satisfy.

    Returns:
        A new list of failures; empty when the replay passed.
    """
    text = outcome.final_text
    # One flat function on purpose: this is the hot path of large runs, and a helper
    # call per check group costs about a quarter of the time of a typical expectation
    # (benchmarks/bench_score.py). Each group is entered only when the expectation sets it.
    failures: list[Failure] = []
    text = outcome.final_text
    for phrase in expectation.final_answer_contains:
        if phrase not in text:
            failures.append(AnswerMissingPhrase(phrase))  # noqa: PERF401 - cheaper than a comprehension on 3.11
    for phrase in expectation.final_answer_excludes:
        if phrase in text:
            failures.append(AnswerContainsExcludedPhrase(phrase))  # noqa: PERF401 - as above

    metrics = outcome.metrics
    tools = metrics.tools
    expected_names = expectation.tool_sequence
    forbidden = expectation.forbidden_tools
    if expected_names or forbidden:
        names = tuple([tool.name for tool in tools])
        if expected_names:
            mode = expectation.tool_sequence_mode
            if mode is _EXACT:
                matched = names == expected_names
            else:
                matched = _is_subsequence(expected_names, names)
            if not matched:
                failures.append(ToolSequenceMismatch(expected_names, names, mode=mode))
        if forbidden:
            used = set(names)
            for name in forbidden:
                if name in used:
                    failures.append(ForbiddenToolUsed(name))  # noqa: PERF401 - as above

    for matcher in expectation.required_tool_calls:
        name = matcher.name
        args = matcher.args_subset
        result = matcher.result_subset
        count = 0
        for tool in tools:
            if tool.name != name:
                continue
            if args is not None:
                captured = tool.call_arguments
                if captured is None or not _covers(args, captured):
                    continue  # an absent capture never matches a set filter
            if result is not None:
                captured = tool.call_result
                if captured is None or not _covers(result, captured):
                    continue
            count += 1
        count = min(count, U32_MAX)
        constraint = matcher.count
        if constraint is None:
            satisfied = count >= 1
        elif constraint.op is _AT_LEAST:
            satisfied = count >= constraint.n
        elif constraint.op is _EXACTLY:
            satisfied = count == constraint.n
        else:
            satisfied = count <= constraint.n
        if not satisfied:
            mismatch = None
            needed = 1 if constraint is None else constraint.n
            too_few = count < needed and (
                constraint is None or constraint.op is not CountOp.AT_MOST
            )
            if too_few and (args is not None or result is not None):
                # show how the call that came closest to the filters differs
                mismatch = _closest_mismatch(tools, name, args, result)
            failures.append(
                RequiredToolCallNotSatisfied(
                    name,
                    expected_count=constraint,
                    actual_matches=count,
                    args_filter_set=args is not None,
                    result_filter_set=result is not None,
                    mismatch=mismatch,
                )
            )

    budget = expectation.max_tokens_total
    if budget is not None:
        total = _total_tokens(metrics.inferences)
        if total > budget:
            failures.append(TokenBudgetExceeded(budget, total))
    budget_ms = expectation.max_duration_ms
    if budget_ms is not None and metrics.session_duration_ms > budget_ms:
        failures.append(DurationExceeded(budget_ms, metrics.session_duration_ms))
    expected_error = expectation.expected_error_type
    if expected_error is not None:
        _check_error_type(failures, expected_error, outcome.error_type)
    if outcome.runtime_failure is not None:
        failures.append(ReplayRuntimeFailed(outcome.runtime_failure))
    return failures


def judge_failure_for(threshold: float | None, score: float) -> JudgeBelowThreshold | None:
    """The failure a judge score earns against ``min_judge_score``, if any.

    A score below the threshold fails; a score equal to it passes. A NaN score never
    passes (it is not ``>=`` anything).

    Args:
        threshold: The expectation's ``min_judge_score`` (``None``: no criterion).
        score: The judge's score.

    Returns:
        A :class:`~awaken_eval.JudgeBelowThreshold`, or ``None`` when the score passes
        or there is no threshold.
    """
    if threshold is None or score >= threshold:
        return None
    return JudgeBelowThreshold(threshold, score)


def add_judge_failure(failures: Sequence[Failure], failure: Failure) -> list[Failure]:
    """Insert a judge failure before any trailing runtime failures.

    The runtime failure of a replay always stays last (the reference appended the
    judge failure after it, spec §8.1 item 11). ``failures`` is not modified.

    Args:
        failures: The failures of :func:`score` (possibly followed by more runtime
            failures, e.g. a scoring error).
        failure: The judge's failure, usually a :class:`~awaken_eval.JudgeBelowThreshold`.

    Returns:
        A new list with ``failure`` placed right before the trailing run of
        :class:`~awaken_eval.ReplayRuntimeFailed` entries (at the end when there is
        none).
    """
    index = len(failures)
    while index > 0 and isinstance(failures[index - 1], ReplayRuntimeFailed):
        index -= 1
    result = list(failures)
    result.insert(index, failure)
    return result
