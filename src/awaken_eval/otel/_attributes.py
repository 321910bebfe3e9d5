"""Span attributes of eval's records: the GenAI semantic conventions plus ``awaken_eval.*``.

Pure: records in, attribute mappings out; no OpenTelemetry import. Content (messages,
tool arguments and results) is JSON text in the attributes the conventions name
(``gen_ai.input.messages``, ``gen_ai.output.messages``, ``gen_ai.tool.call.arguments``,
``gen_ai.tool.call.result``), written only when captured and asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from awaken_eval._records.events import ItemCompleted, RunStarted
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.types import JsonValue
from awaken_eval.otel._content import input_messages, output_messages

__all__ = [
    "AGENT_RUN_ID",
    "EXECUTE_TOOL",
    "AttributeValue",
    "inference_attributes",
    "inference_name",
    "item_attributes",
    "run_attributes",
    "tool_attributes",
    "tool_name",
]

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[int] | Sequence[float]
"""A value OpenTelemetry accepts as an attribute."""

AGENT_RUN_ID = "awaken_eval.trace.run_id"
"""The agent run an inference or tool span belongs to (the trace store's run id)."""

EXECUTE_TOOL = "execute_tool"
"""``gen_ai.operation.name`` of a tool span."""


def _json(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _put(attributes: dict[str, AttributeValue], key: str, value: object) -> None:
    if value is None or value in ("", ()):
        return
    if isinstance(value, tuple):
        attributes[key] = list(value)
    elif isinstance(value, str | bool | int | float):
        attributes[key] = value


def inference_name(span: InferenceSpan) -> str:
    """``{operation} {model}``, the conventions' span name."""
    operation = span.operation or "chat"
    return f"{operation} {span.model}" if span.model else operation


def inference_attributes(
    span: InferenceSpan, *, capture_content: bool
) -> dict[str, AttributeValue]:
    """The attributes of an inference span."""
    attributes: dict[str, AttributeValue] = {"gen_ai.operation.name": span.operation or "chat"}
    for key, value in (
        ("gen_ai.request.model", span.model),
        ("gen_ai.response.model", span.response_model or span.model),
        ("gen_ai.provider.name", span.provider),
        ("gen_ai.system", span.provider),
        ("gen_ai.response.id", span.response_id),
        ("gen_ai.response.finish_reasons", span.finish_reasons),
        ("gen_ai.request.temperature", span.temperature),
        ("gen_ai.request.top_p", span.top_p),
        ("gen_ai.request.max_tokens", span.max_tokens),
        ("gen_ai.request.stop_sequences", span.stop_sequences),
        ("gen_ai.usage.input_tokens", span.input_tokens),
        ("gen_ai.usage.output_tokens", span.output_tokens),
        ("gen_ai.usage.cache_read.input_tokens", span.cache_read_input_tokens),
        ("gen_ai.usage.cache_creation.input_tokens", span.cache_creation_input_tokens),
        ("gen_ai.usage.reasoning.output_tokens", span.thinking_tokens),
        ("awaken_eval.usage.total_tokens", span.total_tokens),
        ("gen_ai.conversation.id", span.thread_id),
        ("gen_ai.agent.id", span.agent_id),
        (AGENT_RUN_ID, span.run_id),
        ("awaken_eval.step_index", span.step_index),
        ("error.type", span.error_type),
    ):
        _put(attributes, key, value)
    if capture_content:
        request = input_messages(span.request_messages)
        if request is not None:
            attributes["gen_ai.input.messages"] = _json(request)
        output = output_messages(
            span.response_content, span.response_tool_calls, span.finish_reasons
        )
        if output is not None:
            attributes["gen_ai.output.messages"] = _json(output)
    return attributes


def tool_name(span: ToolSpan) -> str:
    """``execute_tool {tool}``, the conventions' span name."""
    return f"{EXECUTE_TOOL} {span.name}"


def tool_attributes(span: ToolSpan, *, capture_content: bool) -> dict[str, AttributeValue]:
    """The attributes of a tool span."""
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": EXECUTE_TOOL,
        "gen_ai.tool.name": span.name,
    }
    for key, value in (
        ("gen_ai.tool.call.id", span.call_id),
        ("gen_ai.conversation.id", span.thread_id),
        ("gen_ai.agent.id", span.agent_id),
        (AGENT_RUN_ID, span.run_id),
        ("error.type", span.error_type),
    ):
        _put(attributes, key, value)
    if capture_content:
        if span.call_arguments is not None:
            attributes["gen_ai.tool.call.arguments"] = _json(span.call_arguments)
        if span.call_result is not None:
            attributes["gen_ai.tool.call.result"] = _json(span.call_result)
    return attributes


def run_attributes(event: RunStarted) -> Mapping[str, AttributeValue]:
    """The attributes of a run span."""
    return {
        "awaken_eval.run.id": event.eval_run_id,
        "awaken_eval.dataset.id": event.dataset_id,
        "awaken_eval.dataset.revision": event.dataset_revision,
        "awaken_eval.mode": event.mode.value,
        "awaken_eval.planned_item_count": event.planned_item_count,
    }


def item_attributes(event: ItemCompleted) -> dict[str, AttributeValue]:
    """The attributes of an item span: the fixture, cell, sample and verdict."""
    item, report = event.item, event.item.report
    attributes: dict[str, AttributeValue] = {
        "awaken_eval.run.id": event.eval_run_id,
        "awaken_eval.fixture.id": item.fixture_id,
        "awaken_eval.passed": report.passed,
        "awaken_eval.failures": [failure.kind for failure in report.failures],
        "gen_ai.usage.input_tokens": report.total_input_tokens,
        "gen_ai.usage.output_tokens": report.total_output_tokens,
    }
    for key, value in (
        ("awaken_eval.cell.model", None if item.cell is None else item.cell.model_id),
        ("awaken_eval.sample.index", item.sample_index),
        ("awaken_eval.trace.run_id", item.trace_run_id),
        ("awaken_eval.cost_usd", report.cost_usd),
        ("awaken_eval.judge.score", report.judge_score),
        ("error.type", report.error_type),
    ):
        _put(attributes, key, value)
    return attributes
