"""The index of a run, derived from its trace events (the reference's ``derive_run_summary``).

Pure: no I/O. Rules of trace-store spec §3.4: events are visited by kind in the order
inferences, tools, evaluations, suspensions, handoffs, delegations, background tasks
(record order within a kind); times become whole seconds (truncated).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.traces import OpaqueMetricsEvent, TraceStoreEvent, TraceSummary
from awaken_eval._records.types import JsonValue

__all__ = ["derive_run_summary"]

_KIND_ORDER = ("evaluation_result", "suspension", "handoff", "delegation", "background_task")
"""The opaque event kinds in the order the reference visits them (after spans)."""


def _uint(payload: Mapping[str, JsonValue], key: str) -> int | None:
    value = payload.get(key)
    return value if type(value) is int and value >= 0 else None


def _text(payload: Mapping[str, JsonValue], key: str) -> str | None:
    value = payload.get(key)
    return value if type(value) is str else None


def _number(payload: Mapping[str, JsonValue], key: str) -> float | None:
    value = payload.get(key)
    return float(value) if type(value) in (int, float) else None  # type: ignore[arg-type]


class _Context:
    """The context keys of one event, whatever its kind."""

    __slots__ = ("agent_id", "experiment_id", "prompt_id", "variant_name")

    def __init__(self, event: TraceStoreEvent) -> None:
        if isinstance(event, OpaqueMetricsEvent):
            payload = event.payload
            self.agent_id = _text(payload, "agent_id") or ""
            self.prompt_id = _text(payload, "prompt_id")
            self.experiment_id = _text(payload, "experiment_id")
            self.variant_name = _text(payload, "variant_name")
        else:
            self.agent_id = event.agent_id
            self.prompt_id = event.prompt_id
            self.experiment_id = event.experiment_id
            self.variant_name = event.variant_name


def _ordered(events: Sequence[TraceStoreEvent]) -> list[TraceStoreEvent]:
    spans: list[TraceStoreEvent] = [e for e in events if isinstance(e, InferenceSpan)]
    spans.extend(e for e in events if isinstance(e, ToolSpan))
    for kind in _KIND_ORDER:
        spans.extend(e for e in events if isinstance(e, OpaqueMetricsEvent) and e.type == kind)
    return spans


def _bounds(event: TraceStoreEvent) -> tuple[int | None, int | None]:
    """The (start, end) milliseconds ``event`` contributes, zeros ignored by the caller."""
    if not isinstance(event, OpaqueMetricsEvent):
        return event.started_at_ms, event.ended_at_ms
    payload = event.payload
    if event.type == "background_task":
        return _uint(payload, "created_at_ms"), _uint(payload, "completed_at_ms")
    timestamp = _uint(payload, "timestamp_ms")
    if timestamp is None or event.type in ("evaluation_result", "handoff"):
        return timestamp, timestamp
    return timestamp, timestamp + (_uint(payload, "duration_ms") or 0)


def _is_error(event: TraceStoreEvent) -> bool:
    if not isinstance(event, OpaqueMetricsEvent):
        return event.error_type is not None
    payload = event.payload
    if event.type == "background_task":
        return _text(payload, "error_message") is not None or payload.get("status") == "failed"
    if event.type == "evaluation_result":
        return _text(payload, "error_type") is not None
    if event.type == "delegation":
        return payload.get("success") is False
    return False


def _f32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _nonzero(values: Iterable[int | None]) -> list[int]:
    return [value for value in values if value]


def derive_run_summary(run_id: str, events: Sequence[TraceStoreEvent]) -> TraceSummary:
    """The index of the run ``run_id`` from its trace ``events`` (spec §3.4).

    * ``agent_id``: the first non-empty context agent id, else ``""``;
    * ``started_at_secs``: the earliest non-zero start (0 when none);
    * ``ended_at_secs``: the latest non-zero end, if any;
    * ``prompt_ids``: every context prompt id, sorted and de-duplicated;
    * ``experiment_id`` / ``variant_name``: the first present;
    * ``final_status``: ``"error"`` when a span, a failed background task, an
      evaluation or a failed delegation recorded an error, else ``"ok"``;
    * ``judge_score``: the lowest evaluation score (as a 32-bit float), if any.
    """
    ordered = _ordered(events)
    contexts = [_Context(event) for event in ordered]
    bounds = [_bounds(event) for event in ordered]
    starts = _nonzero(start for start, _ in bounds)
    ends = _nonzero(end for _, end in bounds)
    scores = [
        score
        for event in ordered
        if isinstance(event, OpaqueMetricsEvent) and event.type == "evaluation_result"
        for score in (_number(event.payload, "score_value"),)
        if score is not None
    ]
    return TraceSummary(
        run_id=run_id,
        agent_id=next((c.agent_id for c in contexts if c.agent_id), ""),
        started_at_secs=min(starts) // 1000 if starts else 0,
        ended_at_secs=max(ends) // 1000 if ends else None,
        prompt_ids=tuple(sorted({c.prompt_id for c in contexts if c.prompt_id is not None})),
        experiment_id=next(
            (c.experiment_id for c in contexts if c.experiment_id is not None), None
        ),
        variant_name=next((c.variant_name for c in contexts if c.variant_name is not None), None),
        final_status="error" if any(_is_error(event) for event in ordered) else "ok",
        judge_score=_f32(min(scores)) if scores else None,
    )
