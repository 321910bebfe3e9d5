"""The trace sink writing the reference's file trace store layout.

:class:`JsonlTraceSink` appends every span of a run or replay to the trace of its
``run_id`` in a :class:`~awaken_eval.sinks.FileTraceStore` (``<root>/YYYY-MM/<run>.ndjson``,
in the reference's line format) and the run lifecycle events to
``<root>/eval_events.jsonl``. When the engine has finished a replay it calls
:meth:`JsonlTraceSink.finish_trace`: the trace is read back, its index written, and only
a trace that reads back non-empty links an eval item to it (``trace_run_id``).

Appends are not fsynced: a trace is best effort, and a failed write is logged on the
``awaken_eval.sinks`` logger, never raised.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import anyio.to_thread

from awaken_eval._io.below import open_below
from awaken_eval._records.events import SpanRecorded, TraceEvent
from awaken_eval._records.ids import validate_run_id
from awaken_eval._wire.converter import to_json
from awaken_eval._wire.trace_lines import encode_trace_line
from awaken_eval.errors import InvalidRunId
from awaken_eval.sinks._store import FileTraceStore
from awaken_eval.sinks._summary import derive_run_summary

__all__ = ["JsonlTraceSink"]

_LOG = logging.getLogger("awaken_eval.sinks")

_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class JsonlTraceSink:
    """A :class:`~awaken_eval.TraceSink` writing a :class:`FileTraceStore` under ``root``.

    Each span is appended as one line to the trace of its ``run_id`` (spans with an
    empty ``run_id``, or one that cannot name a file, are dropped); every other event
    is appended to the run events file. Folders and files are created as needed. A
    failure is logged on the ``awaken_eval.sinks`` logger and never raised, so a broken
    disk never fails a run. The blocking writes run in worker threads.

    It is also a :class:`~awaken_eval.protocols.TraceFinisher`: after each replay the
    engine calls :meth:`finish_trace`, which writes the run's index and tells whether
    the trace is readable (only then does the eval item get a ``trace_run_id``).

    Args:
        root: The trace root directory.
        clock: Epoch seconds now; picks the month folder of a run's first span.

    Attributes:
        store: Reads back what this sink wrote.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        """Write under ``root``."""
        self.store = FileTraceStore(root, clock=clock)
        self._events_lock = threading.Lock()

    async def emit(self, event: TraceEvent) -> None:
        """Append ``event``; a failure is logged, never raised."""
        try:
            if isinstance(event, SpanRecorded):
                span = event.span
                if not span.run_id:
                    return
                try:
                    validate_run_id(span.run_id)
                except InvalidRunId:
                    _LOG.warning("trace sink dropped a span of run %r: invalid run id", span.run_id)
                    return
                line = encode_trace_line(span)
                await anyio.to_thread.run_sync(self.store.append_line, span.run_id, line)
            else:
                line = (to_json(event) + "\n").encode()
                await anyio.to_thread.run_sync(self._append_event, line)
        except Exception:  # noqa: BLE001 - a trace sink never fails a run
            _LOG.warning(
                "trace sink could not record %s under %s",
                type(event).__name__,
                self.store.root,
                exc_info=True,
            )

    def _append_event(self, line: bytes) -> None:
        with self._events_lock:
            path = self.store.eval_events_path
            descriptor = open_below(path.parent, path, _APPEND_FLAGS, 0o644, make_parents=True)
            try:
                view = memoryview(line)
                while view:
                    written = os.write(descriptor, view)
                    view = view[written:]
            finally:
                os.close(descriptor)

    async def finish_trace(self, run_id: str) -> bool:
        """Write the index of ``run_id`` and say whether its trace reads back non-empty.

        The index is derived from the events read back (the reference's
        ``derive_run_summary``). Nothing is raised: an unreadable or missing trace gives
        ``False``; a failed index write is logged (the trace is still readable, so the
        answer is ``True``).
        """
        try:
            read = await self.store.read_trace(run_id)
        except Exception:  # noqa: BLE001 - a trace sink never fails a run
            _LOG.warning("trace of run %r is not readable", run_id, exc_info=True)
            return False
        if not read.events:
            return False
        try:
            await self.store.write_index(derive_run_summary(run_id, read.events))
        except Exception:  # noqa: BLE001 - the trace itself is readable
            _LOG.warning("could not write the index of trace %r", run_id, exc_info=True)
        return True
