"""A sink wrapper that holds back a run's terminal event until its persistence is known."""

from __future__ import annotations

import attrs

from awaken_eval._engine.emit import emit_safely
from awaken_eval._records.events import RunCompleted, TraceEvent
from awaken_eval.protocols import TraceFinisher, TraceSink

__all__ = ["HeldTerminalSink"]


class HeldTerminalSink:
    """Forwards events, holding back ``RunCompleted`` until the caller knows ``persisted``.

    Args:
        sink: Where the events go (``None``: nowhere).
    """

    def __init__(self, sink: TraceSink | None) -> None:
        """Wrap ``sink``."""
        self.sink = sink
        self.completed: RunCompleted | None = None

    async def emit(self, event: TraceEvent) -> None:
        """Forward ``event``, or hold it when it is the run's ``RunCompleted``."""
        if isinstance(event, RunCompleted):
            self.completed = event
        elif self.sink is not None:
            await self.sink.emit(event)

    async def finish_trace(self, run_id: str) -> bool:
        """Pass the trace check on: ``False`` when the wrapped sink cannot confirm traces."""
        inner: object = self.sink
        if not isinstance(inner, TraceFinisher):
            return False
        return await inner.finish_trace(run_id)

    async def release(self, *, persisted: bool) -> None:
        """Emit the held ``RunCompleted`` with ``persisted`` set (errors are logged)."""
        if self.sink is not None and self.completed is not None:
            await emit_safely(self.sink, attrs.evolve(self.completed, persisted=persisted))
