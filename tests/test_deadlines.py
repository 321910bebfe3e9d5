"""Deadlines on virtual time: every unit, in every mode, ends by its deadline.

The event loop's clock is a :class:`~clocks.JumpClock`: sleeps and deadlines take no
real time and end exactly as their arithmetic says, however loaded the machine.

- Live cells: one deadline shared by replay and judging; a hung executor is cancelled
  and the cell gets exactly the timeout failure (no phantom failures).
- A unit that runs past its deadline fails with the timeout failure even when it
  returned: it blocked the event loop, shielded itself or swallowed the cancellation.
- Scripted units have a deadline too (``scripted_walltime_secs``, 60 s by default).
- A trace sink is bounded by ``sink_timeout_secs``: a late event is dropped with a
  warning and the run goes on; a sink late three times in a row is disconnected.

Every async test runs on asyncio and trio.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from awaken_eval import (
    EvalRunExecutionMode,
    Fixture,
    InferenceRequest,
    InferenceResult,
    JudgeRequest,
    JudgeResult,
    ReplayContext,
    ReplayOutcome,
    RunOptions,
    TokenUsage,
    run_eval,
)
from awaken_eval.engine import DEFAULT_SCRIPTED_WALLTIME_SECS, DEFAULT_SINK_TIMEOUT_SECS
from awaken_eval.events import ItemCompleted, RunCompleted, RunStarted, TraceEvent
from awaken_eval.failures import ReplayRuntimeError, ReplayRuntimeFailed
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import CannedTextExecutor, CapturingSink, ExplodingJudge, HangingExecutor
from clocks import JumpClock
from engine_support import SleepingJudge, live, model, runtime_messages

pytestmark = pytest.mark.anyio

LIVE = EvalRunExecutionMode.LIVE
RUBRIC = "Grade how well the answer satisfies the request."


@pytest.fixture(params=["asyncio", "trio"])
def clock(request: pytest.FixtureRequest) -> JumpClock:
    return JumpClock(request.param)


@pytest.fixture
def anyio_backend(clock: JumpClock) -> tuple[str, dict[str, object]]:
    return clock.backend


# -- helpers ------------------------------------------------------------------------------


class BlockingExecutor:
    """Blocks the event loop for ``seconds`` (a jump of the virtual clock), then answers."""

    def __init__(self, clock: JumpClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.clock.jump(self.seconds)
        return InferenceResult(text="late answer", usage=TokenUsage(total_tokens=2))


class SwallowingExecutor:
    """Swallows the cancellation of its wait and carries on for ``seconds`` (blocking)."""

    def __init__(self, clock: JumpClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.swallowed = 0

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        try:
            await anyio.sleep(self.seconds)
        except anyio.get_cancelled_exc_class():
            self.swallowed += 1
            self.clock.jump(self.seconds)
        return InferenceResult(text="stubborn answer")


class ShieldedExecutor:
    """Shields itself from cancellation for ``seconds``, then answers."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(self.seconds)
        return InferenceResult(text="shielded answer")


# -- live cells (moved from test_runner.py onto virtual time) -------------------------------


