"""The reference's trace-store wire format: event lines and run index files.

One line of a trace file is one metrics event, ``{"type": ..., <context>, <fields>}``,
written exactly as the reference writes it (trace-store spec §5): compact JSON, raw
UTF-8, keys in the reference's order, each optional field either omitted or written as
``null`` by the reference's rule for that field, the opaque payloads
(``response_content``, ``call_arguments``, ...) with their object keys sorted at every
depth. So a line the reference wrote reads into a record and writes back byte for byte.

Reading is strict like every loader of the project: a repeated key (the reference's
delegation lines of sub-agent runs repeat ``parent_run_id``, spec §8.1), an unknown key
or a wrong type is refused with :class:`~awaken_eval.errors.InvalidInput` naming the
JSON path. Event types eval does not interpret are kept as
:class:`~awaken_eval.sinks.OpaqueMetricsEvent` with their keys in line order, so they
write back unchanged too.

An index file (``<run>.idx.json``, spec §5.10) is pretty-printed with every key, absent
values as ``null``, and no trailing newline.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any, Final

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.traces import OpaqueMetricsEvent, TraceStoreEvent, TraceSummary
from awaken_eval._wire.converter import from_builtins
from awaken_eval._wire.json import encode_compact, parse_strict_json
from awaken_eval.errors import InvalidInput

__all__ = [
    "OPAQUE_EVENT_TYPES",
    "decode_index",
    "decode_trace_line",
    "encode_index",
    "encode_trace_line",
    "f32_text",
]

OPAQUE_EVENT_TYPES: Final = frozenset(
    {"suspension", "handoff", "delegation", "evaluation_result", "background_task"}
)
"""Metrics event types of the reference that eval keeps as JSON (not interpreted)."""

# A rule says how one field is written when it holds ``None`` (or an empty value):
_OMIT_EMPTY = "omit-empty"  # omitted when "" / () / None
_OMIT_NONE = "omit-none"  # omitted when None
_NULL = "null"  # written as null when None
_OPAQUE = "opaque"  # omitted when None; keys sorted at every depth
_SAME = "same"  # always written as it is

_CONTEXT: tuple[tuple[str, object], ...] = (
    ("run_id", _OMIT_EMPTY),
    ("thread_id", _OMIT_EMPTY),
    ("agent_id", _OMIT_EMPTY),
    ("parent_run_id", _OMIT_NONE),
    ("parent_tool_call_id", _OMIT_NONE),
    ("prompt_id", _OMIT_NONE),
    ("tool_desc_ids", _OMIT_EMPTY),
    ("skill_ids", _OMIT_EMPTY),
    ("release_tag", _OMIT_NONE),
    ("experiment_id", _OMIT_NONE),
    ("variant_name", _OMIT_NONE),
)
"""The span context keys (§5.1), flattened into every event, in the reference's order."""

_INFERENCE: tuple[tuple[str, object], ...] = (
    *_CONTEXT,
    ("step_index", _OMIT_NONE),
    ("model", _SAME),
    ("provider", _SAME),
    ("operation", _SAME),
    ("response_model", _NULL),
    ("response_id", _NULL),
    ("finish_reasons", _SAME),
    ("error_type", _NULL),
    ("error_class", _NULL),
    ("thinking_tokens", _NULL),
    ("input_tokens", _NULL),
    ("output_tokens", _NULL),
    ("total_tokens", _NULL),
    ("cache_read_input_tokens", _NULL),
    ("cache_creation_input_tokens", _NULL),
    ("temperature", _NULL),
    ("top_p", _NULL),
    ("max_tokens", _NULL),
    ("stop_sequences", _SAME),
    ("duration_ms", ("default", 0)),
    ("started_at_ms", _OMIT_NONE),
    ("ended_at_ms", _OMIT_NONE),
    ("response_content", _OPAQUE),
    ("response_tool_calls", _OPAQUE),
    ("request_messages", _OPAQUE),
    # Additive fields of this project (the reference ignores unknown keys):
    ("request_id", _OMIT_NONE),
    ("attempts", _OMIT_NONE),
    ("retry_wait_ms", _OMIT_NONE),
)
"""The keys of an ``inference`` line (§5.2) in the reference's order, with their rules."""

_TOOL: tuple[tuple[str, object], ...] = (
    *_CONTEXT,
    ("step_index", _OMIT_NONE),
    ("name", _SAME),
    ("operation", _SAME),
    ("call_id", ("default", "")),
    ("tool_type", _SAME),
    ("call_arguments", _OPAQUE),
    ("call_result", _OPAQUE),
    ("error_type", _NULL),
    ("duration_ms", _SAME),
    ("started_at_ms", _OMIT_NONE),
    ("ended_at_ms", _OMIT_NONE),
)
"""The keys of a ``tool`` line (§5.3) in the reference's order, with their rules."""

_encode_sorted: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
).encode


def _key(name: str) -> str:
    return '"' + name + '":'


