"""``SqliteRunStore``: the embedded default run store, one SQLite file.

Runs live in two tables of a SQLite database (stdlib :mod:`sqlite3`, no extra
dependency; see :mod:`.schema` for the tables and their migrations, :mod:`.rows` for
how records become rows). The store honours the whole run-store contract of
:class:`~awaken_eval.stores.InMemoryRunStore` with the same errors, and persists the
streaming state as well (:mod:`.operations`), so a run interrupted by a crash resumes
from another process.

Durability and concurrency:

* The database is in WAL mode with ``synchronous=NORMAL`` by default: a committed
  transaction is in the operating system's hands when the call returns, so it survives
  the process being killed (``SIGKILL``) at any point; it can be lost only if the
  machine itself loses power or crashes before the next checkpoint, and the file is
  never corrupted either way. Pass ``synchronous="full"`` to fsync every commit and
  survive power loss too, at the price of one fsync per write or append.
* Every write is one transaction started with ``BEGIN IMMEDIATE`` (the write lock is
  taken up front, so two writers never deadlock on a lock upgrade): a killed writer
  leaves nothing of its transaction behind, and of two processes writing one run id
  exactly one wins, the other gets :class:`~awaken_eval.AlreadyExists`. Other
  processes wait for the lock up to ``busy_timeout_secs``.
* Each store object owns one connection, used by one worker thread at a time under a
  lock (``check_same_thread=False``). A SQLite database has a single writer anyway, and
  one connection can be closed deterministically by :meth:`SqliteRunStore.close`,
  which connections held by pooled worker threads could not. Blocking calls run in
  worker threads (:func:`anyio.to_thread.run_sync`), never on the event loop.

Read-only use: ``SqliteRunStore(path, read_only=True)`` opens the file with SQLite's
``mode=ro`` and never creates, migrates or writes it (every write fails with
:class:`~awaken_eval.StoreFailure` before touching the database), so a database that
is not writable (a file without write permission, a read-only mount) can still be
listed and read. When the directory is not writable either, SQLite cannot create the
shared-memory file write-ahead logging needs; the store then opens the file as
immutable (``immutable=1``), which reads it correctly as long as nobody writes it
meanwhile.
"""

from __future__ import annotations

import builtins
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio.to_thread
import attrs

from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.store import OpenRunSummary, RunHeader
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import (
    AlreadyExists,
    DuplicateItemKeys,
    InvalidInput,
    NotFound,
    StoreFailure,
)
from awaken_eval.stores._rows_common import (
    CorruptError,
    as_open,
    decode_items,
    first_clash,
    item_rows,
    run_values,
    valid_rows,
    with_items,
)
from awaken_eval.stores._sqlite.operations import (
    append_items,
    begin_run,
    finish_run,
    open_run_keys,
    open_run_row,
    open_run_rows,
    prune_runs,
    run_state,
)
from awaken_eval.stores._sqlite.rows import bound_text, run_header, run_summary, u64_text
from awaken_eval.stores._sqlite.schema import (
    INSERT_ITEM,
    INSERT_RUN,
    SCHEMA_VERSION,
    SELECT_RUN,
    migrate,
    transaction,
)

__all__ = ["SqliteRunStore"]

_LOG = logging.getLogger("awaken_eval.stores")

T = TypeVar("T")

_FETCH_ROWS = 512
"""Item rows fetched and decoded together when a run is loaded."""


