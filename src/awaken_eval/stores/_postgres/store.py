"""``PostgresRunStore``: the run store many processes on many machines share.

Runs live in two tables of a PostgreSQL schema (see :mod:`.schema` for the tables and
their migrations, :mod:`.rows` for how records become rows, :mod:`.database` for the
pool and the worker threads). The store honours the whole run-store contract of
:class:`~awaken_eval.stores.InMemoryRunStore` with the same errors, and persists the
streaming state (:mod:`.operations`), so a run interrupted by a crash resumes from
another process or machine.

Durability and concurrency:

* Every write, append and finish is one transaction, committed before the call
  returns: an acknowledged item survives the client, the connection or (with the
  server's default ``synchronous_commit``) the server dying; a transaction cut off
  midway leaves nothing behind.
* Write-once is the run table's primary key, not a read-then-write: of several
  processes writing or beginning one run id at once, exactly one wins, the others get
  :class:`~awaken_eval.AlreadyExists` (or :class:`~awaken_eval.Conflict` for a run
  still open). Appends lock their run's row, so concurrent appends to one run are
  serialized and item keys stay unique (a unique index on the key).
* Reads take a ``REPEATABLE READ`` snapshot: a run and its items are read as of one
  moment.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import anyio.to_thread
import attrs
import psycopg.errors

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
    InvalidExecutionShape,
    InvalidInput,
    NotFound,
    StoreFailure,
)
from awaken_eval.stores._postgres.database import DEFAULT_SCHEMA, Connection, Database
from awaken_eval.stores._postgres.operations import (
    append_items,
    begin_run,
    copy_items,
    duplicate_keys,
    finish_run,
    open_run_keys,
    open_run_rows,
    prune_runs,
    run_state,
)
from awaken_eval.stores._postgres.rows import decode_items, run_header, run_summary, u64
from awaken_eval.stores._postgres.schema import INSERT_RUN, SELECT_RUN
from awaken_eval.stores._rows_common import (
    CorruptError,
    as_open,
    run_values,
    valid_rows,
    with_items,
)

__all__ = ["PostgresRunStore"]

_LOG = logging.getLogger("awaken_eval.stores")
_FETCH_ROWS = 2_000
_PAGE = 500


class PostgresRunStore:
    """Runs in a PostgreSQL database, shared by every process that opens it.

    Implements ``EvalRunStore``, ``PrunableRunStore`` and ``StreamingRunStore``. The
    schema is created, or migrated, when the first call opens the database.

    Args:
        url: A libpq URL, ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE``
            (``postgres://`` too), with libpq's query parameters and optionally
            ``schema=NAME``.
        schema: The PostgreSQL schema of the tables, when the URL names none
            (default ``awaken_eval``).
        max_connections: Connections the store's pool may open.
        connect_timeout_secs: How long a connection, or a free pooled one, may take.
        clock: Seconds since the epoch, for runs written with ``started_at_secs=0``.
        create: Create the schema when it does not exist; when false, the first call
            raises :class:`~awaken_eval.NotFound` instead (for read-only commands).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        max_connections: int = 8,
        connect_timeout_secs: float = 10.0,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        """Remember the database; it is opened (and migrated) by the first call."""
        self._db = Database(
            url,
            schema=schema,
            max_connections=max_connections,
            connect_timeout_secs=connect_timeout_secs,
            create=create,
        )
        self._clock = clock

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the tables."""
        return self._db.schema

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Open the database (creating and migrating the schema as needed)."""
        await self._db.call("open the database", _no_op)
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
        """Close the pool's connections; later calls raise ``StoreFailure``. Idempotent."""
        self._db.close()

    async def aclose(self) -> None:
        """Close the pool from async code (see :meth:`close`)."""
        await anyio.to_thread.run_sync(self.close)

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
        await self._db.call(f"write eval run {run.id}", lambda c: self._write(c, run))

    def _write(self, connection: Connection, run: EvalRun) -> None:
        try:
            attrs.validate(run)  # the execution shape, for a run built around its checks
            row = run_values(
                run,
                started_at_secs=run.started_at_secs or int(self._clock()),
                text=str.encode,
                u64=u64,
            )
        except (InvalidInput, InvalidExecutionShape):
            if run_state(connection, run.id) is not None:
                raise AlreadyExists(run.id) from None  # write-once is checked first
            raise
        try:
            with connection.transaction():
                # The primary key decides between concurrent writers of one id.
                inserted = connection.execute(INSERT_RUN + " ON CONFLICT (id) DO NOTHING", row)
                if inserted.rowcount != 1:
                    raise AlreadyExists(run.id)
                if run.items:
                    copy_items(connection, run.id, run.items, 0)
        except psycopg.errors.UniqueViolation:
            error = duplicate_keys(connection, None, run.items)
            if error is None:
                raise
            raise error from None

    async def read(self, run_id: str) -> EvalRun:
        """Load the finished run ``run_id``, its items in stored order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no finished run has this id (an open run is not readable).
            StoreFailure: when the stored run is corrupt (the message names the run and
                what is wrong) or the database fails.
        """
        validate_run_id(run_id)
        return await self._db.call(f"read eval run {run_id}", lambda c: self._read(c, run_id))

    def _read(self, connection: Connection, run_id: str) -> EvalRun:
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = connection.execute(
                SELECT_RUN + " WHERE id = %s AND state = 'finished'", (run_id,)
            ).fetchone()
            if row is None:
                msg = f"eval run not found: {run_id}"
                raise NotFound(msg)
            try:
                return self._load(connection, row)
            except CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

    def _load(self, connection: Connection, row: Any) -> EvalRun:
        run_summary(row)  # the listing columns are checked as for a listing
        header = run_header(row)
        items = self._items(connection, header.id, big=row[7] > _FETCH_ROWS)
        return with_items(header, items, row)

    def _items(
        self, connection: Connection, run_id: str, *, big: bool
    ) -> builtins.list[EvalRunItem]:
        """The run's items in order; a big run through a server-side cursor, in chunks."""
        query = (
            "SELECT seq, fixture_id, model_id, sample_index, document::text FROM items "
            "WHERE run_id = %s ORDER BY seq"
        )
        items: builtins.list[EvalRunItem] = []
        cursor = connection.cursor(name="awaken_items") if big else connection.cursor()
        with cursor, gc_paused():
            cursor.execute(query, (run_id,))
            while rows := cursor.fetchmany(_FETCH_ROWS):
                items.extend(decode_items(rows, len(items)))
        return items

    def _corrupt(self, run_id: str, error: CorruptError) -> StoreFailure:
        return StoreFailure(f"eval run {run_id} is corrupt in {self._db.where}: {error}")

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected finished runs, newest first, ties by id descending.

        Summaries are built from the run rows alone (no item is loaded). A run whose
        row is corrupt is skipped with a warning on the ``awaken_eval.stores`` logger.
        """
        return await self._db.call("list eval runs", lambda c: self._list(c, run_filter))

    def _list(
        self, connection: Connection, run_filter: EvalRunFilter
    ) -> builtins.list[EvalRunSummary]:
        rows = self._select(connection, run_filter)
        return valid_rows(rows, run_summary, self._skip, limit=run_filter.limit)

    async def list_full(self, run_filter: EvalRunFilter) -> builtins.list[EvalRun]:
        """The selected finished runs in full, in the order of :meth:`list`.

        A corrupt run (row or items) is skipped with a warning on the
        ``awaken_eval.stores`` logger.
        """
        return await self._db.call("list eval runs", lambda c: self._list_full(c, run_filter))

    def _list_full(
        self, connection: Connection, run_filter: EvalRunFilter
    ) -> builtins.list[EvalRun]:
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            rows = self._select(connection, run_filter)
            return valid_rows(
                rows, lambda row: self._load(connection, row), self._skip, limit=run_filter.limit
            )

    def _select(self, connection: Connection, run_filter: EvalRunFilter) -> Iterator[Any]:
        """The selected run rows in listing order, fetched a page at a time (keyset)."""
        if run_filter.limit is not None and run_filter.limit <= 0:
            return
        conditions = ["state = 'finished'"]
        parameters: builtins.list[object] = []
        if run_filter.dataset_id is not None:
            conditions.append("dataset_id = %s")
            parameters.append(run_filter.dataset_id.encode())
        if run_filter.since_secs is not None:
            conditions.append("started_at_secs >= %s")
            parameters.append(run_filter.since_secs)
        if run_filter.until_secs is not None:
            conditions.append("started_at_secs < %s")
            parameters.append(run_filter.until_secs)
        page = min(run_filter.limit or _PAGE, _PAGE)
        after: tuple[object, ...] = ()
        while True:
            keyset = ["(started_at_secs, id) < (%s, %s)"] if after else []
            where = " AND ".join([*conditions, *keyset])
            rows = connection.execute(
                f"{SELECT_RUN} WHERE {where} ORDER BY started_at_secs DESC, id DESC LIMIT %s",
                (*parameters, *after, page),
            ).fetchall()
            yield from rows
            if len(rows) < page:
                return
            after = (rows[-1][4], rows[-1][0])

    def _skip(self, run_id: str, error: CorruptError) -> None:
        _LOG.warning("skipping corrupt eval run %s in %s: %s", run_id, self._db.where, error)

    async def prune(self, older_than_secs: int) -> int:
        """Delete finished runs started before ``older_than_secs``; return how many.

        Open (streaming) runs are never pruned.
        """
        return await self._db.call("prune eval runs", lambda c: prune_runs(c, older_than_secs))

    # -- streaming ---------------------------------------------------------------------

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open ``header.id`` for appending; return the keys it already holds.

        The open run is stored, so it can be resumed by another store object, process
        or machine after a crash.

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when a finished run has this id.
            Conflict: when the run is open and ``resume`` is false, or the header of
                the open run differs (dataset, revision or execution mode).
        """
        validate_run_id(header.id)
        return await self._db.call(
            f"begin eval run {header.id}", lambda c: begin_run(c, header, resume=resume)
        )

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run, in one transaction.

        Raises:
            NotFound: when ``run_id`` is not open.
            DuplicateItemKeys: when an item's key is already present or repeated
                (nothing of the batch is written).
            StoreFailure: when the database fails (nothing of the batch is written).
        """
        await self._db.call(
            f"append to eval run {run_id}", lambda c: append_items(c, run_id, items)
        )

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run (see :meth:`~awaken_eval.protocols.StreamingRunStore.finish`).

        No item is loaded into memory: the order is applied by the database.

        Raises:
            StoreFailure: when the database fails or the run row is corrupt.
        """

        def finish(connection: Connection) -> EvalRunSummary:
            row = finish_run(connection, run_id, ended_at_secs, item_order)
            try:
                return run_summary(row)
            except CorruptError as exc:
                raise self._corrupt(run_id, exc) from None

        return await self._db.call(f"finish eval run {run_id}", finish)

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open)."""
        return await self._db.call(
            f"read open eval run {run_id}", lambda c: open_run_keys(c, run_id)
        )

    # -- open runs ---------------------------------------------------------------------

    async def list_open(self) -> builtins.list[OpenRunSummary]:
        """Summaries of the runs still open (streaming or interrupted), newest first.

        Ties are ordered by id, descending, as in the other stores. Their counts are
        those of the items appended so far. A corrupt row is skipped with a warning on
        the ``awaken_eval.stores`` logger.
        """

        def select(connection: Connection) -> builtins.list[OpenRunSummary]:
            rows = open_run_rows(connection, None)
            summaries = valid_rows(rows, lambda row: as_open(run_summary(row)), self._skip)
            summaries.sort(key=lambda s: (s.started_at_secs, s.id), reverse=True)
            return summaries

        return await self._db.call("list open eval runs", select)

    async def read_open(self, run_id: str) -> EvalRun:
        """The open run ``run_id`` as far as it got: its items in append order.

        Raises:
            NotFound: when no open run has this id.
            StoreFailure: when the stored run is corrupt or the database fails.
        """
        validate_run_id(run_id)

        def read(connection: Connection) -> EvalRun:
            with connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                rows = open_run_rows(connection, run_id)
                if not rows:
                    msg = f"no open eval run: {run_id}"
                    raise NotFound(msg)
                try:
                    return self._load(connection, (*rows[0][:5], Decimal(0), *rows[0][6:]))
                except CorruptError as exc:
                    raise self._corrupt(run_id, exc) from None

        return await self._db.call(f"read open eval run {run_id}", read)


def _no_op(_: Connection) -> None:
    return None
