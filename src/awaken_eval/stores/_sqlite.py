"""``SqliteRunStore``: the embedded default run store, one SQLite file.

Runs live in two tables of a SQLite database (stdlib :mod:`sqlite3`, no extra
dependency): ``runs`` holds one row per run (identity, timing, state and the counts a
listing needs) and ``items`` one row per item (its key columns and its JSON document in
the wire format). The store honours the whole run-store contract of
:class:`~awaken_eval.stores.InMemoryRunStore` with the same errors, and persists the
streaming state as well, so a run interrupted by a crash resumes from another process.

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

The schema is versioned with ``PRAGMA user_version``: the migrations below are applied
in order, in one transaction, when the file is opened; a file written by a newer
awaken-eval is refused with :class:`~awaken_eval.StoreFailure`.

Unsigned 64-bit values (``started_at_secs``, ``ended_at_secs``, ``dataset_revision``)
are stored as 20-digit zero-padded text: SQLite integers are signed, and zero-padded
digits compare and sort like the numbers they spell.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import anyio.to_thread
import attrs

from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.store import RunHeader
from awaken_eval._records.types import U32_MAX, U64_MAX
from awaken_eval._wire.converter import from_builtins, from_json, to_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.json import decode_strict, encode_compact
from awaken_eval.errors import (
    AlreadyExists,
    Conflict,
    DuplicateItemKeys,
    InvalidExecutionShape,
    InvalidInput,
    NotFound,
    Problem,
    StoreFailure,
)

__all__ = [
    "SCHEMA_VERSION",
    "SqliteRunStore",
]

_LOG = logging.getLogger("awaken_eval.stores")

T = TypeVar("T")

# -- schema ----------------------------------------------------------------------------

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: runs and items.
    (
        """
        CREATE TABLE runs (
            id TEXT NOT NULL PRIMARY KEY,
            dataset_id TEXT NOT NULL,
            dataset_revision TEXT NOT NULL,
            execution_mode TEXT NOT NULL,
            started_at_secs TEXT NOT NULL,
            ended_at_secs TEXT,
            state TEXT NOT NULL CHECK (state IN ('open', 'finished')),
            fixture_digests TEXT NOT NULL,
            item_count INTEGER NOT NULL,
            passed_count INTEGER NOT NULL
        )
        """,
        # Listings read finished runs newest first, optionally of one dataset.
        """
        CREATE INDEX runs_by_start ON runs (started_at_secs, id)
        WHERE state = 'finished'
        """,
        """
        CREATE INDEX runs_by_dataset ON runs (dataset_id, started_at_secs, id)
        WHERE state = 'finished'
        """,
        # `seq` is the item's position: append order while the run is open, the
        # requested order once it is finished.
        """
        CREATE TABLE items (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            fixture_id TEXT NOT NULL,
            model_id TEXT,
            sample_index INTEGER,
            document TEXT NOT NULL
        )
        """,
        "CREATE INDEX items_by_seq ON items (run_id, seq)",
        # The item key, unique per run. NULL is distinct from everything in a unique
        # index, so absent parts are mapped to values no present part can take: an
        # empty blob (never equal to any text) for the default cell, -1 for an absent
        # sample index (indexes are unsigned).
        """
        CREATE UNIQUE INDEX items_by_key ON items (
            run_id, fixture_id, ifnull(model_id, x''), ifnull(sample_index, -1)
        )
        """,
    ),
)
"""Migration ``n`` (0-based) takes a file from schema version ``n`` to ``n + 1``."""

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this release writes (``PRAGMA user_version`` of its files)."""

