"""Fixtures: replayable scenarios (user prompt, provider script, expectations).

A :class:`Fixture` is one JSON file or one dataset entry. Its ``provider_script`` holds
the upstream LLM events a scripted replay feeds back in order; ``continued_turns`` add
user turns on the same thread. The legacy ``mock_response`` is still read and shimmed
into a one-event script (:meth:`Fixture.effective_script`).
"""

from __future__ import annotations

import math
from enum import Enum
from typing import ClassVar, Union

import attrs

from awaken_eval._records.evaluation import ExpectedOutcome
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.types import U32_MAX, U64, JsonValue

__all__ = [
    "ChatResponseEvent",
    "DatasetSpec",
    "DialogueTurn",
    "ErrorEvent",
    "Fixture",
    "MockErrorResponse",
    "MockResponse",
    "MockTextResponse",
    "ProviderScriptEvent",
    "StopReason",
    "TokenUsage",
    "ToolCallEvent",
]


@attrs.frozen(kw_only=True)
class TokenUsage:
    """Token counts reported by a provider; every count is optional.

    Attributes:
        prompt_tokens: Input tokens.
        completion_tokens: Output tokens.
        total_tokens: Total as reported by the provider.
        cache_read_tokens: Input tokens served from the prompt cache.
        cache_creation_tokens: Input tokens written to the prompt cache.
        thinking_tokens: Reasoning tokens.
    """

    prompt_tokens: U64 | None = None
    completion_tokens: U64 | None = None
    total_tokens: U64 | None = None
    cache_read_tokens: U64 | None = None
    cache_creation_tokens: U64 | None = None
    thinking_tokens: U64 | None = None


class StopReason(Enum):
    """Why a provider stopped generating (PascalCase on the wire, as the reference)."""

    END_TURN = "EndTurn"
    """The model finished its turn."""
    MAX_TOKENS = "MaxTokens"
    """The output token limit was hit."""
    TOOL_USE = "ToolUse"
    """The model asked for a tool call."""
    STOP_SEQUENCE = "StopSequence"
    """A stop sequence was produced."""


@attrs.frozen
class ChatResponseEvent:
    """A scripted text answer.

    Attributes:
        content: The assistant text.
        tokens: Token usage reported for this inference.
        finish_reason: Why generation stopped.
    """

    kind: ClassVar[str] = "chat_response"
    content: str
    tokens: TokenUsage = attrs.field(factory=TokenUsage, kw_only=True)
    finish_reason: StopReason = attrs.field(default=StopReason.END_TURN, kw_only=True)


@attrs.frozen
class ToolCallEvent:
    """A scripted request for exactly one tool call.

    Attributes:
        id: The provider's tool-call id.
        name: The tool name.
        arguments: The call arguments (any JSON).
        tokens: Token usage reported for this inference.
        result: The tool result recorded with the script (additive field, omitted when
            absent); a scripted replay feeds it back instead of calling a tool.
    """

    kind: ClassVar[str] = "tool_call"
    id: str
    name: str
    arguments: JsonValue
    tokens: TokenUsage = attrs.field(factory=TokenUsage, kw_only=True)
    result: JsonValue | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ErrorEvent:
    """A scripted provider error.

    Attributes:
        error_type: The fixture-authored type, e.g. ``rate_limit``.
        message: The provider's message.
    """

    kind: ClassVar[str] = "error"
    error_type: str
    message: str = attrs.field(default="", kw_only=True)


ProviderScriptEvent = Union[ChatResponseEvent, ToolCallEvent, ErrorEvent]  # noqa: UP007
"""One scripted upstream LLM event; JSON tagged by ``kind``."""


@attrs.frozen
class MockTextResponse:
    """Legacy single text response (superseded by ``provider_script``).

    Attributes:
        text: The response text.
    """

    kind: ClassVar[str] = "text"
    text: str = ""


@attrs.frozen
class MockErrorResponse:
    """Legacy single error response (superseded by ``provider_script``).

    Attributes:
        error_type: The error type.
        message: The error message.
    """

    kind: ClassVar[str] = "error"
    error_type: str
    message: str


MockResponse = Union[MockTextResponse, MockErrorResponse]  # noqa: UP007
"""The legacy response of a fixture; JSON tagged by ``kind``."""


@attrs.frozen
class DialogueTurn:
    """A further user turn on the same thread as the fixture's first turn.

    Attributes:
        user_input: The user's message.
        provider_script: Scripted events for this turn.
        provider_script_error: Why this turn's script could not be captured (the
            fixture is then live-only).
    """

    user_input: str
    provider_script: tuple[ProviderScriptEvent, ...] = attrs.field(default=(), kw_only=True)
    provider_script_error: str | None = attrs.field(default=None, kw_only=True)


