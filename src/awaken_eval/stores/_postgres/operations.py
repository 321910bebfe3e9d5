"""The PostgreSQL run store's transactions: streaming, pruning, run state, open runs.

Each function runs in a worker thread with a pooled connection (see
:class:`~awaken_eval.stores._postgres.database.Database`), in one transaction of its
own. A streamed run is opened (:func:`begin_run`: an ``INSERT ... ON CONFLICT DO
NOTHING``, so of several processes opening one id exactly one creates it), grows by
durable batches (:func:`append_items`: the run row is locked, the items are copied in
with ``COPY``, the counts updated, all committed together) and is closed in constant
client memory, its items ordered by the database (:func:`finish_run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg.errors

from awaken_eval._records.runs import EvalRunItem, ItemKey
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import AlreadyExists, Conflict, DuplicateItemKeys, NotFound
from awaken_eval.stores._postgres.database import Connection
from awaken_eval.stores._postgres.rows import item_rows, key_values, text_of, u64
from awaken_eval.stores._postgres.schema import INSERT_RUN, ITEM_COLUMNS, SELECT_RUN
from awaken_eval.stores._rows_common import dump_digests, first_clash

__all__ = [
    "append_items",
    "begin_run",
    "copy_items",
    "duplicate_keys",
    "finish_run",
    "open_run_keys",
    "open_run_rows",
    "prune_runs",
    "run_state",
]

_ITEM_EXISTS = (
    "SELECT 1 FROM items WHERE run_id = %s AND fixture_id = %s "
    "AND model_id IS NOT DISTINCT FROM %s::bytea AND sample_index IS NOT DISTINCT FROM %s::bigint"
)
_KEY_CHUNK = 10_000
_BUMP = (
    "UPDATE runs SET item_count = item_count + %s, passed_count = passed_count + %s "
    "WHERE id = %s AND state = 'open' RETURNING item_count"
)
_STATE = "SELECT state, item_count FROM runs WHERE id = %s"
_LOCK_STATE = _STATE + " FOR UPDATE"
_COPY_ITEMS = f"COPY items {ITEM_COLUMNS} FROM STDIN"
_ORDER_TABLE = (
    "CREATE TEMP TABLE awaken_item_order (fixture_id bytea NOT NULL, model_id bytea, "
    "sample_index bigint, position bigint NOT NULL) ON COMMIT DROP"
)
# Listed keys take their (last) position; hash-joinable equalities on the key parts,
# with an absent model told apart from an empty one.
_REORDER = """
    UPDATE items AS i SET seq = o.position
    FROM (
        SELECT DISTINCT ON (fixture_id, model_id, sample_index)
            fixture_id, model_id, sample_index, position
        FROM awaken_item_order
        ORDER BY fixture_id, model_id, sample_index, position DESC
    ) AS o
    WHERE i.run_id = %s
      AND i.fixture_id = o.fixture_id
      AND coalesce(i.model_id, ''::bytea) = coalesce(o.model_id, ''::bytea)
      AND (i.model_id IS NULL) = (o.model_id IS NULL)
      AND coalesce(i.sample_index, -1) = coalesce(o.sample_index, -1)
"""


def run_state(connection: Connection, run_id: str, *, lock: bool = False) -> tuple[str, int] | None:
    """The run's state (``"open"`` or ``"finished"``) and item count, or ``None``.

    Args:
        connection: The connection, in a transaction when ``lock`` is true.
        run_id: The run.
        lock: Lock the run row until the transaction ends (``FOR UPDATE``).
    """
    query = _LOCK_STATE if lock else _STATE
    row = connection.execute(query, (run_id,)).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def _require_open(connection: Connection, run_id: str) -> int:
    """Lock the open run's row; return its item count."""
    state = run_state(connection, run_id, lock=True)
    if state is None or state[0] != "open":
        msg = f"no open eval run: {run_id}"
        raise NotFound(msg)
    return state[1]


def _stored_keys(connection: Connection, run_id: str) -> frozenset[ItemKey]:
    """The run's item keys, through a server-side cursor (the client holds one chunk).

    Called in a transaction (a server-side cursor lives in one).
    """
    with connection.cursor(name="awaken_keys") as cursor, gc_paused():
        cursor.itersize = _KEY_CHUNK
        cursor.execute(
            "SELECT fixture_id, model_id, sample_index FROM items WHERE run_id = %s", (run_id,)
        )
        return frozenset(
            ItemKey(
                text_of(fixture_id, "fixture_id"),
                None if model_id is None else text_of(model_id, "model_id"),
                sample_index,
            )
            for fixture_id, model_id, sample_index in cursor
        )


def open_run_keys(connection: Connection, run_id: str) -> frozenset[ItemKey]:
    """Keys of the items an open run holds (empty when it is not open)."""
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        state = run_state(connection, run_id)
        if state is None or state[0] != "open":
            return frozenset()
        return _stored_keys(connection, run_id)


def open_run_rows(connection: Connection, run_id: str | None) -> list[Any]:
    """Run rows (columns of ``SELECT_RUN``) of the open runs, by id; one run or all."""
    if run_id is None:
        query = SELECT_RUN + " WHERE state = 'open' ORDER BY id"
        return connection.execute(query).fetchall()
    query = SELECT_RUN + " WHERE state = 'open' AND id = %s"
    return connection.execute(query, (run_id,)).fetchall()


