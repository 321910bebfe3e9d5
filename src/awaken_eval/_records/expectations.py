"""Success criteria of a fixture: :class:`Expectation` and :class:`ToolCallMatcher`.

Every key is optional and an absent key imposes no constraint. The wire form omits
empty keys, so an empty expectation is ``{}``. Unknown keys are rejected when reading:
a typo such as ``final_answer_contain`` must never become an empty expectation that
always passes.
"""

from __future__ import annotations

import attrs

from awaken_eval._records.failures import CountConstraint, ToolSequenceMode
from awaken_eval._records.types import U32, U64, JsonValue

__all__ = [
    "Expectation",
    "ToolCallMatcher",
    "json_subset",
]


@attrs.frozen
class ToolCallMatcher:
    """Requires a number of calls to one tool, optionally filtered by arguments/result.

    A call matches when its name equals ``name`` and, for each filter that is set, the
    captured value is present and structurally covers the filter (see
    :func:`json_subset`). An absent capture never matches a set filter.

    Attributes:
        name: The tool name.
        args_subset: JSON the captured call arguments must cover.
        result_subset: JSON the captured call result must cover.
        count: How many matching calls are required (absent: at least 1).
    """

    name: str
    args_subset: JsonValue | None = attrs.field(default=None, kw_only=True)
    result_subset: JsonValue | None = attrs.field(default=None, kw_only=True)
    count: CountConstraint | None = attrs.field(default=None, kw_only=True)

    @property
    def effective_count(self) -> CountConstraint:
        """The count constraint that applies: ``count`` or "at least 1"."""
        return self.count if self.count is not None else CountConstraint.at_least(1)


@attrs.frozen(kw_only=True)
class Expectation:
    """What a replay must satisfy to pass. Every field is optional.

    Attributes:
        final_answer_contains: Phrases that must each be a case-sensitive substring of
            the final text.
        final_answer_excludes: Phrases none of which may appear in the final text.
        tool_sequence: Expected tool names, compared by ``tool_sequence_mode``.
        tool_sequence_mode: ``exact`` (default) or ``ordered_subseq``.
        forbidden_tools: Tool names that must never be called.
        required_tool_calls: Matchers whose count constraints must hold.
        max_tokens_total: Upper bound (inclusive) on the replay's total tokens.
        max_duration_ms: Upper bound (inclusive) on the session duration.
        min_judge_score: Lowest acceptable LLM-judge score, in [0, 1]; only a judge can
            check it.
        expected_error_type: The error type the replay must end with.
    """

    final_answer_contains: tuple[str, ...] = ()
    final_answer_excludes: tuple[str, ...] = ()
    tool_sequence: tuple[str, ...] = ()
    tool_sequence_mode: ToolSequenceMode = ToolSequenceMode.EXACT
    forbidden_tools: tuple[str, ...] = ()
    required_tool_calls: tuple[ToolCallMatcher, ...] = ()
    max_tokens_total: U32 | None = None
    max_duration_ms: U64 | None = None
    min_judge_score: float | None = None
    expected_error_type: str | None = None

    def is_empty(self) -> bool:
        """Whether this expectation imposes no constraint (``tool_sequence_mode`` aside)."""
        return not (
            self.final_answer_contains
            or self.final_answer_excludes
            or self.tool_sequence
            or self.forbidden_tools
            or self.required_tool_calls
            or self.max_tokens_total is not None
            or self.max_duration_ms is not None
            or self.min_judge_score is not None
            or self.expected_error_type is not None
        )


def json_subset(subset: JsonValue, actual: JsonValue) -> bool:
    """Whether ``actual`` structurally covers ``subset``.

    Objects: every key of ``subset`` must exist in ``actual`` with a covering value.
    Arrays: same length, element-wise covering (order matters, no extra elements).
    Anything else: JSON equality (``true`` is not ``1``; ``1`` equals ``1.0``).
    """
    if isinstance(subset, dict):
        if not isinstance(actual, dict):
            return False
        return all(
            key in actual and json_subset(value, actual[key]) for key, value in subset.items()
        )
    if isinstance(subset, list):
        if not isinstance(actual, list) or len(subset) != len(actual):
            return False
        return all(json_subset(s, a) for s, a in zip(subset, actual, strict=True))
    if isinstance(subset, bool) or isinstance(actual, bool):
        return type(subset) is type(actual) and subset == actual
    if isinstance(actual, (dict, list)):
        return False
    return bool(subset == actual)
