"""Captured content between the reference's shapes and the GenAI semantic conventions.

Pure functions, no OpenTelemetry import. The GenAI conventions carry content as JSON
messages ``{"role", "parts": [...], "finish_reason"?}``; the reference records content
blocks (``{"type": "text", "text"}``, ``tool_use``, ``tool_result``, ...). Mapping:

* ``text`` block <-> ``{"type": "text", "content"}`` part;
* ``tool_use`` block / a ``response_tool_calls`` entry <-> ``{"type": "tool_call",
  "id", "name", "arguments"}`` part;
* ``tool_result`` block <-> ``{"type": "tool_call_response", "id", "response"}`` part;
* any other block (image, thinking, ...) is written as it is and read back as it is.
"""

from __future__ import annotations

from typing import Any

from awaken_eval._records.types import JsonValue

__all__ = [
    "input_messages",
    "output_messages",
    "request_messages_of",
    "response_of",
]


def _part_of_block(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    kind = block.get("type")
    if kind == "text" and set(block) == {"type", "text"}:
        return {"type": "text", "content": block["text"]}
    if kind == "tool_use" and set(block) == {"type", "id", "name", "input"}:
        return {
            "type": "tool_call",
            "id": block["id"],
            "name": block["name"],
            "arguments": block["input"],
        }
    if kind == "tool_result" and set(block) == {"type", "tool_use_id", "content"}:
        return {
            "type": "tool_call_response",
            "id": block["tool_use_id"],
            "response": block["content"],
        }
    return block


def _block_of_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "text" and "content" in part:
        return {"type": "text", "text": part["content"]}
    if kind == "tool_call":
        return {
            "type": "tool_use",
            "id": part.get("id"),
            "name": part.get("name"),
            "input": part.get("arguments"),
        }
    if kind == "tool_call_response":
        return {
            "type": "tool_result",
            "tool_use_id": part.get("id"),
            "content": part.get("response"),
        }
    return part


def input_messages(request_messages: JsonValue | None) -> JsonValue | None:
    """``gen_ai.input.messages`` of a span's captured ``request_messages`` (or ``None``).

    A message's ``role`` and content blocks are kept; its other keys (ids, metadata,
    visibility) are not part of the conventions and are dropped.
    """
    if not isinstance(request_messages, list):
        return None
    messages: list[JsonValue] = []
    for message in request_messages:
        if not isinstance(message, dict):
            return None
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        messages.append({"role": message.get("role"), "parts": [_part_of_block(b) for b in blocks]})
    return messages


def request_messages_of(messages: JsonValue) -> JsonValue:
    """``request_messages`` (the reference's shape) of ``gen_ai.input.messages``."""
    if not isinstance(messages, list):
        return messages
    result: list[JsonValue] = []
    for message in messages:
        if not isinstance(message, dict):
            result.append(message)
            continue
        parts = message.get("parts")
        blocks = [_block_of_part(p) for p in parts] if isinstance(parts, list) else []
        result.append({"role": message.get("role"), "content": blocks})
    return result


def output_messages(
    content: JsonValue | None, tool_calls: JsonValue | None, finish_reasons: tuple[str, ...]
) -> JsonValue | None:
    """``gen_ai.output.messages`` of a span's captured response (``None`` when uncaptured)."""
    if content is None and tool_calls is None:
        return None
    parts: list[JsonValue] = []
    if isinstance(content, list):
        parts.extend(_part_of_block(block) for block in content)
    if isinstance(tool_calls, list):
        parts.extend(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": call.get("name"),
                "arguments": call.get("arguments"),
            }
            for call in tool_calls
            if isinstance(call, dict)
        )
    message: dict[str, JsonValue] = {"role": "assistant", "parts": parts}
    if finish_reasons:
        message["finish_reason"] = finish_reasons[0]
    return [message]


def response_of(messages: JsonValue) -> tuple[JsonValue | None, JsonValue | None]:
    """``(response_content, response_tool_calls)`` of ``gen_ai.output.messages``.

    Tool-call parts become ``response_tool_calls`` (``None`` when there is none), every
    other part a content block (``None`` when tool calls are the whole response).
    """
    if not isinstance(messages, list):
        return messages, None
    blocks: list[JsonValue] = []
    calls: list[JsonValue] = []
    for message in messages:
        parts = message.get("parts") if isinstance(message, dict) else None
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict) and part.get("type") == "tool_call":
                calls.append(
                    {
                        "id": part.get("id"),
                        "name": part.get("name"),
                        "arguments": part.get("arguments"),
                    }
                )
            else:
                blocks.append(_block_of_part(part))
    if calls:
        return (blocks or None), calls
    return blocks, None
