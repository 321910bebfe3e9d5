"""A trace sink that writes OpenTelemetry spans: a run, its items, their inferences and tools.

OpenTelemetry is imported when a sink is created, never with the package. The sink uses
the tracer provider it is given and touches no global state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from awaken_eval._records.evaluation import CustomScope, RunScope, SessionScope, TurnScope
from awaken_eval._records.events import (
    EvaluationResult,
    ItemCompleted,
    RunCompleted,
    RunFailed,
    RunStarted,
    SpanRecorded,
    TraceEvent,
)
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval.otel._attributes import (
    AttributeValue,
    inference_attributes,
    inference_name,
    item_attributes,
    run_attributes,
    tool_attributes,
    tool_name,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["OtelTraceSink"]

_MS = 1_000_000
"""Nanoseconds per millisecond."""


@attrs.define
class _Pending:
    """A span record waiting for its item, with the time it arrived."""

    record: InferenceSpan | ToolSpan
    arrived_ns: int

    def times(self) -> tuple[int, int]:
        """Start and end in epoch nanoseconds: the record's own times where present."""
        record = self.record
        duration = (record.duration_ms or 0) * _MS
        end = record.ended_at_ms * _MS if record.ended_at_ms is not None else None
        start = record.started_at_ms * _MS if record.started_at_ms is not None else None
        if start is None:
            start = (end if end is not None else self.arrived_ns) - duration
        if end is None:
            end = start + duration if record.started_at_ms is not None else self.arrived_ns
        return start, max(start, end)


