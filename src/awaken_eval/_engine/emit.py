"""The guards around a trace sink: a failing or hanging sink never fails or hangs a run.

:func:`emit_safely` turns a sink's exception into a logged warning; :class:`BoundedSink`
bounds how long one ``emit`` may take. It is also where the engine logs:
:func:`log_failure` imports :mod:`logging` on the first failure it reports, so a run that
logs nothing never loads it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from awaken_eval._engine.deadline import cancelled_classes, run_is_cancelled
from awaken_eval.protocols import TraceFinisher

if TYPE_CHECKING:
    from awaken_eval._records.events import TraceEvent
    from awaken_eval.protocols import TraceSink

__all__ = [
    "DISCONNECT_AFTER_TIMEOUTS",
    "BoundedSink",
    "emit_safely",
    "log_failure",
    "log_warning",
    "trace_verifier",
]

_LOGGER_NAME = "awaken_eval"
"""The logger the engine reports the failures of user code to (a sink, a callback)."""

DISCONNECT_AFTER_TIMEOUTS = 3
"""Late events in a row after which a :class:`BoundedSink` stops calling its sink."""


def log_failure(error: BaseException, message: str, *args: object) -> None:
    """Log ``message % args`` as a warning, with the traceback of ``error``."""
    import logging  # noqa: PLC0415 - loaded on the first failure, not with the engine

    logging.getLogger(_LOGGER_NAME).warning(message, *args, exc_info=error)


def log_warning(message: str, *args: object) -> None:
    """Log ``message % args`` as a warning."""
    import logging  # noqa: PLC0415 - loaded on the first warning, not with the engine

    logging.getLogger(_LOGGER_NAME).warning(message, *args)


async def emit_safely(sink: TraceSink | None, event: TraceEvent) -> None:
    """Hand ``event`` to ``sink`` (if any); an exception of the sink is logged, not raised.

    A real cancellation propagates; a cancellation exception the sink raised while
    nothing cancels the run is a failure of the sink like any other.
    """
    if sink is None:
        return
    try:
        await sink.emit(event)
    except Exception as error:  # noqa: BLE001 - a failing sink never fails a run
        log_failure(error, "trace sink failed to record %s", type(event).__name__)
    except cancelled_classes() as error:
        if run_is_cancelled():
            raise
        log_failure(error, "trace sink failed to record %s", type(event).__name__)


async def _finish_safely(sink: object, run_id: str) -> bool:
    """Call the sink's ``finish_trace``; an exception counts as "not stored"."""
    try:
        return (await sink.finish_trace(run_id)) is True  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - a failing sink never fails a run
        log_failure(error, "trace sink failed to finish the trace of %r", run_id)
    except cancelled_classes() as error:
        if run_is_cancelled():
            raise
        log_failure(error, "trace sink failed to finish the trace of %r", run_id)
    return False


def trace_verifier(sink: TraceSink | None) -> Callable[[str], Awaitable[bool]] | None:
    """How to confirm that a replay's trace was stored by ``sink``, if it can tell.

    ``None`` when there is no sink or the sink is no
    :class:`~awaken_eval.protocols.TraceFinisher` (then no item is linked to a trace).
    The returned function never raises; a bounded sink bounds it by its timeout.
    """
    if sink is None:
        return None
    inner = sink.sink if isinstance(sink, BoundedSink) else sink
    if not isinstance(inner, TraceFinisher):
        return None
    if isinstance(sink, BoundedSink):
        return sink.finish_trace
    return lambda run_id: _finish_safely(inner, run_id)


class BoundedSink:
    """A trace sink whose ``emit`` returns within ``timeout_secs``, whatever the sink does.

    An event the sink has not taken in time is dropped (its ``emit`` is cancelled) and a
    warning is logged; after :data:`DISCONNECT_AFTER_TIMEOUTS` late events in a row the
    sink is disconnected and every later event is dropped at once (one warning). The
    run never waits longer than the timeout for its sink.

    Args:
        sink: The sink to bound.
        timeout_secs: Longest one ``emit`` may take.

    Attributes:
        dropped: Events dropped so far (late, or sent after the disconnection).
    """

    __slots__ = ("dropped", "late_in_a_row", "sink", "timeout_secs")

    def __init__(self, sink: TraceSink, timeout_secs: float) -> None:
        """Bound ``sink`` to ``timeout_secs`` per event."""
        self.sink = sink
        self.timeout_secs = timeout_secs
        self.dropped = 0
        self.late_in_a_row = 0

    async def emit(self, event: TraceEvent) -> None:
        """Hand ``event`` to the sink; drop it when the sink takes too long."""
        if self.late_in_a_row >= DISCONNECT_AFTER_TIMEOUTS:
            self.dropped += 1
            return
        with anyio.move_on_after(self.timeout_secs) as scope:
            await self.sink.emit(event)
        # Late also when the sink ignored the cancellation or blocked the event loop.
        if not scope.cancel_called and anyio.current_time() < scope.deadline:
            self.late_in_a_row = 0
            return
        self.dropped += 1
        self.late_in_a_row += 1
        log_warning(
            "trace sink did not take %s within %ss: event dropped (%d dropped so far)",
            type(event).__name__,
            self.timeout_secs,
            self.dropped,
        )
        if self.late_in_a_row >= DISCONNECT_AFTER_TIMEOUTS:
            log_warning(
                "trace sink was late %d times in a row: disconnected, later events are dropped",
                self.late_in_a_row,
            )

    async def finish_trace(self, run_id: str) -> bool:
        """Have the sink finish the trace ``run_id`` within the timeout (``False`` if late).

        A disconnected sink, or one that is not a ``TraceFinisher``, gives ``False``.
        """
        if self.late_in_a_row >= DISCONNECT_AFTER_TIMEOUTS:
            return False
        with anyio.move_on_after(self.timeout_secs):
            return await _finish_safely(self.sink, run_id)
        log_warning(
            "trace sink did not finish the trace of %r within %ss", run_id, self.timeout_secs
        )
        return False