def _encode_fields(record: object, rules: tuple[tuple[str, object], ...]) -> list[str]:
    parts: list[str] = []
    for name, rule in rules:
        value = getattr(record, name)
        if value is None:
            if rule == _NULL:
                parts.append(_key(name) + "null")
            elif type(rule) is tuple:
                parts.append(_key(name) + encode_compact(rule[1]))
            elif rule == _SAME:  # pragma: no cover - required fields are never None
                parts.append(_key(name) + "null")
            continue
        if rule == _OMIT_EMPTY and value in ("", ()):
            continue
        if rule == _OPAQUE:
            parts.append(_key(name) + _encode_sorted(value))
        elif type(value) is tuple:
            parts.append(_key(name) + encode_compact(list(value)))
        else:
            parts.append(_key(name) + encode_compact(value))
    return parts


def encode_trace_line(event: TraceStoreEvent) -> bytes:
    """One trace file line for ``event`` (UTF-8, ending with ``\\n``), as the reference writes it.

    Spans follow the key order and null/omit rules of the reference (trace-store spec
    §5.2, §5.3); the required fields a span may leave unset are written as the
    reference's reader defaults them (``call_id`` ``""``, an inference's
    ``duration_ms`` 0). An opaque event is written with its keys in the order they
    were read.

    Raises:
        InvalidInput: when the event holds what JSON cannot carry (a non-finite number).
    """
    if isinstance(event, InferenceSpan):
        parts = ['"type":"inference"', *_encode_fields(event, _INFERENCE)]
    elif isinstance(event, ToolSpan):
        parts = ['"type":"tool"', *_encode_fields(event, _TOOL)]
    else:
        parts = [_key("type") + encode_compact(event.type)]
        parts.extend(
            encode_compact(key) + ":" + encode_compact(value)
            for key, value in event.payload.items()
        )
    try:
        return ("{" + ",".join(parts) + "}\n").encode()
    except UnicodeEncodeError:
        msg = "a string holds a lone surrogate (it is not valid text)"
        raise InvalidInput.single("$", msg) from None


def decode_trace_line(line: bytes | str) -> TraceStoreEvent:
    """The event of one trace file line.

    Raises:
        InvalidInput: for invalid JSON (a repeated key included, naming it), a missing
            or unknown ``type``, or a field of the wrong type, with its JSON path.
    """
    document = parse_strict_json(line)
    if type(document) is not dict:
        raise InvalidInput.single("$", "expected a JSON object (one trace event)")
    tag = document.pop("type", None)
    if tag == "inference":
        return from_builtins(InferenceSpan, document)
    if tag == "tool":
        return from_builtins(ToolSpan, document)
    if type(tag) is str and tag in OPAQUE_EVENT_TYPES:
        return OpaqueMetricsEvent(tag, document)
    what = "missing" if tag is None else f"unknown type {json.dumps(tag)}"
    expected = ", ".join(json.dumps(t) for t in ("inference", "tool", *sorted(OPAQUE_EVENT_TYPES)))
    raise InvalidInput.single("$.type", f"{what}; expected one of {expected}")


def f32_text(value: float) -> str:
    """The shortest decimal text of ``value`` narrowed to a 32-bit float.

    It reads back as the same 32-bit float (how the reference writes ``judge_score``):
    ``0.3`` stays ``0.3``, not ``0.30000001192092896``.
    """
    narrowed = struct.unpack("<f", struct.pack("<f", value))[0]
    for digits in range(1, 18):
        text = f"{narrowed:.{digits}g}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == narrowed:
            break
    if "e" not in text and "." not in text and "n" not in text:
        text += ".0"
    return text


def encode_index(summary: TraceSummary) -> bytes:
    """The bytes of a run's index file (spec §5.10): pretty JSON, every key, no final newline."""
    judge = "null" if summary.judge_score is None else f32_text(summary.judge_score)
    prompts = (
        "[]"
        if not summary.prompt_ids
        else "[\n" + ",\n".join("    " + _text(p) for p in summary.prompt_ids) + "\n  ]"
    )
    rows = (
        ("run_id", _text(summary.run_id)),
        ("agent_id", _text(summary.agent_id)),
        ("started_at_secs", str(summary.started_at_secs)),
        ("ended_at_secs", _optional(summary.ended_at_secs)),
        ("prompt_ids", prompts),
        ("experiment_id", _optional(summary.experiment_id)),
        ("variant_name", _optional(summary.variant_name)),
        ("final_status", _optional(summary.final_status)),
        ("judge_score", judge),
    )
    body = ",\n".join(f"  {_text(key)}: {value}" for key, value in rows)
    return ("{\n" + body + "\n}").encode()


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _optional(value: object) -> str:
    return "null" if value is None else _text(value)


def decode_index(data: bytes) -> TraceSummary:
    """The run summary of an index file.

    Raises:
        InvalidInput: for invalid JSON or a missing or mistyped key, with its JSON path.
    """
    return from_builtins(TraceSummary, parse_strict_json(data))
