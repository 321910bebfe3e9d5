"""A PostgreSQL database of its own for each test session (each xdist worker).

The server is the one ``$AWAKEN_EVAL_TEST_POSTGRES`` names (default
``postgresql://postgres@127.0.0.1:5432/test``, as ``.ci/run`` sets it). The first
test that needs it creates a database with a random name; ``conftest.py`` drops it
when the session ends. Tests then take a schema of their own in it (:func:`url_for`),
so parallel workers and other sessions on the same server never meet. When no server
answers, the tests that need one are skipped, unless ``$AWAKEN_EVAL_REQUIRE_POSTGRES``
is set (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_URL = os.environ.get("AWAKEN_EVAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_state: dict[str, str] = {}


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def database_url() -> str:
    """The session's own database (created on first use), or skip/fail without a server."""
    if "url" in _state:
        return _state["url"]
    import psycopg  # noqa: PLC0415

    name = f"awaken_test_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"no PostgreSQL server at {BASE_URL}: {exc}"
        if os.environ.get("AWAKEN_EVAL_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    _state["url"] = _with_database(BASE_URL, name)
    _state["name"] = name
    return _state["url"]


def url_for(key: str) -> str:
    """A store URL with a schema of its own, the same for the same ``key``."""
    schema = "t_" + hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{database_url()}?schema={schema}"


def fresh_url() -> str:
    """A store URL with a new, empty schema."""
    return url_for(secrets.token_hex(8))


def drop_database() -> None:
    """Drop the session's database, if one was created (closing leftover connections)."""
    name = _state.pop("name", None)
    _state.pop("url", None)
    if name is None:
        return
    import psycopg  # noqa: PLC0415

    with psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