class SqliteRunStore:
    """Keeps runs in one SQLite file: the write/read/list, prune, streaming and open-run protocols.

    Several store objects, in one process or many, may share a file. Use the store as
    an async context manager, or call :meth:`close` (or :meth:`aclose`) when done::

        async with SqliteRunStore("runs.sqlite3") as store:
            await store.write(run)

    The file is opened (and its parent directories created, its schema migrated) on
    first use, in a worker thread; ``async with`` opens it on entry so a bad file is
    reported there.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["normal", "full"] = "normal",
        busy_timeout_secs: float = 30.0,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
    ) -> None:
        """Create a store over the database file at ``path`` (created when missing).

        Args:
            path: The database file.
            synchronous: ``"normal"``: commits survive the process being killed but
                not a power loss (no fsync per commit); ``"full"``: every commit is
                fsynced and survives a power loss too.
            busy_timeout_secs: How long an operation waits for another connection's
                write lock before failing with :class:`~awaken_eval.StoreFailure`.
            clock: Epoch seconds, used for a run written with ``started_at_secs=0``.
            read_only: Open the database read-only: it must exist and have the
                current schema, and every write raises
                :class:`~awaken_eval.StoreFailure` (see the module documentation).
        """
        if synchronous not in {"normal", "full"}:
            msg = f"synchronous must be 'normal' or 'full', got {synchronous!r}"
            raise ValueError(msg)
        self._path = Path(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_secs = busy_timeout_secs
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._closed = False
        self._read_only = read_only

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only."""
        return self._read_only

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Open the database (creating and migrating it as needed) and return the store."""
        await self._call("open the database", _no_op)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        await self.aclose()

    def close(self) -> None:
        """Close the database connection; later calls raise ``StoreFailure``. Idempotent."""
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            if connection is not None and self._pid == os.getpid():
                connection.close()

    async def aclose(self) -> None:
        """Close the database connection from async code (see :meth:`close`)."""
        await anyio.to_thread.run_sync(self.close)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            msg = f"{self._path}: the run store is closed"
            raise StoreFailure(msg)
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        # No connection yet, or one inherited through fork(), which the child must
        # neither use nor close: open one of our own.
        if self._read_only:
            connection = connect_read_only(self._path, self._busy_timeout_secs)
            self._connection, self._pid = connection, os.getpid()
            return connection
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_secs,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # one thread at a time, under self._lock
        )
        try:
            self._configure(connection)
            migrate(connection, self._path)
        except BaseException:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _configure(self, connection: sqlite3.Connection) -> None:
        deadline = time.monotonic() + self._busy_timeout_secs
        while True:
            try:
                mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
                if mode != "wal":
                    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                # Switching to WAL needs the file to itself; another connection
                # opening the same new file at the same time makes it wait.
                busy = exc.sqlite_errorcode & 0xFF in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        if mode != "wal":
            msg = f"{self._path}: cannot use write-ahead logging (journal mode is {mode})"
            raise StoreFailure(msg)
        connection.execute(f"PRAGMA synchronous = {self._synchronous}")

    async def _call(self, what: str, operation: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._locked, what, operation)

    def _writable(self, what: str) -> None:
        if self._read_only:
            msg = f"{self._path}: cannot {what}: the run store is open read-only"
            raise StoreFailure(msg)

    def _locked(self, what: str, operation: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return operation(self._connect())
            except sqlite3.Error as exc:
                msg = f"{self._path}: cannot {what}: {exc}"
                raise StoreFailure(msg) from exc
            except OSError as exc:
                msg = f"{self._path}: cannot {what}: {exc}"
                raise StoreFailure(msg) from exc
            except UnicodeEncodeError as exc:
                msg = f"cannot {what}: text with unpaired surrogates cannot be stored ({exc})"
                raise InvalidInput.single("$", msg) from None

    # -- write / read / list / prune -------------------------------------------------

    async def write(self, run: EvalRun) -> None:
        """Persist ``run`` (write-once) in one transaction.

        A run with ``started_at_secs=0`` is stored with the current time instead.

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when the id is taken by a finished or open run (checked
                before the payload).
            InvalidExecutionShape: when the items disagree with the execution mode.
            DuplicateItemKeys: when two items share a key (nothing is written).
            InvalidInput: when a value cannot be stored (a number out of range, a
                non-finite float).
            StoreFailure: when the database fails.
        """
        validate_run_id(run.id)
        self._writable(f"write eval run {run.id}")
        await self._call(f"write eval run {run.id}", lambda c: self._write(c, run))

    def _write(self, connection: sqlite3.Connection, run: EvalRun) -> None:
        with transaction(connection, write=True):
            if run_state(connection, run.id) is not None:
                raise AlreadyExists(run.id)
            attrs.validate(run)  # the execution shape, for a run built around its checks
            row = run_values(
                run,
                started_at_secs=run.started_at_secs or int(self._clock()),
                text=str,
                u64=u64_text,
            )
            connection.execute(INSERT_RUN, row)
            try:
                with gc_paused():
                    connection.executemany(INSERT_ITEM, item_rows(run.id, run.items, 0))
            except sqlite3.IntegrityError:
                message = first_clash(run.items, lambda _: False)
                if not message:
                    raise
                raise DuplicateItemKeys(message) from None

    async def read(self, run_id: str) -> EvalRun:
        """Load the finished run ``run_id``, its items in stored order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no finished run has this id (an open run is not readable).
            StoreFailure: when the stored run is corrupt (the message names the run and
                what is wrong) or the database fails.
        """
        validate_run_id(run_id)
        return await self._call(f"read eval run {run_id}", lambda c: self._read(c, run_id))

    def _read(self, connection: sqlite3.Connection, run_id: str) -> EvalRun:
        with transaction(connection, write=False):
            row = connection.execute(
                SELECT_RUN + " WHERE id = ? AND state = 'finished'", (run_id,)
            ).fetchone()
            if row is None:
                msg = f"eval run not found: {run_id}"
                raise NotFound(msg)
            try:
                return self._load(connection, row)
            except CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

    def _load(self, connection: sqlite3.Connection, row: Any) -> EvalRun:
        run_summary(row)  # the listing columns are checked as for a listing
        header = run_header(row)
        cursor = connection.execute(
            "SELECT seq, fixture_id, model_id, sample_index, document FROM items "
            "WHERE run_id = ? ORDER BY seq",
            (header.id,),
        )
        items: list[EvalRunItem] = []
        with gc_paused():
            while rows := cursor.fetchmany(_FETCH_ROWS):
                items.extend(decode_items(rows, len(items)))
            return with_items(header, items, row)

    def _corrupt(self, run_id: str, error: CorruptError) -> StoreFailure:
        return StoreFailure(f"eval run {run_id} is corrupt in {self._path}: {error}")

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected finished runs, newest first, ties by id descending.

        Summaries are built from the run rows alone (no item is loaded). A run whose
        row is corrupt is skipped with a warning on the ``awaken_eval.stores`` logger.
        """
        return await self._call("list eval runs", lambda c: self._list(c, run_filter))

    def _list(
        self, connection: sqlite3.Connection, run_filter: EvalRunFilter
    ) -> builtins.list[EvalRunSummary]:
        cursor = self._select(connection, run_filter)
        try:
            return valid_rows(cursor, run_summary, self._skip, limit=run_filter.limit)
        finally:
            cursor.close()  # ends the statement's read snapshot now

    async def list_full(self, run_filter: EvalRunFilter) -> builtins.list[EvalRun]:
        """The selected finished runs in full, in the order of :meth:`list`.

        A corrupt run (row or items) is skipped with a warning on the
        ``awaken_eval.stores`` logger.
        """
        return await self._call("list eval runs", lambda c: self._list_full(c, run_filter))

    def _list_full(
        self, connection: sqlite3.Connection, run_filter: EvalRunFilter
    ) -> builtins.list[EvalRun]:
        with transaction(connection, write=False):
            rows = self._select(connection, run_filter).fetchall()
            return valid_rows(
                rows, lambda row: self._load(connection, row), self._skip, limit=run_filter.limit
            )

    def _select(self, connection: sqlite3.Connection, run_filter: EvalRunFilter) -> sqlite3.Cursor:
        if run_filter.limit is not None and run_filter.limit <= 0:
            return connection.execute(SELECT_RUN + " WHERE 0")
        conditions = ["state = 'finished'"]
        parameters: builtins.list[str] = []
        if run_filter.dataset_id is not None:
            conditions.append("dataset_id = ?")
            parameters.append(run_filter.dataset_id)
        if run_filter.since_secs is not None:
            conditions.append("started_at_secs >= ?")
            parameters.append(bound_text(run_filter.since_secs))
        if run_filter.until_secs is not None:
            conditions.append("started_at_secs < ?")
            parameters.append(bound_text(run_filter.until_secs))
        where = " AND ".join(conditions)
        return connection.execute(
            f"{SELECT_RUN} WHERE {where} ORDER BY started_at_secs DESC, id DESC",
            parameters,
        )

    def _skip(self, run_id: str, error: CorruptError) -> None:
        _LOG.warning("skipping corrupt eval run %s in %s: %s", run_id, self._path, error)

    async def prune(self, older_than_secs: int) -> int:
        """Delete finished runs started before ``older_than_secs``; return how many.

        Open (streaming) runs are never pruned, nor rows whose start time is corrupt.
        """
        self._writable("prune eval runs")
        return await self._call("prune eval runs", lambda c: prune_runs(c, older_than_secs))

    # -- streaming ---------------------------------------------------------------------

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open ``header.id`` for appending; return the keys it already holds.

        The open run is stored, so it can be resumed by another store object or
        process after a crash.

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when a finished run has this id.
            Conflict: when the run is open and ``resume`` is false, or the header of
                the open run differs (dataset, revision or execution mode).
        """
        validate_run_id(header.id)
        self._writable(f"begin eval run {header.id}")
        return await self._call(
            f"begin eval run {header.id}", lambda c: begin_run(c, header, resume=resume)
        )

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run, in one transaction.

        Raises:
            NotFound: when ``run_id`` is not open.
            DuplicateItemKeys: when an item's key is already present or repeated
                (nothing of the batch is written).
            StoreFailure: when the database fails.
        """
        self._writable(f"append to eval run {run_id}")
        await self._call(f"append to eval run {run_id}", lambda c: append_items(c, run_id, items))

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run (see :meth:`~awaken_eval.protocols.StreamingRunStore.finish`).

        No item is loaded into memory: the order is applied by the database, so even a
        run of millions of items finishes in constant memory.

        Raises:
            StoreFailure: when the database fails or the run row is corrupt.
        """

        def finish(connection: sqlite3.Connection) -> EvalRunSummary:
            row = finish_run(connection, run_id, ended_at_secs, item_order)
            try:
                return run_summary(row)
            except CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

        self._writable(f"finish eval run {run_id}")
        return await self._call(f"finish eval run {run_id}", finish)

    async def list_open(self) -> builtins.list[OpenRunSummary]:
        """Summaries of the open runs, newest first (ties by id, descending).

        Built from the run rows alone; a corrupt row is skipped with a warning.
        """

        def list_open(connection: sqlite3.Connection) -> builtins.list[OpenRunSummary]:
            return valid_rows(
                open_run_rows(connection), lambda row: as_open(run_summary(row)), self._skip
            )

        return await self._call("list open eval runs", list_open)

    async def read_open(self, run_id: str) -> EvalRun:
        """The items the open run ``run_id`` holds so far, in append order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no run with this id is open.
            StoreFailure: when the stored run is corrupt or the database fails.
        """
        validate_run_id(run_id)

        def read_open(connection: sqlite3.Connection) -> EvalRun:
            with transaction(connection, write=False):
                row = open_run_row(connection, run_id)
                if row is None:
                    msg = f"no open eval run: {run_id}"
                    raise NotFound(msg)
                try:
                    return self._load(connection, row)
                except CorruptError as exc:
                    raise self._corrupt(run_id, exc) from None

        return await self._call(f"read open eval run {run_id}", read_open)

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open)."""
        return await self._call(f"read open eval run {run_id}", lambda c: open_run_keys(c, run_id))


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """Open ``path`` read-only (``mode=ro``), as immutable when SQLite cannot read it so.

    Raises:
        StoreFailure: when the file has another schema version than this release's.
    """
    uri = path.absolute().as_uri()
    connection = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.OperationalError as exc:
        # A database in write-ahead-log mode in a directory we cannot write: SQLite
        # cannot create its shared-memory file, so it cannot coordinate with writers.
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_READONLY:
            connection.close()
            raise
        connection.close()
        connection = sqlite3.connect(
            f"{uri}?mode=ro&immutable=1",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        connection.close()
        msg = (
            f"{path}: the run store has schema version {version}, this awaken-eval reads "
            f"version {SCHEMA_VERSION}; it cannot be migrated when opened read-only"
        )
        raise StoreFailure(msg)
    return connection


def _no_op(_: sqlite3.Connection) -> None:
    return None
