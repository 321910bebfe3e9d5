"""``InMemoryTraceStore``: a :class:`~awaken_eval.protocols.TraceStore` in a dictionary.

For tests of what reads traces (curation, dataset imports): add a run's events (and,
unless told otherwise, an index row), read them back, list the indexed runs through a
:class:`~awaken_eval.sinks.TraceFilter`, and see every pin in :attr:`pins`. A pin can be
made to fail for chosen runs, to test what happens when a pin fails after a write.

Example::

    traces = InMemoryTraceStore()
    traces.add("run-1", [InferenceSpan(run_id="run-1", response_content=[...])])
    traces.fail_pin("run-1")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import anyio

from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.traces import (
    DamagedLine,
    PinKind,
    TraceFilter,
    TraceRead,
    TraceStoreEvent,
    TraceSummary,
)
from awaken_eval.errors import NotFound, StoreFailure

__all__ = ["InMemoryTraceStore"]


def _default_summary(run_id: str, events: Sequence[TraceStoreEvent]) -> TraceSummary:
    spans = [event for event in events if isinstance(event, InferenceSpan | ToolSpan)]
    agent = next((span.agent_id for span in spans if span.agent_id), "")
    started = min((span.started_at_ms for span in spans if span.started_at_ms), default=0)
    return TraceSummary(run_id=run_id, agent_id=agent, started_at_secs=started // 1000)


class InMemoryTraceStore:
    """Traces kept in memory, with a record of every pin.

    Attributes:
        pins: Every successful pin, in call order: ``(run_id, kind)``.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._reads: dict[str, TraceRead] = {}
        self._index: dict[str, TraceSummary] = {}
        self._pin_failures: dict[str, Exception] = {}
        self._lock = anyio.Lock()
        self.pins: list[tuple[str, PinKind]] = []

    def add(
        self,
        run_id: str,
        events: Iterable[TraceStoreEvent],
        *,
        damaged: Iterable[DamagedLine] = (),
        summary: TraceSummary | None = None,
        indexed: bool = True,
    ) -> None:
        """Store the trace of ``run_id`` (replacing one stored before).

        Args:
            run_id: The agent run.
            events: Its events in record order.
            damaged: Lines a reader could not read (see :class:`~awaken_eval.sinks.TraceRead`).
            summary: Its index row (default: the first span's agent, the earliest span
                start, in seconds).
            indexed: Whether :meth:`list_traces` lists it (a run without an index row
                can still be read).
        """
        validate_run_id(run_id)
        kept = tuple(events)
        self._reads[run_id] = TraceRead(kept, tuple(damaged))
        if indexed:
            self._index[run_id] = summary if summary is not None else _default_summary(run_id, kept)
        else:
            self._index.pop(run_id, None)

    def fail_pin(self, run_id: str, error: Exception | None = None) -> None:
        """Make every later pin of ``run_id`` raise ``error`` (default a StoreFailure)."""
        failure = error if error is not None else StoreFailure(f"could not pin trace {run_id}")
        self._pin_failures[run_id] = failure

    async def read_trace(self, run_id: str) -> TraceRead:
        """The events of ``run_id`` and its damaged lines.

        Raises:
            InvalidRunId: ``run_id`` is not a valid run id.
            NotFound: ``trace not found: <id>``.
        """
        validate_run_id(run_id)
        try:
            return self._reads[run_id]
        except KeyError:
            msg = f"trace not found: {run_id}"
            raise NotFound(msg) from None

    async def list_traces(self, trace_filter: TraceFilter) -> list[TraceSummary]:
        """The indexed runs matching ``trace_filter``, by start time (then run id)."""
        rows = [row for row in self._index.values() if _matches(row, trace_filter)]
        rows.sort(
            key=lambda row: (row.started_at_secs, row.run_id), reverse=trace_filter.newest_first
        )
        return rows if trace_filter.limit is None else rows[: trace_filter.limit]

    async def pin(self, run_id: str, kind: PinKind) -> None:
        """Record a pin of ``run_id``.

        Raises:
            InvalidRunId: ``run_id`` is not a valid run id.
            NotFound: there is no trace of ``run_id``.
            Exception: the error :meth:`fail_pin` chose for ``run_id``.
        """
        validate_run_id(run_id)
        async with self._lock:
            if run_id in self._pin_failures:
                raise self._pin_failures[run_id]
            if run_id not in self._reads:
                msg = f"trace not found: {run_id}"
                raise NotFound(msg)
            self.pins.append((run_id, kind))


def _matches(row: TraceSummary, trace_filter: TraceFilter) -> bool:
    wanted = trace_filter
    return (
        (wanted.agent_id is None or row.agent_id == wanted.agent_id)
        and (wanted.prompt_id is None or wanted.prompt_id in row.prompt_ids)
        and (wanted.experiment_id is None or row.experiment_id == wanted.experiment_id)
        and (wanted.variant_name is None or row.variant_name == wanted.variant_name)
        and (wanted.since_secs is None or row.started_at_secs >= wanted.since_secs)
    )
