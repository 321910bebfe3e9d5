"""``PostgresDatasetStore``: datasets in PostgreSQL, compare-and-swap on the revision.

One row per dataset in the ``datasets`` table (see :mod:`.schema`): its id, its
revision and its :class:`~awaken_eval.DatasetSpec` as JSON in the wire format. A ``put``
is one conditional statement in one transaction: a create is an ``INSERT ... ON
CONFLICT DO NOTHING``, a replace an ``UPDATE ... WHERE revision = expected`` and a
compare-and-swap delete a ``DELETE ... WHERE revision = expected``, so of two processes
writing the same revision exactly one wins and the other gets
:class:`~awaken_eval.Conflict`, with nothing changed.
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import Self

import anyio.to_thread

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.rules import validate_dataset_for_write
from awaken_eval._records.store import DatasetRecord, DatasetSummary
from awaken_eval._records.types import U64_MAX
from awaken_eval._wire.converter import from_json, to_json
from awaken_eval.errors import InvalidInput, InvalidRequest, NotFound, StoreFailure
from awaken_eval.stores._datasets import (
    next_revision,
    stale_revision,
    summarize,
    validate_dataset_id,
)
from awaken_eval.stores._postgres.database import DEFAULT_SCHEMA, Connection, Database

__all__ = ["PostgresDatasetStore"]


class PostgresDatasetStore:
    """Datasets in a PostgreSQL database, shared by every process that opens it.

    Implements :class:`~awaken_eval.protocols.DatasetStore` and
    :class:`~awaken_eval.protocols.DatasetLister`; a dataset is created at revision 0.
    It shares the schema (and its migrations) with
    :class:`~awaken_eval.stores.PostgresRunStore`.

    Args:
        url: A libpq URL, ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE``
            (optionally with ``schema=NAME``).
        schema: The PostgreSQL schema of the tables, when the URL names none.
        max_connections: Connections the store's pool may open.
        connect_timeout_secs: How long a connection, or a free pooled one, may take.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        max_connections: int = 4,
        connect_timeout_secs: float = 10.0,
    ) -> None:
        """Remember the database; it is opened (and migrated) by the first call."""
        self._db = Database(
            url,
            schema=schema,
            max_connections=max_connections,
            connect_timeout_secs=connect_timeout_secs,
        )

    async def __aenter__(self) -> Self:
        """Open the database (creating and migrating the schema as needed)."""
        await self._db.call("open the database", lambda _: None)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        await anyio.to_thread.run_sync(self.close)

    def close(self) -> None:
        """Close the pool's connections; later calls raise ``StoreFailure``. Idempotent."""
        self._db.close()

    async def get(self, dataset_id: str) -> DatasetRecord:
        """Load ``dataset_id``.

        Raises:
            NotFound: ``dataset not found: <id>``.
            InvalidInput: the stored document is not a valid dataset (naming the row and
                the JSON path of every problem).
            StoreFailure: the database fails, or the stored revision is corrupt.
        """
        validate_dataset_id(dataset_id)

        def get(connection: Connection) -> tuple[object, str] | None:
            query = "SELECT revision, document::text FROM datasets WHERE id = %s"
            return connection.execute(query, (dataset_id,)).fetchone()

        row = await self._db.call(f"read dataset {dataset_id}", get)
        if row is None:
            msg = f"dataset not found: {dataset_id}"
            raise NotFound(msg)
        return self._record(dataset_id, *row)

    def _record(self, dataset_id: str, revision: object, document: str) -> DatasetRecord:
        if not (
            isinstance(revision, Decimal)
            and revision == revision.to_integral_value()
            and 0 <= revision <= U64_MAX
        ):
            msg = f"dataset {dataset_id} in {self._db.where} has a corrupt revision {revision!r}"
            raise StoreFailure(msg)
        try:
            spec = from_json(DatasetSpec, document)
        except InvalidInput as exc:
            raise exc.located(source=f"{self._db.where} dataset {dataset_id}") from None
        return DatasetRecord(spec, int(revision))

    async def list_datasets(
        self, *, offset: int = 0, limit: int | None = None
    ) -> list[DatasetSummary]:
        """The datasets sorted by id, from ``offset``, at most ``limit``.

        Raises:
            InvalidInput: a stored document is malformed (the whole list fails).
            StoreFailure: the database fails.
        """
        if offset < 0 or (limit is not None and limit < 0):
            msg = f"offset and limit must be >= 0, got {offset} and {limit}"
            raise InvalidRequest(msg)

        def rows(connection: Connection) -> list[tuple[str, object, str]]:
            query = (
                "SELECT id, revision, document::text FROM datasets ORDER BY id LIMIT %s OFFSET %s"
            )
            return list(connection.execute(query, (limit, offset)).fetchall())

        found = await self._db.call("list datasets", rows)
        return [summarize(key, self._record(key, revision, doc)) for key, revision, doc in found]

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        """Delete ``dataset_id`` (nothing when missing).

        Raises:
            Conflict: ``expected_revision`` is given and stale.
            StoreFailure: the database fails.
        """
        validate_dataset_id(dataset_id)

        def delete(connection: Connection) -> None:
            with connection.transaction():
                if expected_revision is None:
                    connection.execute("DELETE FROM datasets WHERE id = %s", (dataset_id,))
                    return
                row = connection.execute(
                    "DELETE FROM datasets WHERE id = %s RETURNING revision", (dataset_id,)
                ).fetchone()
                if row is not None and int(row[0]) != expected_revision:
                    raise stale_revision(expected_revision, int(row[0]))  # rolls the delete back

        await self._db.call(f"delete dataset {dataset_id}", delete)

    async def put(
        self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
    ) -> int:
        """Create (``expected_revision=None``) or compare-and-swap replace; return the revision.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is stored).
            Conflict: the dataset exists (create) or its revision is not ``expected_revision``
                (``revision conflict: expected X, actual Y``).
            NotFound: replacing a missing dataset with ``expected_revision`` > 0.
            StoreFailure: the database fails (nothing is stored).
        """
        validate_dataset_id(dataset_id)
        validate_dataset_for_write(spec)
        document = to_json(spec)

        def put(connection: Connection) -> int:
            with connection.transaction():
                if expected_revision is None or expected_revision == 0:
                    revision = 0 if expected_revision is None else 1
                    changed = connection.execute(
                        "INSERT INTO datasets (id, revision, document) VALUES (%s, %s, %s) "
                        "ON CONFLICT (id) DO NOTHING",
                        (dataset_id, revision, document),
                    ).rowcount
                    if changed == 1:
                        return revision
                if expected_revision is not None and 0 <= expected_revision < U64_MAX:
                    changed = connection.execute(
                        "UPDATE datasets SET revision = revision + 1, document = %s "
                        "WHERE id = %s AND revision = %s",
                        (document, dataset_id, expected_revision),
                    ).rowcount
                    if changed == 1:
                        return expected_revision + 1
                row = connection.execute(
                    "SELECT revision FROM datasets WHERE id = %s", (dataset_id,)
                ).fetchone()
                current = None if row is None else int(row[0])
                # Raises the conflict (or not found) the stored revision explains.
                next_revision(dataset_id, current, expected_revision)
                raise stale_revision(expected_revision or 0, current or 0)

        return await self._db.call(f"write dataset {dataset_id}", put)
