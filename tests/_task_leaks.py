"""A pytest plugin that fails a test whose asyncio tasks died with an unretrieved exception.

asyncio reports such a task only when the task is garbage collected, as an error on the
``asyncio`` logger ("Task exception was never retrieved"), which pytest prints and then
ignores. One cause met in this suite: Hypothesis stops an example by raising
``StopTest`` (a ``BaseException``) from a draw; drawn lazily inside an async test
(``st.data()``, ``st.randoms()``), it kills anyio's test-runner task, whose exception
nobody retrieves. This plugin collects those log records; after each async Hypothesis
test it collects garbage and fails the test's teardown if one appeared, and at the end
of the session it fails the run for any that appeared elsewhere.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest

NEVER_RETRIEVED = "exception was never retrieved"


class _Collector(logging.Handler):
    """Keeps the "never retrieved" records of the ``asyncio`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if NEVER_RETRIEVED in message:
            exception = record.exc_info[1] if record.exc_info else None
            self.found.append(f"{message.splitlines()[0]}: {exception!r}")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


_COLLECTOR = _Collector()


def pytest_configure(config: pytest.Config) -> None:
    """Listen to the ``asyncio`` logger for the whole session."""
    del config
    logging.getLogger("asyncio").addHandler(_COLLECTOR)


def _async_hypothesis(item: pytest.Item) -> bool:
    function = getattr(item, "obj", None)
    return item.get_closest_marker("anyio") is not None and bool(
        getattr(function, "is_hypothesis_test", False)
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """After an async Hypothesis test: collect its dead tasks and fail on a leaked one."""
    yield
    if _async_hypothesis(item):
        gc.collect()
    found = _COLLECTOR.take()
    if found:
        pytest.fail("task leak: " + "; ".join(found), pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run for a leaked task reported after the last teardown."""
    gc.collect()
    found = _COLLECTOR.take()
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("task leak: " + "; ".join(found), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
