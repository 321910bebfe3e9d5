"""OTLP JSON in: GenAI spans of one trace as eval's span records (pure, strict).

The document is the OTLP JSON encoding of an export request, as the OTLP file exporter
writes it and OTLP/HTTP sends it: ``{"resourceSpans": [{"scopeSpans": [{"spans":
[...]}]}]}``. The keys eval reads are checked strictly (each problem is reported with
its JSON path, all at once); keys it does not read are ignored, as OTLP receivers
must ignore unknown fields.

A span is an *inference* when its ``gen_ai.operation.name`` is an inference
operation (``chat``, ``text_completion``, ``generate_content``) and a *tool call* when
it is ``execute_tool``; every other span (agents, runs, items, HTTP) is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval.errors import InvalidInput, Problem
from awaken_eval.otel._attributes import AGENT_RUN_ID, EXECUTE_TOOL
from awaken_eval.otel._content import request_messages_of, response_of

__all__ = ["INFERENCE_OPERATIONS", "OtlpSpan", "otlp_span_records", "parse_otlp", "records_of"]

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
"""``gen_ai.operation.name`` values read as inferences."""

_FINISH_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_call": "tool_use",
    "tool_calls": "tool_use",
}
"""The conventions' finish reasons -> the reference's (others are kept as they are)."""

_MS = 1_000_000


@attrs.frozen(kw_only=True)
class OtlpSpan:
    """One span of an OTLP JSON document, as far as eval reads it.

    Attributes:
        trace_id: Lower-case hex trace id.
        span_id: Lower-case hex span id.
        parent_span_id: The parent's id, if any.
        name: The span name.
        start_ns: Start, epoch nanoseconds.
        end_ns: End, epoch nanoseconds (the start when absent).
        attributes: The attributes, as plain values.
        paths: The JSON path of each attribute's value (for errors found later).
        error: The status message when the status is an error, else ``None``.
        path: The JSON path of the span.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]
    paths: Mapping[str, str]
    error: str | None
    path: str

    @property
    def agent_run_id(self) -> str:
        """The agent run of the span: ``awaken_eval.trace.run_id``, else the trace id."""
        value = self.attributes.get(AGENT_RUN_ID)
        return value if isinstance(value, str) and value else self.trace_id


def _document_order(path: str) -> tuple[int, ...]:
    """A key ordering JSON paths of OTLP documents as their values appear."""
    return tuple(int(index) for index in re.findall(r"\[(\d+)\]", path))


class _Problems:
    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(Problem(path, message))

    def typed(self, value: Any, kind: type | tuple[type, ...], path: str, what: str) -> bool:
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return True
        self.add(path, f"expected {what}, got {json.dumps(value)[:60]}")
        return False

    def items(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key, [])
        if not isinstance(value, list):
            self.typed(value, list, f"{path}.{key}", "an array")
            return []
        return value

    def raise_if_any(self) -> None:
        """Raise every problem found, in document order."""
        if self.found:
            raise InvalidInput(
                sorted(self.found, key=lambda problem: _document_order(problem.path))
            )


def _integer(value: Any, path: str, problems: _Problems) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    problems.add(path, f"expected an integer (a number or a decimal string), got {value!r}")
    return None


_SCALARS: Mapping[str, tuple[type | tuple[type, ...], str]] = {
    "stringValue": (str, "a string"),
    "boolValue": (bool, "a boolean"),
    "doubleValue": ((int, float), "a number"),
    "bytesValue": (str, "a base64 string"),
}
"""The scalar keys of an OTLP ``AnyValue`` (``intValue`` may be a decimal string)."""


def _any_value(value: Any, path: str, problems: _Problems) -> Any:
    if not problems.typed(value, dict, path, "an AnyValue object") or not value:
        return None
    if len(value) != 1:
        problems.add(path, f"expected exactly one value key, got {sorted(value)}")
        return None
    ((key, inner),) = value.items()
    inner_path = f"{path}.{key}"
    if key in _SCALARS:
        kind, what = _SCALARS[key]
        if not problems.typed(inner, kind, inner_path, what):
            return None
        return float(inner) if key == "doubleValue" else inner
    if key == "intValue":
        return _integer(inner, inner_path, problems)
    if key in {"arrayValue", "kvlistValue"}:
        if not problems.typed(inner, dict, inner_path, "an object"):
            return None
        if key == "kvlistValue":
            pairs = _attributes(inner, "values", inner_path, problems)
            return {name: found for name, (found, _) in pairs.items()}
        values = problems.items(inner, "values", inner_path)
        return [_any_value(v, f"{inner_path}.values[{i}]", problems) for i, v in enumerate(values)]
    problems.add(path, f"unknown value key {key!r}")
    return None