_SELECT_RUN = (
    "SELECT id, dataset_id, dataset_revision, execution_mode, started_at_secs, ended_at_secs, "
    "fixture_digests, item_count, passed_count FROM runs"
)
"""The run row, read by every operation (the row helpers index its columns)."""
_INSERT_RUN = (
    "INSERT INTO runs (id, dataset_id, dataset_revision, execution_mode, started_at_secs, "
    "ended_at_secs, fixture_digests, item_count, passed_count, state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ITEM = (
    "INSERT INTO items (run_id, seq, fixture_id, model_id, sample_index, document) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_ITEM_EXISTS = (
    "SELECT 1 FROM items WHERE run_id = ? AND fixture_id = ? "
    "AND ifnull(model_id, x'') = ? AND ifnull(sample_index, -1) = ?"
)
_ORDER_TABLE = (
    # No declared type on model_key: no affinity, so a model id stays text ("0123"
    # never becomes 123) and the default cell's empty blob stays a blob.
    "CREATE TEMP TABLE IF NOT EXISTS awaken_item_order ("
    "fixture_id TEXT NOT NULL, model_key NOT NULL, sample_key INTEGER NOT NULL, "
    "position INTEGER NOT NULL, PRIMARY KEY (fixture_id, model_key, sample_key))"
)
_REORDER = (
    "UPDATE items SET seq = coalesce(("
    "SELECT o.position FROM temp.awaken_item_order AS o "
    "WHERE o.fixture_id = items.fixture_id AND o.model_key = ifnull(items.model_id, x'') "
    "AND o.sample_key = ifnull(items.sample_index, -1)), ? + seq) "
    "WHERE run_id = ?"
)


_FETCH_ROWS = 512
"""Item rows fetched and decoded together when a run is loaded."""

_U64_DIGITS = 20


# -- small helpers ---------------------------------------------------------------------


class _CorruptError(Exception):
    """Stored data that does not make a valid run; ``str()`` says what is wrong."""


def _u64_text(value: int, path: str) -> str:
    if 0 <= value <= U64_MAX:
        return f"{value:0{_U64_DIGITS}d}"
    msg = f"expected an unsigned 64-bit integer (0..{U64_MAX}), got {value}"
    raise InvalidInput.single(path, msg)


def _bound_text(value: int) -> str:
    """A filter bound as stored text, clamped to 0..U64_MAX + 1 (still 20 digits)."""
    return f"{min(max(value, 0), U64_MAX + 1):0{_U64_DIGITS}d}"


def _parse_u64(value: object, column: str) -> int:
    if (
        type(value) is str
        and len(value) == _U64_DIGITS
        and value.isascii()
        and value.isdigit()
        and int(value) <= U64_MAX
    ):
        return int(value)
    msg = f"column {column} holds {value!r}, not a stored unsigned 64-bit integer"
    raise _CorruptError(msg)


def _model_key(model_id: str | None) -> str | bytes:
    return b"" if model_id is None else model_id


def _sample_key(sample_index: int | None) -> int:
    return -1 if sample_index is None else sample_index


def _dump_item(item: EvalRunItem, index: int) -> str:
    """The item's stored JSON, refusing what the store could not read back.

    The records do not range-check every field (an unsigned field may hold ``2**32``);
    the converter does on read, so such an item is refused here, not found corrupt later.
    """
    at = f"$.items[{index}]"
    document = to_builtins(item)
    try:
        from_builtins(EvalRunItem, document)
    except InvalidInput as exc:
        problems = [Problem(at + problem.path[1:], problem.message) for problem in exc.problems]
        raise InvalidInput(problems) from None
    try:
        return encode_compact(document)
    except ValueError as exc:
        raise InvalidInput.single(at, f"cannot be stored as JSON: {exc}") from None


def _item_rows(
    run_id: str, items: Iterable[EvalRunItem], first_seq: int
) -> Iterator[tuple[str, int, str, str | None, int | None, str]]:
    for offset, item in enumerate(items):
        fixture_id, model_id, sample_index = item.key
        document = _dump_item(item, offset)
        yield (run_id, first_seq + offset, fixture_id, model_id, sample_index, document)


def _first_clash(items: Iterable[EvalRunItem], stored: Callable[[ItemKey], bool]) -> str:
    """The message for the first item whose key is stored or repeats an earlier one."""
    seen: set[ItemKey] = set()
    for item in items:
        key = item.key
        if key in seen or stored(key):
            return f"duplicate eval-run item key: {key.describe()}"
        seen.add(key)
    return ""


