"""The connection pool of a PostgreSQL store, and the worker threads calls run in.

Driver: psycopg 3 with :mod:`psycopg_pool` (the ``[postgres]`` extra). The pool used is
psycopg's synchronous one, driven from worker threads
(:func:`anyio.to_thread.run_sync`), for the reasons the SQLite store runs in worker
threads too: a store object must work on asyncio and on trio (psycopg's async
connections and pool exist only for asyncio), across event loops (the CLI runs one
``anyio.run`` per command and closes the store after it), and be closable without an
event loop. Blocking calls never run on the event loop; concurrent calls use up to
``max_connections`` connections at once.

Resilience: the pool checks a connection before handing it out
(:meth:`psycopg_pool.ConnectionPool.check_connection`), so a connection the server
dropped (a restart, ``pg_terminate_backend``, an idle timeout) is replaced before it
is used; a connection that breaks during a call fails that call with
:class:`~awaken_eval.StoreFailure` (its transaction is rolled back by the server, so
nothing of it was acknowledged) and is discarded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio.to_thread
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from awaken_eval.errors import InvalidInput, InvalidRequest, StoreFailure
from awaken_eval.stores._postgres.schema import migrate

__all__ = ["DEFAULT_SCHEMA", "Connection", "Database", "redacted"]

T = TypeVar("T")
Connection = psycopg.Connection[tuple[Any, ...]]
"""A pooled connection, in autocommit mode with the store's schema as ``search_path``."""

DEFAULT_SCHEMA = "awaken_eval"
"""The PostgreSQL schema the tables live in unless the URL says ``?schema=``."""

_SCHEMES = ("postgresql", "postgres")


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


def split_schema(url: str) -> tuple[str, str | None]:
    """``url`` without its ``schema`` query parameter, and that parameter.

    Raises:
        InvalidRequest: When the URL is not a ``postgresql://`` or ``postgres://`` URL,
            or names the schema twice or as an empty string.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        msg = f"not a PostgreSQL URL: {redacted(url)!r} (use postgresql://USER@HOST:PORT/DB)"
        raise InvalidRequest(msg)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    if len(schemas) > 1 or (schemas and not schemas[0]):
        msg = f"PostgreSQL URL {redacted(url)!r}: give ?schema= once, with a name"
        raise InvalidRequest(msg)
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    return urlunsplit(parts._replace(query=rest)), schemas[0] if schemas else None


class Database:
    """One PostgreSQL database and schema, reached through a lazily opened pool.

    Args:
        url: ``postgresql://`` or ``postgres://`` URL (libpq's form), optionally with
            ``?schema=NAME``.
        schema: The schema the tables live in, when the URL names none.
        max_connections: The pool's size.
        connect_timeout_secs: How long opening a connection, or waiting for a free one,
            may take before the call fails.
        create: Create the schema when missing (else the first call raises ``NotFound``).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        max_connections: int = 8,
        connect_timeout_secs: float = 10.0,
        create: bool = True,
    ) -> None:
        """Remember where the database is; nothing is opened before the first call."""
        conninfo, in_url = split_schema(url)
        self.schema = in_url or schema
        if not self.schema or "\0" in self.schema:
            msg = f"invalid PostgreSQL schema name {self.schema!r}"
            raise InvalidRequest(msg)
        if max_connections < 1:
            msg = f"max_connections must be at least 1, got {max_connections}"
            raise InvalidRequest(msg)
        self.where = redacted(url)
        self._conninfo = conninfo
        self._max_connections = max_connections
        self._timeout = connect_timeout_secs
        self._create = create
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Connection] | None = None
        self._pid = 0
        self._closed = False

    def _open(self) -> ConnectionPool[Connection]:
        with self._lock:
            if self._closed:
                msg = f"{self.where}: the store is closed"
                raise StoreFailure(msg)
            if self._pool is not None and self._pid == os.getpid():
                return self._pool
            # A direct connection first: an unreachable server fails now with the
            # driver's own message, not after the pool's retries.
            with psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=max(1, int(self._timeout))
            ) as connection:
                migrate(connection, self.schema, self.where, create=self._create)
            pool: ConnectionPool[Connection] = ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._max_connections,
                kwargs={"autocommit": True, "connect_timeout": max(1, int(self._timeout))},
                configure=self._configure,
                check=ConnectionPool.check_connection,
                timeout=self._timeout,
                name=f"awaken-eval {self.schema}",
                open=True,
            )
            # A pool inherited through fork() belongs to the parent: never close it here.
            self._pool, self._pid = pool, os.getpid()
            return pool

    def _configure(self, connection: Connection) -> None:
        search_path = sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))
        connection.execute(search_path)

    async def call(self, what: str, operation: Callable[[Connection], T]) -> T:
        """Run ``operation`` with a pooled connection in a worker thread.

        Raises:
            StoreFailure: naming the database and ``what``, when the database fails
                or cannot be reached.
            InvalidInput: when text cannot be encoded (unpaired surrogates).
        """
        return await anyio.to_thread.run_sync(self.run, what, operation)

    def run(self, what: str, operation: Callable[[Connection], T]) -> T:
        """Run ``operation`` with a pooled connection in this thread (see :meth:`call`)."""
        try:
            with self._open().connection() as connection:
                return operation(connection)
        except psycopg.Error as exc:
            msg = f"{self.where}: cannot {what}: {exc}"
            raise StoreFailure(msg) from exc
        except UnicodeEncodeError as exc:
            msg = f"cannot {what}: text with unpaired surrogates cannot be stored ({exc})"
            raise InvalidInput.single("$", msg) from None

    def close(self) -> None:
        """Close the pool's connections; later calls raise ``StoreFailure``. Idempotent."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            if pool is not None and self._pid == os.getpid():
                pool.close()
