"""The PostgreSQL stores' tables: their versioned DDL, the statements over them, migration.

All tables live in one PostgreSQL schema (``awaken_eval`` unless the URL names another
with ``?schema=``), which every pooled connection has as its ``search_path``:

* ``runs``: one row per run (identity, timing, state and the counts a listing needs);
* ``items``: one row per item (its key columns and its JSON document in the wire
  format), deleted with its run;
* ``datasets``: one row per dataset (its revision and its JSON document);
* ``awaken_schema``: the schema version.

Identifiers that may hold any text (dataset, fixture and model ids) are ``bytea`` of
their UTF-8 encoding: PostgreSQL ``text`` cannot hold NUL, and bytes compare like code
points. Unsigned 64-bit values are ``numeric(20)`` with range checks. Documents are
``json``, not ``jsonb``: ``json`` keeps the text exactly as written (``jsonb`` cannot
hold ``\\u0000`` and normalizes numbers such as ``-0.0``), and the payload is opaque to
the database.

:func:`migrate` applies the migrations in order, in one transaction, under a
transaction-level advisory lock on the schema's name, so several processes opening
one database at once migrate it exactly once; a schema written by a newer awaken-eval
is refused with :class:`~awaken_eval.StoreFailure`.
"""

from __future__ import annotations

from typing import Final

import psycopg
from psycopg import sql

from awaken_eval.errors import NotFound, StoreFailure

__all__ = [
    "INSERT_RUN",
    "ITEM_COLUMNS",
    "SCHEMA_VERSION",
    "SELECT_RUN",
    "migrate",
]

_U64 = "numeric(20, 0) CHECK ({0} >= 0 AND {0} <= 18446744073709551615)"

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: runs, items and datasets.
    (
        f"""
        CREATE TABLE runs (
            id text COLLATE "C" NOT NULL PRIMARY KEY,
            dataset_id bytea NOT NULL,
            dataset_revision {_U64.format("dataset_revision")} NOT NULL,
            execution_mode text NOT NULL,
            started_at_secs {_U64.format("started_at_secs")} NOT NULL,
            ended_at_secs {_U64.format("ended_at_secs")},
            state text NOT NULL CHECK (state IN ('open', 'finished')),
            fixture_digests json NOT NULL,
            item_count bigint NOT NULL,
            passed_count bigint NOT NULL
        )
        """,
        # Listings read finished runs newest first, optionally of one dataset.
        """
        CREATE INDEX runs_by_start ON runs (started_at_secs DESC, id DESC)
        WHERE state = 'finished'
        """,
        """
        CREATE INDEX runs_by_dataset ON runs (dataset_id, started_at_secs DESC, id DESC)
        WHERE state = 'finished'
        """,
        "CREATE INDEX runs_open ON runs (id) WHERE state = 'open'",
        # `seq` is the item's position: append order while the run is open, the
        # requested order once it is finished.
        """
        CREATE TABLE items (
            run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            fixture_id bytea NOT NULL,
            model_id bytea,
            sample_index bigint,
            document json NOT NULL
        )
        """,
        "CREATE INDEX items_by_seq ON items (run_id, seq)",
        # The item key, unique per run: an absent model (the default cell) or sample
        # index is one value, distinct from every present one.
        """
        CREATE UNIQUE INDEX items_by_key ON items (run_id, fixture_id, model_id, sample_index)
        NULLS NOT DISTINCT
        """,
        f"""
        CREATE TABLE datasets (
            id text COLLATE "C" NOT NULL PRIMARY KEY,
            revision {_U64.format("revision")} NOT NULL,
            document json NOT NULL
        )
        """,
    ),
)
"""Migration ``n`` (0-based) takes a schema from version ``n`` to ``n + 1``."""

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this release writes."""

SELECT_RUN: Final = (
    "SELECT id, dataset_id, dataset_revision, execution_mode, started_at_secs, ended_at_secs, "
    "fixture_digests::text, item_count, passed_count FROM runs"
)
"""The run row, read by every operation (the row helpers index its columns)."""
INSERT_RUN: Final = (
    "INSERT INTO runs (id, dataset_id, dataset_revision, execution_mode, started_at_secs, "
    "ended_at_secs, fixture_digests, item_count, passed_count, state) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
"""One run row: the nine columns of :data:`SELECT_RUN`, then its state."""
ITEM_COLUMNS: Final = "(run_id, seq, fixture_id, model_id, sample_index, document)"
"""The columns of an item row, in the order :func:`.rows.item_rows` yields them."""

_LOCK: Final = "SELECT pg_advisory_xact_lock(hashtext(%s))"
_VERSION_TABLE: Final = "CREATE TABLE IF NOT EXISTS awaken_schema (version integer NOT NULL)"


def migrate(
    connection: psycopg.Connection[tuple[object, ...]], schema: str, where: str, *, create: bool
) -> None:
    """Create or bring the schema to the newest version, all steps in one transaction.

    Args:
        connection: A new connection in autocommit mode.
        schema: The PostgreSQL schema holding the tables (created when missing).
        where: The database, as named in errors (no password).
        create: Create a missing schema; when false, a missing one is an error.

    Raises:
        StoreFailure: When the schema is newer than this release knows.
        NotFound: When ``create`` is false and the schema has no store tables.
    """
    if not create:
        found = connection.execute(
            "SELECT to_regclass(%s)", (sql.Identifier(schema, "awaken_schema").as_string(None),)
        ).fetchone()
        if found is None or found[0] is None:
            msg = f"no run store at {where}: schema {schema!r} has no awaken-eval tables"
            raise NotFound(msg)
    with connection.transaction():
        # Serializes concurrent openers: the loser waits, then sees the new version.
        connection.execute(_LOCK, (f"awaken_eval schema {schema}",))
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        connection.execute(_VERSION_TABLE)
        row = connection.execute("SELECT max(version) FROM awaken_schema").fetchone()
        version = 0 if row is None or row[0] is None else int(str(row[0]))
        if version > SCHEMA_VERSION:
            msg = (
                f"{where}: schema {schema!r} has version {version}, newer than the newest "
                f"this awaken-eval knows ({SCHEMA_VERSION}); upgrade awaken-eval"
            )
            raise StoreFailure(msg)
        if version == SCHEMA_VERSION:
            return
        for statements in _MIGRATIONS[version:]:
            for statement in statements:
                connection.execute(statement.encode())
        connection.execute("DELETE FROM awaken_schema")
        connection.execute("INSERT INTO awaken_schema VALUES (%s)", (SCHEMA_VERSION,))