def _decode_items(rows: list[Any], first_position: int) -> tuple[EvalRunItem, ...]:
    """Decode item rows (seq, fixture_id, model_id, sample_index, document)."""
    try:
        documents = [decode_strict(row[4]) for row in rows]
        items: tuple[EvalRunItem, ...] = from_builtins(tuple[EvalRunItem, ...], documents)
    except (ValueError, TypeError) as exc:  # InvalidInput is a ValueError
        # Decode the documents one by one to name the first bad one.
        for offset, row in enumerate(rows):
            problem = _document_problem(row[4])
            if problem is not None:
                msg = f"item {first_position + offset} (seq {row[0]}): {problem}"
                raise _CorruptError(msg) from None
        last = first_position + len(rows) - 1
        msg = f"items {first_position}..{last}: {exc}"
        raise _CorruptError(msg) from None
    for offset, (row, item) in enumerate(zip(rows, items, strict=True)):
        if item.key != (row[1], row[2], row[3]):
            msg = (
                f"item {first_position + offset} (seq {row[0]}): its document has key "
                f"({item.key.describe()}), its row ({ItemKey(row[1], row[2], row[3]).describe()})"
            )
            raise _CorruptError(msg)
    return items


def _document_problem(document: object) -> str | None:
    """What is wrong with one item document, if anything."""
    if type(document) is not str:
        return f"the document is not text but {type(document).__name__}"
    try:
        from_json(EvalRunItem, document)
    except InvalidInput as exc:
        return str(exc)
    return None


_MODES: Final = {mode.value: mode for mode in EvalRunExecutionMode}


def _summary(row: Any) -> EvalRunSummary:
    """Build a listing row from a run row (columns of ``_SELECT_RUN``), checking each value."""
    run_id, dataset_id, mode, item_count, passed_count = row[0], row[1], row[3], row[7], row[8]
    if type(run_id) is not str or type(dataset_id) is not str:
        msg = f"column id or dataset_id is not text: {run_id!r}, {dataset_id!r}"
        raise _CorruptError(msg)
    if mode not in _MODES:
        msg = f"column execution_mode holds {mode!r}, not one of {sorted(_MODES)}"
        raise _CorruptError(msg)
    if not (
        type(item_count) is int
        and type(passed_count) is int
        and 0 <= passed_count <= item_count <= U32_MAX
    ):
        msg = (
            f"columns item_count and passed_count hold {item_count!r} and {passed_count!r}, "
            "not counts with passed_count <= item_count"
        )
        raise _CorruptError(msg)
    return EvalRunSummary(
        id=run_id,
        dataset_id=dataset_id,
        dataset_revision=_parse_u64(row[2], "dataset_revision"),
        execution_mode=_MODES[mode],
        started_at_secs=_parse_u64(row[4], "started_at_secs"),
        item_count=item_count,
        passed_count=passed_count,
        failed_count=item_count - passed_count,
    )


def _header(row: Any) -> EvalRun:
    """The run of a run row, without items (columns of ``_SELECT_RUN``)."""
    try:
        digests = decode_strict(row[6])
    except (ValueError, TypeError) as exc:
        msg = f"column fixture_digests is not JSON: {exc}"
        raise _CorruptError(msg) from None
    document = {
        "id": row[0],
        "dataset_id": row[1],
        "dataset_revision": _parse_u64(row[2], "dataset_revision"),
        "execution_mode": row[3],
        "items": [],
        "started_at_secs": _parse_u64(row[4], "started_at_secs"),
        "ended_at_secs": _parse_u64(row[5], "ended_at_secs"),
        "fixture_digests": digests,
    }
    try:
        return from_builtins(EvalRun, document)
    except InvalidInput as exc:
        raise _CorruptError(str(exc)) from None


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection, *, write: bool) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _dump_digests(digests: Mapping[str, str]) -> str:
    return encode_compact(dict(digests))


# -- the store -------------------------------------------------------------------------


