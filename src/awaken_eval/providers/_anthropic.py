"""``anthropic:MODEL``: the Messages API through the official ``anthropic`` SDK.

The SDK's own environment applies (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

from typing import Any

from awaken_eval._records.fixtures import StopReason, TokenUsage
from awaken_eval._records.inference import (
    ChatMessage,
    InferenceRequest,
    InferenceResult,
    MessageRole,
    ToolCall,
)
from awaken_eval.errors import InferenceError, InferenceErrorKind
from awaken_eval.providers._base import SdkExecutor, usage_count

__all__ = ["AnthropicExecutor", "anthropic_messages", "anthropic_result"]

_STOP_REASONS = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "tool_use": StopReason.TOOL_USE,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "pause_turn": StopReason.END_TURN,
}


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role is MessageRole.TOOL:
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
        ]
    blocks: list[dict[str, Any]] = (
        [{"type": "text", "text": message.content}] if message.content else []
    )
    blocks.extend(
        {
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": call.arguments if isinstance(call.arguments, dict) else {},
        }
        for call in message.tool_calls
    )
    return blocks


def anthropic_messages(request: InferenceRequest, *, max_tokens: int) -> dict[str, Any]:
    """The keyword arguments of ``messages.create`` for ``request``.

    Tool results become ``tool_result`` blocks of a user message, and consecutive
    messages of one role are merged, as the Messages API requires.
    """
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        role = "assistant" if message.role is MessageRole.ASSISTANT else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})
    sampling = request.sampling
    kwargs: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": sampling.max_tokens if sampling.max_tokens is not None else max_tokens,
    }
    if request.system:
        kwargs["system"] = request.system
    if request.tools:
        kwargs["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in request.tools
        ]
    # Sent as extra body fields: recent SDK releases no longer take them as arguments,
    # while the Messages API still accepts them.
    extra = {"temperature": sampling.temperature, "top_p": sampling.top_p}
    extra_body = {name: value for name, value in extra.items() if value is not None}
    if extra_body:
        kwargs["extra_body"] = extra_body
    return kwargs


def _usage(usage: Any) -> TokenUsage:
    if usage is None:
        return TokenUsage()
    fresh = usage_count(usage.input_tokens) or 0
    read = usage_count(getattr(usage, "cache_read_input_tokens", None))
    created = usage_count(getattr(usage, "cache_creation_input_tokens", None))
    output = usage_count(usage.output_tokens)
    prompt = fresh + (read or 0) + (created or 0)  # every input token, as OpenAI counts
    return TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=output,
        total_tokens=prompt + (output or 0),
        cache_read_tokens=read,
        cache_creation_tokens=created,
    )


def anthropic_result(message: Any) -> InferenceResult:
    """The :class:`InferenceResult` of a Messages API ``Message``.

    Raises:
        InferenceError: ``content_filtered`` when the model refused (``refusal``).
    """
    if message.stop_reason == "refusal":
        msg = "the provider's safety filter stopped the answer (stop_reason refusal)"
        raise InferenceError(InferenceErrorKind.CONTENT_FILTERED, msg)
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            arguments = block.input
            if isinstance(arguments, dict):
                calls.append(ToolCall(block.id, block.name, arguments))
            else:
                error = f"expected a JSON object, got {type(arguments).__name__}"
                calls.append(ToolCall(block.id, block.name, str(arguments), arguments_error=error))
    return InferenceResult(
        text="".join(texts),
        tool_calls=tuple(calls),
        usage=_usage(message.usage),
        stop_reason=_STOP_REASONS.get(message.stop_reason or ""),
        model=message.model or "",
        response_id=message.id or None,
    )


class AnthropicExecutor(SdkExecutor):
    """An :class:`~awaken_eval.LlmExecutor` over ``AsyncAnthropic`` Messages.

    Args:
        options: Limits, retries, timeout, endpoint, key and default ``max_tokens``.
        limiter: The model's connection limit (shared by a run's executors).
        clock: Monotonic clock for the time waited between retries.
    """

    provider = "anthropic"
    client_class = "AsyncAnthropic"
    request_id_header = "request-id"

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Send ``request`` to the Messages API.

        Raises:
            InferenceError: the failure's kind, the provider's message, status and
                request id, and the attempts made.
        """
        kwargs = anthropic_messages(request, max_tokens=self.options.max_tokens)
        return await self._send(lambda client: client.messages.create(**kwargs), anthropic_result)
