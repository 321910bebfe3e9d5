"""``openai:MODEL``: the Chat Completions API through the official ``openai`` SDK.

The SDK's own environment applies (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``), so every server speaking Chat Completions
(vLLM, Ollama, llama.cpp, LM Studio, OpenRouter, ...) works by its base URL.
"""

from __future__ import annotations

import json
from typing import Any

from awaken_eval._records.fixtures import StopReason, TokenUsage
from awaken_eval._records.inference import (
    ChatMessage,
    InferenceRequest,
    InferenceResult,
    MessageRole,
    ToolCall,
)
from awaken_eval._records.types import JsonValue
from awaken_eval.errors import InferenceError, InferenceErrorKind
from awaken_eval.providers._base import SdkExecutor, usage_count

__all__ = ["OpenAIExecutor", "openai_messages", "openai_result"]

_STOP_REASONS = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
}


def _arguments_text(arguments: JsonValue) -> str:
    """Tool arguments as the API carries them: JSON text (raw text kept as it came)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role is MessageRole.TOOL:
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role is MessageRole.ASSISTANT and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": _arguments_text(call.arguments)},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role.value, "content": message.content}


def openai_messages(request: InferenceRequest) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for ``request``."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages.extend(_message(message) for message in request.messages)
    kwargs: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.tools:
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    sampling = request.sampling
    given = {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
    }
    kwargs.update({name: value for name, value in given.items() if value is not None})
    return kwargs


def _tool_call(call: Any) -> ToolCall:
    raw = call.function.arguments or ""
    try:
        arguments: JsonValue = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return ToolCall(call.id, call.function.name, raw, arguments_error=f"not JSON: {exc}")
    return ToolCall(call.id, call.function.name, arguments)


def _usage(usage: Any) -> TokenUsage:
    if usage is None:
        return TokenUsage()
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    return TokenUsage(
        prompt_tokens=usage_count(usage.prompt_tokens),
        completion_tokens=usage_count(usage.completion_tokens),
        total_tokens=usage_count(usage.total_tokens),
        cache_read_tokens=usage_count(getattr(prompt_details, "cached_tokens", None)),
        thinking_tokens=usage_count(getattr(completion_details, "reasoning_tokens", None)),
    )


def openai_result(completion: Any) -> InferenceResult:
    """The :class:`InferenceResult` of a ``ChatCompletion``.

    Raises:
        InferenceError: ``content_filtered`` when the filter stopped the answer;
            ``provider`` for a reply without choices.
    """
    if not completion.choices:
        raise InferenceError(InferenceErrorKind.PROVIDER, "the provider answered no choice")
    choice = completion.choices[0]
    message = choice.message
    if choice.finish_reason == "content_filter":
        msg = "the provider's content filter stopped the answer"
        raise InferenceError(InferenceErrorKind.CONTENT_FILTERED, msg)
    calls = tuple(_tool_call(call) for call in message.tool_calls or ())
    return InferenceResult(
        text=message.content or "",
        tool_calls=calls,
        usage=_usage(completion.usage),
        stop_reason=_STOP_REASONS.get(choice.finish_reason or ""),
        model=completion.model or "",
        response_id=completion.id or None,
    )


class OpenAIExecutor(SdkExecutor):
    """An :class:`~awaken_eval.LlmExecutor` over ``AsyncOpenAI`` Chat Completions.

    Args:
        options: Limits, retries, timeout, endpoint and key.
        limiter: The model's connection limit (shared by a run's executors).
        clock: Monotonic clock for the time waited between retries.
    """

    provider = "openai"
    client_class = "AsyncOpenAI"
    request_id_header = "x-request-id"

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Send ``request`` to Chat Completions.

        Raises:
            InferenceError: the failure's kind, the provider's message, status and
                request id, and the attempts made.
        """
        kwargs = openai_messages(request)
        return await self._send(
            lambda client: client.chat.completions.create(**kwargs), openai_result
        )
