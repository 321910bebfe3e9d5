"""Cancellation: stray ones are unit failures, real ones stop the run and leave it resumable.

A ``CancelledError`` raised by user code (executor, replayer, judge, sink, progress
callback) while nothing is cancelling the run is a failure of that unit, recorded as
data like any other exception: the run completes with every item. A real cancellation
of the run propagates, and a streaming store keeps the run open so that resuming runs
only the missing units. A run is never finished short (``RunIncomplete``).

Every async test runs on asyncio and trio.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import pytest

from awaken_eval import (
    EvalRunExecutionMode,
    EvalRunItem,
    Expectation,
    Fixture,
    InferenceRequest,
    InferenceResult,
    JudgeRequest,
    JudgeResult,
    ReplayContext,
    ReplayOutcome,
    ResolvedModel,
    RunOptions,
    TokenUsage,
    run_eval,
)
from awaken_eval.errors import RunIncomplete
from awaken_eval.events import TraceEvent
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import CapturingSink
from engine_support import runtime_messages

pytestmark = pytest.mark.anyio

LIVE = EvalRunExecutionMode.LIVE
RUBRIC = "Grade the answer."
STRAY = "(user code raised a cancellation while the run was not cancelled)"


def fixtures(count: int, **expect: Any) -> list[Fixture]:
    return [Fixture(f"f{index}", "go", expect=Expectation(**expect)) for index in range(count)]


class CancelOnCall:
    """An executor raising ``asyncio.CancelledError`` on its ``nth`` call, else answering."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.calls = 0

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.calls += 1
        call = self.calls
        await anyio.lowlevel.checkpoint()
        if call == self.nth:
            msg = "the SDK's pool was torn down"
            raise asyncio.CancelledError(msg)
        return InferenceResult(text="ok", usage=TokenUsage(total_tokens=2))


def live_model(executor: Any) -> ResolvedModel:
    return ResolvedModel(model_id="m1", executor=executor, upstream_model="up")


# -- stray cancellations -------------------------------------------------------------------


@pytest.mark.parametrize("with_store", [False, True], ids=["no-store", "streaming-store"])
async def test_an_executor_raising_cancelled_error_fails_only_its_own_item(
    *, with_store: bool
) -> None:
    store = InMemoryRunStore() if with_store else None
    run = await run_eval(
        fixtures(10),
        RunOptions(mode=LIVE, models=["m1"], max_concurrency=2),
        models=[live_model(CancelOnCall(2))],
        store=store,
    )
    messages = runtime_messages(run.items)
    assert 10 == len(run.items)
    assert [f"f{index}" for index in range(10)] == [item.fixture_id for item in run.items]
    failed = [message for message in messages if message is not None]
    assert [f"replayer raised CancelledError: the SDK's pool was torn down {STRAY}"] == failed
    assert 9 == run.passed_count()
    if store is not None:
        assert run == await store.read(run.id)


class CancellingReplayer:
    """A scripted-mode replayer raising ``asyncio.CancelledError`` for fixture ``bad``."""

    def __init__(self, bad: str) -> None:
        self.bad = bad

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        await anyio.lowlevel.checkpoint()
        if fixture.id == self.bad:
            raise asyncio.CancelledError
        return ReplayOutcome(fixture_id=fixture.id, final_text="fine")


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "with-a-sink"])
async def test_a_replayer_raising_cancelled_error_in_a_scripted_run_fails_its_item(
    *, plain: bool
) -> None:
    run = await run_eval(
        fixtures(10),
        RunOptions(max_concurrency=2),
        replayer=CancellingReplayer("f3"),
        sink=None if plain else CapturingSink(),
    )
    expected: list[str | None] = [None] * 10
    expected[3] = f"replayer raised CancelledError {STRAY}"
    assert expected == runtime_messages(run.items)


class CancellingJudge:
    async def grade(self, request: JudgeRequest) -> JudgeResult:
        await anyio.lowlevel.checkpoint()
        if request.fixture_id == "f1":
            raise asyncio.CancelledError
        return JudgeResult(score=1.0, reasoning="fine")


async def test_a_judge_raising_cancelled_error_is_a_scoring_failure_of_its_item() -> None:
    run = await run_eval(
        fixtures(4, min_judge_score=0.5),
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_concurrency=2),
        models=[live_model(CancelOnCall(0))],
        judge=CancellingJudge(),
    )
    assert [
        None,
        f"scoring failed: judge raised CancelledError {STRAY}",
        None,
        None,
    ] == runtime_messages(run.items)
    assert [True, False, True, True] == [item.report.passed for item in run.items]


