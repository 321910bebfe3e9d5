"""The one guard around a trace sink: a failing sink never fails a run or a replay.

It is also where the engine logs: :func:`log_failure` imports :mod:`logging` on the first
failure it reports, so a run that logs nothing never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awaken_eval._records.events import TraceEvent
    from awaken_eval.protocols import TraceSink

__all__ = ["emit_safely", "log_failure"]

_LOGGER_NAME = "awaken_eval"
"""The logger the engine reports the failures of user code to (a sink, a callback)."""


def log_failure(error: BaseException, message: str, *args: object) -> None:
    """Log ``message % args`` as a warning, with the traceback of ``error``."""
    import logging  # noqa: PLC0415 - loaded on the first failure, not with the engine

    logging.getLogger(_LOGGER_NAME).warning(message, *args, exc_info=error)


async def emit_safely(sink: TraceSink | None, event: TraceEvent) -> None:
    """Hand ``event`` to ``sink`` (if any); an exception of the sink is logged, not raised.

    Cancellation is not an ``Exception`` and still propagates.
    """
    if sink is None:
        return
    try:
        await sink.emit(event)
    except Exception as error:  # noqa: BLE001 - a failing sink never fails a run
        log_failure(error, "trace sink failed to record %s", type(event).__name__)
