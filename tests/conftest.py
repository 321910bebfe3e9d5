"""Shared pytest configuration: async tests run on both asyncio and trio; the ``cli`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import postgres_support
from awaken_eval.cli import main
from cli_support import Cli, Result


@pytest.fixture(scope="session", autouse=True)
def _postgres_database() -> Iterator[None]:
    """Drop the session's PostgreSQL database at the end, if a test created one."""
    yield
    postgres_support.drop_database()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test once per backend."""
    backend: str = request.param
    return backend


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``awaken-eval`` in-process with the given arguments; capture what it printed."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
