"""The run store's tables: their versioned DDL, the statements over them, transactions.

Runs live in two tables: ``runs`` holds one row per run (identity, timing, state and
the counts a listing needs) and ``items`` one row per item (its key columns and its
JSON document in the wire format).

The schema is versioned with ``PRAGMA user_version``: the migrations below are applied
in order, in one transaction, when the file is opened (:func:`migrate`); a file written
by a newer awaken-eval is refused with :class:`~awaken_eval.StoreFailure`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from awaken_eval.errors import StoreFailure

__all__ = [
    "INSERT_ITEM",
    "INSERT_RUN",
    "ITEM_EXISTS",
    "ORDER_TABLE",
    "REORDER",
    "SCHEMA_VERSION",
    "SELECT_RUN",
    "migrate",
    "transaction",
]

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

SELECT_RUN: Final = (
    "SELECT id, dataset_id, dataset_revision, execution_mode, started_at_secs, ended_at_secs, "
    "fixture_digests, item_count, passed_count FROM runs"
)
"""The run row, read by every operation (the row helpers index its columns)."""
INSERT_RUN: Final = (
    "INSERT INTO runs (id, dataset_id, dataset_revision, execution_mode, started_at_secs, "
    "ended_at_secs, fixture_digests, item_count, passed_count, state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""One run row: the nine columns of :data:`SELECT_RUN`, then its state."""
INSERT_ITEM: Final = (
    "INSERT INTO items (run_id, seq, fixture_id, model_id, sample_index, document) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
"""One item row."""
ITEM_EXISTS: Final = (
    "SELECT 1 FROM items WHERE run_id = ? AND fixture_id = ? "
    "AND ifnull(model_id, x'') = ? AND ifnull(sample_index, -1) = ?"
)
"""Whether a run holds an item key (its model and sample parts as index keys)."""
ORDER_TABLE: Final = (
    # No declared type on model_key: no affinity, so a model id stays text ("0123"
    # never becomes 123) and the default cell's empty blob stays a blob.
    "CREATE TEMP TABLE IF NOT EXISTS awaken_item_order ("
    "fixture_id TEXT NOT NULL, model_key NOT NULL, sample_key INTEGER NOT NULL, "
    "position INTEGER NOT NULL, PRIMARY KEY (fixture_id, model_key, sample_key))"
)
"""The temporary table of item positions a finish orders the items by."""
REORDER: Final = (
    "UPDATE items SET seq = coalesce(("
    "SELECT o.position FROM temp.awaken_item_order AS o "
    "WHERE o.fixture_id = items.fixture_id AND o.model_key = ifnull(items.model_id, x'') "
    "AND o.sample_key = ifnull(items.sample_index, -1)), ? + seq) "
    "WHERE run_id = ?"
)
"""Renumber a run's items: listed keys by position, the others after them in order."""


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection, *, write: bool) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises.

    Args:
        connection: A connection in autocommit mode (transactions are explicit).
        write: Take the write lock up front (``BEGIN IMMEDIATE``), so two writers
            never deadlock on a lock upgrade.
    """
    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to the newest version, all steps in one transaction.

    Args:
        connection: The newly opened connection.
        path: The database file, named in the error.

    Raises:
        StoreFailure: When the file has a newer schema than this release knows.
    """
    target = len(_MIGRATIONS)
    if connection.execute("PRAGMA user_version").fetchone()[0] == target:
        return
    with transaction(connection, write=True):
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
