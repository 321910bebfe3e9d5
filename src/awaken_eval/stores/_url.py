"""Open a run store from a URL or a path, as the CLI's ``--store`` option does.

=======================================  ==================================================
``sqlite:///runs/evals.sqlite3``         SQLite file, path relative to the working directory
``sqlite:////var/lib/evals.sqlite3``     SQLite file, absolute path (four slashes)
``file:///var/lib/eval-runs``            a directory of JSON run files, absolute path
``file:eval-runs``                       the same, path relative to the working directory
``memory:``                              a new, empty in-memory store (nothing persists)
``postgresql://user@host:5432/db``       a PostgreSQL database (``postgres://`` too; libpq's
                                         URL, plus ``?schema=NAME``, default ``awaken_eval``)
``runs.sqlite3`` / ``runs.db``           a bare path ending in ``.sqlite3``, ``.sqlite`` or
                                         ``.db``: SQLite
``eval-runs/``                           any other bare path: a directory of run files
=======================================  ==================================================

Percent-escapes in URL paths are decoded. The SQLite, file and PostgreSQL stores are
imported only when such a URL is opened (PostgreSQL needs the ``[postgres]`` extra).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec
from urllib.parse import unquote

import attrs

from awaken_eval.errors import InvalidRequest, NotFound, StoreFailure
from awaken_eval.protocols import EvalRunStore

__all__ = [
    "StoreLocation",
    "open_run_store",
    "parse_store_url",
]

P = ParamSpec("P")

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+):(?P<rest>.*)$", re.DOTALL)
_SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
_KINDS = (
    "sqlite:///PATH, sqlite:////ABSOLUTE/PATH, file:///DIR, file:DIR, "
    "postgresql://USER@HOST:PORT/DATABASE, memory:"
)


@attrs.frozen
class StoreLocation:
    """Where a store URL points.

    Attributes:
        kind: ``"sqlite"``, ``"file"``, ``"postgresql"`` or ``"memory"``.
        path: The database file or the run directory (``None`` for ``memory`` and
            ``postgresql``).
        url: The PostgreSQL URL (``None`` for the other kinds).
    """

    kind: str
    path: Path | None = None
    url: str | None = None


def _unsupported(url: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"unsupported run store URL {url!r}: {reason} (use {_KINDS})")


def _no_nul(url: str, path: str) -> str:
    if "\0" in path:
        raise _unsupported(url, "the path contains a NUL character")
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        raise _unsupported(url, "the path is not valid text (a lone surrogate)") from None
    return path


def _sqlite_path(url: str, rest: str) -> Path:
    if not rest.startswith("///"):
        msg = "a SQLite URL has three slashes before a relative path, four before an absolute one"
        raise _unsupported(url, msg)
    path = _no_nul(url, unquote(rest[3:]))
    if not path or path == "/":
        raise _unsupported(url, "the database path is empty")
    return Path(path)


def _file_path(url: str, rest: str) -> Path:
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            raise _unsupported(url, f"file URLs on another host ({host!r}) are not supported")
        path = slash + path
    else:
        path = rest
    path = _no_nul(url, unquote(path))
    if not path:
        raise _unsupported(url, "the directory path is empty")
    return Path(path)


def parse_store_url(url: str) -> StoreLocation:
    """Tell what kind of store ``url`` names and where, without touching the disk.

    Args:
        url: A store URL or a bare path (see the module documentation).

    Returns:
        The kind and path.

    Raises:
        InvalidRequest: for an empty string, an unknown scheme or a malformed URL; the
            message lists the supported forms.
    """
    if not url.strip():
        raise _unsupported(url, "it is empty")
    match = _SCHEME.match(url)
    if match is None:  # a bare path (a one-letter "scheme" is a Windows drive)
        path = Path(_no_nul(url, url))
        kind = "sqlite" if path.suffix.lower() in _SQLITE_SUFFIXES else "file"
        return StoreLocation(kind, path)
    scheme, rest = match["scheme"].lower(), match["rest"]
    if scheme == "memory":
        if rest.strip("/"):
            raise _unsupported(url, "a memory store takes no path")
        return StoreLocation("memory")
    if scheme in ("sqlite", "sqlite3"):
        return StoreLocation("sqlite", _sqlite_path(url, rest))
    if scheme == "file":
        return StoreLocation("file", _file_path(url, rest))
    if scheme in ("postgresql", "postgres"):
        if not rest.startswith("//"):
            raise _unsupported(url, "a PostgreSQL URL starts with postgresql://")
        return StoreLocation("postgresql", url=url)
    raise _unsupported(url, f"unknown scheme {scheme!r}")


def _file_system_errors_as_store_failures(
    function: Callable[P, EvalRunStore],
) -> Callable[P, EvalRunStore]:
    """Report an ``OSError`` of opening a store as a ``StoreFailure`` naming the URL."""

    @functools.wraps(function)
    def opened(*args: P.args, **kwargs: P.kwargs) -> EvalRunStore:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            url = args[0] if args else kwargs.get("url")
            msg = f"cannot open run store {url!r}: {exc.strerror or exc}"
            raise StoreFailure(msg) from None

    return opened


@_file_system_errors_as_store_failures
def open_run_store(url: str, *, create: bool = True, read_only: bool = False) -> EvalRunStore:
    """Open the run store ``url`` names.

    Args:
        url: A store URL or a bare path (see the module documentation).
        create: Create a missing database file or run directory (and its parent
            directories). When false, a store that does not exist yet is an error,
            so read-only commands leave no empty store behind.
        read_only: Open the store only to read it (implies ``create=False``): a SQLite
            database is opened with ``mode=ro`` and nothing is ever written, so a
            store without write permission can be listed and read; every write
            raises :class:`~awaken_eval.StoreFailure`.

    Returns:
        A :class:`~awaken_eval.stores.InMemoryRunStore`, a
        :class:`~awaken_eval.stores.FileEvalRunStore`, a
        :class:`~awaken_eval.stores.SqliteRunStore` or a
        :class:`~awaken_eval.stores.PostgresRunStore` (which connects on its first
        call, so its errors come from there); each implements the
        ``EvalRunStore``, ``PrunableRunStore`` and ``StreamingRunStore`` protocols.

    Raises:
        InvalidRequest: for an unsupported URL, or a path of the wrong kind (a
            directory where a database file is expected, a file where a run directory
            is expected).
        NotFound: when ``create`` is false and the store does not exist (for
            PostgreSQL: on the first call, when the schema was never created).
        StoreFailure: when the file system refuses the path (too long, no permission).
    """
    location = parse_store_url(url)
    if location.kind == "memory":
        from awaken_eval.stores._memory import InMemoryRunStore  # noqa: PLC0415

        return InMemoryRunStore()
    if location.kind == "postgresql":
        try:
            from awaken_eval.stores._postgres.store import PostgresRunStore  # noqa: PLC0415
        except ImportError as exc:
            msg = (
                f"run store {url!r} needs the PostgreSQL driver ({exc}); "
                "install it with: pip install 'awaken-eval[postgres]'"
            )
            raise InvalidRequest(msg) from None
        return PostgresRunStore(url, create=create and not read_only)
    path = location.path
    assert path is not None  # noqa: S101 - set for every kind but memory
    if (read_only or not create) and not path.exists():
        msg = f"no run store at {url!r}: {str(path)!r} does not exist"
        raise NotFound(msg)
    if location.kind == "sqlite":
        if path.is_dir():
            msg = f"run store {url!r}: {str(path)!r} is a directory, not a SQLite database"
            raise InvalidRequest(msg)
        from awaken_eval.stores._sqlite.store import SqliteRunStore  # noqa: PLC0415

        if read_only:
            return SqliteRunStore(path, read_only=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteRunStore(path)
    if path.exists() and not path.is_dir():
        msg = f"run store {url!r}: {str(path)!r} is a file, not a run directory"
        raise InvalidRequest(msg)
    from awaken_eval.stores._files.store import FileEvalRunStore  # noqa: PLC0415

    if read_only:
        return FileEvalRunStore(path, read_only=True)
    path.mkdir(parents=True, exist_ok=True)
    return FileEvalRunStore(path)
