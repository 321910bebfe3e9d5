"""The one guard around a trace sink: a failing sink never fails a run or a replay."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awaken_eval._records.events import TraceEvent
    from awaken_eval.protocols import TraceSink

__all__ = ["emit_safely"]

_LOG = logging.getLogger("awaken_eval")


async def emit_safely(sink: TraceSink | None, event: TraceEvent) -> None:
    """Hand ``event`` to ``sink`` (if any); an exception of the sink is logged, not raised.

    Cancellation is not an ``Exception`` and still propagates.
    """
    if sink is None:
        return
    try:
        await sink.emit(event)
    except Exception:  # noqa: BLE001 - a failing sink never fails a run
        _LOG.warning("trace sink failed to record %s", type(event).__name__, exc_info=True)
