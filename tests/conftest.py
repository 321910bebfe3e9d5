"""Shared pytest configuration: async tests run on both asyncio and trio; the ``cli`` fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import postgres_support
from awaken_eval.cli import main
from cli_support import Cli, Result

pytest_plugins = ["_task_leaks"]  # a test whose asyncio task leaked an exception fails


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


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster (``num_cpus=2``) per test process, for the ``ray`` tests.

    Its workers can import this directory's modules (``_ray_parts``). Started once and
    shut down at the end of the session: Ray restarted in one process loses actors.
    The ``ray`` tests run in one xdist group, so only one cluster starts under ``-n``.
    """
    import ray  # noqa: PLC0415 - only the Ray tests need it

    here = Path(__file__).resolve().parent
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "RAY_AUTH_MODE")}
    paths = [str(here), str(here.parent / "src"), saved["PYTHONPATH"] or ""]
    os.environ["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        for name, value in saved.items():  # the cluster's processes have inherited them
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield
    finally:
        ray.shutdown()