class SqliteRunStore:
    """Keeps runs in one SQLite file; implements the write/read/list, prune and streaming protocols.

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

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

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
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_secs,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # one thread at a time, under self._lock
        )
        try:
            self._configure(connection)
            _migrate(connection, self._path)
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
        await self._call(f"write eval run {run.id}", lambda c: self._write(c, run))

    def _write(self, connection: sqlite3.Connection, run: EvalRun) -> None:
        with _transaction(connection, write=True):
            if _run_state(connection, run.id) is not None:
                raise AlreadyExists(run.id)
            attrs.validate(run)  # the execution shape, for a run built around its checks
            started_at = run.started_at_secs or int(self._clock())
            row = (
                run.id,
                run.dataset_id,
                _u64_text(run.dataset_revision, "$.dataset_revision"),
                run.execution_mode.value,
                _u64_text(started_at, "$.started_at_secs"),
                _u64_text(run.ended_at_secs, "$.ended_at_secs"),
                _dump_digests(run.fixture_digests),
                len(run.items),
                run.passed_count(),
                "finished",
            )
            connection.execute(_INSERT_RUN, row)
            try:
                with gc_paused():
                    connection.executemany(_INSERT_ITEM, _item_rows(run.id, run.items, 0))
            except sqlite3.IntegrityError:
                message = _first_clash(run.items, lambda _: False)
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
        with _transaction(connection, write=False):
            row = connection.execute(
                _SELECT_RUN + " WHERE id = ? AND state = 'finished'", (run_id,)
            ).fetchone()
            if row is None:
                msg = f"eval run not found: {run_id}"
                raise NotFound(msg)
            try:
                return self._load(connection, row)
            except _CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

    def _load(self, connection: sqlite3.Connection, row: Any) -> EvalRun:
        _summary(row)  # the listing columns are checked as for a listing
        header = _header(row)
        cursor = connection.execute(
            "SELECT seq, fixture_id, model_id, sample_index, document FROM items "
            "WHERE run_id = ? ORDER BY seq",
            (header.id,),
        )
        items: list[EvalRunItem] = []
        with gc_paused():
            while rows := cursor.fetchmany(_FETCH_ROWS):
                items.extend(_decode_items(rows, len(items)))
            if len(items) != row[7]:
                msg = f"the run row counts {row[7]} items, the items table holds {len(items)}"
                raise _CorruptError(msg)
            try:
                run = attrs.evolve(header, items=tuple(items))
            except InvalidExecutionShape as exc:
                raise _CorruptError(str(exc)) from None
        if run.passed_count() != row[8]:
            msg = f"the run row counts {row[8]} passed items, its items {run.passed_count()}"
            raise _CorruptError(msg)
        return run

    def _corrupt(self, run_id: str, error: _CorruptError) -> StoreFailure:
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
        summaries: builtins.list[EvalRunSummary] = []
        cursor = self._select(connection, run_filter)
        try:
            for row in cursor:
                try:
                    summaries.append(_summary(row))
                except _CorruptError as exc:
                    self._skip(row[0], exc)
                    continue
                if len(summaries) == run_filter.limit:
                    break
        finally:
            cursor.close()  # ends the statement's read snapshot now
        return summaries

    async def list_full(self, run_filter: EvalRunFilter) -> builtins.list[EvalRun]:
        """The selected finished runs in full, in the order of :meth:`list`.

        A corrupt run (row or items) is skipped with a warning on the
        ``awaken_eval.stores`` logger.
        """
        return await self._call("list eval runs", lambda c: self._list_full(c, run_filter))

    def _list_full(
        self, connection: sqlite3.Connection, run_filter: EvalRunFilter
    ) -> builtins.list[EvalRun]:
        runs: builtins.list[EvalRun] = []
        with _transaction(connection, write=False):
            for row in self._select(connection, run_filter).fetchall():
                try:
                    runs.append(self._load(connection, row))
                except _CorruptError as exc:
                    self._skip(row[0], exc)
                    continue
                if len(runs) == run_filter.limit:
                    break
        return runs

    def _select(self, connection: sqlite3.Connection, run_filter: EvalRunFilter) -> sqlite3.Cursor:
        if run_filter.limit is not None and run_filter.limit <= 0:
            return connection.execute(_SELECT_RUN + " WHERE 0")
        conditions = ["state = 'finished'"]
        parameters: builtins.list[str] = []
        if run_filter.dataset_id is not None:
            conditions.append("dataset_id = ?")
            parameters.append(run_filter.dataset_id)
        if run_filter.since_secs is not None:
            conditions.append("started_at_secs >= ?")
            parameters.append(_bound_text(run_filter.since_secs))
        if run_filter.until_secs is not None:
            conditions.append("started_at_secs < ?")
            parameters.append(_bound_text(run_filter.until_secs))
        where = " AND ".join(conditions)
        return connection.execute(
            f"{_SELECT_RUN} WHERE {where} ORDER BY started_at_secs DESC, id DESC",
            parameters,
        )

    def _skip(self, run_id: str, error: _CorruptError) -> None:
        _LOG.warning("skipping corrupt eval run %s in %s: %s", run_id, self._path, error)

    async def prune(self, older_than_secs: int) -> int:
        """Delete finished runs started before ``older_than_secs``; return how many.

        Open (streaming) runs are never pruned, nor rows whose start time is corrupt.
        """
        return await self._call("prune eval runs", lambda c: _prune(c, older_than_secs))

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
        return await self._call(
            f"begin eval run {header.id}", lambda c: _begin(c, header, resume=resume)
        )

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run, in one transaction.

        Raises:
            NotFound: when ``run_id`` is not open.
            DuplicateItemKeys: when an item's key is already present or repeated
                (nothing of the batch is written).
            StoreFailure: when the database fails.
        """
        await self._call(f"append to eval run {run_id}", lambda c: _append(c, run_id, items))

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
            row = _finish(connection, run_id, ended_at_secs, item_order)
            try:
                return _summary(row)
            except _CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

        return await self._call(f"finish eval run {run_id}", finish)

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open)."""
        return await self._call(f"read open eval run {run_id}", lambda c: _open_keys(c, run_id))


def _no_op(_: sqlite3.Connection) -> None:
    return None


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to the newest version, all steps in one transaction."""
    target = len(_MIGRATIONS)
    if connection.execute("PRAGMA user_version").fetchone()[0] == target:
        return
    with _transaction(connection, write=True):
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > target:
            msg = (
                f"{path}: the run store has schema version {version}, newer than the "
                f"newest this awaken-eval knows ({target}); upgrade awaken-eval"
            )
            raise StoreFailure(msg)
        for statements in _MIGRATIONS[version:]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {target}")