def _attributes(
    parent: Mapping[str, Any], key: str, path: str, problems: _Problems
) -> dict[str, tuple[Any, str]]:
    found: dict[str, tuple[Any, str]] = {}
    for index, entry in enumerate(problems.items(parent, key, path)):
        entry_path = f"{path}.{key}[{index}]"
        if not problems.typed(entry, dict, entry_path, "a key-value object"):
            continue
        name = entry.get("key")
        if not problems.typed(name, str, f"{entry_path}.key", "a string"):
            continue
        value_path = f"{entry_path}.value"
        found[name] = (_any_value(entry.get("value", {}), value_path, problems), value_path)
    return found


def _hex_id(value: Any, path: str, digits: int, problems: _Problems) -> str | None:
    if not isinstance(value, str):
        problems.typed(value, str, path, "a hex string")
        return None
    text = value.lower()
    if len(text) != digits or any(char not in "0123456789abcdef" for char in text):
        problems.add(path, f"expected {digits} hex digits, got {value!r}")
        return None
    return text


def _span(raw: Any, path: str, problems: _Problems) -> OtlpSpan | None:
    if not problems.typed(raw, dict, path, "a span object"):
        return None
    before = len(problems.found)
    trace_id = _hex_id(raw.get("traceId"), f"{path}.traceId", 32, problems)
    span_id = _hex_id(raw.get("spanId"), f"{path}.spanId", 16, problems)
    parent = raw.get("parentSpanId") or None
    parent_id = None if parent is None else _hex_id(parent, f"{path}.parentSpanId", 16, problems)
    name = raw.get("name", "")
    problems.typed(name, str, f"{path}.name", "a string")
    start = _integer(raw.get("startTimeUnixNano", 0), f"{path}.startTimeUnixNano", problems)
    end = _integer(raw.get("endTimeUnixNano", start or 0), f"{path}.endTimeUnixNano", problems)
    attributes = _attributes(raw, "attributes", path, problems)
    status = raw.get("status", {})
    error = None
    if problems.typed(status, dict, f"{path}.status", "an object"):
        code = status.get("code", 0)
        if code in {2, "STATUS_CODE_ERROR"}:
            error = str(status.get("message") or "error")
    if len(problems.found) > before or trace_id is None or span_id is None:
        return None
    return OtlpSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_id,
        name=name,
        start_ns=start or 0,
        end_ns=end or 0,
        attributes={key: value for key, (value, _) in attributes.items()},
        paths={key: value_path for key, (_, value_path) in attributes.items()},
        error=error,
        path=path,
    )


def parse_otlp(document: Any) -> list[OtlpSpan]:
    """Every span of an OTLP JSON document, in document order.

    Raises:
        InvalidInput: with one problem per bad value, each at its JSON path.
    """
    problems = _Problems()
    spans: list[OtlpSpan] = []
    if problems.typed(document, dict, "$", "an OTLP JSON object"):
        for r, resource in enumerate(problems.items(document, "resourceSpans", "$")):
            r_path = f"$.resourceSpans[{r}]"
            if not problems.typed(resource, dict, r_path, "an object"):
                continue
            for s, scope in enumerate(problems.items(resource, "scopeSpans", r_path)):
                s_path = f"{r_path}.scopeSpans[{s}]"
                if not problems.typed(scope, dict, s_path, "an object"):
                    continue
                for i, raw in enumerate(problems.items(scope, "spans", s_path)):
                    span = _span(raw, f"{s_path}.spans[{i}]", problems)
                    if span is not None:
                        spans.append(span)
    problems.raise_if_any()
    return spans


