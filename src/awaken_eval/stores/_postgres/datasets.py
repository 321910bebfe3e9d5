"""``PostgresDatasetStore``: datasets in PostgreSQL, compare-and-swap on the revision.

One row per dataset in the ``datasets`` table (see :mod:`.schema`): its id, its
revision and its :class:`~awaken_eval.DatasetSpec` as JSON in the wire format. A ``put``
is one conditional statement in one transaction: the first revision is an ``INSERT
... ON CONFLICT DO NOTHING``, every later one an ``UPDATE ... WHERE revision =
expected``, so of two processes writing the same revision exactly one wins and the
other gets :class:`~awaken_eval.Conflict`, with nothing changed.
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import Self

import anyio.to_thread

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.rules import validate_dataset_for_write
from awaken_eval._records.store import DatasetRecord
from awaken_eval._records.types import U64_MAX
from awaken_eval._wire.converter import from_json, to_json
from awaken_eval.errors import Conflict, InvalidInput, NotFound, StoreFailure
from awaken_eval.stores._datasets import validate_dataset_id
from awaken_eval.stores._postgres.database import DEFAULT_SCHEMA, Connection, Database

__all__ = ["PostgresDatasetStore"]


class PostgresDatasetStore:
    """Datasets in a PostgreSQL database, shared by every process that opens it.

    Implements :class:`~awaken_eval.protocols.DatasetStore`; a dataset never written
    has the implicit revision 0. It shares the schema (and its migrations) with
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
        revision, document = row
        if not (
            isinstance(revision, Decimal)
            and revision == revision.to_integral_value()
            and 0 < revision <= U64_MAX
        ):
            msg = f"dataset {dataset_id} in {self._db.where} has a corrupt revision {revision!r}"
            raise StoreFailure(msg)
        try:
            spec = from_json(DatasetSpec, document)
        except InvalidInput as exc:
            raise exc.located(source=f"{self._db.where} dataset {dataset_id}") from None
        return DatasetRecord(spec, int(revision))

    async def put(self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int) -> int:
        """Store ``spec`` if the stored revision is ``expected_revision``; return the new one.

        Raises:
            InvalidRequest: an invalid id or dataset (nothing is stored).
            Conflict: the stored revision is not ``expected_revision``
                (``revision conflict: expected X, actual Y``).
            StoreFailure: the database fails (nothing is stored).
        """
        validate_dataset_id(dataset_id)
        validate_dataset_for_write(spec)
        document = to_json(spec)

        def put(connection: Connection) -> int:
            with connection.transaction():
                if expected_revision == 0:
                    changed = connection.execute(
                        "INSERT INTO datasets (id, revision, document) VALUES (%s, 1, %s) "
                        "ON CONFLICT (id) DO NOTHING",
                        (dataset_id, document),
                    ).rowcount
                elif 0 < expected_revision < U64_MAX:
                    changed = connection.execute(
                        "UPDATE datasets SET revision = revision + 1, document = %s "
                        "WHERE id = %s AND revision = %s",
                        (document, dataset_id, expected_revision),
                    ).rowcount
                else:
                    changed = 0
                if changed == 1:
                    return expected_revision + 1
                row = connection.execute(
                    "SELECT revision FROM datasets WHERE id = %s", (dataset_id,)
                ).fetchone()
                actual = 0 if row is None else int(row[0])
                msg = f"revision conflict: expected {expected_revision}, actual {actual}"
                raise Conflict(msg)

        return await self._db.call(f"write dataset {dataset_id}", put)
