"""Why a replay failed: scoring failures and replay runtime failures (tagged by ``kind``).

Each variant class has a ``kind`` class attribute holding its stable wire tag; the kind
strings double as stable group keys (a diff's ``new_failures`` lists them).
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Union, get_args

import attrs

from awaken_eval._records.types import U32, U64, JsonValue

__all__ = [
    "FAILURE_KINDS",
    "AnswerContainsExcludedPhrase",
    "AnswerMissingPhrase",
    "CountConstraint",
    "CountOp",
    "DurationExceeded",
    "ErrorTypeMismatch",
    "ExpectedErrorMissing",
    "Failure",
    "ForbiddenToolUsed",
    "JudgeBelowThreshold",
    "ProviderScriptUnused",
    "ReplayRuntimeError",
    "ReplayRuntimeFailed",
    "ReplayRuntimeFailure",
    "RequiredToolCallNotSatisfied",
    "ScriptExhausted",
    "TokenBudgetExceeded",
    "ToolSequenceMismatch",
    "ToolSequenceMode",
    "ValueMismatch",
]


class ToolSequenceMode(Enum):
    """How ``Expectation.tool_sequence`` is compared with the recorded tool names."""

    EXACT = "exact"
    """The recorded names must equal the expected list element-wise."""
    ORDERED_SUBSEQ = "ordered_subseq"
    """The expected list must be a (not necessarily contiguous) subsequence."""


class CountOp(Enum):
    """Comparison of a :class:`CountConstraint`."""

    EXACTLY = "exactly"
    """The count must equal ``n``."""
    AT_LEAST = "at_least"
    """The count must be ``n`` or more."""
    AT_MOST = "at_most"
    """The count must be ``n`` or fewer."""


@attrs.frozen
class CountConstraint:
    """How many matching calls a :class:`~awaken_eval.ToolCallMatcher` requires.

    Wire shape: ``{"op": "exactly" | "at_least" | "at_most", "n": <u32>}``.
    ``CountConstraint(CountOp.AT_MOST, 0)`` with an ``args_subset`` means "may call the
    tool, but never with these arguments".

    Attributes:
        op: The comparison.
        n: The bound.
    """

    op: CountOp
    n: U32

    def allows(self, actual: int) -> bool:
        """Whether ``actual`` matching calls satisfy this constraint."""
        if self.op is CountOp.EXACTLY:
            return actual == self.n
        if self.op is CountOp.AT_LEAST:
            return actual >= self.n
        return actual <= self.n

    @classmethod
    def exactly(cls, n: int) -> CountConstraint:
        """Exactly ``n`` matching calls."""
        return cls(CountOp.EXACTLY, n)

    @classmethod
    def at_least(cls, n: int) -> CountConstraint:
        """At least ``n`` matching calls."""
        return cls(CountOp.AT_LEAST, n)

    @classmethod
    def at_most(cls, n: int) -> CountConstraint:
        """At most ``n`` matching calls."""
        return cls(CountOp.AT_MOST, n)


# -- replay runtime failures ---------------------------------------------------------


@attrs.frozen
class ScriptExhausted:
    """The agent asked the scripted executor for more events than the script had.

    Attributes:
        extra_calls: How many calls found the script empty.
    """

    kind: ClassVar[str] = "script_exhausted"
    extra_calls: U32


@attrs.frozen
class ProviderScriptUnused:
    """Script events were left over when the replay stopped.

    Attributes:
        remaining: How many events were never consumed.
    """

    kind: ClassVar[str] = "provider_script_unused"
    remaining: U32


@attrs.frozen
class ReplayRuntimeError:
    """The replay itself failed (timeout, budget, provider failure, bad override, ...).

    Attributes:
        message: What went wrong, in plain text.
    """

    kind: ClassVar[str] = "runtime_error"
    message: str


ReplayRuntimeFailure = Union[ScriptExhausted, ProviderScriptUnused, ReplayRuntimeError]  # noqa: UP007
"""A misbehaving replay; JSON tagged by ``kind``."""


# -- scoring failures ----------------------------------------------------------------


@attrs.frozen
class AnswerMissingPhrase:
    """A phrase of ``final_answer_contains`` is not in the final text.

    Attributes:
        phrase: The missing phrase.
    """

    kind: ClassVar[str] = "answer_missing_phrase"
    phrase: str


@attrs.frozen
class AnswerContainsExcludedPhrase:
    """A phrase of ``final_answer_excludes`` is in the final text.

    Attributes:
        phrase: The phrase found.
    """

    kind: ClassVar[str] = "answer_contains_excluded_phrase"
    phrase: str


@attrs.frozen
class ToolSequenceMismatch:
    """The recorded tool names do not satisfy ``tool_sequence``.

    Attributes:
        expected: The expected names.
        actual: Every recorded tool name, in record order.
        mode: The comparison that failed (omitted on the wire when ``exact``).
    """

    kind: ClassVar[str] = "tool_sequence_mismatch"
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    mode: ToolSequenceMode = attrs.field(default=ToolSequenceMode.EXACT, kw_only=True)


@attrs.frozen
class ForbiddenToolUsed:
    """A name of ``forbidden_tools`` was called at least once (one failure per name).

    Attributes:
        tool: The forbidden name.
    """

    kind: ClassVar[str] = "forbidden_tool_used"
    tool: str


@attrs.frozen(kw_only=True)
class ValueMismatch:
    """Where a recorded tool call differs from a matcher's filter (the first difference).

    Additive wire field of :class:`RequiredToolCallNotSatisfied` (omitted when absent).

    Attributes:
        call: Which capture differs: ``arguments`` or ``result``.
        path: JSON path of the differing value inside that capture, e.g. ``$.city``.
        expected: The filter's value there.
        actual: The call's value there (``None`` also when absent, see ``found``).
        found: ``False`` when the call has no value at ``path`` (or none was captured).
    """

    call: str
    path: str
    expected: JsonValue
    actual: JsonValue | None = None
    found: bool = True


@attrs.frozen
class RequiredToolCallNotSatisfied:
    """A ``required_tool_calls`` matcher's count constraint failed.

    Attributes:
        name: The matcher's tool name.
        actual_matches: How many calls matched name and filters.
        expected_count: The matcher's explicit count (absent: the implicit "at least 1").
        args_filter_set: Whether the matcher had an ``args_subset``.
        result_filter_set: Whether the matcher had a ``result_subset``.
        mismatch: When too few calls matched a filter although the tool was called,
            the first difference of the closest call (additive field, omitted when
            absent).
    """

    kind: ClassVar[str] = "required_tool_call_not_satisfied"
    name: str
    expected_count: CountConstraint | None = attrs.field(default=None, kw_only=True)
    actual_matches: U32
    args_filter_set: bool = attrs.field(default=False, kw_only=True)
    result_filter_set: bool = attrs.field(default=False, kw_only=True)
    mismatch: ValueMismatch | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class TokenBudgetExceeded:
    """Total tokens above ``max_tokens_total``.

    Attributes:
        budget: The budget.
        actual: The outcome's total tokens.
    """

    kind: ClassVar[str] = "token_budget_exceeded"
    budget: U32
    actual: U32


@attrs.frozen
class DurationExceeded:
    """Session duration above ``max_duration_ms``.

    Attributes:
        budget_ms: The budget.
        actual_ms: The session duration.
    """

    kind: ClassVar[str] = "duration_exceeded"
    budget_ms: U64
    actual_ms: U64


@attrs.frozen
class JudgeBelowThreshold:
    """The judge's score is below ``min_judge_score``.

    Attributes:
        threshold: The required score.
        actual: The judge's score.
    """

    kind: ClassVar[str] = "judge_below_threshold"
    threshold: float
    actual: float


@attrs.frozen
class ExpectedErrorMissing:
    """``expected_error_type`` is set but the replay carried no error type.

    Attributes:
        expected: The expected error type.
    """

    kind: ClassVar[str] = "expected_error_missing"
    expected: str


@attrs.frozen
class ErrorTypeMismatch:
    """An error fired, but of another type than ``expected_error_type``.

    Attributes:
        expected: The expected error type.
        actual: The error type that fired.
    """

    kind: ClassVar[str] = "error_type_mismatch"
    expected: str
    actual: str


@attrs.frozen
class ReplayRuntimeFailed:
    """The replay misbehaved; always a failure, whatever the expectation.

    Attributes:
        failure: What went wrong.
    """

    kind: ClassVar[str] = "replay_runtime_failure"
    failure: ReplayRuntimeFailure


Failure = Union[  # noqa: UP007
    AnswerMissingPhrase,
    AnswerContainsExcludedPhrase,
    ToolSequenceMismatch,
    ForbiddenToolUsed,
    RequiredToolCallNotSatisfied,
    TokenBudgetExceeded,
    DurationExceeded,
    JudgeBelowThreshold,
    ExpectedErrorMissing,
    ErrorTypeMismatch,
    ReplayRuntimeFailed,
]
"""Why a report did not pass; JSON tagged by ``kind``."""

FAILURE_KINDS: tuple[str, ...] = tuple(cls.kind for cls in get_args(Failure))
"""The eleven stable failure kind strings, in the order of the spec's table."""
