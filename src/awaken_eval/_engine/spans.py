"""The spans of the agent loop's inferences, in the reference's wire shape.

One function builds a chat span for the general path and the scripted fast path; the
captured request messages and text blocks are the shapes the reference records.
"""

from __future__ import annotations

from collections.abc import Callable

from awaken_eval._records.fixtures import StopReason, TokenUsage
from awaken_eval._records.inference import ChatMessage, MessageRole
from awaken_eval._records.outcomes import InferenceSpan
from awaken_eval._records.types import JsonValue

__all__ = ["FINISH_REASONS", "captured_message", "chat_span", "text_block"]

FINISH_REASONS = {
    StopReason.END_TURN: ("end_turn",),
    StopReason.MAX_TOKENS: ("max_tokens",),
    StopReason.TOOL_USE: ("tool_use",),
    StopReason.STOP_SEQUENCE: ("stop_sequence",),
    None: (),
}
"""The span's ``finish_reasons`` for each stop reason (shared tuples)."""


def chat_span(
    new_span: Callable[..., InferenceSpan],
    *,
    run_id: str,
    thread_id: str,
    agent_id: str,
    step: int,
    model: str,
    provider: str,
    stop: StopReason | None,
    usage: TokenUsage,
    duration_ms: int,
    content: JsonValue | None = None,
    tool_calls: JsonValue | None = None,
    request: JsonValue | None = None,
    request_id: str | None = None,
    attempts: int | None = None,
    retry_wait_ms: int | None = None,
) -> InferenceSpan:
    """The span of one chat inference (both the general path and the scripted fast path)."""
    return new_span(
        run_id=run_id,
        thread_id=thread_id,
        agent_id=agent_id,
        step_index=step,
        model=model,
        provider=provider,
        operation="chat",
        finish_reasons=FINISH_REASONS[stop],
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        cache_read_input_tokens=usage.cache_read_tokens,
        cache_creation_input_tokens=usage.cache_creation_tokens,
        thinking_tokens=usage.thinking_tokens,
        duration_ms=duration_ms,
        response_content=content,
        response_tool_calls=tool_calls,
        request_messages=request,
        request_id=request_id,
        attempts=attempts,
        retry_wait_ms=retry_wait_ms,
    )


def text_block(text: str) -> JsonValue:
    return {"type": "text", "text": text}


def captured_message(message: ChatMessage) -> JsonValue:
    """One request message in the captured shape: a role and a list of content blocks."""
    blocks: list[JsonValue] = [text_block(message.content)] if message.content else []
    if message.role is MessageRole.TOOL:
        blocks = [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    )
    return {"role": message.role.value, "content": blocks}
