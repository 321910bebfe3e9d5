"""The reference's file trace store: month folders of per-run event files.

Layout under the root (trace-store spec §1)::

    <root>/YYYY-MM/<run_id>.ndjson     the events of one agent run, one compact JSON
                                       object per line (spec §5)
    <root>/YYYY-MM/<run_id>.idx.json   the run's index (pretty JSON, no final newline)
    <root>/YYYY-MM/<run_id>.ref        the pin marker: one kind letter and a newline
                                       per pin (``D``, ``E`` or ``P``)
    <root>/eval_events.jsonl           run lifecycle events of this project (root files
                                       are ignored by every scan of the store)

The month folder (UTC) of a run is chosen once, at its first touch: the folder that
already holds its ``.ndjson``, else the month of the clock (an append) or of the run's
start (an index); the choice is cached. Readers accept any sub-directory as a folder.

Differences from the reference, on purpose: a damaged line is reported and the intact
lines are kept (:meth:`FileTraceStore.read_trace`); an append after a torn last line
starts on a fresh line; the index is written atomically; :meth:`FileTraceStore.unpin`
exists; :meth:`FileTraceStore.prune` counts only the runs it really removed. Nothing
below the root is followed through a symbolic link (the root itself may be one).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio.to_thread

from awaken_eval._io.atomic import write_bytes_atomic
from awaken_eval._io.below import check_below, open_below
from awaken_eval._io.files import read_ndjson
from awaken_eval._records.events import TraceEvent
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.traces import (
    DamagedLine,
    PinKind,
    TraceFilter,
    TraceRead,
    TraceStoreEvent,
    TraceSummary,
)
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.trace_lines import (
    decode_index,
    decode_trace_line,
    encode_index,
    encode_trace_line,
)
from awaken_eval.errors import InputUnreadable, InvalidInput, InvalidRequest, NotFound

__all__ = [
    "EVAL_EVENTS_FILE",
    "INDEX_SUFFIX",
    "PIN_SUFFIX",
    "TRACE_SUFFIX",
    "FileTraceStore",
    "month_folder",
]

EVAL_EVENTS_FILE = "eval_events.jsonl"
"""File (directly under the root) holding the run lifecycle events."""

TRACE_SUFFIX = ".ndjson"
"""Suffix of a run's event file."""

INDEX_SUFFIX = ".idx.json"
"""Suffix of a run's index file."""

PIN_SUFFIX = ".ref"
"""Suffix of a run's pin marker."""

_APPEND_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)


def month_folder(epoch_secs: float) -> str:
    """The month folder name (``YYYY-MM``, UTC) of a time; before 1970 counts as 1970-01."""
    moment = time.gmtime(max(0, int(epoch_secs)))
    return f"{moment.tm_year:04d}-{moment.tm_mon:02d}"


def _unreadable(path: Path, exc: OSError) -> InputUnreadable:
    return InputUnreadable(str(path), exc.strerror or str(exc))


