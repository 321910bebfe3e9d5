"""OTLP JSON of finished SDK spans: the shape of the OTLP file exporter and OTLP/HTTP JSON.

Trace and span ids are lower-case hex, 64-bit integers decimal strings, as the OTLP
JSON encoding requires (not the protobuf JSON mapping's base64 ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.util.types import Attributes

__all__ = ["otlp_json"]


def _value(value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        import base64  # noqa: PLC0415 - rare

        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_value(element) for element in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Attributes) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in (attributes or {}).items()]


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    assert context is not None  # noqa: S101 - a finished SDK span has a context
    encoded: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
    }
    if span.parent is not None:
        encoded["parentSpanId"] = f"{span.parent.span_id:016x}"
    encoded.update(
        name=span.name,
        kind=span.kind.value + 1,  # the SDK counts from 0, OTLP from 1 (0 = unspecified)
        startTimeUnixNano=str(span.start_time or 0),
        endTimeUnixNano=str(span.end_time or 0),
        attributes=_attributes(span.attributes),
    )
    status: dict[str, Any] = {}
    if span.status.status_code.value:
        status["code"] = span.status.status_code.value
    if span.status.description:
        status["message"] = span.status.description
    encoded["status"] = status
    return encoded


def otlp_json(spans: Iterable[ReadableSpan]) -> dict[str, Any]:
    """The OTLP JSON document (``{"resourceSpans": [...]}``) of finished SDK spans.

    Spans are grouped by resource and instrumentation scope, in the order given; the
    result is what the OTLP file exporter writes per line and what OTLP/HTTP sends with
    ``Content-Type: application/json``.

    Args:
        spans: Finished spans, e.g. ``InMemorySpanExporter().get_finished_spans()``.
    """
    resources: dict[int, tuple[Any, dict[tuple[str, str | None], list[dict[str, Any]]]]] = {}
    for span in spans:
        resource = span.resource
        _, scopes = resources.setdefault(id(resource), (resource, {}))
        scope = span.instrumentation_scope
        key = ("", None) if scope is None else (scope.name, scope.version)
        scopes.setdefault(key, []).append(_span(span))
    document: list[dict[str, Any]] = []
    for resource, scopes in resources.values():
        scope_spans = []
        for (name, version), encoded in scopes.items():
            scope_json: dict[str, Any] = {"name": name}
            if version:
                scope_json["version"] = version
            scope_spans.append({"scope": scope_json, "spans": encoded})
        resource_json = {"attributes": _attributes(resource.attributes)} if resource else {}
        document.append({"resource": resource_json, "scopeSpans": scope_spans})
    return {"resourceSpans": document}