def _run_state(connection: sqlite3.Connection, run_id: str) -> str | None:
    row = connection.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def _require_open(connection: sqlite3.Connection, run_id: str) -> None:
    if _run_state(connection, run_id) != "open":
        msg = f"no open eval run: {run_id}"
        raise NotFound(msg)


def _stored_keys(connection: sqlite3.Connection, run_id: str) -> frozenset[ItemKey]:
    cursor = connection.execute(
        "SELECT fixture_id, model_id, sample_index FROM items WHERE run_id = ?", (run_id,)
    )
    with gc_paused():
        return frozenset(ItemKey(*row) for row in cursor)


def _open_keys(connection: sqlite3.Connection, run_id: str) -> frozenset[ItemKey]:
    with _transaction(connection, write=False):
        if _run_state(connection, run_id) != "open":
            return frozenset()
        return _stored_keys(connection, run_id)


def _prune(connection: sqlite3.Connection, older_than_secs: int) -> int:
    if older_than_secs <= 0:
        return 0
    old = (
        "state = 'finished' AND started_at_secs < ? "
        "AND length(started_at_secs) = 20 AND started_at_secs NOT GLOB '*[^0-9]*'"
    )
    cutoff = (_bound_text(older_than_secs),)
    with _transaction(connection, write=True):
        connection.execute(
            f"DELETE FROM items WHERE run_id IN (SELECT id FROM runs WHERE {old})",  # noqa: S608
            cutoff,
        )
        return connection.execute(f"DELETE FROM runs WHERE {old}", cutoff).rowcount  # noqa: S608