class OtelTraceSink:
    """Writes a run as OpenTelemetry spans, following the GenAI semantic conventions.

    One span per run (``awaken_eval.run <dataset>``), under it one span per item
    (``awaken_eval.item <fixture>``: fixture, cell, sample, passed, failures), and
    under each item its inference spans (``chat <model>``: ``gen_ai.*`` model, provider,
    usage, finish reasons, content when captured) and tool spans (``execute_tool
    <tool>``). Span records arrive before their item (items run concurrently), so
    they are held by agent run id and written when the item that links that run
    completes, with the records' own start and end times where present. Records no
    item claims (the later turns of a dialogue) are written under the run span, as
    ``awaken_eval.agent_run <id>`` spans, when the run ends. Every span is ended: on
    :class:`~awaken_eval.events.RunFailed` with an error status, and by :meth:`close`.

    Install the ``otel`` extra (``pip install 'awaken-eval[otel]'``).

    Args:
        tracer_provider: Where the spans go (an SDK ``TracerProvider``); the global
            provider is never read or set.
        capture_content: Write messages, tool arguments and tool results (when the
            records captured them) as ``gen_ai.input.messages``,
            ``gen_ai.output.messages``, ``gen_ai.tool.call.arguments`` and
            ``gen_ai.tool.call.result``.
        clock: Epoch nanoseconds, for spans whose records carry no times.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider,
        *,
        capture_content: bool = True,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """Create a sink writing to ``tracer_provider``."""
        from opentelemetry import trace  # noqa: PLC0415 - the extra is loaded on use

        self._trace = trace
        self._tracer: Tracer = tracer_provider.get_tracer("awaken_eval")
        self._capture = capture_content
        self._clock = clock
        self._runs: dict[str, Span] = {}
        self._pending: dict[str, list[_Pending]] = {}

    async def emit(self, event: TraceEvent) -> None:
        """Record ``event`` (never awaits: concurrent items cannot interleave in it)."""
        self.record(event)

    async def finish_trace(self, run_id: str) -> bool:
        """Does this sink hold spans of the agent run ``run_id`` (so an item may link it)?

        The engine links an item to its trace only when the sink confirms it
        (:class:`~awaken_eval.protocols.TraceFinisher`); the held spans are written
        under that item's span when the item completes.
        """
        return bool(self._pending.get(run_id))

    def record(self, event: TraceEvent) -> None:
        """Record ``event`` synchronously."""
        match event:
            case SpanRecorded(span=record):
                held = _Pending(record, self._clock())
                self._pending.setdefault(record.run_id, []).append(held)
            case RunStarted():
                self._start_run(event)
            case ItemCompleted():
                self._item(event)
            case RunCompleted():
                self._end_run(event.eval_run_id, error=None)
            case RunFailed():
                self._end_run(event.eval_run_id, error=event.error)
            case EvaluationResult():
                self._evaluation(event)

    def close(self) -> None:
        """End every open run span (as failed) and write the records no item claimed."""
        for run_id in list(self._runs):
            self._end_run(run_id, error="the trace sink was closed before the run ended")
        for agent_run_id in list(self._pending):
            self._agent_run(None, agent_run_id, self._pending.pop(agent_run_id))

    # -- spans ----------------------------------------------------------------------------

    def _start(
        self,
        name: str,
        parent: Span | None,
        attributes: Mapping[str, AttributeValue],
        start_ns: int,
    ) -> Span:
        context = None if parent is None else self._trace.set_span_in_context(parent)
        return self._tracer.start_span(
            name, context=context, attributes=attributes, start_time=start_ns
        )

    def _fail(self, span: Span, description: str) -> None:
        from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415

        span.set_status(Status(StatusCode.ERROR, description))

    def _start_run(self, event: RunStarted) -> None:
        if event.eval_run_id in self._runs:  # a duplicate start: keep the open span
            return
        name = f"awaken_eval.run {event.dataset_id}"
        self._runs[event.eval_run_id] = self._start(
            name, None, run_attributes(event), self._clock()
        )

    def _end_run(self, run_id: str, *, error: str | None) -> None:
        span = self._runs.pop(run_id, None)
        if span is None:
            return
        if not self._runs:  # the only open run: what no item claimed is its own
            for agent_run_id in list(self._pending):
                self._agent_run(span, agent_run_id, self._pending.pop(agent_run_id))
        if error is not None:
            self._fail(span, error)
        span.end(end_time=self._clock())

    def _children(self, parent: Span, held: list[_Pending]) -> None:
        for pending in held:
            record = pending.record
            start, end = pending.times()
            if isinstance(record, InferenceSpan):
                name = inference_name(record)
                attributes = inference_attributes(record, capture_content=self._capture)
            else:
                name = tool_name(record)
                attributes = tool_attributes(record, capture_content=self._capture)
            span = self._start(name, parent, attributes, start)
            if record.error_type is not None:
                self._fail(span, record.error_type)
            span.end(end_time=end)

    def _bounds(self, held: list[_Pending], fallback_start: int, now: int) -> tuple[int, int]:
        times = [pending.times() for pending in held]
        start = min([fallback_start, *(begin for begin, _ in times)])
        end = max([now, *(finish for _, finish in times)])
        return start, end

    def _item(self, event: ItemCompleted) -> None:
        item = event.item
        held = self._pending.pop(item.trace_run_id, []) if item.trace_run_id else []
        now = self._clock()
        started = now - item.report.session_duration_ms * _MS
        start, end = self._bounds(held, min([started, *(p.arrived_ns for p in held)]), now)
        span = self._start(
            f"awaken_eval.item {item.fixture_id}",
            self._runs.get(event.eval_run_id),
            item_attributes(event),
            start,
        )
        self._children(span, held)
        if item.report.runtime_failure is not None:
            self._fail(span, item.report.runtime_failure.kind)
        span.end(end_time=end)

    def _agent_run(self, parent: Span | None, agent_run_id: str, held: list[_Pending]) -> None:
        now = self._clock()
        start, end = self._bounds(held, min(p.arrived_ns for p in held), now)
        attributes = {"awaken_eval.trace.run_id": agent_run_id}
        span = self._start(f"awaken_eval.agent_run {agent_run_id}", parent, attributes, start)
        self._children(span, held)
        span.end(end_time=end)

    def _evaluation(self, event: EvaluationResult) -> None:
        scope = event.evaluation.scope
        match scope:
            case RunScope(run_id=ref) | TurnScope(turn_id=ref) | SessionScope(session_id=ref):
                scope_ref = str(ref)
            case CustomScope(scope_ref=entity):
                scope_ref = f"{entity.kind}:{entity.id}"
        attributes: dict[str, AttributeValue] = {
            "awaken_eval.evaluation.scope": scope.kind,
            "awaken_eval.evaluation.scope_ref": scope_ref,
            "awaken_eval.judge.score": event.score,
        }
        if event.passed is not None:
            attributes["awaken_eval.passed"] = event.passed
        now = self._clock()
        span = self._start(f"awaken_eval.evaluate {scope.kind}", None, attributes, now)
        span.end(end_time=now)