async def test_hung_executor_cell_gets_exactly_the_timeout_failure() -> None:
    executor = HangingExecutor()
    run = await run_eval(
        [live("slow", final_answer_contains=("hello", "world"), min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_walltime_secs=0.2),
        models=[model("m1", executor)],
        judge=ExplodingJudge(),
    )
    (report,) = (item.report for item in run.items)
    timeout = ReplayRuntimeError("cell walltime exceeded: max 0.2s")
    assert (False, (ReplayRuntimeFailed(timeout),), timeout) == (
        report.passed,
        report.failures,
        report.runtime_failure,
    )
    assert ("", 0, None, 200) == (
        report.final_text,
        report.total_tokens,
        report.judge_score,
        report.elapsed_ms,
    )
    assert (1, 1, 0) == (executor.started, executor.cancellations, executor.completed)


async def test_a_hung_cell_does_not_hold_up_the_others() -> None:
    hanging = HangingExecutor()
    run = await run_eval(
        [live("a"), live("b")],
        RunOptions(mode=LIVE, models=["hung", "fine"], max_walltime_secs=0.2, max_concurrency=4),
        models=[model("hung", hanging), model("fine", CannedTextExecutor(["ok"]))],
    )
    assert [False, True, False, True] == [item.report.passed for item in run.items]
    assert 2 == hanging.cancellations


async def test_judge_past_the_deadline_keeps_the_replay_outcome() -> None:
    judge = SleepingJudge(delay=5.0)
    run = await run_eval(
        [live("a", min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_walltime_secs=0.2),
        models=[model("m1", CannedTextExecutor(["the answer"], usage=TokenUsage(total_tokens=7)))],
        judge=judge,
    )
    (report,) = (item.report for item in run.items)
    timed_out = ReplayRuntimeError("scoring timed out after 0.2s wall-clock (replay completed)")
    assert (timed_out, (ReplayRuntimeFailed(timed_out),)) == (
        report.runtime_failure,
        report.failures,
    )
    assert ("the answer", 7, 1, None) == (
        report.final_text,
        report.total_tokens,
        report.inference_count,
        report.judge_score,
    )
    assert (1, 1) == (judge.calls, judge.cancelled)


@pytest.mark.parametrize(
    ("replay", "judging", "passed"),
    [(0.2, 0.4, False), (0.2, 0.25, True)],
    ids=["together-past-the-deadline", "together-within-it"],
)
async def test_the_deadline_is_shared_by_replay_and_judging(
    replay: float, judging: float, passed: bool
) -> None:
    # Replay 0.2 s + judging 0.4 s exceed the 0.5 s deadline, though each alone fits.
    judge = SleepingJudge(delay=judging, score=1.0)
    run = await run_eval(
        [live("a", min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_walltime_secs=0.5),
        models=[model("m1", HangingExecutor(delay=replay, text="late but fine"))],
        judge=judge,
    )
    (report,) = (item.report for item in run.items)
    expected = None if passed else "scoring timed out after 0.5s wall-clock (replay completed)"
    assert [expected] == runtime_messages(run.items)
    assert ("late but fine", int(not passed), passed) == (
        report.final_text,
        judge.cancelled,
        report.passed,
    )


async def test_a_whole_second_walltime_is_shown_without_decimals() -> None:
    run = await run_eval(
        [live("a", min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_walltime_secs=1),
        models=[model("m1")],
        judge=SleepingJudge(delay=5.0),
    )
    assert ["scoring timed out after 1s wall-clock (replay completed)"] == runtime_messages(
        run.items
    )


async def test_a_streaming_store_receives_items_as_they_finish() -> None:
    # Slow (live) units must not wait for a full batch: 0.15 s units against the 0.25 s
    # append interval reach the store in batches of at most two.
    store = InMemoryRunStore()
    appends: list[int] = []
    append = store.append

    async def counting_append(run_id: str, items: Any) -> None:
        appends.append(len(items))
        await append(run_id, items)

    store.append = counting_append  # type: ignore[method-assign]
    await run_eval(
        [live(f"f{index}") for index in range(6)],
        RunOptions(mode=LIVE, models=["m1"], max_concurrency=1),
        models=[model("m1", HangingExecutor(delay=0.15))],
        store=store,
    )
    assert [1, 2, 2, 1] == appends


# -- past the deadline although it returned ------------------------------------------------


@pytest.mark.parametrize("kind", ["blocking", "swallowing", "shielded"])
async def test_a_live_cell_that_overran_its_deadline_fails_even_though_it_returned(
    clock: JumpClock, kind: str
) -> None:
    executors: dict[str, Any] = {
        "blocking": BlockingExecutor(clock, 3.0),
        "swallowing": SwallowingExecutor(clock, 3.0),
        "shielded": ShieldedExecutor(3.0),
    }
    executor = executors[kind]
    run = await run_eval(
        [live("a", final_answer_contains=("missing",))],
        RunOptions(mode=LIVE, models=["m1"], max_walltime_secs=1),
        models=[model("m1", executor)],
    )
    timeout = ReplayRuntimeError("cell walltime exceeded: max 1s")
    (report,) = (item.report for item in run.items)
    # Only the timeout: no phantom failure from the answer that came too late.
    assert (False, (ReplayRuntimeFailed(timeout),), "") == (
        report.passed,
        report.failures,
        report.final_text,
    )


async def test_a_judge_that_blocked_past_the_deadline_is_a_scoring_timeout(
    clock: JumpClock,
) -> None:
    class BlockingJudge:
        async def grade(self, request: JudgeRequest) -> JudgeResult:
            clock.jump(2.0)
            return JudgeResult(score=1.0, reasoning="too late")

    run = await run_eval(
        [live("a", min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_walltime_secs=1),
        models=[model("m1")],
        judge=BlockingJudge(),
    )
    assert ["scoring timed out after 1s wall-clock (replay completed)"] == runtime_messages(
        run.items
    )
    assert [None] == [item.report.judge_score for item in run.items]


# -- scripted units ------------------------------------------------------------------------


class ScriptedStub:
    """A scripted-mode replayer: hangs, blocks, swallows or answers, per fixture id."""

    def __init__(self, clock: JumpClock) -> None:
        self.clock = clock
        self.cancelled: list[str] = []

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        kind = fixture.id.split("-")[0]
        if kind == "hang":
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                self.cancelled.append(fixture.id)
                raise
        elif kind == "block":
            self.clock.jump(DEFAULT_SCRIPTED_WALLTIME_SECS + 1)
        elif kind == "swallow":
            try:
                await anyio.sleep(2 * DEFAULT_SCRIPTED_WALLTIME_SECS)
            except anyio.get_cancelled_exc_class():
                self.cancelled.append(fixture.id)
                self.clock.jump(1.0)
        else:
            await anyio.sleep(1.0)
        return ReplayOutcome(fixture_id=fixture.id, final_text="answered")


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "with-a-sink"])
async def test_every_scripted_unit_has_a_deadline(clock: JumpClock, *, plain: bool) -> None:
    ids = ["ok-1", "hang-2", "ok-3", "swallow-4", "ok-5", "hang-6", "ok-7", "ok-8"]
    replayer = ScriptedStub(clock)
    sink = None if plain else CapturingSink()
    started = anyio.current_time()
    run = await run_eval(
        [Fixture(fixture_id, "go") for fixture_id in ids],
        RunOptions(max_concurrency=3),
        replayer=replayer,
        sink=sink,
    )
    timeout = f"cell walltime exceeded: max {int(DEFAULT_SCRIPTED_WALLTIME_SECS)}s"
    assert [
        None if fixture_id.startswith("ok") else timeout for fixture_id in ids
    ] == runtime_messages(run.items)
    assert ids == [item.fixture_id for item in run.items]
    assert ["hang-2", "hang-6", "swallow-4"] == sorted(replayer.cancelled)
    # Each unit ends by its deadline (plus the second the swallower carries on).
    walltime = DEFAULT_SCRIPTED_WALLTIME_SECS
    assert anyio.current_time() - started <= 3 * (walltime + 1) + 5 * 1.0


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "with-a-sink"])
async def test_a_scripted_unit_blocking_the_event_loop_past_its_deadline_fails(
    clock: JumpClock, *, plain: bool
) -> None:
    # One worker: a unit blocking the event loop would make its neighbours late too.
    run = await run_eval(
        [Fixture(fixture_id, "go") for fixture_id in ("ok-1", "block-2", "ok-3")],
        RunOptions(max_concurrency=1),
        replayer=ScriptedStub(clock),
        sink=None if plain else CapturingSink(),
    )
    timeout = f"cell walltime exceeded: max {int(DEFAULT_SCRIPTED_WALLTIME_SECS)}s"
    assert [None, timeout, None] == runtime_messages(run.items)


async def test_the_scripted_deadline_is_an_option() -> None:
    class Sleeper:
        async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
            await anyio.sleep(float(fixture.id))
            return ReplayOutcome(fixture_id=fixture.id)

    run = await run_eval(
        [Fixture("1.5", "go"), Fixture("2.5", "go")],
        RunOptions(scripted_walltime_secs=2),
        replayer=Sleeper(),
    )
    assert [None, "cell walltime exceeded: max 2s"] == runtime_messages(run.items)


def test_the_default_deadlines_are_documented_values() -> None:
    options = RunOptions()
    assert (60.0, 10.0) == (DEFAULT_SCRIPTED_WALLTIME_SECS, DEFAULT_SINK_TIMEOUT_SECS)
    assert (60.0, 10.0) == (options.scripted_walltime_secs, options.sink_timeout_secs)


# -- bounded sinks -------------------------------------------------------------------------


class SecondLong:
    """A replayer whose every replay takes one second."""

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        await anyio.sleep(1.0)
        return ReplayOutcome(fixture_id=fixture.id)


class StuckSink:
    """A sink whose ``emit`` never returns for the event kinds in ``stuck``."""

    def __init__(self, stuck: set[type[TraceEvent]] | None = None) -> None:
        self.stuck = stuck
        self.events: list[TraceEvent] = []
        self.calls = 0

    async def emit(self, event: TraceEvent) -> None:
        self.calls += 1
        if self.stuck is None or type(event) in self.stuck:
            await anyio.sleep_forever()
        self.events.append(event)


async def test_a_sink_that_never_returns_is_dropped_and_the_run_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = StuckSink({ItemCompleted})
    started = anyio.current_time()
    with caplog.at_level(logging.WARNING, logger="awaken_eval"):
        run = await run_eval(
            [Fixture(f"f{index}", "go") for index in range(2)],
            RunOptions(sink_timeout_secs=5),
            replayer=SecondLong(),
            sink=sink,
        )
    assert [None, None] == runtime_messages(run.items)
    # Both item events were dropped after 5 s each; the others arrived.
    assert [RunStarted, RunCompleted] == [type(event) for event in sink.events]
    assert anyio.current_time() - started <= 5 * 2 + 2 + 1
    dropped = [record.getMessage() for record in caplog.records if "dropped" in record.message]
    assert [
        "trace sink did not take ItemCompleted within 5s: event dropped (1 dropped so far)",
        "trace sink did not take ItemCompleted within 5s: event dropped (2 dropped so far)",
    ] == dropped


async def test_a_sink_late_three_times_in_a_row_is_disconnected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = StuckSink()
    started = anyio.current_time()
    with caplog.at_level(logging.WARNING, logger="awaken_eval"):
        run = await run_eval(
            [Fixture(f"f{index}", "go") for index in range(10)],
            RunOptions(sink_timeout_secs=1, max_concurrency=1),
            replayer=SecondLong(),
            sink=sink,
        )
    assert 10 == len(run.items)
    assert 3 == sink.calls  # started, two items: then nothing more is sent to it
    assert anyio.current_time() - started <= 3 * 1 + 10 * 1.0 + 1
    assert any("disconnected" in record.getMessage() for record in caplog.records)


async def test_a_sink_stuck_on_the_terminal_event_of_a_cancelled_run_is_bounded() -> None:
    # The terminal event is emitted under a shield: only the sink's timeout ends it.
    sink = StuckSink()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await run_eval([Fixture("f", "go")], RunOptions(sink_timeout_secs=1), sink=sink)
    assert scope.cancelled_caught
    assert [] == sink.events