def _begin(
    connection: sqlite3.Connection, header: RunHeader, *, resume: bool
) -> frozenset[ItemKey]:
    revision = _u64_text(header.dataset_revision, "$.dataset_revision")
    started_at = _u64_text(header.started_at_secs, "$.started_at_secs")
    mode = header.execution_mode.value
    with _transaction(connection, write=True):
        row = connection.execute(
            "SELECT state, dataset_id, dataset_revision, execution_mode FROM runs WHERE id = ?",
            (header.id,),
        ).fetchone()
        if row is None:
            row = (header.id, header.dataset_id, revision, mode, started_at, None)
            digests = _dump_digests(header.fixture_digests)
            connection.execute(_INSERT_RUN, (*row, digests, 0, 0, "open"))
            return frozenset()
        if row[0] != "open":
            raise AlreadyExists(header.id)
        if not resume:
            msg = f"eval run {header.id} is already open; pass resume=True to continue it"
            raise Conflict(msg)
        if (row[1], row[2], row[3]) != (header.dataset_id, revision, mode):
            msg = f"eval run {header.id} was started for another dataset, revision or mode"
            raise Conflict(msg)
        return _stored_keys(connection, header.id)


def _append(connection: sqlite3.Connection, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
    with _transaction(connection, write=True):
        _require_open(connection, run_id)
        if not items:
            return
        first_seq = connection.execute(
            "SELECT coalesce(max(seq) + 1, 0) FROM items WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        connection.execute("SAVEPOINT awaken_append")
        try:
            with gc_paused():
                connection.executemany(_INSERT_ITEM, _item_rows(run_id, items, first_seq))
        except sqlite3.IntegrityError:
            connection.execute("ROLLBACK TO awaken_append")

            def stored(key: ItemKey) -> bool:
                parameters = (run_id, key[0], _model_key(key[1]), _sample_key(key[2]))
                return connection.execute(_ITEM_EXISTS, parameters).fetchone() is not None

            message = _first_clash(items, stored)
            if not message:
                raise
            raise DuplicateItemKeys(message) from None
        connection.execute("RELEASE awaken_append")
        passed = sum(1 for item in items if item.report.passed)
        connection.execute(
            "UPDATE runs SET item_count = item_count + ?, passed_count = passed_count + ? "
            "WHERE id = ?",
            (len(items), passed, run_id),
        )


def _finish(
    connection: sqlite3.Connection,
    run_id: str,
    ended_at_secs: int,
    item_order: Sequence[ItemKey] | None,
) -> Any:
    """Order and close the open run; return its run row (columns of ``_SELECT_RUN``)."""
    ended_at = _u64_text(ended_at_secs, "$.ended_at_secs")
    with _transaction(connection, write=True):
        _require_open(connection, run_id)
        if item_order is not None:
            _reorder(connection, run_id, item_order)
        connection.execute(
            "UPDATE runs SET state = 'finished', ended_at_secs = ? WHERE id = ?",
            (ended_at, run_id),
        )
        return connection.execute(_SELECT_RUN + " WHERE id = ?", (run_id,)).fetchone()


def _reorder(connection: sqlite3.Connection, run_id: str, item_order: Sequence[ItemKey]) -> None:
    """Renumber the run's items: listed keys by position, the rest after them in order.

    Done by the database through a temporary table of positions, so no item is loaded.
    A key listed twice takes its last position (as a dictionary of positions would).
    """
    connection.execute(_ORDER_TABLE)
    connection.execute("DELETE FROM temp.awaken_item_order")
    try:
        connection.executemany(
            "INSERT OR REPLACE INTO temp.awaken_item_order VALUES (?, ?, ?, ?)",
            (
                (key[0], _model_key(key[1]), _sample_key(key[2]), position)
                for position, key in enumerate(item_order)
            ),
        )
        connection.execute(_REORDER, (len(item_order), run_id))
    finally:
        connection.execute("DELETE FROM temp.awaken_item_order")