class CancellingSink(CapturingSink):
    """A sink raising ``asyncio.CancelledError`` on every second event."""

    async def emit(self, event: TraceEvent) -> None:
        await anyio.lowlevel.checkpoint()
        if len(self.events) % 2:
            self.events.append(event)
            raise asyncio.CancelledError
        await super().emit(event)


async def test_a_sink_or_progress_callback_raising_cancelled_error_never_stops_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def progress(done: int, total: int) -> None:
        if done == 3:
            raise asyncio.CancelledError

    with caplog.at_level(logging.WARNING, logger="awaken_eval"):
        run = await run_eval(
            fixtures(8),
            RunOptions(max_concurrency=2),
            replayer=CancellingReplayer("none"),
            sink=CancellingSink(),
            progress=progress,
        )
    assert (8, 8) == (len(run.items), run.passed_count())
    logged = {record.getMessage().split(" ")[0] for record in caplog.records}
    assert {"trace", "progress"} <= logged


# -- real cancellations --------------------------------------------------------------------


async def test_a_real_cancellation_propagates_and_the_run_can_be_resumed() -> None:
    store = InMemoryRunStore()
    options = RunOptions(max_concurrency=2, run_id="01J0CANCELXY")
    with anyio.CancelScope() as scope:

        def cancel_at_four(done: int, total: int) -> None:
            if done == 4:
                scope.cancel()

        await run_eval(
            fixtures(10),
            options,
            replayer=CancellingReplayer("none"),
            store=store,
            progress=cancel_at_four,
        )
    assert scope.cancelled_caught
    present = await store.present_keys("01J0CANCELXY")
    assert 4 <= len(present) < 10  # kept, and the run is still open
    resumed = await run_eval(
        fixtures(10),
        RunOptions(max_concurrency=2, resume="01J0CANCELXY"),
        replayer=CancellingReplayer("none"),
        store=store,
    )
    assert ([f"f{index}" for index in range(10)], 10) == (
        [item.fixture_id for item in resumed.items],
        resumed.passed_count(),
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # Task.cancel() is asyncio's
async def test_an_asyncio_task_cancel_of_the_run_is_a_real_cancellation() -> None:
    store = InMemoryRunStore()
    outer: list[asyncio.Task[Any]] = []

    class CancelTheRunAtThree(CancellingReplayer):
        calls = 0

        async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
            self.calls += 1
            if self.calls == 3:
                outer[0].cancel()
            return await super().replay(fixture, context)

    options = RunOptions(max_concurrency=1, run_id="01J0TASKCANX")
    task = asyncio.ensure_future(
        run_eval(fixtures(10), options, replayer=CancelTheRunAtThree("none"), store=store)
    )
    outer.append(task)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await store.present_keys("01J0TASKCANX")) < 10
    resumed = await run_eval(
        fixtures(10),
        RunOptions(max_concurrency=1, resume="01J0TASKCANX"),
        replayer=CancellingReplayer("none"),
        store=store,
    )
    assert 10 == resumed.passed_count()


# -- never finished short ------------------------------------------------------------------


class CancellingAppendStore(InMemoryRunStore):
    """A streaming store whose first append raises ``asyncio.CancelledError``."""

    failed = False

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        if not self.failed:
            self.failed = True
            raise asyncio.CancelledError
        await super().append(run_id, items)


async def test_a_run_whose_workers_stopped_early_is_never_finished_short() -> None:
    # The store is not user code of a unit: its stray cancellation stops a worker. The
    # run must not be saved as a finished, shorter run: it stays open to be resumed.
    store = CancellingAppendStore()
    with pytest.raises((RunIncomplete, asyncio.CancelledError)) as raised:
        await run_eval(
            fixtures(200),
            RunOptions(max_concurrency=2, run_id="01J0SHORTRUN"),
            replayer=CancellingReplayer("none"),
            store=store,
        )
    if isinstance(raised.value, RunIncomplete):
        assert ("01J0SHORTRUN", 200) == (raised.value.run_id, raised.value.total)
        assert 0 < raised.value.missing
        assert "it was not finished (resume it to run them)" in str(raised.value)
    resumed = await run_eval(
        fixtures(200),
        RunOptions(max_concurrency=2, resume="01J0SHORTRUN"),
        replayer=CancellingReplayer("none"),
        store=store,
    )
    assert 200 == resumed.passed_count()