class _Reader:
    """Typed reads of one span's attributes; problems name the attribute's JSON path."""

    def __init__(self, span: OtlpSpan, problems: _Problems) -> None:
        self.span = span
        self.problems = problems

    def get(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = self.span.attributes.get(key)
        if value is None:
            return None
        if self.problems.typed(value, kind, self.span.paths[key], what):
            return value
        return None

    def text(self, *keys: str) -> str | None:
        for key in keys:
            value = self.get(key, str, "a string")
            if value:
                return str(value)
        return None

    def count(self, key: str) -> int | None:
        value = self.get(key, int, "an integer")
        if value is not None and value < 0 and key == "awaken_eval.step_index":
            self.problems.add(self.span.paths[key], "expected a non-negative integer")
            return None
        return None if value is None else int(value)

    def number(self, key: str) -> float | None:
        value = self.get(key, (int, float), "a number")
        return None if value is None else float(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, "an array of strings")
        if value is None:
            return ()
        if not all(isinstance(element, str) for element in value):
            self.problems.add(self.span.paths[key], "expected an array of strings")
            return ()
        return tuple(value)

    def json(self, key: str, *, lenient: bool = False) -> Any:
        value = self.span.attributes.get(key)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as error:
            if lenient:
                return value
            self.problems.add(self.span.paths[key], f"expected JSON text: {error}")
            return None


def _times(span: OtlpSpan) -> tuple[int, int, int]:
    """Start, end and duration in milliseconds."""
    start, end = span.start_ns // _MS, max(span.start_ns, span.end_ns) // _MS
    return start, end, end - start


def _inference(read: _Reader) -> InferenceSpan:
    span = read.span
    content, tool_calls = (None, None)
    output = read.json("gen_ai.output.messages")
    if output is not None:
        content, tool_calls = response_of(output)
    request = read.json("gen_ai.input.messages")
    started, ended, duration = _times(span)
    reasons = tuple(
        _FINISH_REASONS.get(r, r) for r in read.strings("gen_ai.response.finish_reasons")
    )
    return InferenceSpan(
        run_id=span.agent_run_id,
        thread_id=read.text("gen_ai.conversation.id") or "",
        agent_id=read.text("gen_ai.agent.id") or "",
        step_index=read.count("awaken_eval.step_index"),
        model=read.text("gen_ai.request.model", "gen_ai.response.model") or "",
        provider=read.text("gen_ai.provider.name", "gen_ai.system") or "",
        operation=read.text("gen_ai.operation.name") or "chat",
        response_model=read.text("gen_ai.response.model"),
        response_id=read.text("gen_ai.response.id"),
        finish_reasons=reasons,
        error_type=read.text("error.type") or span.error,
        temperature=read.number("gen_ai.request.temperature"),
        top_p=read.number("gen_ai.request.top_p"),
        max_tokens=read.count("gen_ai.request.max_tokens"),
        stop_sequences=read.strings("gen_ai.request.stop_sequences"),
        input_tokens=read.count("gen_ai.usage.input_tokens"),
        output_tokens=read.count("gen_ai.usage.output_tokens"),
        total_tokens=read.count("awaken_eval.usage.total_tokens"),
        cache_read_input_tokens=read.count("gen_ai.usage.cache_read.input_tokens"),
        cache_creation_input_tokens=read.count("gen_ai.usage.cache_creation.input_tokens"),
        thinking_tokens=read.count("gen_ai.usage.reasoning.output_tokens"),
        response_content=content,
        response_tool_calls=tool_calls,
        request_messages=None if request is None else request_messages_of(request),
        started_at_ms=started,
        ended_at_ms=ended,
        duration_ms=duration,
    )


def _tool(read: _Reader) -> ToolSpan | None:
    span = read.span
    name = read.text("gen_ai.tool.name")
    if name is None:
        read.problems.add(f"{span.path}.attributes", "a tool span needs gen_ai.tool.name")
        return None
    started, ended, duration = _times(span)
    return ToolSpan(
        name=name,
        run_id=span.agent_run_id,
        thread_id=read.text("gen_ai.conversation.id") or "",
        agent_id=read.text("gen_ai.agent.id") or "",
        call_id=read.text("gen_ai.tool.call.id"),
        call_arguments=read.json("gen_ai.tool.call.arguments", lenient=True),
        call_result=read.json("gen_ai.tool.call.result", lenient=True),
        error_type=read.text("error.type") or span.error,
        started_at_ms=started,
        ended_at_ms=ended,
        duration_ms=duration,
    )


def records_of(spans: list[OtlpSpan]) -> tuple[InferenceSpan | ToolSpan, ...]:
    """The inference and tool records of parsed spans, ordered by start time.

    Raises:
        InvalidInput: an attribute eval reads has the wrong type (at its JSON path).
    """
    problems = _Problems()
    found: list[tuple[int, int, InferenceSpan | ToolSpan]] = []
    for index, span in enumerate(spans):
        operation = span.attributes.get("gen_ai.operation.name")
        make: Callable[[_Reader], InferenceSpan | ToolSpan | None]
        if operation == EXECUTE_TOOL:
            make = _tool
        elif operation in INFERENCE_OPERATIONS:
            make = _inference
        else:
            continue
        record = make(_Reader(span, problems))
        if record is not None:
            found.append((span.start_ns, index, record))
    problems.raise_if_any()
    return tuple(record for _, _, record in sorted(found, key=lambda row: row[:2]))


def otlp_span_records(
    document: Any, *, trace_id: str | None = None
) -> tuple[InferenceSpan | ToolSpan, ...]:
    """The GenAI spans of an OTLP JSON document as eval's span records.

    Inference spans become :class:`~awaken_eval.InferenceSpan` s (model, provider,
    usage, finish reasons; ``gen_ai.input.messages`` / ``gen_ai.output.messages``
    become the captured request and response), ``execute_tool`` spans
    :class:`~awaken_eval.ToolSpan` s, in start-time order. A record's ``run_id`` is the
    span's ``awaken_eval.trace.run_id`` attribute (written by
    :class:`OtelTraceSink`), else its trace id. Pass the result to
    :func:`awaken_eval.curate.curate_fixture`.

    Args:
        document: The parsed OTLP JSON (``{"resourceSpans": [...]}``).
        trace_id: Only the spans of this trace (hex, any case); ``None`` for all.

    Raises:
        InvalidInput: the document or an attribute eval reads is malformed; each
            problem names its JSON path.
    """
    spans = parse_otlp(document)
    if trace_id is not None:
        wanted = trace_id.lower()
        spans = [span for span in spans if span.trace_id == wanted]
    return records_of(spans)
