"""What an executor is asked and answers, and the agent and models that ask it.

Messages, tool calls and descriptors, sampling, the agent spec and the resolved
models of a live matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING

import attrs

from awaken_eval._records.fixtures import StopReason, TokenUsage
from awaken_eval._records.history import ChatHistory
from awaken_eval._records.types import JsonValue

if TYPE_CHECKING:
    from awaken_eval.protocols import LlmExecutor

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "AgentSpec",
    "ChatMessage",
    "InferenceRequest",
    "InferenceResult",
    "MessageRole",
    "ModelPricing",
    "ResolvedModel",
    "SamplingParams",
    "ToolCall",
    "ToolDescriptor",
]


DEFAULT_SYSTEM_PROMPT = "You are a test assistant."
"""System prompt of the built-in agent when no agent spec gives one."""


class MessageRole(Enum):
    """Who speaks a chat message."""

    SYSTEM = "system"
    """Instructions to the model."""
    USER = "user"
    """The user."""
    ASSISTANT = "assistant"
    """The model."""
    TOOL = "tool"
    """A tool result fed back to the model."""


@attrs.frozen
class ToolCall:
    """One tool call requested by a model.

    Attributes:
        id: The provider's tool-call id.
        name: The tool name.
        arguments: The call arguments (any JSON).
        recorded_result: The tool result recorded with a provider script, when the call
            comes from one; a scripted replay feeds it back instead of calling a tool.
        arguments_error: Why the provider's arguments could not be used (for example
            text that is not JSON); ``arguments`` then holds the raw text and the agent
            loop records the call as failed instead of running the tool.
    """

    id: str
    name: str
    arguments: JsonValue
    recorded_result: JsonValue | None = attrs.field(default=None, kw_only=True)
    arguments_error: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ChatMessage:
    """One message of a conversation.

    Attributes:
        role: Who speaks.
        content: The text.
        tool_calls: Tool calls requested by an assistant message.
        tool_call_id: For a tool message: the call it answers.
    """

    role: MessageRole
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), kw_only=True)
    tool_call_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ToolDescriptor:
    """A tool offered to the model.

    Attributes:
        name: The tool name.
        description: What the tool does.
        parameters: JSON Schema of the arguments.
    """

    name: str
    description: str = ""
    parameters: JsonValue = attrs.field(factory=lambda: {"type": "object"})


@attrs.frozen(kw_only=True)
class SamplingParams:
    """Sampling overrides for an inference; absent values use the provider's defaults.

    Attributes:
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        max_tokens: Output token limit.
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


def _message_sequence(messages: Iterable[ChatMessage]) -> Sequence[ChatMessage]:
    """Keep a tuple or a :class:`ChatHistory` as it is; make anything else a tuple."""
    if isinstance(messages, tuple | ChatHistory):
        return messages
    return tuple(messages)


@attrs.frozen(kw_only=True)
class InferenceRequest:
    """What an :class:`LlmExecutor` is asked to run.

    Attributes:
        model: The upstream model name sent to the provider.
        messages: The conversation so far: a tuple, or the
            :class:`~collections.abc.Sequence` the agent loop builds (it compares
            equal to the tuple of its messages); any other iterable is made a tuple.
        system: The system prompt.
        tools: The tools offered.
        sampling: Sampling overrides.
        run_id: Trace run this inference belongs to.
        thread_id: Conversation thread.
    """

    model: str
    messages: Sequence[ChatMessage] = attrs.field(converter=_message_sequence)
    system: str | None = None
    tools: tuple[ToolDescriptor, ...] = ()
    sampling: SamplingParams = attrs.field(factory=SamplingParams)
    run_id: str = ""
    thread_id: str = ""


@attrs.frozen(kw_only=True)
class InferenceResult:
    """What an :class:`LlmExecutor` returned.

    Attributes:
        text: The assistant text (concatenated text blocks).
        tool_calls: Tool calls requested by the model.
        usage: Token usage reported by the provider.
        stop_reason: Why generation stopped.
        model: The model that answered, when the provider says.
        response_id: The provider's id of the response, when it gives one.
        request_id: The provider's request id (from its response headers), when given.
        attempts: HTTP attempts the answer took (1 without retries; ``None``: the
            executor does not count them).
        retry_wait_secs: Time spent waiting between attempts, in seconds (``None``:
            not measured).
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage = attrs.field(factory=TokenUsage)
    stop_reason: StopReason | None = None
    model: str = ""
    response_id: str | None = None
    request_id: str | None = None
    attempts: int | None = None
    retry_wait_secs: float | None = None


@attrs.frozen(kw_only=True)
class AgentSpec:
    """The agent a live replay runs: prompt, tools, sampling and round limit.

    Attributes:
        id: Agent id recorded on spans.
        system_prompt: The system prompt.
        allowed_tools: Names of the tools the agent may use (``None``: every tool given).
        sampling: Sampling overrides.
        max_rounds: Most inference rounds per turn (``None``: the replayer's default).
    """

    id: str = "default"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    allowed_tools: tuple[str, ...] | None = None
    sampling: SamplingParams = attrs.field(factory=SamplingParams)
    max_rounds: int | None = None


@attrs.frozen(kw_only=True)
class ModelPricing:
    """Prices of a model, in US dollars per million tokens.

    Attributes:
        input_per_million_usd: Price of a million input tokens.
        output_per_million_usd: Price of a million output tokens.
    """

    input_per_million_usd: float
    output_per_million_usd: float


@attrs.frozen(kw_only=True)
class ResolvedModel:
    """A model id resolved to something that can run it.

    Attributes:
        model_id: The id the caller asked for.
        executor: Runs inferences for this model.
        upstream_model: The model name sent upstream.
        pricing: Prices used for ``cost_usd`` (absent: no cost is reported).
    """

    model_id: str
    executor: LlmExecutor
    upstream_model: str
    pricing: ModelPricing | None = None
