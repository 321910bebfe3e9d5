"""Rules of the test suite itself (issue 12, item 19).

* No async Hypothesis test draws lazily (``st.data()``, ``st.randoms()``): a lazy draw
  can raise Hypothesis's ``StopTest`` (a ``BaseException``) inside anyio's test-runner
  task, which dies with it; asyncio then prints "Task exception was never retrieved".
  This happened in the SQLite store tests (``st.randoms`` in
  ``test_streaming_agrees_with_the_in_memory_store``); the seed is now drawn up front.
* Such a leak fails the run: the ``_task_leaks`` plugin (loaded by ``conftest.py``)
  turns the asyncio log record into a test failure. Checked here on a test made to leak.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
LAZY_STRATEGIES = frozenset({"data", "randoms"})


def _lazy_draws(decorator: ast.expr) -> list[str]:
    """The lazy strategies a ``@given(...)`` decorator passes (``st.data()``, ...)."""
    if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "given"):
        return []
    arguments = [*decorator.args, *(keyword.value for keyword in decorator.keywords)]
    return [
        node.func.attr
        for argument in arguments
        for node in ast.walk(argument)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in LAZY_STRATEGIES
    ]


def test_no_async_hypothesis_test_draws_lazily() -> None:
    offenders = [
        f"{path.name}:{node.lineno} {node.name} uses st.{name}()"
        for path in sorted(TESTS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.AsyncFunctionDef)
        for decorator in node.decorator_list
        for name in _lazy_draws(decorator)
    ]
    assert [] == offenders


def test_the_rule_sees_a_lazy_draw() -> None:
    source = "@given(st.lists(st.integers()), seed=st.randoms())\nasync def test_x(a, seed): ...\n"
    [function] = ast.parse(source).body
    assert isinstance(function, ast.AsyncFunctionDef)
    assert ["randoms"] == _lazy_draws(function.decorator_list[0])


LEAKING_TESTS = """
    import asyncio

    import pytest


    class Stop(BaseException):
        \"\"\"Like Hypothesis's StopTest: not an Exception, so anyio does not re-raise it.\"\"\"


    @pytest.fixture
    def anyio_backend():
        return "asyncio"


    @pytest.mark.anyio
    async def test_leaks_a_task_that_died():
        async def die():
            raise Stop("drawn past the end")

        task = asyncio.get_running_loop().create_task(die())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert task.done()


    def test_after():
        pass
"""


PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
PYTEST += ["-p", "_task_leaks"]


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    return subprocess.run(  # noqa: S603 - our own interpreter and pytest
        [*PYTEST, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_leaked_task_exception_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_leaking.py").write_text(textwrap.dedent(LEAKING_TESTS), "utf-8")
    result = run_pytest(tmp_path, "test_leaking.py")
    output = result.stdout + result.stderr
    assert 0 != result.returncode, output
    assert "task leak: Task exception was never retrieved: Stop('drawn past the end')" in output
    clean = run_pytest(tmp_path, "test_leaking.py::test_after")
    assert 0 == clean.returncode, clean.stdout + clean.stderr


@pytest.mark.anyio
async def test_an_async_test_without_a_leak_passes() -> None:
    assert "never retrieved" not in repr(sys.exc_info())