class FileTraceStore:
    """The reference's file trace store under ``root`` (a ``TraceStore``).

    Reads what the reference or a :class:`JsonlTraceSink` wrote, lists the indexed
    runs, pins and unpins runs, and prunes old unpinned runs. The blocking file work
    runs in worker threads; writes of one store object are serialised by a lock (no
    cross-process lock: appends rely on ``O_APPEND``, like the reference).

    Args:
        root: The trace root directory (need not exist yet; created by the first write).
        clock: Epoch seconds now; picks the month folder of a run's first append.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        """Use the trace store under ``root``."""
        self.root = Path(root)
        self._clock = clock
        self._lock = threading.Lock()
        self._folders: dict[str, str] = {}
        self._folders_lock = threading.Lock()

    @property
    def eval_events_path(self) -> Path:
        """The file of the run lifecycle events (directly under the root)."""
        return self.root / EVAL_EVENTS_FILE

    # -- locating runs ------------------------------------------------------------------

    def _folders_below(self) -> list[str]:
        """The sub-directories of the root (not links), sorted; none when it is missing."""
        try:
            with os.scandir(self.root) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise _unreadable(self.root, exc) from None

    def _files_in(self, folder: str) -> Iterator[str]:
        """The regular files (not links) of one folder; none when it vanished."""
        path = self.root / folder
        try:
            with os.scandir(path) as entries:
                names = [e.name for e in entries if e.is_file(follow_symlinks=False)]
        except (FileNotFoundError, NotADirectoryError):
            return iter(())
        except OSError as exc:
            raise _unreadable(path, exc) from None
        return iter(sorted(names))

    def _exists(self, path: Path) -> bool:
        """Whether ``path`` is a file, or a link (refused when it is opened)."""
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        return stat.S_ISREG(mode) or stat.S_ISLNK(mode)

    def _find(self, run_id: str) -> str | None:
        """The folder holding ``<run_id>.ndjson`` (cache first, then a scan), if any."""
        name = run_id + TRACE_SUFFIX
        with self._folders_lock:
            cached = self._folders.get(run_id)
        if cached is not None and self._exists(self.root / cached / name):
            return cached
        for folder in self._folders_below():
            if self._exists(self.root / folder / name):
                with self._folders_lock:
                    self._folders[run_id] = folder
                return folder
        return None

    def _folder_for(self, run_id: str, hint_secs: float) -> str:
        """The run's folder, chosen at its first touch and cached (spec §1.2)."""
        with self._folders_lock:
            cached = self._folders.get(run_id)
        if cached is not None:
            return cached
        folder = self._find(run_id) or month_folder(hint_secs)
        with self._folders_lock:
            return self._folders.setdefault(run_id, folder)

    def _locate(self, run_id: str) -> Path:
        """The folder of the run's events file.

        Raises:
            InvalidRunId: for an id that cannot name a file.
            NotFound: when no folder holds ``<run_id>.ndjson``.
        """
        validate_run_id(run_id)
        folder = self._find(run_id)
        if folder is None:
            msg = f"trace not found: {run_id}"
            raise NotFound(msg)
        return self.root / folder

    # -- writing ------------------------------------------------------------------------

    async def append(self, run_id: str, event: TraceStoreEvent) -> None:
        """Append ``event`` as one line of the trace ``run_id`` (spec §2.2).

        The run's month folder and file are created as needed. When the file ends with
        a torn line (a failed earlier append), the new line starts on a fresh line.

        Raises:
            InvalidRunId: for an id that cannot name a file.
            InvalidInput: when the event cannot be written as JSON.
            OSError: when the file system fails (or a link is found below the root).
        """
        validate_run_id(run_id)
        await anyio.to_thread.run_sync(self.append_line, run_id, encode_trace_line(event))

    def append_line(self, run_id: str, line: bytes) -> None:
        """Append one encoded line to the trace ``run_id`` (blocking; ``run_id`` valid)."""
        with self._lock:
            folder = self._folder_for(run_id, self._clock())
            path = self.root / folder / (run_id + TRACE_SUFFIX)
            descriptor = open_below(self.root, path, _APPEND_FLAGS, 0o644, make_parents=True)
            try:
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    line = b"\n" + line
                view = memoryview(line)
                while view:
                    written = os.write(descriptor, view)
                    view = view[written:]
            finally:
                os.close(descriptor)

    async def write_index(self, summary: TraceSummary) -> None:
        """Write (or replace) the index of ``summary.run_id`` atomically (spec §2.3).

        It lands beside the run's events file, else in the month of its start.

        Raises:
            InvalidRunId: for an id that cannot name a file.
            OSError: when the file system fails (or a link is found below the root).
        """
        validate_run_id(summary.run_id)
        await anyio.to_thread.run_sync(self._write_index, summary)

    def _write_index(self, summary: TraceSummary) -> None:
        with self._lock:
            folder = self._folder_for(summary.run_id, summary.started_at_secs)
            path = self.root / folder / (summary.run_id + INDEX_SUFFIX)
            check_below(self.root, path)
            write_bytes_atomic(path, encode_index(summary))

    async def pin(self, run_id: str, kind: PinKind) -> None:
        """Keep ``run_id`` through :meth:`prune`: append ``kind``'s letter to its pin file.

        Pinning again appends again (``D\\nP\\n``); only the file's existence matters.

        Raises:
            InvalidRunId: for an id that cannot name a file.
            NotFound: when there is no trace ``run_id``.
            OSError: when the file system fails.
        """
        await anyio.to_thread.run_sync(self._pin, run_id, kind)

    def _pin(self, run_id: str, kind: PinKind) -> None:
        with self._lock:
            path = self._locate(run_id) / (run_id + PIN_SUFFIX)
            descriptor = open_below(self.root, path, _APPEND_FLAGS, 0o644)
            try:
                os.write(descriptor, (kind.value + "\n").encode())
            finally:
                os.close(descriptor)

    async def unpin(self, run_id: str) -> bool:
        """Remove the pin file of ``run_id`` (not in the reference); say whether one existed.

        Raises:
            InvalidRunId: for an id that cannot name a file.
            NotFound: when there is no trace ``run_id``.
            OSError: when the file system fails.
        """
        return await anyio.to_thread.run_sync(self._unpin, run_id)

    def _unpin(self, run_id: str) -> bool:
        with self._lock:
            folder = self._locate(run_id)
            descriptor = open_below(self.root, folder, _DIRECTORY_FLAGS)
            try:
                os.unlink(run_id + PIN_SUFFIX, dir_fd=descriptor)
            except FileNotFoundError:
                return False
            finally:
                os.close(descriptor)
            return True

    async def prune(
        self, older_than_secs: float, *, except_run_ids: frozenset[str] = frozenset()
    ) -> int:
        """Remove the unpinned runs that started before ``older_than_secs`` (spec §2.7).

        A run's age is its index's ``started_at_secs``, else (no readable index) its
        events file's modification time. Runs with a pin file or named in
        ``except_run_ids`` are kept. A removed run loses its events, index and pin
        files; folders, root files and indexes without events are never removed.

        Returns:
            The number of runs whose events file was really removed.

        Raises:
            InputUnreadable: when the root or a folder cannot be listed.
        """
        return await anyio.to_thread.run_sync(self._prune, older_than_secs, except_run_ids)

    def _prune(self, older_than_secs: float, keep: frozenset[str]) -> int:
        removed = 0
        with self._lock:
            for folder in self._folders_below():
                for name in self._files_in(folder):
                    if not name.endswith(TRACE_SUFFIX):
                        continue
                    run_id = name[: -len(TRACE_SUFFIX)]
                    if run_id in keep or self._exists(self.root / folder / (run_id + PIN_SUFFIX)):
                        continue
                    if self._age(folder, run_id) >= older_than_secs:
                        continue
                    removed += self._remove(folder, run_id)
        return removed

    def _age(self, folder: str, run_id: str) -> float:
        directory = self.root / folder
        with contextlib.suppress(OSError, InvalidInput):
            index = self._read_below(directory / (run_id + INDEX_SUFFIX))
            return decode_index(index).started_at_secs
        try:
            return os.lstat(directory / (run_id + TRACE_SUFFIX)).st_mtime
        except OSError:
            return 0.0

    def _remove(self, folder: str, run_id: str) -> int:
        try:
            descriptor = open_below(self.root, self.root / folder, _DIRECTORY_FLAGS)
        except OSError:
            return 0
        try:
            try:
                os.unlink(run_id + TRACE_SUFFIX, dir_fd=descriptor)
            except OSError:
                return 0
            for suffix in (INDEX_SUFFIX, PIN_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(run_id + suffix, dir_fd=descriptor)
        finally:
            os.close(descriptor)
        with self._folders_lock:
            self._folders.pop(run_id, None)
        return 1

    # -- reading ------------------------------------------------------------------------

    def _read_below(self, path: Path) -> bytes:
        descriptor = open_below(self.root, path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read()

    async def read_trace(self, run_id: str) -> TraceRead:
        """The events of every intact line of the trace ``run_id``, and the damaged lines.

        A line that is not valid UTF-8, not JSON or not an event (torn by a failed
        append, or a reference delegation line repeating ``parent_run_id``) is reported
        as a :class:`DamagedLine` and the reading goes on. Blank lines are skipped.

        Raises:
            InvalidRunId: for an id that cannot name a trace.
            NotFound: when there is no trace ``run_id``.
            InputUnreadable: when the file cannot be read (or is a symbolic link).
        """
        return await anyio.to_thread.run_sync(self._read_trace, run_id)

    def _read_trace(self, run_id: str) -> TraceRead:
        events, damaged = self._scan(run_id)
        lines = tuple(DamagedLine(number, str(exc)) for number, exc, _ in damaged)
        return TraceRead(tuple(events), lines)

    async def read_events(self, run_id: str) -> builtins.list[TraceStoreEvent]:
        """The events of the trace ``run_id``, in record order, all or nothing.

        Raises:
            InvalidRunId: for an id that cannot name a trace.
            NotFound: when there is no trace ``run_id`` (message ``trace not found: ...``).
            InputUnreadable: when the file cannot be read (or is a symbolic link).
            InvalidInput: for a damaged line, naming the file and its 1-based line.
        """
        events, damaged = await anyio.to_thread.run_sync(self._scan, run_id)
        if damaged:
            number, exc, path = damaged[0]
            raise exc.located(source=str(path), line=number)
        return events

    def _scan(
        self, run_id: str
    ) -> tuple[builtins.list[TraceStoreEvent], builtins.list[tuple[int, InvalidInput, Path]]]:
        path = self._locate(run_id) / (run_id + TRACE_SUFFIX)
        try:
            data = self._read_below(path)
        except FileNotFoundError:  # pruned between locating and reading
            msg = f"trace not found: {run_id}"
            raise NotFound(msg) from None
        except OSError as exc:
            raise _unreadable(path, exc) from None
        events: builtins.list[TraceStoreEvent] = []
        damaged: builtins.list[tuple[int, InvalidInput, Path]] = []
        with gc_paused():
            for number, line in enumerate(data.split(b"\n"), start=1):
                if not line.strip():
                    continue
                try:
                    events.append(decode_trace_line(line))
                except InvalidInput as exc:
                    damaged.append((number, exc, path))
        return events, damaged

    async def list_runs(self) -> builtins.list[str]:
        """The ids of every run with an events file (indexed or not), sorted.

        Root files, links and names that are not a valid run id are ignored; a missing
        root gives an empty list.
        """
        return await anyio.to_thread.run_sync(self._list_runs)

    def _list_runs(self) -> builtins.list[str]:
        runs: set[str] = set()
        for folder in self._folders_below():
            for name in self._files_in(folder):
                if name.endswith(TRACE_SUFFIX) and len(name) > len(TRACE_SUFFIX):
                    runs.add(name[: -len(TRACE_SUFFIX)])
        return sorted(run for run in runs if run not in {".", ".."} and "\\" not in run)

    async def list_traces(
        self, trace_filter: TraceFilter | None = None
    ) -> builtins.list[TraceSummary]:
        """The indexed runs matching ``trace_filter``, by start time (spec §2.5).

        Only runs with a readable index are listed (a run in progress has none yet);
        a corrupt index hides its run, as in the reference. Runs that started in the
        same second are ordered by run id, in the same direction.

        Raises:
            InvalidRequest: for a negative ``limit``.
            InputUnreadable: when the root or a folder cannot be listed.
        """
        trace_filter = trace_filter if trace_filter is not None else TraceFilter()
        if trace_filter.limit is not None and trace_filter.limit < 0:
            msg = f"limit must be >= 0, got {trace_filter.limit}"
            raise InvalidRequest(msg)
        return await anyio.to_thread.run_sync(self._list_traces, trace_filter)

    def _list_traces(self, wanted: TraceFilter) -> builtins.list[TraceSummary]:
        rows: builtins.list[TraceSummary] = []
        for folder in self._folders_below():
            for name in self._files_in(folder):
                if not name.endswith(INDEX_SUFFIX):
                    continue
                try:
                    summary = decode_index(self._read_below(self.root / folder / name))
                except (OSError, InvalidInput):
                    continue
                if _matches(summary, wanted):
                    rows.append(summary)
        rows.sort(key=lambda row: (row.started_at_secs, row.run_id), reverse=wanted.newest_first)
        return rows if wanted.limit is None else rows[: wanted.limit]

    async def read_eval_events(self) -> builtins.list[TraceEvent]:
        """The run lifecycle events, in emit order (empty when none was written).

        Raises:
            InputUnreadable: when the file cannot be read.
            InvalidInput: for a corrupt line, naming the file and its 1-based line.
        """
        return await anyio.to_thread.run_sync(self._read_eval_events)

    def _read_eval_events(self) -> builtins.list[TraceEvent]:
        path = self.eval_events_path
        if not path.exists():
            return []
        return read_ndjson(path, TraceEvent)


def _matches(summary: TraceSummary, wanted: TraceFilter) -> bool:
    return (
        (wanted.agent_id is None or summary.agent_id == wanted.agent_id)
        and (wanted.prompt_id is None or wanted.prompt_id in summary.prompt_ids)
        and (wanted.experiment_id is None or summary.experiment_id == wanted.experiment_id)
        and (wanted.variant_name is None or summary.variant_name == wanted.variant_name)
        and (wanted.since_secs is None or summary.started_at_secs >= wanted.since_secs)
    )
