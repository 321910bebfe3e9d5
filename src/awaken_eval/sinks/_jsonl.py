"""A file trace store: spans as JSON lines, one file per agent run.

Layout under the root directory::

    <root>/traces/<run_id>.jsonl   the spans of one agent run, one JSON object per line,
                                   in the reference's MetricsEvent shape:
                                   {"type": "inference", ...span fields}
                                   {"type": "tool", ...span fields}
    <root>/eval_events.jsonl       run lifecycle events (eval_run_started,
                                   eval_item_completed, eval_run_completed,
                                   eval_run_failed, evaluation_result), one per line,
                                   in the TraceEvent wire format

:class:`JsonlTraceSink` writes it (a :class:`~awaken_eval.TraceSink`: pass it as the
``sink`` of a run or replay and every span lands in the trace of its ``run_id``);
:class:`FileTraceStore` reads it back, e.g. to curate a fixture from a trace with
:func:`~awaken_eval.curate.curate_fixture`. Appends are not fsynced: a trace is best
effort, and a failed append is logged on the ``awaken_eval.sinks`` logger, never raised.

A failed append (a full disk) can leave a torn last line. The next append starts on a
fresh line, so the damage stays on that one line, and :meth:`FileTraceStore.read_trace`
keeps every intact line and reports the damaged ones (:class:`DamagedLine`). Nothing
below the root is followed through a symbolic link (the root itself may be one).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import anyio.to_thread

from awaken_eval._io.below import open_below
from awaken_eval._io.files import read_ndjson
from awaken_eval._records.events import SpanRecorded, TraceEvent
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.traces import (
    DamagedLine,
    OpaqueMetricsEvent,
    TraceRead,
    TraceStoreEvent,
)
from awaken_eval._wire.converter import from_builtins, from_json, to_builtins, to_json
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import InputUnreadable, InvalidInput, InvalidRunId, NotFound

__all__ = [
    "EVAL_EVENTS_FILE",
    "TRACES_DIR",
    "DamagedLine",
    "FileTraceStore",
    "JsonlTraceSink",
    "OpaqueMetricsEvent",
    "TraceRead",
    "TraceStoreEvent",
]

_LOG = logging.getLogger("awaken_eval.sinks")

TRACES_DIR = "traces"
"""Directory (under the root) holding one ``<run_id>.jsonl`` file per agent run."""

EVAL_EVENTS_FILE = "eval_events.jsonl"
"""File (under the root) holding the run lifecycle events."""

_SUFFIX = ".jsonl"

_OPAQUE_TYPES = frozenset(
    {"suspension", "handoff", "delegation", "evaluation_result", "background_task"}
)
"""MetricsEvent types of the reference that eval does not interpret (kept as JSON)."""


def _span_line(span: InferenceSpan | ToolSpan) -> bytes:
    tag = "inference" if isinstance(span, InferenceSpan) else "tool"
    document = {"type": tag, **to_builtins(span)}
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode()


def _decode_line(line: bytes) -> TraceStoreEvent:
    document: dict[str, Any] = from_json(dict[str, Any], line)
    tag = document.pop("type", None)
    if tag == "inference":
        return from_builtins(InferenceSpan, document)
    if tag == "tool":
        return from_builtins(ToolSpan, document)
    if isinstance(tag, str) and tag in _OPAQUE_TYPES:
        return OpaqueMetricsEvent(tag, document)
    what = "missing" if tag is None else f"unknown type {json.dumps(tag)}"
    expected = ", ".join(json.dumps(t) for t in ("inference", "tool", *sorted(_OPAQUE_TYPES)))
    raise InvalidInput.single("$.type", f"{what}; expected one of {expected}")


class FileTraceStore:
    """Reads the traces a :class:`JsonlTraceSink` wrote under ``root``.

    Args:
        root: The trace root directory (need not exist yet).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Read traces under ``root``."""
        self.root = Path(root)

    @property
    def traces_dir(self) -> Path:
        """The directory of the per-run trace files."""
        return self.root / TRACES_DIR

    @property
    def eval_events_path(self) -> Path:
        """The file of the run lifecycle events."""
        return self.root / EVAL_EVENTS_FILE

    def trace_path(self, run_id: str) -> Path:
        """The trace file of ``run_id``.

        Raises:
            InvalidRunId: for an id that cannot name a file.
        """
        return self.traces_dir / f"{validate_run_id(run_id)}{_SUFFIX}"

    async def read_events(self, run_id: str) -> list[TraceStoreEvent]:
        """The events of the trace ``run_id``, in record order, all or nothing.

        Blank lines are skipped. An existing but empty trace gives an empty list. To
        keep the intact part of a damaged trace, use :meth:`read_trace`.

        Raises:
            InvalidRunId: for an id that cannot name a trace.
            NotFound: when there is no trace ``run_id`` (message ``trace not found: ...``).
            InputUnreadable: when the file cannot be read (or is a symbolic link).
            InvalidInput: for a corrupt line, naming the file and its 1-based line.
        """
        path = self.trace_path(run_id)
        events, damaged = await anyio.to_thread.run_sync(self._scan, run_id, path)
        if damaged:
            number, exc = damaged[0]
            raise exc.located(source=str(path), line=number)
        return events

    async def read_trace(self, run_id: str) -> TraceRead:
        """The events of every intact line of the trace ``run_id``, and the damaged lines.

        A line that is not valid UTF-8, not JSON or not an event (e.g. torn by a failed
        append) is reported as a :class:`DamagedLine` and the reading goes on.

        Raises:
            InvalidRunId: for an id that cannot name a trace.
            NotFound: when there is no trace ``run_id``.
            InputUnreadable: when the file cannot be read (or is a symbolic link).
        """
        path = self.trace_path(run_id)
        return await anyio.to_thread.run_sync(self._read_trace, run_id, path)

    def _read_trace(self, run_id: str, path: Path) -> TraceRead:
        events, damaged = self._scan(run_id, path)
        lines = tuple(DamagedLine(number, str(exc)) for number, exc in damaged)
        return TraceRead(tuple(events), lines)

    def _scan(
        self, run_id: str, path: Path
    ) -> tuple[list[TraceStoreEvent], list[tuple[int, InvalidInput]]]:
        try:
            descriptor = open_below(self.root, path, os.O_RDONLY)
        except FileNotFoundError:
            msg = f"trace not found: {run_id}"
            raise NotFound(msg) from None
        except OSError as exc:
            raise InputUnreadable(str(path), exc.strerror or str(exc)) from None
        try:
            with os.fdopen(descriptor, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise InputUnreadable(str(path), exc.strerror or str(exc)) from None
        events: list[TraceStoreEvent] = []
        damaged: list[tuple[int, InvalidInput]] = []
        with gc_paused():
            for number, line in enumerate(data.split(b"\n"), start=1):
                if not line.strip():
                    continue
                try:
                    events.append(_decode_line(line))
                except InvalidInput as exc:
                    damaged.append((number, exc))
        return events, damaged

    async def list_runs(self) -> list[str]:
        """The run ids that have a trace, sorted (ULID run ids sort by creation).

        Files that do not end in ``.jsonl``, symbolic links, and names that are not a
        valid run id are ignored; a missing root gives an empty list.
        """
        return await anyio.to_thread.run_sync(self._list_runs)

    def _list_runs(self) -> list[str]:
        try:
            entries = list(self.traces_dir.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise InputUnreadable(str(self.traces_dir), str(exc)) from None
        runs: list[str] = []
        for entry in entries:
            if not entry.name.endswith(_SUFFIX) or entry.is_symlink() or not entry.is_file():
                continue
            run_id = entry.name[: -len(_SUFFIX)]
            try:
                runs.append(validate_run_id(run_id))
            except InvalidRunId:
                continue
        return sorted(runs)

    async def read_eval_events(self) -> list[TraceEvent]:
        """The run lifecycle events, in emit order (empty when none was written).

        Raises:
            InputUnreadable: when the file cannot be read.
            InvalidInput: for a corrupt line, naming the file and its 1-based line.
        """
        path = self.eval_events_path
        return await anyio.to_thread.run_sync(self._read_eval_events, path)

    @staticmethod
    def _read_eval_events(path: Path) -> list[TraceEvent]:
        if not path.exists():
            return []
        return read_ndjson(path, TraceEvent)


class JsonlTraceSink:
    """A :class:`~awaken_eval.TraceSink` appending to a :class:`FileTraceStore` layout.

    Each span is appended as one line to the trace file of its ``run_id`` (spans with
    an empty ``run_id``, or one that cannot name a file, are dropped); every other
    event is appended to the run events file. Files and directories are created as
    needed. A failure is logged on the ``awaken_eval.sinks`` logger and never raised,
    so a broken disk never fails a run. The blocking writes run in worker threads.

    Args:
        root: The trace root directory.

    Attributes:
        store: Reads back what this sink wrote.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Append under ``root``."""
        self.store = FileTraceStore(root)
        self._lock = threading.Lock()

    async def emit(self, event: TraceEvent) -> None:
        """Append ``event``; a failure is logged, never raised."""
        try:
            target = self._target(event)
            if target is None:
                return
            path, line = target
            await anyio.to_thread.run_sync(self._append, path, line)
        except Exception:  # noqa: BLE001 - a trace sink never fails a run
            _LOG.warning(
                "trace sink could not record %s under %s",
                type(event).__name__,
                self.store.root,
                exc_info=True,
            )

    def _target(self, event: TraceEvent) -> tuple[Path, bytes] | None:
        if not isinstance(event, SpanRecorded):
            return self.store.eval_events_path, (to_json(event) + "\n").encode()
        span = event.span
        if not span.run_id:
            return None
        try:
            path = self.store.trace_path(span.run_id)
        except InvalidRunId:
            _LOG.warning("trace sink dropped a span of run %r: invalid run id", span.run_id)
            return None
        return path, _span_line(span)

    def _append(self, path: Path, data: bytes) -> None:
        """Append ``data`` with one ``O_APPEND`` write (whole lines never interleave).

        When the file does not end with a newline (a torn last line), the append
        starts with one, so the torn line stays a line of its own.
        """
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        with self._lock:
            descriptor = open_below(self.store.root, path, flags, 0o644, make_parents=True)
            try:
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    data = b"\n" + data
                view = memoryview(data)
                while view:
                    written = os.write(descriptor, view)
                    view = view[written:]
            finally:
                os.close(descriptor)