def _estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


@attrs.frozen
class Fixture:
    """A replayable scenario: user prompt, provider script and expectations.

    Attributes:
        id: Stable identifier; unique within a directory or dataset.
        user_input: The first user message.
        description: Human-readable text.
        provider_script: Scripted upstream events for the first turn.
        provider_script_error: Marks the fixture live-only and says why no script could
            be captured; a scripted replay fails closed.
        source_run_id: The trace run this fixture was curated from.
        source_model_id: The model recorded in the source trace.
        allow_unused_provider_script: Tolerate script events left unconsumed.
        mock_response: Legacy single response, used only when the script is empty.
        expect: The success criteria.
        continued_turns: Further user turns on the same thread.
        expected_outcome: Criteria for an LLM judge (additive field, omitted when absent).
    """

    id: str
    description: str | None = attrs.field(default=None, kw_only=True)
    user_input: str
    provider_script: tuple[ProviderScriptEvent, ...] = attrs.field(default=(), kw_only=True)
    provider_script_error: str | None = attrs.field(default=None, kw_only=True)
    source_run_id: str | None = attrs.field(default=None, kw_only=True)
    source_model_id: str | None = attrs.field(default=None, kw_only=True)
    allow_unused_provider_script: bool = attrs.field(default=False, kw_only=True)
    mock_response: MockResponse = attrs.field(factory=MockTextResponse, kw_only=True)
    expect: Expectation = attrs.field(factory=Expectation, kw_only=True)
    continued_turns: tuple[DialogueTurn, ...] = attrs.field(default=(), kw_only=True)
    expected_outcome: ExpectedOutcome | None = attrs.field(default=None, kw_only=True)

    def effective_script(self) -> tuple[ProviderScriptEvent, ...]:
        """The script of the first turn, shimming the legacy ``mock_response``.

        A non-empty ``provider_script`` is returned as is. Otherwise a text mock becomes
        one ``chat_response`` with *estimated* tokens (prompt = ceil(chars(user_input)/4),
        completion = ceil(chars(text)/4), so legacy token budgets are not trivially met)
        and an error mock becomes one ``error`` event.
        """
        if self.provider_script:
            return self.provider_script
        mock = self.mock_response
        if isinstance(mock, MockErrorResponse):
            return (ErrorEvent(mock.error_type, message=mock.message),)
        prompt = _estimate_tokens(self.user_input)
        completion = _estimate_tokens(mock.text)
        tokens = TokenUsage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=min(prompt + completion, U32_MAX),
        )
        return (ChatResponseEvent(mock.text, tokens=tokens),)

    def combined_script(self) -> tuple[ProviderScriptEvent, ...]:
        """The effective first-turn script followed by every continued turn's script."""
        events = list(self.effective_script())
        for turn in self.continued_turns:
            events.extend(turn.provider_script)
        return tuple(events)

    def turn_inputs(self) -> tuple[str, ...]:
        """The user messages of every turn, first turn first."""
        return (self.user_input, *(turn.user_input for turn in self.continued_turns))

    def judge_prompt(self) -> str:
        """The user side of the conversation, as shown to a judge.

        A single-turn fixture gives its ``user_input`` unchanged; a dialogue gives
        ``"Turn 1 (user): ..."`` sections separated by blank lines.
        """
        if not self.continued_turns:
            return self.user_input
        return "\n\n".join(
            f"Turn {number} (user): {text}"
            for number, text in enumerate(self.turn_inputs(), start=1)
        )

    def scripted_replay_error(self) -> str | None:
        """Why this fixture cannot be replayed from its script, or ``None`` if it can."""
        if self.provider_script_error is not None:
            return (
                f"fixture {self.id!r} has no replayable provider_script "
                f"(live-only): {self.provider_script_error}"
            )
        for number, turn in enumerate(self.continued_turns, start=1):
            if turn.provider_script_error is not None:
                return (
                    f"fixture {self.id!r} continued_turn {number} has no replayable "
                    f"provider_script (live-only): {turn.provider_script_error}"
                )
        return None


@attrs.frozen(kw_only=True)
class DatasetSpec:
    """A named collection of fixtures, as stored by a dataset store.

    Attributes:
        description: Human-readable text (omitted on the wire when empty).
        fixtures: The fixtures, in dataset order.
    """

    description: str = ""
    fixtures: tuple[Fixture, ...] = ()
