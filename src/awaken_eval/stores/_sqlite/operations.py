"""The run store's transactions over one connection: streaming, pruning, run state.

Each function runs in a worker thread with the store's connection (see
:class:`~awaken_eval.stores.SqliteRunStore`), in one transaction of its own: a
streamed run is opened (:func:`begin_run`), grows by durable batches
(:func:`append_items`) and is closed in constant memory, its items ordered by the
database (:func:`finish_run`); :func:`prune_runs` deletes old finished runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from awaken_eval._records.runs import EvalRunItem, ItemKey
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import AlreadyExists, Conflict, DuplicateItemKeys, NotFound
from awaken_eval.stores._rows_common import dump_digests, first_clash, item_rows
from awaken_eval.stores._sqlite.rows import bound_text, model_key, sample_key, u64_text
from awaken_eval.stores._sqlite.schema import (
    INSERT_ITEM,
    INSERT_RUN,
    ITEM_EXISTS,
    ORDER_TABLE,
    REORDER,
    SELECT_RUN,
    transaction,
)

__all__ = [
    "append_items",
    "begin_run",
    "finish_run",
    "open_run_keys",
    "open_run_row",
    "open_run_rows",
    "prune_runs",
    "run_state",
]


def run_state(connection: sqlite3.Connection, run_id: str) -> str | None:
    """``"open"``, ``"finished"``, or ``None`` when no run has this id."""
    row = connection.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def _require_open(connection: sqlite3.Connection, run_id: str) -> None:
    if run_state(connection, run_id) != "open":
        msg = f"no open eval run: {run_id}"
        raise NotFound(msg)


def _stored_keys(connection: sqlite3.Connection, run_id: str) -> frozenset[ItemKey]:
    cursor = connection.execute(
        "SELECT fixture_id, model_id, sample_index FROM items WHERE run_id = ?", (run_id,)
    )
    with gc_paused():
        return frozenset(ItemKey(*row) for row in cursor)


def open_run_keys(connection: sqlite3.Connection, run_id: str) -> frozenset[ItemKey]:
    """Keys of the items an open run holds (empty when it is not open)."""
    with transaction(connection, write=False):
        if run_state(connection, run_id) != "open":
            return frozenset()
        return _stored_keys(connection, run_id)


def open_run_rows(connection: sqlite3.Connection) -> list[Any]:
    """The run rows (columns of ``SELECT_RUN``) of the open runs, newest first.

    An open run has no end time yet; its rows say 0, as ``read_open`` reports it.
    """
    rows = connection.execute(
        SELECT_RUN + " WHERE state = 'open' ORDER BY started_at_secs DESC, id DESC"
    ).fetchall()
    return [_ended_now(row) for row in rows]


def open_run_row(connection: sqlite3.Connection, run_id: str) -> Any:
    """The run row of the open run ``run_id`` (end time 0), or ``None``."""
    row = connection.execute(SELECT_RUN + " WHERE id = ? AND state = 'open'", (run_id,)).fetchone()
    return None if row is None else _ended_now(row)


def _ended_now(row: Any) -> tuple[Any, ...]:
    return (*row[:5], u64_text(0, "$.ended_at_secs"), *row[6:])


def prune_runs(connection: sqlite3.Connection, older_than_secs: int) -> int:
    """Delete finished runs started before ``older_than_secs`` (not corrupt ones); count them."""
    if older_than_secs <= 0:
        return 0
    old = (
        "state = 'finished' AND started_at_secs < ? "
        "AND length(started_at_secs) = 20 AND started_at_secs NOT GLOB '*[^0-9]*'"
    )
    cutoff = (bound_text(older_than_secs),)
    with transaction(connection, write=True):
        connection.execute(
            f"DELETE FROM items WHERE run_id IN (SELECT id FROM runs WHERE {old})",  # noqa: S608
            cutoff,
        )
        return connection.execute(f"DELETE FROM runs WHERE {old}", cutoff).rowcount  # noqa: S608


def begin_run(
    connection: sqlite3.Connection, header: RunHeader, *, resume: bool
) -> frozenset[ItemKey]:
    """Open ``header.id`` (or resume it); return the keys it already holds.

    Raises:
        AlreadyExists: When a finished run has this id.
        Conflict: When the run is open and ``resume`` is false, or was opened for
            another dataset, revision or execution mode.
    """
    revision = u64_text(header.dataset_revision, "$.dataset_revision")
    started_at = u64_text(header.started_at_secs, "$.started_at_secs")
    mode = header.execution_mode.value
    with transaction(connection, write=True):
        row = connection.execute(
            "SELECT state, dataset_id, dataset_revision, execution_mode FROM runs WHERE id = ?",
            (header.id,),
        ).fetchone()
        if row is None:
            row = (header.id, header.dataset_id, revision, mode, started_at, None)
            digests = dump_digests(header.fixture_digests)
            connection.execute(INSERT_RUN, (*row, digests, 0, 0, "open"))
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


def append_items(
    connection: sqlite3.Connection, run_id: str, items: tuple[EvalRunItem, ...]
) -> None:
    """Add ``items`` to the open run ``run_id``, all or none of them.

    Raises:
        NotFound: When ``run_id`` is not open.
        DuplicateItemKeys: When an item's key is already present or repeated.
    """
    with transaction(connection, write=True):
        _require_open(connection, run_id)
        if not items:
            return
        first_seq = connection.execute(
            "SELECT coalesce(max(seq) + 1, 0) FROM items WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        connection.execute("SAVEPOINT awaken_append")
        try:
            with gc_paused():
                connection.executemany(INSERT_ITEM, item_rows(run_id, items, first_seq))
        except sqlite3.IntegrityError:
            connection.execute("ROLLBACK TO awaken_append")

            def stored(key: ItemKey) -> bool:
                parameters = (run_id, key[0], model_key(key[1]), sample_key(key[2]))
                return connection.execute(ITEM_EXISTS, parameters).fetchone() is not None

            message = first_clash(items, stored)
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


def finish_run(
    connection: sqlite3.Connection,
    run_id: str,
    ended_at_secs: int,
    item_order: Sequence[ItemKey] | None,
) -> Any:
    """Order and close the open run; return its run row (columns of ``SELECT_RUN``).

    Raises:
        NotFound: When ``run_id`` is not open.
    """
    ended_at = u64_text(ended_at_secs, "$.ended_at_secs")
    with transaction(connection, write=True):
        _require_open(connection, run_id)
        if item_order is not None:
            _reorder(connection, run_id, item_order)
        connection.execute(
            "UPDATE runs SET state = 'finished', ended_at_secs = ? WHERE id = ?",
            (ended_at, run_id),
        )
        return connection.execute(SELECT_RUN + " WHERE id = ?", (run_id,)).fetchone()


def _reorder(connection: sqlite3.Connection, run_id: str, item_order: Sequence[ItemKey]) -> None:
    """Renumber the run's items: listed keys by position, the rest after them in order.

    Done by the database through a temporary table of positions, so no item is loaded.
    A key listed twice takes its last position (as a dictionary of positions would).
    """
    connection.execute(ORDER_TABLE)
    connection.execute("DELETE FROM temp.awaken_item_order")
    try:
        connection.executemany(
            "INSERT OR REPLACE INTO temp.awaken_item_order VALUES (?, ?, ?, ?)",
            (
                (key[0], model_key(key[1]), sample_key(key[2]), position)
                for position, key in enumerate(item_order)
            ),
        )
        connection.execute(REORDER, (len(item_order), run_id))
    finally:
        connection.execute("DELETE FROM temp.awaken_item_order")
