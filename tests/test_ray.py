"""Scale-out on a real Ray: ``RayDispatcher`` against the local worker pool.

One local Ray cluster (``ray.init(num_cpus=2)``, the ``ray_cluster`` fixture of
conftest) serves the session; the tests run in one xdist group, so under ``-n`` only one
cluster starts. Every run is bounded
in time by ``anyio.fail_after``; nothing sleeps as a barrier: the parts in
``_ray_parts`` report what they did through files.
"""

from __future__ import annotations

import collections
import functools
import os
import re
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from _ray_parts import LoggingReplayer
from awaken_eval import (
    ChatResponseEvent,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    Fixture,
    InvalidRequest,
    ResolvedModel,
    RunOptions,
    TokenUsage,
    load_directory,
    run_eval,
)
from awaken_eval.engine import SKIPPED_PREFIX, LocalDispatcher, UnitSpec
from awaken_eval.failures import ReplayRuntimeError
from awaken_eval.ray import ACTOR_LOST_PREFIX, RayDispatcher
from awaken_eval.stores import InMemoryRunStore, SqliteRunStore
from awaken_eval.testing import FailingExecutor
from builders import fixture as make_fixture
from cli_support import Cli

pytestmark = [
    pytest.mark.ray,
    pytest.mark.xdist_group("ray"),
    pytest.mark.usefixtures("ray_cluster"),
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICKSTART = ROOT / "examples" / "quickstart"
TIME_LIMIT = 120.0
"""Seconds any one run may take (a loaded 2-core machine included)."""


@pytest.fixture
def anyio_backend() -> str:
    """Ray's object references are awaited on asyncio."""
    return "asyncio"


async def _run(fixtures: list[Fixture], **kwargs: Any) -> EvalRun:
    with anyio.fail_after(TIME_LIMIT):
        return await run_eval(fixtures, **kwargs)


def _fixtures(prefix: str, count: int) -> list[Fixture]:
    return [make_fixture(fixture_id=f"{prefix}-{index:03d}") for index in range(count)]


def _logged(log: Path) -> collections.Counter[str]:
    return collections.Counter(log.read_text(encoding="utf-8").split())


@pytest.mark.anyio
async def test_scripted_run_through_ray_equals_the_local_run_item_by_item() -> None:
    fixtures = load_directory(QUICKSTART / "fixtures")
    local = await _run(fixtures, dispatcher=LocalDispatcher())
    remote = await _run(fixtures, dispatcher=RayDispatcher(actors=2, batch_size=3))
    assert [item.fixture_id for item in local.items] == [f.id for f in fixtures]
    assert [_timeless(item) for item in local.items] == [_timeless(item) for item in remote.items]
    summary = [
        (item.report.passed, item.report.failures, item.report.total_tokens)
        for item in remote.items
    ]
    assert summary == [
        (item.report.passed, item.report.failures, item.report.total_tokens) for item in local.items
    ]


def _timeless(item: EvalRunItem) -> EvalRunItem:
    """The item with its measured durations zeroed (two local runs differ there too)."""
    report = item.report
    stats = tuple(attrs.evolve(stat, total_duration_ms=0) for stat in report.tool_calls_by_agent)
    report = attrs.evolve(report, session_duration_ms=0, tool_calls_by_agent=stats)
    return attrs.evolve(item, report=report)


@pytest.mark.anyio
async def test_an_executor_given_by_import_string_runs_in_ray_worker_processes() -> None:
    fixtures = _fixtures("pid", 12)
    options = RunOptions(mode=EvalRunExecutionMode.LIVE, models=("m1", "m2"))
    spec = UnitSpec(executor="_ray_parts:pid_executor")
    dispatcher = RayDispatcher(spec=spec, actors=2, batch_size=4)
    # The driver's own executors are never called: the workers build theirs.
    run = await _run(fixtures, options=options, models=_refusing_models(), dispatcher=dispatcher)
    assert 24 == len(run.items)
    pids = {int(item.report.final_text) for item in run.items}
    assert pids
    assert os.getpid() not in pids
    assert all(item.report.passed for item in run.items)


def _refusing_models() -> list[ResolvedModel]:
    return [
        ResolvedModel(model_id=model, executor=FailingExecutor(), upstream_model=model)
        for model in ("m1", "m2")
    ]


@pytest.mark.anyio
async def test_a_killed_actor_process_loses_no_item(tmp_path: Path) -> None:
    fixtures = _fixtures("unit", 40)
    log = tmp_path / "executed.log"
    replayer = functools.partial(LoggingReplayer, log, kill_on="unit-013")
    dispatcher = RayDispatcher(spec=UnitSpec(replayer=replayer), actors=2, batch_size=4)
    store = InMemoryRunStore()
    run = await _run(fixtures, store=store, dispatcher=dispatcher)
    assert log.with_suffix(".killed").exists()  # the actor did die mid-run
    assert [f.id for f in fixtures] == [item.fixture_id for item in run.items]
    assert all(item.report.passed for item in run.items)
    stored = await store.read(run.id)
    assert [f.id for f in fixtures] == [item.fixture_id for item in stored.items]
    # Every unit finished at least once; those of the dead actor's batch maybe twice.
    assert set(_logged(log)) == {f.id for f in fixtures}


@pytest.mark.anyio
async def test_units_of_a_dead_actor_become_failures_once_retries_are_spent(
    tmp_path: Path,
) -> None:
    fixtures = _fixtures("unit", 16)
    log = tmp_path / "executed.log"
    replayer = functools.partial(LoggingReplayer, log, kill_on="unit-005")
    dispatcher = RayDispatcher(
        spec=UnitSpec(replayer=replayer), actors=2, batch_size=4, max_retries=0
    )
    run = await _run(fixtures, dispatcher=dispatcher)
    assert [f.id for f in fixtures] == [item.fixture_id for item in run.items]
    failed = {item.fixture_id: item for item in run.items if not item.report.passed}
    assert "unit-005" in failed
    for item in failed.values():
        failure = item.report.runtime_failure
        assert isinstance(failure, ReplayRuntimeError)
        assert failure.message.startswith(ACTOR_LOST_PREFIX)
    # Only units of the batches the dead actor held (2 of 4 units) can be lost.
    assert len(failed) <= 8
    assert all(item.report.passed for item in run.items if item.fixture_id not in failed)


@pytest.mark.anyio
async def test_cancel_then_resume_completes_the_run_with_no_unit_executed_twice(
    tmp_path: Path,
) -> None:
    fixtures = [*_fixtures("a", 20), *_fixtures("b", 8)]
    log = tmp_path / "executed.log"
    store = SqliteRunStore(tmp_path / "runs.sqlite3")
    options = RunOptions(run_id="01JRAYCANCE00000000000000A")
    blocking = functools.partial(LoggingReplayer, log, block_prefix="b-")
    with anyio.CancelScope() as scope:  # what Ctrl-C does to the run's task

        def cancel_when_the_instant_units_are_in(done: int, total: int) -> None:
            del total
            if done == 20:
                scope.cancel()

        await _run(
            fixtures,
            options=options,
            store=store,
            progress=cancel_when_the_instant_units_are_in,
            dispatcher=RayDispatcher(spec=UnitSpec(replayer=blocking), actors=2, batch_size=4),
        )
    assert scope.cancelled_caught
    assert 20 == sum(_logged(log).values())
    resumed = attrs.evolve(options, run_id=None, resume=options.run_id)
    finishing = functools.partial(LoggingReplayer, log)
    run = await _run(
        fixtures,
        options=resumed,
        store=store,
        dispatcher=RayDispatcher(spec=UnitSpec(replayer=finishing), actors=2, batch_size=4),
    )
    assert sorted(f.id for f in fixtures) == sorted(item.fixture_id for item in run.items)
    executed = _logged(log)
    assert {f.id for f in fixtures} == set(executed)
    assert {1} == set(executed.values())
    await store.aclose()


@pytest.mark.anyio
async def test_a_part_the_workers_cannot_build_fails_the_run_with_its_name() -> None:
    dispatcher = RayDispatcher(spec=UnitSpec(replayer="_ray_parts:no_such_factory"), actors=1)
    with pytest.raises(InvalidRequest, match=r"UnitSpec\.replayer '_ray_parts:no_such_factory'"):
        await _run(_fixtures("x", 2), dispatcher=dispatcher)


def test_bad_dispatcher_settings_are_refused_with_their_name() -> None:
    with pytest.raises(InvalidRequest, match="expected 'local', 'auto' or ray://HOST:PORT"):
        RayDispatcher(address="somewhere:10001")
    with pytest.raises(InvalidRequest, match="batch_size must be >= 1, got 0"):
        RayDispatcher(batch_size=0)
    with pytest.raises(InvalidRequest, match="max_retries must be >= 0, got -1"):
        RayDispatcher(max_retries=-1)


# -- the command line ------------------------------------------------------------------


def _table(out: str) -> str:
    # The run id and the store line differ between two runs; the rows must not.
    return re.sub(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", "<run id>", out)


def test_cli_run_with_ray_local_gives_the_same_table_and_stored_items(
    cli: Cli, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    plain = cli("run", str(QUICKSTART), "--store", store)
    on_ray = cli("run", str(QUICKSTART), "--store", store, "--ray", "local", "--ray-actors", "2")
    assert (plain.code, "") == (on_ray.code, on_ray.err)
    assert _table(plain.out) == _table(on_ray.out)

    async def read_both() -> tuple[EvalRun, EvalRun]:
        sqlite = SqliteRunStore(tmp_path / "runs.sqlite3")
        try:
            first = await sqlite.read(plain.totals()["id"])
            second = await sqlite.read(on_ray.totals()["id"])
        finally:
            await sqlite.aclose()
        return first, second

    first, second = anyio.run(read_both)
    assert [_timeless(item) for item in first.items] == [_timeless(item) for item in second.items]


def test_cli_ray_flags_are_checked(cli: Cli) -> None:
    result = cli("run", str(QUICKSTART), "--ray-actors", "2")
    assert 2 == result.code
    assert "--ray-actors needs --ray" in result.err
    result = cli("run", str(QUICKSTART), "--ray", "elsewhere")
    assert 2 == result.code
    assert "--ray 'elsewhere'" in result.err


def test_the_trio_backend_is_refused_with_a_clear_error() -> None:
    async def run_on_trio() -> None:
        await run_eval(_fixtures("t", 1), dispatcher=RayDispatcher(actors=1))

    with pytest.raises(InvalidRequest, match="RayDispatcher needs the asyncio backend"):
        anyio.run(run_on_trio, backend="trio")


@pytest.mark.anyio
async def test_the_run_token_budget_stays_global_no_batch_is_handed_out_once_spent() -> None:
    usage = TokenUsage(prompt_tokens=6, completion_tokens=4, total_tokens=10)
    fixtures = [
        make_fixture(
            fixture_id=f"spend-{index:02d}",
            provider_script=[ChatResponseEvent("ok", tokens=usage)],
        )
        for index in range(40)
    ]
    # One actor, one batch of 2 at a time: 20 tokens after the first batch, 40 > 25
    # after the second; the 36 units never handed out are skipped.
    dispatcher = RayDispatcher(actors=1, batch_size=2, inflight=1)
    run = await _run(fixtures, options=RunOptions(run_token_budget=25), dispatcher=dispatcher)
    assert [f.id for f in fixtures] == [item.fixture_id for item in run.items]
    assert [10] * 4 == [item.report.total_tokens for item in run.items[:4]]
    assert all(item.report.passed for item in run.items[:4])
    skipped = [item.report.runtime_failure for item in run.items[4:]]
    assert all(
        isinstance(failure, ReplayRuntimeError) and failure.message.startswith(SKIPPED_PREFIX)
        for failure in skipped
    )