def prune_runs(connection: Connection, older_than_secs: int) -> int:
    """Delete finished runs started before ``older_than_secs`` (and their items); count them."""
    if older_than_secs <= 0:
        return 0
    cursor = connection.execute(
        "DELETE FROM runs WHERE state = 'finished' AND started_at_secs < %s", (older_than_secs,)
    )
    return cursor.rowcount


def begin_run(connection: Connection, header: RunHeader, *, resume: bool) -> frozenset[ItemKey]:
    """Open ``header.id`` (or resume it); return the keys it already holds.

    Raises:
        AlreadyExists: When a finished run has this id.
        Conflict: When the run is open and ``resume`` is false, or was opened for
            another dataset, revision or execution mode.
    """
    revision = u64(header.dataset_revision, "$.dataset_revision")
    started_at = u64(header.started_at_secs, "$.started_at_secs")
    mode = header.execution_mode.value
    dataset_id = header.dataset_id.encode()
    digests = dump_digests(header.fixture_digests)
    with connection.transaction():
        row = (header.id, dataset_id, revision, mode, started_at, None, digests, 0, 0, "open")
        if connection.execute(INSERT_RUN + " ON CONFLICT (id) DO NOTHING", row).rowcount == 1:
            return frozenset()
        stored = connection.execute(
            "SELECT state, dataset_id, dataset_revision, execution_mode FROM runs WHERE id = %s",
            (header.id,),
        ).fetchone()
        if stored is None:  # pruned between the two statements
            msg = f"eval run {header.id} was deleted while it was being opened; try again"
            raise Conflict(msg)
        if stored[0] != "open":
            raise AlreadyExists(header.id)
        if not resume:
            msg = f"eval run {header.id} is already open; pass resume=True to continue it"
            raise Conflict(msg)
        if (bytes(stored[1]), int(stored[2]), stored[3]) != (dataset_id, revision, mode):
            msg = f"eval run {header.id} was started for another dataset, revision or mode"
            raise Conflict(msg)
        return _stored_keys(connection, header.id)


def copy_items(
    connection: Connection, run_id: str, items: tuple[EvalRunItem, ...], first_seq: int
) -> None:
    """Copy ``items`` into the run, numbered from ``first_seq`` (in the caller's transaction).

    Raises:
        psycopg.errors.UniqueViolation: When an item's key is already present or
            repeated (the transaction is then aborted: see :func:`duplicate_keys`).
        InvalidInput: When an item cannot be stored.
    """
    with connection.cursor() as cursor, cursor.copy(_COPY_ITEMS) as copy, gc_paused():
        for row in item_rows(run_id, items, first_seq):
            copy.write_row(row)


def duplicate_keys(
    connection: Connection, run_id: str | None, items: tuple[EvalRunItem, ...]
) -> DuplicateItemKeys | None:
    """The error for the first item whose key repeats or is stored in ``run_id``.

    Called after the transaction that hit the unique index was rolled back;
    ``run_id`` is ``None`` for a new run (only repeats within ``items`` count).
    """

    def present(key: ItemKey) -> bool:
        if run_id is None:
            return False
        found = connection.execute(_ITEM_EXISTS, (run_id, *key_values(key))).fetchone()
        return found is not None

    message = first_clash(items, present)
    return DuplicateItemKeys(message) if message else None


def append_items(connection: Connection, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
    """Add ``items`` to the open run ``run_id``, all or none of them.

    One statement locks the open run's row, bumps its counts and returns where the
    batch starts; the items follow with ``COPY``; the commit makes both durable.

    Raises:
        NotFound: When ``run_id`` is not open.
        DuplicateItemKeys: When an item's key is already present or repeated.
    """
    passed = sum(1 for item in items if item.report.passed)
    try:
        with connection.transaction():
            row = connection.execute(_BUMP, (len(items), passed, run_id)).fetchone()
            if row is None:
                msg = f"no open eval run: {run_id}"
                raise NotFound(msg)
            if items:
                copy_items(connection, run_id, items, int(row[0]) - len(items))
    except psycopg.errors.UniqueViolation:
        error = duplicate_keys(connection, run_id, items)
        if error is None:
            raise
        raise error from None


def finish_run(
    connection: Connection,
    run_id: str,
    ended_at_secs: int,
    item_order: Sequence[ItemKey] | None,
) -> Any:
    """Order and close the open run; return its run row (columns of ``SELECT_RUN``).

    Raises:
        NotFound: When ``run_id`` is not open.
    """
    ended_at = u64(ended_at_secs, "$.ended_at_secs")
    with connection.transaction():
        _require_open(connection, run_id)
        if item_order is not None:
            _reorder(connection, run_id, item_order)
        connection.execute(
            "UPDATE runs SET state = 'finished', ended_at_secs = %s WHERE id = %s",
            (ended_at, run_id),
        )
        return connection.execute(SELECT_RUN + " WHERE id = %s", (run_id,)).fetchone()


def _reorder(connection: Connection, run_id: str, item_order: Sequence[ItemKey]) -> None:
    """Renumber the run's items: listed keys by position, the rest after them in order.

    Done by the database through a temporary table of positions, so no item is loaded.
    A key listed twice takes its last position (as a dictionary of positions would).
    """
    connection.execute(_ORDER_TABLE)
    with connection.cursor() as cursor, cursor.copy("COPY awaken_item_order FROM STDIN") as copy:
        for position, key in enumerate(item_order):
            copy.write_row((*key_values(key), position))
    connection.execute(
        "UPDATE items SET seq = seq + %s WHERE run_id = %s", (len(item_order), run_id)
    )
    connection.execute(_REORDER, (run_id,))
